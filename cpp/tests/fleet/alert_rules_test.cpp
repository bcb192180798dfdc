#include "edgeswarm/fleet/alert_rules.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "../expect_invalid.hpp"

using namespace edgeswarm::fleet;

namespace {
void expect_alert(const AlertRules& r, Metric m, double v, AlertType t, Severity s) {
  const Alert a = r.check(m, v);
  EXPECT_EQ(a.type, t) << to_string(m) << " " << v;
  EXPECT_EQ(a.severity, s) << to_string(m) << " " << v;
}
}  // namespace

TEST(AlertRules, DefaultBoundaries) {
  const AlertRules r;
  using A = AlertType;
  using S = Severity;
  // Temperature 15-35: band 20, warning up to 2 degrees beyond.
  expect_alert(r, Metric::Temperature, 15.0, A::None, S::None);
  expect_alert(r, Metric::Temperature, 35.0, A::None, S::None);
  expect_alert(r, Metric::Temperature, 14.999, A::TemperatureLow, S::Warning);
  expect_alert(r, Metric::Temperature, 13.0, A::TemperatureLow, S::Warning);
  expect_alert(r, Metric::Temperature, 12.999, A::TemperatureLow, S::Critical);
  expect_alert(r, Metric::Temperature, 37.0, A::TemperatureHigh, S::Warning);
  expect_alert(r, Metric::Temperature, 37.001, A::TemperatureHigh, S::Critical);
  // Humidity 20-80: band 60, warning up to 6 points beyond.
  expect_alert(r, Metric::Humidity, 14.0, A::HumidityLow, S::Warning);
  expect_alert(r, Metric::Humidity, 13.9, A::HumidityLow, S::Critical);
  expect_alert(r, Metric::Humidity, 86.0, A::HumidityHigh, S::Warning);
  expect_alert(r, Metric::Humidity, 86.1, A::HumidityHigh, S::Critical);
  // Battery 10-100: warning from 1 % up, critical below; nothing above 100.
  expect_alert(r, Metric::Battery, 10.0, A::None, S::None);
  expect_alert(r, Metric::Battery, 9.99, A::BatteryLow, S::Warning);
  expect_alert(r, Metric::Battery, 1.0, A::BatteryLow, S::Warning);
  expect_alert(r, Metric::Battery, 0.5, A::BatteryLow, S::Critical);
  expect_alert(r, Metric::Battery, 150.0, A::None, S::None);
  // Vibration 0-5 g: warning up to 5.5 g; nothing below 0.
  expect_alert(r, Metric::Vibration, 5.0, A::None, S::None);
  expect_alert(r, Metric::Vibration, 5.5, A::VibrationHigh, S::Warning);
  expect_alert(r, Metric::Vibration, 5.51, A::VibrationHigh, S::Critical);
  expect_alert(r, Metric::Vibration, -1.0, A::None, S::None);
  expect_alert(r, Metric::Vibration, std::nan(""), A::None, S::None);
}

TEST(AlertRules, ConfigurableAndBatched) {
  AlertRules r;
  r.temperature_high = 30.0;
  r.warning_band = 0.0;
  const std::vector<Metric> metrics{Metric::Temperature, Metric::Battery};
  const std::vector<double> values{29.0, 30.5, 50.0, 5.0, -1.0};
  std::vector<double> grid{29.0, 30.5, 50.0, 11.0, 5.0, -1.0};
  std::vector<std::uint8_t> types(6), sev(6);
  evaluate(r, metrics.data(), grid.data(), 2, 3, types.data(), sev.data());
  EXPECT_EQ(types, (std::vector<std::uint8_t>{0, 2, 2, 0, 5, 5}));
  EXPECT_EQ(sev, (std::vector<std::uint8_t>{0, 2, 2, 0, 2, 2}));
}

TEST(AlertRules, RejectsInvertedLimits) {
  AlertRules r;
  r.humidity_high = 10.0;
  expect_invalid([&] { r.validate(); }, "humidity_high");
  r = {};
  r.warning_band = -0.1;
  expect_invalid([&] { r.validate(); }, "warning_band");
}
