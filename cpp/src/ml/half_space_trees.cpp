#include "edgeswarm/ml/half_space_trees.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/core/rng.hpp"

namespace edgeswarm::ml {
namespace {

bool row_is_finite(const double* x, int dim) {
  for (int j = 0; j < dim; ++j) {
    if (!std::isfinite(x[j])) return false;
  }
  return true;
}

// Masses up to this many get their log2 from a table (the end of a window
// takes a few thousand logarithms per tree otherwise).
constexpr std::uint32_t kLog2TableSize = 4097;

}  // namespace

void validate(const HalfSpaceTreesParams& p) {
  core::require(p.dim >= 1, "dim", std::to_string(p.dim), "integers >= 1");
  core::require(p.n_trees >= 1, "n_trees", std::to_string(p.n_trees), "integers >= 1");
  core::require(p.depth >= 1 && p.depth <= 20, "depth", std::to_string(p.depth), "integers in [1, 20]");
  core::require(p.window >= 2, "window", std::to_string(p.window), "integers >= 2");
  core::require_fraction("size_limit", p.size_limit);
  core::require_non_negative("warmup", p.warmup);
  core::require(p.threshold > 1.0 && std::isfinite(p.threshold), "threshold", p.threshold, "finite values > 1");
}

HalfSpaceTrees::HalfSpaceTrees(const HalfSpaceTreesParams& params) : params_(params) {
  validate(params_);
  internal_ = (std::size_t{1} << params_.depth) - 1;
  leaves_ = std::size_t{1} << params_.depth;
  size_limit_ = static_cast<std::uint32_t>(params_.size_limit * params_.window);
  log2_window_ = std::log2(static_cast<double>(params_.window));
  log2_threshold_ = std::log2(params_.threshold);
  const auto trees = static_cast<std::size_t>(params_.n_trees);
  split_dim_.assign(trees * internal_, 0);
  split_value_.assign(trees * internal_, 0.0);
  count_.assign(trees * leaves_, 0);
  leaf_log_density_.assign(trees * leaves_, 0.0);
  mass_.assign(internal_ + leaves_, 0);
  node_.assign(trees, 0);
  const auto table = std::min<std::uint32_t>(kLog2TableSize, static_cast<std::uint32_t>(params_.window) + 2);
  log2_table_.resize(table);
  log2_table_[0] = 0.0;  // never read for a mass: callers pass v >= 1
  for (std::uint32_t v = 1; v < table; ++v) log2_table_[v] = std::log2(static_cast<double>(v));
  first_window_.reserve(static_cast<std::size_t>(params_.window) * params_.dim);
}

double HalfSpaceTrees::log2_of(std::uint32_t v) const {
  return v < log2_table_.size() ? log2_table_[v] : std::log2(static_cast<double>(v));
}

void HalfSpaceTrees::build() {
  const int dim = params_.dim;
  const auto rows = first_window_.size() / dim;
  std::vector<double> lo(dim), hi(dim);
  for (int j = 0; j < dim; ++j) {
    lo[j] = hi[j] = first_window_[j];
    for (std::size_t i = 1; i < rows; ++i) {
      lo[j] = std::min(lo[j], first_window_[i * dim + j]);
      hi[j] = std::max(hi[j], first_window_[i * dim + j]);
    }
    // A constant feature still gets a workspace of positive width.
    if (!(hi[j] > lo[j])) hi[j] = lo[j] + std::max(1e-9, 1e-9 * std::fabs(lo[j]));
  }
  // Per tree, a workspace around a random centre that covers [lo, hi] at least
  // twice over (the paper's construction); splits halve it.
  const std::size_t nodes = internal_ + leaves_;
  std::vector<double> node_lo(nodes * dim), node_hi(nodes * dim);
  for (int t = 0; t < params_.n_trees; ++t) {
    core::Rng rng(params_.seed, static_cast<std::uint64_t>(t));
    for (int j = 0; j < dim; ++j) {
      const double centre = rng.uniform(lo[j], hi[j]);
      const double half = 2.0 * std::max(centre - lo[j], hi[j] - centre);
      node_lo[j] = centre - half;
      node_hi[j] = centre + half;
    }
    for (std::size_t node = 0; node < internal_; ++node) {
      const auto q = static_cast<int>(rng.below(static_cast<std::uint64_t>(dim)));
      const double* nlo = &node_lo[node * dim];
      const double* nhi = &node_hi[node * dim];
      const double mid = 0.5 * (nlo[q] + nhi[q]);
      split_dim_[t * internal_ + node] = q;
      split_value_[t * internal_ + node] = mid;
      for (std::size_t child = 2 * node + 1; child <= 2 * node + 2; ++child) {
        std::copy(nlo, nlo + dim, &node_lo[child * dim]);
        std::copy(nhi, nhi + dim, &node_hi[child * dim]);
      }
      node_hi[(2 * node + 1) * dim + q] = mid;
      node_lo[(2 * node + 2) * dim + q] = mid;
    }
  }
  built_ = true;
  // The first window is counted and becomes the first reference.
  for (std::size_t i = 0; i < rows; ++i) {
    if (dim == 1) {
      descend_and_count<true>(&first_window_[i]);
    } else {
      descend_and_count<false>(&first_window_[i * dim]);
    }
  }
  end_window();
  until_window_end_ = static_cast<std::uint32_t>(params_.window);
  first_window_.clear();
  first_window_.shrink_to_fit();
}

template <bool kUnivariate>
double HalfSpaceTrees::descend_and_count(const double* x) {
  const auto trees = static_cast<std::size_t>(params_.n_trees);
  const double* value = split_value_.data();
  const std::int32_t* dim = split_dim_.data();
  double sum = 0.0;
  // Blocks of trees descend level by level together: their descents are
  // independent, so the loads of one level overlap instead of waiting on each
  // other, and the block's node indices stay in registers.
  constexpr std::size_t kBlock = 8;
  for (std::size_t t0 = 0; t0 < trees; t0 += kBlock) {
    const std::size_t block = std::min(kBlock, trees - t0);
    std::uint32_t node[kBlock] = {};
    for (int k = 0; k < params_.depth; ++k) {
      for (std::size_t b = 0; b < kBlock; ++b) {
        if (b == block) break;
        const std::size_t base = (t0 + b) * internal_;
        const double v = kUnivariate ? x[0] : x[dim[base + node[b]]];
        node[b] = 2 * node[b] + 1 + (v >= value[base + node[b]] ? 1u : 0u);
      }
    }
    for (std::size_t b = 0; b < block; ++b) {
      const std::size_t leaf = (t0 + b) * leaves_ + (node[b] - internal_);
      sum += leaf_log_density_[leaf];
      ++count_[leaf];
    }
  }
  return sum;
}

void HalfSpaceTrees::end_window() {
  std::uint32_t* mass = mass_.data();
  double typical = 0.0;
  for (int t = 0; t < params_.n_trees; ++t) {
    std::uint32_t* count = &count_[t * leaves_];
    std::copy(count, count + leaves_, mass + internal_);
    for (std::size_t i = internal_; i-- > 0;) mass[i] = mass[2 * i + 1] + mass[2 * i + 2];
    double tree_typical = 0.0;
    walk(&leaf_log_density_[t * leaves_], 0, 0, true, tree_typical);
    typical += tree_typical;
    std::fill(count, count + leaves_, 0u);
  }
  typical_ = typical / (static_cast<double>(params_.window) * params_.n_trees);
}

void HalfSpaceTrees::walk(double* leaf_values, std::size_t i, int k, bool loo_open, double& typical) {
  // Only nodes whose paths are still open are visited: where a path stops, every
  // leaf below shares the stop node's value, and the reference samples below it
  // (its mass) share its leave-one-out value.
  const std::uint32_t r = mass_[i];
  const double offset = k - log2_window_;
  const bool leaf = k == params_.depth;
  if (loo_open && r > 0 && (leaf || r < size_limit_ + 1)) {
    typical += r * (log2_of(r) + offset);  // each of the r samples against the other r - 1, plus one
    loo_open = false;
  }
  if (leaf || r < size_limit_) {
    const std::size_t below = std::size_t{1} << (params_.depth - k);
    const std::size_t first_leaf = (i + 1) * below - 1 - internal_;
    std::fill(leaf_values + first_leaf, leaf_values + first_leaf + below, log2_of(r + 1) + offset);
    return;
  }
  walk(leaf_values, 2 * i + 1, k + 1, loo_open, typical);
  walk(leaf_values, 2 * i + 2, k + 1, loo_open, typical);
}

Scored HalfSpaceTrees::score_and_count(const double* x, std::uint64_t n) {
  const double sum = params_.dim == 1 ? descend_and_count<true>(x) : descend_and_count<false>(x);
  const double sparser_bits = typical_ - sum / params_.n_trees;
  Scored out;
  out.score = 1.0 / (1.0 + std::exp2(2.0 * (log2_threshold_ - sparser_bits)));
  out.confidence = confidence_of(out.score, n - params_.window, params_.warmup);
  if (--until_window_end_ == 0) {
    end_window();
    until_window_end_ = static_cast<std::uint32_t>(params_.window);
  }
  return out;
}

Scored HalfSpaceTrees::update(const double* x) {
  ++stats_.seen;
  if (!row_is_finite(x, params_.dim)) {
    ++stats_.invalid;
    return invalid_scored();
  }
  if (built_) return score_and_count(x, stats_.learned() - 1);
  first_window_.insert(first_window_.end(), x, x + params_.dim);
  if (stats_.learned() == static_cast<std::uint64_t>(params_.window)) build();
  return {};
}

void HalfSpaceTrees::update_batch(const double* x, std::size_t n, double* score, double* confidence) {
  const auto dim = static_cast<std::size_t>(params_.dim);
  for (std::size_t i = 0; i < n; ++i) {
    const Scored s = update(x + i * dim);
    score[i] = s.score;
    confidence[i] = s.confidence;
  }
}

void HalfSpaceTrees::reset() {
  stats_ = {};
  built_ = false;
  typical_ = 0.0;
  std::fill(count_.begin(), count_.end(), 0u);
  std::fill(leaf_log_density_.begin(), leaf_log_density_.end(), 0.0);
  first_window_.clear();
  first_window_.reserve(static_cast<std::size_t>(params_.window) * params_.dim);
}

}  // namespace edgeswarm::ml
