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

}  // namespace

void validate(const HalfSpaceTreesParams& p) {
  core::require(p.dim >= 1, "dim", std::to_string(p.dim), "integers >= 1");
  core::require(p.n_trees >= 1, "n_trees", std::to_string(p.n_trees), "integers >= 1");
  core::require(p.depth >= 1 && p.depth <= 20, "depth", std::to_string(p.depth), "integers in [1, 20]");
  core::require(p.window >= 2, "window", std::to_string(p.window), "integers >= 2");
  core::require_fraction("size_limit", p.size_limit);
  core::require_non_negative("warmup", p.warmup);
}

HalfSpaceTrees::HalfSpaceTrees(const HalfSpaceTreesParams& params) : params_(params) {
  validate(params_);
  nodes_per_tree_ = (std::size_t{1} << (params_.depth + 1)) - 1;
  internal_per_tree_ = (std::size_t{1} << params_.depth) - 1;
  size_limit_ = static_cast<std::uint32_t>(params_.size_limit * params_.window);
  const auto trees = static_cast<std::size_t>(params_.n_trees);
  split_dim_.assign(trees * internal_per_tree_, 0);
  split_value_.assign(trees * internal_per_tree_, 0.0);
  mass_.assign(trees * nodes_per_tree_, Mass{});
  two_pow_.resize(static_cast<std::size_t>(params_.depth) + 1);
  for (int k = 0; k <= params_.depth; ++k) two_pow_[k] = std::ldexp(1.0, k) / params_.window;
  first_window_.reserve(static_cast<std::size_t>(params_.window) * params_.dim);
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
  std::vector<double> node_lo(nodes_per_tree_ * dim), node_hi(nodes_per_tree_ * dim);
  for (int t = 0; t < params_.n_trees; ++t) {
    core::Rng rng(params_.seed, static_cast<std::uint64_t>(t));
    for (int j = 0; j < dim; ++j) {
      const double centre = rng.uniform(lo[j], hi[j]);
      const double half = 2.0 * std::max(centre - lo[j], hi[j] - centre);
      node_lo[j] = centre - half;
      node_hi[j] = centre + half;
    }
    for (std::size_t node = 0; node < internal_per_tree_; ++node) {
      const auto q = static_cast<int>(rng.below(static_cast<std::uint64_t>(dim)));
      const double* nlo = &node_lo[node * dim];
      const double* nhi = &node_hi[node * dim];
      const double mid = 0.5 * (nlo[q] + nhi[q]);
      split_dim_[t * internal_per_tree_ + node] = q;
      split_value_[t * internal_per_tree_ + node] = mid;
      for (std::size_t child = 2 * node + 1; child <= 2 * node + 2; ++child) {
        std::copy(nlo, nlo + dim, &node_lo[child * dim]);
        std::copy(nhi, nhi + dim, &node_hi[child * dim]);
      }
      node_hi[(2 * node + 1) * dim + q] = mid;
      node_lo[(2 * node + 2) * dim + q] = mid;
    }
  }
  built_ = true;
  // The first window becomes window 0's latest masses (reference from window 1 on).
  for (std::size_t i = 0; i < rows; ++i) score_and_count(&first_window_[i * dim], i);
  first_window_.clear();
  first_window_.shrink_to_fit();
}

Scored HalfSpaceTrees::score_and_count(const double* x, std::uint64_t n) {
  const auto w = static_cast<std::uint32_t>(n / static_cast<std::uint64_t>(params_.window));
  const int depth = params_.depth;
  double q_sum = 0.0;
  for (int t = 0; t < params_.n_trees; ++t) {
    const std::int32_t* sd = &split_dim_[t * internal_per_tree_];
    const double* sv = &split_value_[t * internal_per_tree_];
    Mass* mass = &mass_[t * nodes_per_tree_];
    std::size_t node = 0;
    bool scored = false;
    for (int k = 0;; ++k) {
      Mass& m = mass[node];
      if (m.window != w) {
        m.reference = (m.window + 1 == w) ? m.latest : 0;
        m.latest = 0;
        m.window = w;
      }
      if (!scored && (m.reference < size_limit_ || k == depth)) {
        q_sum += m.reference * two_pow_[k];
        scored = true;
      }
      ++m.latest;
      if (k == depth) break;
      node = 2 * node + (x[sd[node]] < sv[node] ? 1 : 2);
    }
  }
  Scored out;
  if (n >= static_cast<std::uint64_t>(params_.window)) {
    out.score = std::exp2(-q_sum / params_.n_trees);
    out.confidence = confidence_of(out.score, n - params_.window, params_.warmup);
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
  std::fill(mass_.begin(), mass_.end(), Mass{});
  first_window_.clear();
  first_window_.reserve(static_cast<std::size_t>(params_.window) * params_.dim);
}

}  // namespace edgeswarm::ml
