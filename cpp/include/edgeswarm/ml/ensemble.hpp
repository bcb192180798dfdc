#pragma once
// Calibrated ensemble: each member's score s_i gets an upper tail probability
// p_i = P(member score >= s_i) from the member's own past scores, and the
// smallest, Bonferroni-corrected, gives the ensemble score
//   score = 1 - min(1, m * min_i p_i),
// so a score of 1 - p means "a p-value of p that this sample is usual".
// Members: univariate (dim 1) EWMA z-score, robust MAD and Half-Space Trees;
// multivariate (dim > 1) Mahalanobis and Half-Space Trees.
//
// The tail probability is the empirical one (mid-rank over a histogram) in
// the bulk, and where that falls below tail_fit (above about the member's
// (1 - tail_fit) quantile q1) a fitted tail:
// on the log-odds scale v = ln(s / (1 - s)) (ln z^2 for the distance members,
// the log-density ratio for Half-Space Trees) the excess over v(q1) is taken
// as exponential, with its median set by the (1 - tail_fit / 2) quantile q2:
//   p = tail_fit * 2^(-(v(s) - v(q1)) / (v(q2) - v(q1))).
// Why not ranks alone: a rank cannot give a p-value below the fraction of past
// samples scored at least as high, so once anomalies make up more than the
// p of the alarm level (0.01 for an alarm at 0.99) of the history (40 spikes
// in 6,000 samples are 0.7 %), a new one ranks among the old ones and is missed. Two quantiles are robust to any
// anomaly rate below tail_fit / 2, and the fitted tail keeps falling beyond
// the last past score. For a Gaussian member the exponential tail in ln z^2 is
// heavier than the true one (conservative). The price: large scores that recur
// in normal operation stay rare to the fitted tail (see the NAB section of
// benchmarks/README.md); tail_fit = 0 gives ranks alone.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgeswarm/ml/detector.hpp"
#include "edgeswarm/ml/ewma_zscore.hpp"
#include "edgeswarm/ml/half_space_trees.hpp"
#include "edgeswarm/ml/mahalanobis.hpp"
#include "edgeswarm/ml/robust_mad.hpp"

namespace edgeswarm::ml {

/// Options of Ensemble; the members' own `dim` and `seed` are set from these.
struct EnsembleParams {
  int dim = 1;                    ///< features per sample, >= 1
  std::uint64_t seed = 0;         ///< seed of the Half-Space Trees member
  int bins = 1024;                ///< histogram bins of each member's empirical CDF, >= 16
  double warmup = 100.0;          ///< samples at which maturity reaches one half
  double tail_fit = 0.05;         ///< tail probability below which the tail is fitted, in [0, 0.5]; 0: ranks only
  EwmaZScoreParams ewma;          ///< used when dim == 1
  RobustMadParams mad;            ///< used when dim == 1
  HalfSpaceTreesParams hst;       ///< always used
  MahalanobisParams mahalanobis;  ///< used when dim > 1
};

/// Throws std::invalid_argument naming the first bad option.
void validate(const EnsembleParams& p);

/// Running empirical CDF of scores in [0, 1] over a fixed histogram (Fenwick tree).
class EmpiricalCdf {
 public:
  /// An empty CDF with `bins` equal bins over [0, 1].
  explicit EmpiricalCdf(int bins);
  /// Mid-rank F(s): (count below s's bin + half the count in it) / total; 0.5 when empty.
  double cdf(double s) const;
  /// The score below which a fraction f of the scores lie, interpolated within its bin (0 when empty).
  double quantile(double f) const;
  /// Upper tail probability of s: 1 - cdf(s), or where that is below `fit` (above about the
  /// (1 - fit) quantile) the fitted tail of the file comment, once at least 10 / fit scores
  /// were added (fit 0: 1 - cdf(s) always).
  double tail(double s, double fit) const;
  /// Adds s.
  void add(double s);
  /// Empties it.
  void clear();
  /// Scores added.
  std::uint64_t total() const { return total_; }

 private:
  int bin_of(double s) const;
  std::uint64_t prefix(int bin) const;  // count in bins [0, bin)
  std::vector<std::uint64_t> tree_;
  std::vector<std::uint64_t> count_;
  std::uint64_t total_ = 0;
};

/// Streaming ensemble of calibrated members; rows of `dim` doubles.
class Ensemble {
 public:
  /// A fresh ensemble; throws std::invalid_argument on bad options.
  explicit Ensemble(const EnsembleParams& params = {});

  /// Scores the row x[0..dim) with every member (each learns it), then calibrates.
  Scored update(const double* x);
  /// update() over n rows of x (row-major n x dim).
  void update_batch(const double* x, std::size_t n, double* score, double* confidence);
  /// Back to a fresh ensemble.
  void reset();

  /// The options (members' dim and seed filled in).
  const EnsembleParams& params() const { return params_; }
  /// The counters.
  const DetectorStats& stats() const { return stats_; }
  /// Number of members (3 when dim == 1, else 2).
  int members() const { return params_.dim == 1 ? 3 : 2; }

 private:
  EnsembleParams params_;
  DetectorStats stats_;
  EwmaZScore ewma_;
  RobustMad mad_;
  HalfSpaceTrees hst_;
  Mahalanobis maha_;
  std::vector<EmpiricalCdf> cdfs_;
};

}  // namespace edgeswarm::ml
