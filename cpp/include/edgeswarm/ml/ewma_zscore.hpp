#pragma once
// EWMA z-score: distance of each sample from an exponentially weighted mean,
// in units of the exponentially weighted standard deviation.

#include <cstddef>

#include "edgeswarm/ml/detector.hpp"

namespace edgeswarm::ml {

/// Options of EwmaZScore.
struct EwmaZScoreParams {
  double alpha = 0.02;     ///< forgetting rate in (0, 1]; the first 1/alpha samples get equal weights
  double threshold = 3.0;  ///< z at which the score is 0.5
  double warmup = 30.0;    ///< samples at which maturity (and so confidence) reaches one half
  double min_std = 1e-9;   ///< floor of the standard deviation, so constant signals do not divide by zero
};

/// Throws std::invalid_argument naming the first bad option.
void validate(const EwmaZScoreParams& p);

/// Univariate streaming detector: score z^2 / (z^2 + threshold^2), z = (x - mean) / std.
class EwmaZScore {
 public:
  /// A fresh detector; throws std::invalid_argument on bad options.
  explicit EwmaZScore(const EwmaZScoreParams& params = {});

  /// Scores x against the past, then learns it (NaN and infinity: skipped, see detector.hpp).
  Scored update(double x);
  /// update() over x[0..n) in order, writing score[i] and confidence[i].
  void update_batch(const double* x, std::size_t n, double* score, double* confidence);
  /// Back to a fresh detector with the same options.
  void reset();

  /// The options.
  const EwmaZScoreParams& params() const { return params_; }
  /// The counters.
  const DetectorStats& stats() const { return stats_; }
  /// Weighted mean of the valid samples learned.
  double mean() const { return mean_; }
  /// Weighted (population) variance of the valid samples learned.
  double variance() const { return var_; }

 private:
  EwmaZScoreParams params_;
  DetectorStats stats_;
  double mean_ = 0.0;
  double var_ = 0.0;
};

}  // namespace edgeswarm::ml
