#pragma once
// Neighbour rarity: how few of the recent values lie near the new one.
// A density score in the spirit of KNN-CAD and Relative Entropy, for one
// feature: with q the fraction of the last `window` valid samples within
// radius * (learned max - learned min) of x, the score is 2^(-q / rare_fraction),
// so a value with no near neighbours scores 1 and one with `rare_fraction` of
// the window near it scores 0.5.

#include <cstddef>
#include <vector>

#include "edgeswarm/ml/detector.hpp"
#include "edgeswarm/ml/sorted_window.hpp"

namespace edgeswarm::ml {

/// Options of NeighbourRarity.
struct NeighbourRarityParams {
  int window = 4000;             ///< most recent valid samples compared with, >= 1
  double radius = 1.0 / 32.0;    ///< neighbourhood half-width as a fraction of the learned range, > 0
  double rare_fraction = 0.004;  ///< fraction of neighbours in the window at which the score is 0.5, > 0
  double warmup = 30.0;          ///< samples at which maturity reaches one half
};

/// Throws std::invalid_argument naming the first bad option.
void validate(const NeighbourRarityParams& p);

/// Univariate streaming detector on the number of near neighbours in a sliding window.
class NeighbourRarity {
 public:
  /// A fresh detector; throws std::invalid_argument on bad options.
  explicit NeighbourRarity(const NeighbourRarityParams& params = {});

  /// Scores x against the window, then pushes it in (oldest out when full).
  Scored update(double x);
  /// update() over x[0..n) in order.
  void update_batch(const double* x, std::size_t n, double* score, double* confidence);
  /// Back to a fresh detector.
  void reset();

  /// The options.
  const NeighbourRarityParams& params() const { return params_; }
  /// The counters.
  const DetectorStats& stats() const { return stats_; }
  /// Number of values in x's neighbourhood within the window, as update(x) would count them (no learning).
  std::size_t neighbours(double x) const;

 private:
  NeighbourRarityParams params_;
  DetectorStats stats_;
  SortedWindow window_{0};      // the last `window` values (sized once the options are checked)
  double lo_ = 0.0, hi_ = 0.0;  // smallest and largest value learned (over all time)
};

}  // namespace edgeswarm::ml
