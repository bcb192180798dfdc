#include "edgeswarm/fleet/alert_rules.hpp"

#include <cmath>
#include <string>

#include "edgeswarm/core/arguments.hpp"
#include "parallel_work.hpp"

namespace edgeswarm::fleet {
namespace {

const char* const kMetricNames[kMetrics] = {"temperature", "humidity", "battery", "vibration"};
const char* const kAlertNames[kAlertTypes] = {"none",          "temperature_low", "temperature_high", "humidity_low",
                                              "humidity_high", "battery_low",     "vibration_high"};
const char* const kSeverityNames[3] = {"none", "warning", "critical"};

void require_band(double low, double high, const char* low_name, const char* high_name) {
  core::require_finite(low_name, low, "finite values");
  core::require_finite(high_name, high, "finite values");
  core::require(high > low, high_name, high,
                std::string("values > ") + low_name + " (" + core::format_value(low) + ")");
}

Alert grade(double value, double low, double high, double band, AlertType low_type, AlertType high_type) {
  const double margin = band * (high - low);
  if (value < low && low_type != AlertType::None)
    return {low_type, value >= low - margin ? Severity::Warning : Severity::Critical};
  if (value > high && high_type != AlertType::None)
    return {high_type, value <= high + margin ? Severity::Warning : Severity::Critical};
  return {AlertType::None, Severity::None};
}

}  // namespace

const char* to_string(Metric m) { return kMetricNames[static_cast<std::size_t>(m)]; }
const char* to_string(AlertType a) { return kAlertNames[static_cast<std::size_t>(a)]; }
const char* to_string(Severity s) { return kSeverityNames[static_cast<std::size_t>(s)]; }

void AlertRules::validate() const {
  require_band(temperature_low, temperature_high, "temperature_low", "temperature_high");
  require_band(humidity_low, humidity_high, "humidity_low", "humidity_high");
  require_band(battery_low, battery_high, "battery_low", "battery_high");
  require_band(vibration_low, vibration_high, "vibration_low", "vibration_high");
  core::require(warning_band >= 0.0 && warning_band <= 10.0, "warning_band", warning_band, "[0, 10]");
}

Alert AlertRules::check(Metric metric, double value) const {
  if (std::isnan(value)) return {AlertType::None, Severity::None};
  switch (metric) {
    case Metric::Temperature:
      return grade(value, temperature_low, temperature_high, warning_band, AlertType::TemperatureLow,
                   AlertType::TemperatureHigh);
    case Metric::Humidity:
      return grade(value, humidity_low, humidity_high, warning_band, AlertType::HumidityLow, AlertType::HumidityHigh);
    case Metric::Battery:
      return grade(value, battery_low, battery_high, warning_band, AlertType::BatteryLow, AlertType::None);
    case Metric::Vibration:
      return grade(value, vibration_low, vibration_high, warning_band, AlertType::None, AlertType::VibrationHigh);
  }
  return {AlertType::None, Severity::None};
}

void evaluate(const AlertRules& rules, const Metric* metrics, const double* values, std::size_t rows, std::size_t cols,
              std::uint8_t* types, std::uint8_t* severities) {
  rules.validate();
  // Threads only pay off on big batches; on a small one their start-up dominates (and on a loaded
  // machine costs milliseconds).
#pragma omp parallel for schedule(static) if (rows * cols >= kMinParallelWork)
  for (std::int64_t r = 0; r < static_cast<std::int64_t>(rows); ++r) {
    const std::size_t base = static_cast<std::size_t>(r) * cols;
    for (std::size_t c = 0; c < cols; ++c) {
      const Alert a = rules.check(metrics[r], values[base + c]);
      types[base + c] = static_cast<std::uint8_t>(a.type);
      severities[base + c] = static_cast<std::uint8_t>(a.severity);
    }
  }
}

}  // namespace edgeswarm::fleet
