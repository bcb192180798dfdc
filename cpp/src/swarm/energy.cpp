#include "edgeswarm/swarm/energy.hpp"

#include <cmath>
#include <limits>
#include <locale>
#include <sstream>
#include <stdexcept>

#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/core/rng.hpp"

namespace edgeswarm::swarm {
namespace {

using core::require_fraction;
using core::require_non_negative;
using core::require_positive;

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
// Intervals are capped here so that epoch + interval cannot overflow for any
// realistic epoch count (2^62 epochs of 1 ms is ~146 million years).
constexpr double kMaxIntervalEpochs = 4611686018427387904.0;  // 2^62

std::int64_t saturating_add(std::int64_t a, std::int64_t b) { return a > kNever - b ? kNever : a + b; }

}  // namespace

std::string to_string(Role role) {
  switch (role) {
    case Role::Sentinel:
      return "sentinel";
    case Role::OnDemand:
      return "on_demand";
    case Role::Scheduled:
      return "scheduled";
  }
  return "Role(" + std::to_string(static_cast<int>(role)) + ")";
}

void validate(const EnergyParams& p) {
  require_positive("calm_interval_s", p.calm_interval_s);
  require_positive("prestorm_interval_s", p.prestorm_interval_s);
  require_positive("storm_interval_s", p.storm_interval_s);
  if (p.wake_burst_epochs < 1)
    core::fail_range("wake_burst_epochs", std::to_string(p.wake_burst_epochs), "integers >= 1");
  require_fraction("sentinel_fraction", p.sentinel_fraction);
  require_fraction("on_demand_fraction", p.on_demand_fraction);
  // A tolerance of a few ulps lets e.g. 0.7 + 0.3 through.
  if (p.sentinel_fraction + p.on_demand_fraction > 1.0 + 1e-12) {
    core::fail_range("on_demand_fraction", core::format_value(p.on_demand_fraction),
                     "[0, 1 - sentinel_fraction] with sentinel_fraction = " + core::format_value(p.sentinel_fraction));
  }
  require_non_negative("awake_mw", p.awake_mw);
  require_non_negative("asleep_mw", p.asleep_mw);
  require_non_negative("tx_uj_per_byte", p.tx_uj_per_byte);
  require_non_negative("tx_uj_per_message", p.tx_uj_per_message);
}

SleepScheduler::SleepScheduler(std::size_t n, const EnergyParams& params, std::uint64_t seed, std::int64_t epoch_ms)
    : params_(params), epoch_ms_(epoch_ms) {
  validate(params_);
  if (epoch_ms_ <= 0) core::fail_range("epoch_ms", std::to_string(epoch_ms_), "integers > 0");

  roles_.resize(n);
  next_wake_.assign(n, kNever);
  burst_left_.assign(n, 0);
  energy_mj_.assign(n, 0.0);
  asleep_epochs_.assign(n, 0);

  const double on_demand_edge = params_.sentinel_fraction + params_.on_demand_fraction;
  const auto first_interval = static_cast<std::uint64_t>(interval_epochs(Regime::Calm, 0.5));
  for (std::size_t i = 0; i < n; ++i) {
    const double u = core::Rng::for_node(seed, i, 0, core::Purpose::Roles).uniform();
    if (u < params_.sentinel_fraction) {
      roles_[i] = Role::Sentinel;
    } else if (u < on_demand_edge) {
      roles_[i] = Role::OnDemand;
    } else {
      roles_[i] = Role::Scheduled;
      // Spread the first wake-ups so the fleet does not wake in lockstep.
      next_wake_[i] =
          static_cast<std::int64_t>(core::Rng::for_node(seed, i, 0, core::Purpose::Schedule).below(first_interval));
    }
  }
}

std::int64_t SleepScheduler::interval_epochs(Regime regime, double reputation) const {
  if (std::isnan(reputation)) core::fail_range("reputation", "nan", "[0, 1] (values outside are clamped)");
  double base_s = 0.0;
  switch (regime) {
    case Regime::Calm:
      base_s = params_.calm_interval_s;
      break;
    case Regime::PreStorm:
      base_s = params_.prestorm_interval_s;
      break;
    case Regime::Storm:
      base_s = params_.storm_interval_s;
      break;
    default:
      core::fail_range("regime", std::to_string(static_cast<int>(regime)), "0 (Calm), 1 (PreStorm), 2 (Storm)");
  }
  const double r = reputation < 0.0 ? 0.0 : (reputation > 1.0 ? 1.0 : reputation);
  double epochs = base_s * 1000.0 / static_cast<double>(epoch_ms_) / (0.5 + r);
  if (epochs > kMaxIntervalEpochs) epochs = kMaxIntervalEpochs;
  const std::int64_t rounded = std::llround(epochs);  // ties away from zero, like the fixed-point rule
  return rounded < 1 ? 1 : rounded;
}

void SleepScheduler::plan_epoch(std::uint64_t epoch, Regime regime, bool escalated, const double* reputation,
                                std::uint8_t* awake) {
  const std::size_t n = roles_.size();
  if (epoch > static_cast<std::uint64_t>(kNever)) {
    core::fail_range("epoch", std::to_string(epoch), "[0, 2^63)");
  }
  if (static_cast<std::uint8_t>(regime) > static_cast<std::uint8_t>(Regime::Storm)) {
    core::fail_range("regime", std::to_string(static_cast<int>(regime)), "0 (Calm), 1 (PreStorm), 2 (Storm)");
  }
  if (n > 0 && reputation == nullptr) throw std::invalid_argument("reputation: null pointer with n > 0");
  if (n > 0 && awake == nullptr) throw std::invalid_argument("awake: null pointer with n > 0");
  // Validate before touching any state, so a bad input leaves the schedule intact.
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(reputation[i])) {
      throw std::invalid_argument("reputation: nan at node " + std::to_string(i) +
                                  " is out of range; allowed [0, 1] (values outside are clamped)");
    }
  }

  const auto now = static_cast<std::int64_t>(epoch);
  const std::int32_t burst = params_.wake_burst_epochs;
  for (std::size_t i = 0; i < n; ++i) {
    switch (roles_[i]) {
      case Role::Sentinel:
        awake[i] = 1;
        continue;
      case Role::Scheduled:
        if (escalated || now >= next_wake_[i]) {
          burst_left_[i] = burst;
          next_wake_[i] = saturating_add(now, interval_epochs(regime, reputation[i]));
        }
        break;
      case Role::OnDemand:
        if (escalated) burst_left_[i] = burst;
        break;
    }
    if (burst_left_[i] > 0) {
      awake[i] = 1;
      --burst_left_[i];
    } else {
      awake[i] = 0;
    }
  }
}

void SleepScheduler::charge(const std::uint8_t* awake, const std::uint64_t* bytes_sent,
                            const std::uint32_t* messages_sent) {
  const std::size_t n = roles_.size();
  if (n > 0 && awake == nullptr) throw std::invalid_argument("awake: null pointer with n > 0");
  // mW * s = mJ.
  const auto ms = static_cast<double>(epoch_ms_);
  const double awake_mj = params_.awake_mw * ms / 1000.0;
  const double asleep_mj = params_.asleep_mw * ms / 1000.0;
  for (std::size_t i = 0; i < n; ++i) {
    double e = awake[i] ? awake_mj : asleep_mj;
    if (!awake[i]) ++asleep_epochs_[i];
    const double bytes = bytes_sent ? static_cast<double>(bytes_sent[i]) : 0.0;
    const double messages = messages_sent ? static_cast<double>(messages_sent[i]) : 0.0;
    e += (bytes * params_.tx_uj_per_byte + messages * params_.tx_uj_per_message) / 1000.0;
    energy_mj_[i] += e;
  }
  ++epochs_charged_;
}

double SleepScheduler::sleep_ratio(std::size_t i) const {
  if (i >= roles_.size()) {
    core::fail_range("i", std::to_string(i), "[0, " + std::to_string(roles_.size()) + ")");
  }
  if (epochs_charged_ == 0) return 0.0;
  return static_cast<double>(asleep_epochs_[i]) / static_cast<double>(epochs_charged_);
}

}  // namespace edgeswarm::swarm
