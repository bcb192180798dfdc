#pragma once
// Batch signal generation: each reading is a pure function of (fleet, device,
// time) — daily cycle, calibration drift, noise, wear, injected faults — so
// any window, chunking or thread count gives the same values bit for bit.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgeswarm/fleet/fleet.hpp"

namespace edgeswarm::fleet {

/// Label of a reading: what, if anything, is wrong with it.
enum class Fault : std::uint8_t { None = 0, Spike, Stuck, Drift, Dropout, Failure, BatteryEmpty };
inline constexpr int kFaults = 7;

/// Lower-case name of a label ("none", "spike", "stuck", "drift", "dropout", "failure", "battery_empty").
const char* to_string(Fault f);

/// One injected fault on one device: active for start_us <= t < end_us.
struct FaultWindow {
  Fault kind;
  std::int64_t start_us;
  std::int64_t end_us;
  double magnitude;  ///< spike height or drift reached at the end (signed); unused otherwise
};

/// Injected faults of device `i` active at some time in [from_us, to_us), by start time.
void fault_windows(const Fleet& fleet, std::size_t i, std::int64_t from_us, std::int64_t to_us,
                   std::vector<FaultWindow>& out);

/// Reading of device `i` at `t_us` without injected faults (wear included); NaN after failure.
double clean_reading(const Fleet& fleet, std::size_t i, std::int64_t t_us);

/// Readings of every device at t0_us + k * dt_us for k < steps, row-major
/// (n_devices, steps) into `values`, labels likewise into `labels` (Fault codes).
/// Dropouts, failed devices and empty batteries read NaN. Parallel over devices.
void generate(const Fleet& fleet, std::int64_t t0_us, std::size_t steps, std::int64_t dt_us, double* values,
              std::uint8_t* labels);

}  // namespace edgeswarm::fleet
