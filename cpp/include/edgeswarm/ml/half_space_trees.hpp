#pragma once
// Half-Space Trees (Tan, Ting & Liu, IJCAI 2011): an ensemble of random
// half-space trees whose node masses, counted over the previous window of
// samples (the reference), say how crowded the region of a new sample is.
//
// The first `window` valid samples only fix the feature ranges and fill the
// first reference masses (they score 0 with confidence 0). Each later sample
// descends every tree to a leaf; walking that leaf's path from the root, the
// first node whose reference mass r is below the size limit (or the leaf at
// depth k) gives the tree's log-density log2((r + 1) * 2^k / window) (r + 1:
// an empty region is sparse, not infinitely so). The mean over trees, G(x), is
// the log of the geometric-mean density of x's regions.
//
// Calibration: the reference window's own samples, each scored by the same
// rule against the reference less itself (leave-one-out), give the typical
// log-density G_ref. s = 2^(G_ref - G(x)) says how many times sparser x's
// region is than a typical sample's, and the score is
//   s^2 / (s^2 + threshold^2)
// (squared like the z-score detectors' z^2 / (z^2 + threshold^2)), so a region
// `threshold` times sparser than typical scores 0.5, a typical one about
// 1 / (1 + threshold^2), an empty far-away one towards 1.
//
// Layout: per tree, breadth-first node indices (children of i are 2i+1 and
// 2i+2) in flat arrays; only leaf counts are kept for the current window. At a
// window's end the counts become the reference: node masses are summed bottom
// up and every leaf's log-density (and the leave-one-out one for G_ref) is
// tabulated top down, so a sample costs one descent, one table read and one
// increment per tree.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgeswarm/ml/detector.hpp"

namespace edgeswarm::ml {

/// Options of HalfSpaceTrees.
struct HalfSpaceTreesParams {
  int dim = 1;               ///< features per sample, >= 1
  int n_trees = 25;          ///< trees, >= 1
  int depth = 8;             ///< depth of every tree, in [1, 20]
  int window = 250;          ///< samples per reference window, >= 2
  double size_limit = 0.02;  ///< a path stops at a node whose mass is below size_limit * window, in [0, 1]
  std::uint64_t seed = 0;    ///< seed of the project RNG drawing the trees
  double warmup = 250.0;     ///< samples after the first window at which maturity reaches one half
  double threshold = 24.0;   ///< a region this many times sparser than typical scores 0.5, > 1
};

/// Throws std::invalid_argument naming the first bad option.
void validate(const HalfSpaceTreesParams& p);

/// Multivariate streaming detector; samples are rows of `dim` doubles.
class HalfSpaceTrees {
 public:
  /// A fresh detector; throws std::invalid_argument on bad options.
  explicit HalfSpaceTrees(const HalfSpaceTreesParams& params = {});

  /// Scores the row x[0..dim) against the reference masses, then counts it.
  Scored update(const double* x);
  /// update() over n rows of x (row-major n x dim).
  void update_batch(const double* x, std::size_t n, double* score, double* confidence);
  /// Back to a fresh detector (the same trees are drawn again).
  void reset();

  /// The options.
  const HalfSpaceTreesParams& params() const { return params_; }
  /// The counters.
  const DetectorStats& stats() const { return stats_; }
  /// True once the first window has fixed the trees.
  bool built() const { return built_; }

 private:
  void build();
  Scored score_and_count(const double* x, std::uint64_t n);  // n: valid samples before x
  template <bool kUnivariate>
  double descend_and_count(const double* x);  // sum over trees of the leaves' log-densities
  void end_window();                          // the current window's counts become the reference
  // From node i at depth k: tabulates the leaves' log-densities, adds the leave-one-out ones to `typical`.
  void walk(double* leaf_values, std::size_t i, int k, bool loo_open, double& typical);
  double log2_of(std::uint32_t v) const;  // log2(v), tabulated for small v

  HalfSpaceTreesParams params_;
  DetectorStats stats_;
  bool built_ = false;
  std::size_t internal_ = 0;  // internal nodes per tree: 2^depth - 1
  std::size_t leaves_ = 0;    // leaves per tree: 2^depth
  std::uint32_t size_limit_ = 0;
  double log2_window_ = 0.0;
  double log2_threshold_ = 0.0;
  double typical_ = 0.0;                  // G_ref, the reference's typical log-density
  std::uint32_t until_window_end_ = 0;    // valid samples left in the current window
  std::vector<double> first_window_;      // the first window's rows, to size the workspace
  std::vector<double> split_value_;       // per internal node, trees one after another
  std::vector<std::int32_t> split_dim_;   // per internal node, trees one after another
  std::vector<std::uint32_t> count_;      // per leaf: samples of the current window
  std::vector<double> leaf_log_density_;  // per leaf: the tree's log-density against the reference
  std::vector<std::uint32_t> mass_;       // scratch of end_window(): one tree's node masses
  std::vector<double> log2_table_;        // log2(v) for v < size
  std::vector<std::uint32_t> node_;       // scratch of the descent: one node per tree
};

}  // namespace edgeswarm::ml
