#pragma once
// Device and sensor types of the fleet, with the physical range, unit and
// typical daily behaviour of each sensor.

#include <array>
#include <cstdint>
#include <string>

namespace edgeswarm::fleet {

/// Kind of device; battery-powered unless noted.
enum class DeviceType : std::uint8_t { Sensor = 0, Gateway, Controller, Camera, Robot, Drone };
inline constexpr int kDeviceTypes = 6;

/// What a device measures (one primary sensor per device).
enum class SensorType : std::uint8_t {
  Temperature = 0,
  Humidity,
  Vibration,
  Power,
  Pressure,
  Light,
  Sound,
  Motion,
  AirQuality,
  Rfid
};
inline constexpr int kSensorTypes = 10;

/// Typical behaviour of one sensor type: a daily cycle around `base`, white
/// noise, and the physical range readings are clamped to.
struct SensorSpec {
  const char* name;
  const char* unit;
  double base;             ///< typical level
  double daily_amplitude;  ///< half peak-to-peak of the daily cycle
  double peak_hour;        ///< hour of day (0-24) of the cycle's maximum
  double noise_sd;         ///< white noise standard deviation
  double min;              ///< lowest physical reading
  double max;              ///< highest physical reading
};

/// The spec of a sensor type.
const SensorSpec& sensor_spec(SensorType s);
/// Lower-case name of a device type ("sensor", "gateway", ...).
const char* to_string(DeviceType t);
/// Lower-case name of a sensor type ("temperature", "air_quality", ...).
const char* to_string(SensorType s);
/// Device type by name, or std::invalid_argument naming `param`.
DeviceType parse_device_type(const std::string& name, const std::string& param);
/// Sensor type by name, or std::invalid_argument naming `param`.
SensorType parse_sensor_type(const std::string& name, const std::string& param);
/// Whether a device type runs on mains power (its battery stays at 100 %).
bool mains_powered(DeviceType t);
/// Whether a device type docks to recharge (battery saw-tooths instead of running out).
bool recharges(DeviceType t);

}  // namespace edgeswarm::fleet
