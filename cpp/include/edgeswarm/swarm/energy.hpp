#pragma once
// Energy-aware sleep scheduling in the style of Wi-Fi Target Wake Time (TWT):
// nodes sleep between service periods whose interval depends on the regime
// (Calm 4 h, PreStorm 10 min, Storm 30 s), scaled by reputation. On waking a
// node stays up for a short burst. Roles: sentinels never sleep, scheduled
// nodes follow the TWT interval, on-demand nodes wake only when the regime
// escalates. An escalation wakes every scheduled and on-demand node at once.
// A power model turns awake time, sleep time and transmissions into energy.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgeswarm/swarm/regime.hpp"

namespace edgeswarm::swarm {

enum class Role : std::uint8_t { Sentinel = 0, OnDemand = 1, Scheduled = 2 };

/// The role's name: "sentinel", "on_demand" or "scheduled".
std::string to_string(Role role);

struct EnergyParams {
  double calm_interval_s = 4 * 3600.0;  ///< TWT interval in Calm
  double prestorm_interval_s = 600.0;   ///< TWT interval in PreStorm
  double storm_interval_s = 30.0;       ///< TWT interval in Storm
  int wake_burst_epochs = 2;            ///< epochs awake per wake-up (>= 1)
  double sentinel_fraction = 1.0;       ///< share of sentinels, in [0, 1]
  double on_demand_fraction = 0.0;      ///< share of on-demand nodes; rest are scheduled
  double awake_mw = 60.0;               ///< power while awake (sensing, radio listening)
  double asleep_mw = 0.01;              ///< power while asleep
  double tx_uj_per_byte = 0.5;          ///< transmit energy per byte
  double tx_uj_per_message = 20.0;      ///< transmit energy per message (preamble, wake-up)
};

/// Checks ranges (intervals finite and > 0, wake_burst_epochs >= 1, fractions
/// in [0, 1] with sum <= 1, powers and transmit costs finite and >= 0);
/// throws std::invalid_argument naming the field.
void validate(const EnergyParams& params);

/// Per-node wake schedule and energy ledger.
class SleepScheduler {
 public:
  /// Roles are drawn from (seed, node, Roles stream): u < sentinel_fraction
  /// is a sentinel, u < sentinel + on_demand fraction on-demand, otherwise
  /// scheduled. First wake-ups of scheduled nodes are spread uniformly over
  /// their first interval, the Calm interval at neutral reputation 0.5
  /// (drawn from the node's Schedule stream). epoch_ms must be > 0.
  SleepScheduler(std::size_t n, const EnergyParams& params, std::uint64_t seed, std::int64_t epoch_ms);

  /// The parameters it was built with.
  const EnergyParams& params() const { return params_; }
  /// Number of nodes.
  std::size_t size() const { return roles_.size(); }
  /// Role of node i (unchecked index).
  Role role(std::size_t i) const { return roles_[i]; }
  /// Simulated milliseconds per epoch.
  std::int64_t epoch_ms() const { return epoch_ms_; }

  /// TWT interval in epochs for `regime` and a reputation in [0, 1]:
  /// base / (0.5 + reputation), at least 1 epoch. Precisely
  /// llround(base_s * 1000 / epoch_ms / (0.5 + clamp(reputation, 0, 1))),
  /// capped at 2^62; NaN reputation throws std::invalid_argument.
  std::int64_t interval_epochs(Regime regime, double reputation) const;

  /// Decides who is awake in `epoch` (1 = awake) given the regime in force.
  /// `escalated` is true when the regime just became more urgent.
  /// `reputation` (n values in [0, 1]) scales the intervals.
  /// Sentinels are always awake. A scheduled node starts a burst of
  /// wake_burst_epochs when epoch >= its next wake-up and schedules the next
  /// one an interval later; on-demand nodes sleep outside bursts. On
  /// escalation every scheduled and on-demand node starts a burst now and
  /// scheduled nodes reschedule with the new regime's interval. Inputs are
  /// validated before any state changes.
  void plan_epoch(std::uint64_t epoch, Regime regime, bool escalated, const double* reputation, std::uint8_t* awake);

  /// Charges one epoch: awake or asleep power over the epoch, plus transmit
  /// energy for the bytes and messages each node sent: (awake ? awake_mw :
  /// asleep_mw) * epoch_ms / 1000 + (bytes * tx_uj_per_byte + messages *
  /// tx_uj_per_message) / 1000 mJ. Null bytes_sent / messages_sent count as 0.
  void charge(const std::uint8_t* awake, const std::uint64_t* bytes_sent, const std::uint32_t* messages_sent);

  /// Energy used so far per node, in millijoules.
  const std::vector<double>& energy_mj() const { return energy_mj_; }
  /// Fraction of charged epochs node i spent asleep (0 before any charge);
  /// throws std::invalid_argument for i >= size().
  double sleep_ratio(std::size_t i) const;
  /// Number of charge() calls so far.
  std::uint64_t epochs_charged() const { return epochs_charged_; }

 private:
  EnergyParams params_;
  std::int64_t epoch_ms_;
  std::vector<Role> roles_;
  std::vector<std::int64_t> next_wake_;   ///< epoch of the next scheduled wake-up
  std::vector<std::int32_t> burst_left_;  ///< awake epochs left in the current burst
  std::vector<double> energy_mj_;
  std::vector<std::uint64_t> asleep_epochs_;
  std::uint64_t epochs_charged_ = 0;
};

}  // namespace edgeswarm::swarm
