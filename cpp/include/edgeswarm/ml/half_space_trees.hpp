#pragma once
// Half-Space Trees (Tan, Ting & Liu, IJCAI 2011): an ensemble of random
// half-space trees whose node masses, counted over the previous window of
// samples, say how crowded the region of a new sample was.
//
// The first `window` valid samples only fix the feature ranges and fill the
// first reference masses (they score 0 with confidence 0). Each later sample
// descends every tree to the first node whose reference mass r is below the
// size limit (or to a leaf at depth k); q = r * 2^k / window is its density
// relative to the window spread evenly over the tree's workspace. The score is
// 2^(-mean q over trees): 1 in empty regions, 0.5 at the even density, towards 0
// in crowded ones. Masses of the current window become the reference when it
// ends (lazily, per node, so a window change costs nothing).

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
  double size_limit = 0.1;   ///< descent stops at a node whose mass is below size_limit * window, in [0, 1]
  std::uint64_t seed = 0;    ///< seed of the project RNG drawing the trees
  double warmup = 250.0;     ///< samples after the first window at which maturity reaches one half
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
  struct Mass {
    std::uint32_t latest = 0;     // count in the current window
    std::uint32_t reference = 0;  // count in the previous window
    std::uint32_t window = 0;     // the window `latest` belongs to
  };
  void build();
  Scored score_and_count(const double* x, std::uint64_t n);  // n: valid samples before x

  HalfSpaceTreesParams params_;
  DetectorStats stats_;
  bool built_ = false;
  std::size_t nodes_per_tree_ = 0;
  std::size_t internal_per_tree_ = 0;
  std::uint32_t size_limit_ = 0;
  std::vector<double> first_window_;     // the first window's rows, to size the workspace
  std::vector<std::int32_t> split_dim_;  // per internal node, trees one after another
  std::vector<double> split_value_;
  std::vector<Mass> mass_;               // per node, trees one after another
  std::vector<double> two_pow_;          // 2^k / window for k = 0..depth
};

}  // namespace edgeswarm::ml
