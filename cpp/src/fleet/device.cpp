#include "edgeswarm/fleet/device.hpp"

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::fleet {
namespace {

// Ranges from common datasheets (e.g. SHT3x, ADXL345 at ±16 g, BMP280, ambient-light
// and CO2 NDIR sensors); levels are those of an indoor site with a daytime peak.
const std::array<SensorSpec, kSensorTypes> kSpecs{{
    {"temperature", "degC", 24.0, 4.0, 15.0, 0.3, -40.0, 85.0},
    {"humidity", "%RH", 50.0, 10.0, 4.0, 1.5, 0.0, 100.0},
    {"vibration", "g", 1.0, 0.4, 14.0, 0.15, 0.0, 16.0},
    {"power", "W", 120.0, 60.0, 13.0, 5.0, 0.0, 5000.0},
    {"pressure", "hPa", 1013.0, 1.5, 10.0, 0.3, 870.0, 1085.0},
    {"light", "lux", 300.0, 280.0, 13.0, 15.0, 0.0, 100000.0},
    {"sound", "dBA", 45.0, 8.0, 14.0, 2.0, 20.0, 130.0},
    {"motion", "activity", 0.3, 0.25, 12.0, 0.08, 0.0, 1.0},
    {"air_quality", "ppm", 600.0, 200.0, 15.0, 15.0, 350.0, 5000.0},
    {"rfid", "reads/min", 20.0, 15.0, 11.0, 3.0, 0.0, 1000.0},
}};

const std::array<const char*, kDeviceTypes> kDeviceNames{"sensor", "gateway", "controller", "camera", "robot", "drone"};

std::string joined_device_names() {
  std::string s;
  for (const char* n : kDeviceNames) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

std::string joined_sensor_names() {
  std::string s;
  for (const auto& spec : kSpecs) s += (s.empty() ? "" : ", ") + std::string(spec.name);
  return s;
}

}  // namespace

const SensorSpec& sensor_spec(SensorType s) { return kSpecs[static_cast<std::size_t>(s)]; }
const char* to_string(DeviceType t) { return kDeviceNames[static_cast<std::size_t>(t)]; }
const char* to_string(SensorType s) { return sensor_spec(s).name; }

DeviceType parse_device_type(const std::string& name, const std::string& param) {
  for (int i = 0; i < kDeviceTypes; ++i)
    if (name == kDeviceNames[i]) return static_cast<DeviceType>(i);
  core::fail(param + ": '" + name + "' is not a device type; allowed " + joined_device_names());
}

SensorType parse_sensor_type(const std::string& name, const std::string& param) {
  for (int i = 0; i < kSensorTypes; ++i)
    if (name == kSpecs[i].name) return static_cast<SensorType>(i);
  core::fail(param + ": '" + name + "' is not a sensor type; allowed " + joined_sensor_names());
}

bool mains_powered(DeviceType t) { return t == DeviceType::Gateway || t == DeviceType::Controller; }
bool recharges(DeviceType t) { return t == DeviceType::Robot || t == DeviceType::Drone; }

}  // namespace edgeswarm::fleet
