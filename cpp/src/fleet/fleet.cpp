#include "edgeswarm/fleet/fleet.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/core/rng.hpp"
#include "fleet_streams.hpp"

namespace edgeswarm::fleet {
namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

template <std::size_t N>
void require_mix(const std::array<double, N>& mix, const std::string& name) {
  double total = 0.0;
  for (std::size_t i = 0; i < N; ++i) {
    core::require(mix[i] >= 0.0 && std::isfinite(mix[i]), name, mix[i], "finite weights >= 0");
    total += mix[i];
  }
  core::require(total > 0.0, name, total, "weights with a positive sum");
}

template <std::size_t N>
std::size_t draw(core::Rng& rng, const std::array<double, N>& mix) {
  double total = 0.0;
  for (double w : mix) total += w;
  double u = rng.uniform() * total;
  for (std::size_t i = 0; i < N; ++i) {
    if (u < mix[i]) return i;
    u -= mix[i];
  }
  for (std::size_t i = N; i-- > 0;)  // rounding left u just above the last weight
    if (mix[i] > 0.0) return i;
  return 0;
}

void validate(const FleetParams& p) {
  require_mix(p.device_mix, "device_mix");
  require_mix(p.sensor_mix, "sensor_mix");
  core::require_positive("area_m", p.area_m);
  core::require_non_negative("fault_rate_per_day", p.fault_rate_per_day);
  core::require(p.fault_rate_per_day <= 24.0, "fault_rate_per_day", p.fault_rate_per_day, "[0, 24]");
  core::require_fraction("wear_fraction", p.wear_fraction);
  core::require_positive("wear_horizon_days", p.wear_horizon_days);
  core::require(p.wear_horizon_days <= 1e5, "wear_horizon_days", p.wear_horizon_days, "(0, 1e5]");
  core::require_non_negative("outage_rate_per_day", p.outage_rate_per_day);
  core::require(p.outage_rate_per_day <= 24.0, "outage_rate_per_day", p.outage_rate_per_day, "[0, 24]");
  core::require_positive("report_interval_s", p.report_interval_s);
  core::require(p.buffer_capacity > 0, "buffer_capacity", static_cast<double>(p.buffer_capacity), ">= 1");
  core::require_positive("flush_rate_per_s", p.flush_rate_per_s);
  core::require_finite("offline_dbm", p.offline_dbm, "finite values");
}

/// Latest outage of device `id` starting at or before t_us; false when none could still matter.
bool latest_outage(std::uint64_t seed, const FleetParams& p, std::uint32_t id, std::int64_t t_us, std::int64_t& start,
                   std::int64_t& end) {
  const std::int64_t hour = t_us / kHourUs;
  for (std::int64_t h = hour; h >= std::max<std::int64_t>(0, hour - 1); --h) {
    core::Rng rng(seed, core::stream_id(id, static_cast<std::uint64_t>(h), kOutageStream));
    if (rng.uniform() >= p.outage_rate_per_day / 24.0) continue;
    const std::int64_t s = h * kHourUs + static_cast<std::int64_t>(rng.below(kHourUs));
    if (s > t_us) continue;
    start = s;
    end = s + 60 * kSecondUs + static_cast<std::int64_t>(rng.below(29 * 60 * kSecondUs));
    return true;
  }
  return false;
}

}  // namespace

Fleet::Fleet(std::size_t n_devices, std::uint64_t seed, const FleetParams& params) : seed_(seed), params_(params) {
  build(n_devices, nullptr);
}

Fleet::Fleet(std::size_t n_devices, std::uint64_t seed, SensorType sensor, const FleetParams& params)
    : seed_(seed), params_(params) {
  build(n_devices, &sensor);
}

void Fleet::build(std::size_t n_devices, const SensorType* fixed_sensor) {
  core::require(n_devices >= 1 && n_devices <= 100'000'000, "n_devices", static_cast<double>(n_devices),
                "[1, 100000000]");
  validate(params_);
  devices_.resize(n_devices);
  const double centre = params_.area_m / 2.0;
  for (std::size_t i = 0; i < n_devices; ++i) {
    core::Rng rng(seed_, core::stream_id(i, 0, kDeviceStream));
    Device& d = devices_[i];
    d.id = static_cast<std::uint32_t>(i);
    d.type = static_cast<DeviceType>(draw(rng, params_.device_mix));
    const std::size_t s = draw(rng, params_.sensor_mix);
    d.sensor = fixed_sensor ? *fixed_sensor : static_cast<SensorType>(s);
    const SensorSpec& spec = sensor_spec(d.sensor);
    d.x = rng.uniform(0.0, params_.area_m);
    d.y = rng.uniform(0.0, params_.area_m);
    d.offset = rng.normal(0.0, 0.1 * spec.daily_amplitude + spec.noise_sd);
    d.phase_h = rng.normal(0.0, 1.0);
    d.noise_sd = spec.noise_sd * rng.uniform(0.5, 1.5);
    d.drift_per_day = rng.normal(0.0, 0.02 * spec.noise_sd);
    if (mains_powered(d.type)) {
      d.battery0 = 100.0;
      d.drain_pct_per_day = 0.0;
    } else {
      d.battery0 = rng.uniform(15.0, 100.0);
      switch (d.type) {
        case DeviceType::Camera:
          d.drain_pct_per_day = rng.uniform(1.0, 4.0);
          break;
        case DeviceType::Robot:
          d.drain_pct_per_day = rng.uniform(30.0, 60.0);
          break;
        case DeviceType::Drone:
          d.drain_pct_per_day = rng.uniform(150.0, 300.0);
          break;
        default:
          d.drain_pct_per_day = rng.uniform(0.2, 1.0);
          break;
      }
    }
    // Log-distance path loss to a central uplink (exponent 2.2) with 4 dB shadowing.
    const double dist = std::hypot(d.x - centre, d.y - centre);
    d.signal_dbm = -30.0 - 22.0 * std::log10(1.0 + dist) + rng.normal(0.0, 4.0);
    if (rng.uniform() < params_.wear_fraction) {
      const double horizon_us = params_.wear_horizon_days * static_cast<double>(kDayUs);
      d.failure_us = static_cast<std::int64_t>(rng.uniform(0.2, 1.0) * horizon_us);
      d.wear_onset_us = static_cast<std::int64_t>(static_cast<double>(d.failure_us) * rng.uniform(0.2, 0.7));
      const bool upward = d.sensor == SensorType::Vibration || d.sensor == SensorType::Temperature ||
                          d.sensor == SensorType::Power || d.sensor == SensorType::Sound || rng.uniform() < 0.5;
      d.wear_amplitude = (upward ? 1.0 : -1.0) * (2.0 * spec.daily_amplitude + 10.0 * spec.noise_sd);
    } else {
      d.failure_us = kNever;
      d.wear_onset_us = kNever;
      d.wear_amplitude = 0.0;
    }
  }
}

double Fleet::battery(std::size_t i, std::int64_t t_us) const {
  const Device& d = devices_[i];
  if (d.drain_pct_per_day == 0.0) return d.battery0;
  const double level = d.battery0 - d.drain_pct_per_day * (static_cast<double>(t_us) / static_cast<double>(kDayUs));
  if (recharges(d.type)) return level >= 20.0 ? level : 100.0 - std::fmod(100.0 - level, 80.0);
  return std::max(0.0, level);
}

double Fleet::health(std::size_t i, std::int64_t t_us) const {
  const Device& d = devices_[i];
  if (t_us < d.wear_onset_us) return 1.0;
  if (t_us >= d.failure_us) return 0.0;
  return 1.0 - static_cast<double>(t_us - d.wear_onset_us) / static_cast<double>(d.failure_us - d.wear_onset_us);
}

DeviceState Fleet::state(std::size_t i, std::int64_t t_us) const {
  core::require(t_us >= 0, "t_us", static_cast<double>(t_us), "times >= 0");
  const Device& d = devices_[i];
  DeviceState s{battery(i, t_us), health(i, t_us), true, 0, 0};
  const double interval_us = params_.report_interval_s * static_cast<double>(kSecondUs);
  const std::uint64_t cap = params_.buffer_capacity;
  auto produced = [&](std::int64_t span_us) {
    return static_cast<std::uint64_t>(std::floor(static_cast<double>(span_us) / interval_us));
  };
  if (d.signal_dbm < params_.offline_dbm) {  // never reaches the uplink: the buffer only fills
    const std::uint64_t made = produced(t_us);
    s.online = false;
    s.buffered = static_cast<std::uint32_t>(std::min(made, cap));
    s.dropped = made > cap ? made - cap : 0;
    return s;
  }
  std::int64_t start = 0, end = 0;
  if (!latest_outage(seed_, params_, d.id, t_us, start, end)) return s;
  if (t_us < end) {
    const std::uint64_t made = produced(t_us - start);
    s.online = false;
    s.buffered = static_cast<std::uint32_t>(std::min(made, cap));
    s.dropped = made > cap ? made - cap : 0;
    return s;
  }
  const std::uint64_t held = std::min(produced(end - start), cap);
  const double flushed = params_.flush_rate_per_s * static_cast<double>(t_us - end) / static_cast<double>(kSecondUs);
  s.buffered = flushed >= static_cast<double>(held)
                   ? 0u
                   : static_cast<std::uint32_t>(held - static_cast<std::uint64_t>(flushed));
  return s;
}

}  // namespace edgeswarm::fleet
