#pragma once
// A fleet of devices: immutable per-device parameters drawn from (seed, device
// id), and the device state at any simulated time as a pure function of it:
// battery, wear health, link state and the offline message buffer.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgeswarm/fleet/device.hpp"

namespace edgeswarm::fleet {

inline constexpr std::int64_t kSecondUs = 1'000'000;
inline constexpr std::int64_t kHourUs = 3600 * kSecondUs;
inline constexpr std::int64_t kDayUs = 24 * kHourUs;

/// Options of a fleet; the defaults describe an indoor industrial site.
struct FleetParams {
  /// Relative weights of sensor, gateway, controller, camera, robot, drone.
  std::array<double, kDeviceTypes> device_mix{0.70, 0.04, 0.08, 0.08, 0.06, 0.04};
  /// Relative weights of the sensor types, in SensorType order.
  std::array<double, kSensorTypes> sensor_mix{1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  double area_m = 1000.0;                ///< devices lie in [0, area_m)^2
  double fault_rate_per_day = 0.5;       ///< expected injected faults per device per day
  double wear_fraction = 0.05;           ///< share of devices that wear out and fail
  double wear_horizon_days = 30.0;       ///< wearing devices fail within this many days
  double outage_rate_per_day = 1.0;      ///< expected link outages per device per day
  double report_interval_s = 10.0;       ///< one message per report interval
  std::uint32_t buffer_capacity = 1000;  ///< offline message buffer (oldest dropped beyond)
  double flush_rate_per_s = 20.0;        ///< buffered messages sent per second once back online
  double offline_dbm = -95.0;            ///< devices with a weaker link never get through
};

/// Immutable parameters of one device.
struct Device {
  std::uint32_t id;
  DeviceType type;
  SensorType sensor;
  double x, y;                 ///< position in metres
  double offset;               ///< calibration offset from the sensor's base level
  double phase_h;              ///< shift of the daily cycle in hours
  double noise_sd;             ///< this device's noise standard deviation
  double drift_per_day;        ///< slow calibration drift (units per day)
  double battery0;             ///< battery at time 0 in %
  double drain_pct_per_day;    ///< battery drain in % per day (0 on mains)
  double signal_dbm;           ///< received signal strength at the uplink
  std::int64_t wear_onset_us;  ///< wear starts (INT64_MAX when the device does not wear)
  std::int64_t failure_us;     ///< wear ends in failure (INT64_MAX when it does not wear)
  double wear_amplitude;       ///< signed offset reached at failure
};

/// Snapshot of one device's state at a simulated time.
struct DeviceState {
  double battery_pct;
  double health;  ///< 1 = new, 0 = failed
  bool online;
  std::uint32_t buffered;  ///< messages waiting in the offline buffer
  std::uint64_t dropped;   ///< messages lost to buffer overflow in the current outage
};

class Fleet {
 public:
  /// `n_devices` devices whose parameters come from (seed, device id) streams.
  Fleet(std::size_t n_devices, std::uint64_t seed, const FleetParams& params = {});
  /// As above, with every device's sensor fixed to `sensor`.
  Fleet(std::size_t n_devices, std::uint64_t seed, SensorType sensor, const FleetParams& params = {});

  /// Number of devices.
  std::size_t size() const { return devices_.size(); }
  /// The seed the fleet was built from.
  std::uint64_t seed() const { return seed_; }
  /// The options the fleet was built with.
  const FleetParams& params() const { return params_; }
  /// Parameters of device `i`.
  const Device& device(std::size_t i) const { return devices_[i]; }
  /// All devices, by id.
  const std::vector<Device>& devices() const { return devices_; }

  /// Battery level in % of device `i` at `t_us` (>= 0).
  double battery(std::size_t i, std::int64_t t_us) const;
  /// Wear health in [0, 1] of device `i` at `t_us`: 1 until wear starts, 0 from failure on.
  double health(std::size_t i, std::int64_t t_us) const;
  /// Full state of device `i` at `t_us`.
  DeviceState state(std::size_t i, std::int64_t t_us) const;

 private:
  void build(std::size_t n_devices, const SensorType* fixed_sensor);

  std::uint64_t seed_;
  FleetParams params_;
  std::vector<Device> devices_;
};

}  // namespace edgeswarm::fleet
