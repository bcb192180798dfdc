#pragma once
// Threshold alert rules on temperature, humidity, battery and vibration, with
// a severity: a warning within `warning_band` (a fraction of the allowed band's
// width) beyond a limit, critical further out.

#include <cstddef>
#include <cstdint>

namespace edgeswarm::fleet {

/// What an alert rule watches.
enum class Metric : std::uint8_t { Temperature = 0, Humidity, Battery, Vibration };
inline constexpr int kMetrics = 4;

/// Kind of alert; None when the value is within its limits (or NaN).
enum class AlertType : std::uint8_t {
  None = 0,
  TemperatureLow,
  TemperatureHigh,
  HumidityLow,
  HumidityHigh,
  BatteryLow,
  VibrationHigh
};
inline constexpr int kAlertTypes = 7;

/// Severity of an alert.
enum class Severity : std::uint8_t { None = 0, Warning, Critical };

/// Lower-case name of a metric ("temperature", ...).
const char* to_string(Metric m);
/// Lower-case name of an alert type ("none", "temperature_low", ...).
const char* to_string(AlertType a);
/// Lower-case name of a severity ("none", "warning", "critical").
const char* to_string(Severity s);

/// One alert decision.
struct Alert {
  AlertType type;
  Severity severity;
};

/// Limits of the rules; values equal to a limit are within it.
struct AlertRules {
  double temperature_low = 15.0;   ///< degC
  double temperature_high = 35.0;  ///< degC
  double humidity_low = 20.0;      ///< %RH
  double humidity_high = 80.0;     ///< %RH
  double battery_low = 10.0;       ///< %
  double battery_high = 100.0;     ///< % (sets the band width only; no alert above it)
  double vibration_low = 0.0;      ///< g (sets the band width only; no alert below it)
  double vibration_high = 5.0;     ///< g
  double warning_band = 0.1;       ///< warning up to this fraction of (high - low) beyond a limit

  /// Throws std::invalid_argument naming the first bad limit.
  void validate() const;
  /// The alert (if any) for one value of `metric`; NaN gives no alert.
  Alert check(Metric metric, double value) const;
};

/// Alerts for a (rows, cols) row-major batch where row r holds values of
/// metrics[r]; writes AlertType and Severity codes. Parallel over rows.
void evaluate(const AlertRules& rules, const Metric* metrics, const double* values, std::size_t rows, std::size_t cols,
              std::uint8_t* types, std::uint8_t* severities);

}  // namespace edgeswarm::fleet
