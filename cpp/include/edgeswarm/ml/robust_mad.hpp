#pragma once
// Robust z-score over a sliding window: distance from the window's median in
// units of its scaled median absolute deviation (1.4826 * MAD).
//
// Scale floor: the scale is at least `range_floor` times the range (max - min)
// of every valid sample learned so far. Without it a window of equal values
// (a flat or quantised stretch) has MAD 0, and every change, however small,
// is infinitely many MADs away and scores exactly 1. For noisy data the floor
// never binds: n normal samples span about 2 sqrt(2 ln n) sigma (8 sigma at
// n = 6,000, 9.5 at 100,000), so 1.4826 * MAD ~ sigma is near range / 10,
// ten times the default floor of range / 100. With the floor, on a flat
// stretch a move of threshold / 100 of the range (3 % by default) scores 0.5.
// The 1 / 100 was chosen from that argument alone (not tuned on any benchmark).

#include <cstddef>
#include <vector>

#include "edgeswarm/ml/detector.hpp"
#include "edgeswarm/ml/sorted_window.hpp"

namespace edgeswarm::ml {

/// Options of RobustMad.
struct RobustMadParams {
  int window = 101;           ///< number of most recent valid samples kept, >= 3
  double threshold = 3.0;     ///< robust z at which the score is 0.5
  double warmup = 30.0;       ///< samples at which maturity reaches one half
  double min_scale = 1e-9;    ///< absolute floor of 1.4826 * MAD, so windows of equal values do not divide by zero
  double range_floor = 0.01;  ///< floor of 1.4826 * MAD relative to the learned range (max - min), in [0, 1]
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
  /// The scale a new sample is measured in: max(1.4826 * MAD, range_floor * (max - min), min_scale).
  double scale() const;

 private:
  double scale_about(double med) const;  // scale() with the window's median given

  RobustMadParams params_;
  DetectorStats stats_;
  SortedWindow window_{0};        // the last `window` values (sized once the options are checked)
  double min_ = 0.0, max_ = 0.0;  // range of every valid sample learned
};

}  // namespace edgeswarm::ml
