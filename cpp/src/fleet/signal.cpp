#include "edgeswarm/fleet/signal.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/core/rng.hpp"
#include "fleet_streams.hpp"
#include "parallel_work.hpp"

namespace edgeswarm::fleet {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;
constexpr std::int64_t kMaxFaultUs = 2 * kHourUs;  // longest fault (drift) a window can carry over
const double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* const kFaultNames[kFaults] = {"none", "spike", "stuck", "drift", "dropout", "failure", "battery_empty"};

double clamp_to(const SensorSpec& spec, double v) { return std::min(spec.max, std::max(spec.min, v)); }

/// Reading before clamping and faults; assumes t_us is before failure.
double raw_reading(const Fleet& fleet, const Device& d, const SensorSpec& spec, std::int64_t t_us) {
  const double hour_of_day = static_cast<double>(t_us % kDayUs) / static_cast<double>(kHourUs);
  const double days = static_cast<double>(t_us) / static_cast<double>(kDayUs);
  const double wear = 1.0 - fleet.health(d.id, t_us);
  core::Rng rng(fleet.seed(), core::stream_id(d.id, static_cast<std::uint64_t>(t_us), kNoiseStream));
  return spec.base + d.offset +
         spec.daily_amplitude * std::cos(kTwoPi * (hour_of_day - spec.peak_hour - d.phase_h) / 24.0) +
         d.drift_per_day * days + d.wear_amplitude * wear * wear + d.noise_sd * (1.0 + 2.0 * wear) * rng.normal();
}

}  // namespace

const char* to_string(Fault f) { return kFaultNames[static_cast<std::size_t>(f)]; }

void fault_windows(const Fleet& fleet, std::size_t i, std::int64_t from_us, std::int64_t to_us,
                   std::vector<FaultWindow>& out) {
  out.clear();
  const double p = fleet.params().fault_rate_per_day / 24.0;
  if (p <= 0.0 || to_us <= from_us) return;
  const Device& d = fleet.device(i);
  const std::int64_t first = std::max<std::int64_t>(0, (from_us - kMaxFaultUs) / kHourUs);
  const std::int64_t last = (to_us - 1) / kHourUs;
  for (std::int64_t h = first; h <= last; ++h) {
    core::Rng rng(fleet.seed(), core::stream_id(d.id, static_cast<std::uint64_t>(h), kFaultStream));
    if (rng.uniform() >= p) continue;
    FaultWindow w{static_cast<Fault>(1 + rng.below(4)), h * kHourUs + static_cast<std::int64_t>(rng.below(kHourUs)), 0,
                  0.0};
    const double sign = rng.uniform() < 0.5 ? -1.0 : 1.0;
    switch (w.kind) {
      case Fault::Spike:
        w.end_us = w.start_us + 60 * kSecondUs;
        w.magnitude = sign * rng.uniform(8.0, 15.0) * d.noise_sd;
        break;
      case Fault::Stuck:
        w.end_us = w.start_us + (5 + static_cast<std::int64_t>(rng.below(56))) * 60 * kSecondUs;
        break;
      case Fault::Drift:
        w.end_us = w.start_us + (30 + static_cast<std::int64_t>(rng.below(91))) * 60 * kSecondUs;
        w.magnitude = sign * rng.uniform(6.0, 12.0) * d.noise_sd;
        break;
      default:
        w.end_us = w.start_us + (1 + static_cast<std::int64_t>(rng.below(30))) * 60 * kSecondUs;
        break;
    }
    if (w.end_us > from_us && w.start_us < to_us) out.push_back(w);
  }
}

double clean_reading(const Fleet& fleet, std::size_t i, std::int64_t t_us) {
  const Device& d = fleet.device(i);
  if (t_us >= d.failure_us) return kNaN;
  const SensorSpec& spec = sensor_spec(d.sensor);
  return clamp_to(spec, raw_reading(fleet, d, spec, t_us));
}

void generate(const Fleet& fleet, std::int64_t t0_us, std::size_t steps, std::int64_t dt_us, double* values,
              std::uint8_t* labels) {
  core::require(t0_us >= 0, "t0_us", static_cast<double>(t0_us), "times >= 0");
  core::require(dt_us > 0, "dt_us", static_cast<double>(dt_us), "> 0");
  core::require(steps <= static_cast<std::size_t>((std::numeric_limits<std::int64_t>::max() / 4 - t0_us) / dt_us),
                "steps", static_cast<double>(steps), "a window that fits in simulated time");
  const std::int64_t n = static_cast<std::int64_t>(fleet.size());
  const std::int64_t t_end = t0_us + static_cast<std::int64_t>(steps) * dt_us;
  // Threads only pay off on big batches (see alert_rules.cpp).
#pragma omp parallel if (static_cast <std::size_t>(n) * steps >= kMinParallelWork)
  {
    std::vector<FaultWindow> windows;
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) {
      const Device& d = fleet.device(static_cast<std::size_t>(i));
      const SensorSpec& spec = sensor_spec(d.sensor);
      fault_windows(fleet, static_cast<std::size_t>(i), t0_us, t_end, windows);
      double* row = values + i * static_cast<std::int64_t>(steps);
      std::uint8_t* lab = labels + i * static_cast<std::int64_t>(steps);
      const bool can_empty = !mains_powered(d.type) && !recharges(d.type);
      double stuck_value = 0.0;
      const FaultWindow* stuck_for = nullptr;
      for (std::size_t k = 0; k < steps; ++k) {
        const std::int64_t t = t0_us + static_cast<std::int64_t>(k) * dt_us;
        if (t >= d.failure_us) {
          row[k] = kNaN;
          lab[k] = static_cast<std::uint8_t>(Fault::Failure);
          continue;
        }
        if (can_empty && fleet.battery(static_cast<std::size_t>(i), t) <= 0.0) {
          row[k] = kNaN;
          lab[k] = static_cast<std::uint8_t>(Fault::BatteryEmpty);
          continue;
        }
        const FaultWindow* active = nullptr;
        for (const FaultWindow& w : windows)
          if (w.start_us <= t && t < w.end_us) {
            active = &w;
            break;
          }
        if (!active) {
          row[k] = clamp_to(spec, raw_reading(fleet, d, spec, t));
          lab[k] = 0;
          continue;
        }
        lab[k] = static_cast<std::uint8_t>(active->kind);
        switch (active->kind) {
          case Fault::Spike:
            row[k] = clamp_to(spec, raw_reading(fleet, d, spec, t) + active->magnitude);
            break;
          case Fault::Drift: {
            const double frac =
                static_cast<double>(t - active->start_us) / static_cast<double>(active->end_us - active->start_us);
            row[k] = clamp_to(spec, raw_reading(fleet, d, spec, t) + frac * active->magnitude);
            break;
          }
          case Fault::Stuck:
            if (stuck_for != active) {
              stuck_for = active;
              stuck_value = clean_reading(fleet, static_cast<std::size_t>(i), active->start_us);
            }
            row[k] = stuck_value;
            break;
          default:
            row[k] = kNaN;
            break;
        }
      }
    }
  }
}

}  // namespace edgeswarm::fleet
