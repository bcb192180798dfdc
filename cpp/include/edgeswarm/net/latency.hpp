#pragma once
// Latency models for simulated links. Every draw is an integer number of
// microseconds in [0, kMaxDelayUs], taken from the project's portable RNG.
//
// - fixed(d): always d.
// - uniform(lo, hi): integers lo..hi inclusive, each equally likely.
// - normal(mean, sd): a normal draw rounded to the nearest microsecond,
//   truncated at 0 by redrawing negative values (so there is no spike at 0;
//   mean >= 0 keeps at least half of the draws, so redraws are cheap).
// - pareto(scale, shape, cap): the long-tailed model, Pareto type I with
//   minimum `scale` and tail index `shape`, P(X > x) = (scale / x)^shape for
//   x >= scale, drawn by inversion; draws above `cap` are clamped to `cap`,
//   so a shape <= 1 (infinite mean) still gives finite simulated times.

#include <cstdint>

#include "edgeswarm/core/event_queue.hpp"
#include "edgeswarm/core/rng.hpp"

namespace edgeswarm::net {

using core::SimTime;

/// Largest delay any model returns (about 35 years).
inline constexpr SimTime kMaxDelayUs = SimTime{1} << 50;
/// Latest simulated time a network accepts, so time + delays cannot overflow.
inline constexpr SimTime kMaxTimeUs = SimTime{1} << 61;

/// A latency distribution over integer microseconds.
class LatencyModel {
 public:
  enum class Kind : std::uint8_t { Fixed, Uniform, Normal, Pareto };

  /// Zero delay.
  LatencyModel() = default;

  /// Always `delay_us`; delay_us in [0, kMaxDelayUs].
  static LatencyModel fixed(SimTime delay_us);
  /// Uniform over min_us..max_us inclusive; 0 <= min_us <= max_us <= kMaxDelayUs.
  static LatencyModel uniform(SimTime min_us, SimTime max_us);
  /// Normal(mean_us, sd_us) truncated at 0; mean_us and sd_us in [0, kMaxDelayUs].
  static LatencyModel normal(double mean_us, double sd_us);
  /// Pareto with minimum scale_us > 0, tail index shape > 0, clamped at
  /// cap_us in [scale_us, kMaxDelayUs].
  static LatencyModel pareto(SimTime scale_us, double shape, SimTime cap_us);

  /// One draw from `rng`.
  SimTime sample(core::Rng& rng) const;

  /// Which family this model belongs to.
  Kind kind() const { return kind_; }

 private:
  LatencyModel(Kind kind, double a, double b, SimTime lo, SimTime hi) : kind_(kind), a_(a), b_(b), lo_(lo), hi_(hi) {}

  Kind kind_ = Kind::Fixed;
  double a_ = 0.0;  // normal: mean; pareto: shape
  double b_ = 0.0;  // normal: sd
  SimTime lo_ = 0;  // fixed: delay; uniform: min; pareto: scale
  SimTime hi_ = 0;  // uniform: max; pareto: cap
};

}  // namespace edgeswarm::net
