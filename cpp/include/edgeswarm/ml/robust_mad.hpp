#pragma once
// Robust z-score over a sliding window: distance from the window's median in
// units of its scaled median absolute deviation (1.4826 * MAD).

#include <cstddef>
#include <vector>

#include "edgeswarm/ml/detector.hpp"

namespace edgeswarm::ml {

/// Options of RobustMad.
struct RobustMadParams {
  int window = 101;        ///< number of most recent valid samples kept, >= 3
  double threshold = 3.0;  ///< robust z at which the score is 0.5
  double warmup = 30.0;    ///< samples at which maturity reaches one half
  double min_scale = 1e-9; ///< floor of 1.4826 * MAD, so windows of equal values do not divide by zero
};

/// Throws std::invalid_argument naming the first bad option.
void validate(const RobustMadParams& p);

/// Univariate streaming detector on the median and MAD of the last `window` valid samples.
class RobustMad {
 public:
  /// A fresh detector; throws std::invalid_argument on bad options.
  explicit RobustMad(const RobustMadParams& params = {});

  /// Scores x against the window, then pushes it in (oldest out when full).
  Scored update(double x);
  /// update() over x[0..n) in order.
  void update_batch(const double* x, std::size_t n, double* score, double* confidence);
  /// Back to a fresh detector.
  void reset();

  /// The options.
  const RobustMadParams& params() const { return params_; }
  /// The counters.
  const DetectorStats& stats() const { return stats_; }
  /// Median of the window (0 when empty).
  double median() const;
  /// Median absolute deviation from the median (unscaled; 0 when empty).
  double mad() const;

 private:
  RobustMadParams params_;
  DetectorStats stats_;
  std::vector<double> ring_;    // arrival order, capacity window
  std::vector<double> sorted_;  // the same values, sorted
  std::size_t head_ = 0;        // next ring slot to overwrite once full
};

}  // namespace edgeswarm::ml
