#pragma once
// Likelihood alarm: a raw univariate detector, its anomaly likelihood, a
// range break and a hold-off, tuned for benchmarks such as NAB that reward
// the first alarm of an anomaly and charge every false one.
//
//   1. raw = the base detector's score of x (neighbour rarity or EWMA z-score);
//   2. s = AnomalyLikelihood(raw) (log scale, 0.5 = tail probability 1e-5);
//   3. range break: if x lies beyond the learned [min, max] by more than
//      range_tolerance * (max - min), s = 1 (the range must be non-zero);
//   4. hold-off: after a score >= 0.5, the next `holdoff` valid samples score 0,
//      so one anomaly rings once.

#include <cstddef>

#include "edgeswarm/ml/anomaly_likelihood.hpp"
#include "edgeswarm/ml/detector.hpp"
#include "edgeswarm/ml/ewma_zscore.hpp"
#include "edgeswarm/ml/neighbour_rarity.hpp"

namespace edgeswarm::ml {

/// Which raw detector feeds the likelihood.
enum class AlarmBase { rarity, ewma };

/// Options of LikelihoodAlarm.
struct LikelihoodAlarmParams {
  AlarmBase base = AlarmBase::rarity;  ///< the raw detector
  NeighbourRarityParams rarity;        ///< used when base is rarity
  EwmaZScoreParams ewma;               ///< used when base is ewma
  AnomalyLikelihoodParams likelihood;  ///< the post-processor
  bool range_break = true;             ///< whether a value beyond the learned range scores 1
  double range_tolerance = 0.05;       ///< margin beyond the range, as a fraction of it, >= 0
  int holdoff = 100;                   ///< valid samples scored 0 after an alarm, >= 0
  double warmup = 388.0;               ///< samples at which maturity reaches one half
};

/// Throws std::invalid_argument naming the first bad option.
void validate(const LikelihoodAlarmParams& p);

/// Univariate streaming detector: base detector -> anomaly likelihood -> range break -> hold-off.
class LikelihoodAlarm {
 public:
  /// A fresh detector; throws std::invalid_argument on bad options.
  explicit LikelihoodAlarm(const LikelihoodAlarmParams& params = {});

  /// Scores x (every stage scores before it learns), then learns it.
  Scored update(double x);
  /// update() over x[0..n) in order.
  void update_batch(const double* x, std::size_t n, double* score, double* confidence);
  /// Back to a fresh detector.
  void reset();

  /// The options.
  const LikelihoodAlarmParams& params() const { return params_; }
  /// The counters.
  const DetectorStats& stats() const { return stats_; }
  /// Valid samples still to be silenced by the hold-off.
  int quiet() const { return quiet_; }

 private:
  LikelihoodAlarmParams params_;
  DetectorStats stats_;
  NeighbourRarity rarity_;
  EwmaZScore ewma_;
  AnomalyLikelihood likelihood_;
  double lo_ = 0.0, hi_ = 0.0;  // learned range
  int quiet_ = 0;
};

}  // namespace edgeswarm::ml
