#include "edgeswarm/ml/neighbour_rarity.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::ml {

void validate(const NeighbourRarityParams& p) {
  core::require(p.window >= 1, "window", std::to_string(p.window), "integers >= 1");
  core::require_positive("radius", p.radius);
  core::require_positive("rare_fraction", p.rare_fraction);
  core::require_non_negative("warmup", p.warmup);
}

NeighbourRarity::NeighbourRarity(const NeighbourRarityParams& params) : params_(params) {
  validate(params_);
  window_ = SortedWindow(static_cast<std::size_t>(params_.window));
}

std::size_t NeighbourRarity::neighbours(double x) const {
  if (window_.empty()) return 0;
  // The neighbourhood [x - h, x + h]; a constant past has h = 0, so only equal values count.
  const double h = params_.radius * (hi_ - lo_);
  const auto first = std::lower_bound(window_.sorted().begin(), window_.sorted().end(), x - h);
  const auto last = std::upper_bound(first, window_.sorted().end(), x + h);
  return static_cast<std::size_t>(last - first);
}

Scored NeighbourRarity::update(double x) {
  ++stats_.seen;
  if (!std::isfinite(x)) {
    ++stats_.invalid;
    return invalid_scored();
  }
  Scored out;
  if (!window_.empty()) {
    const double q = static_cast<double>(neighbours(x)) / static_cast<double>(window_.size());
    out.score = std::exp2(-q / params_.rare_fraction);
    out.confidence = confidence_of(out.score, stats_.learned() - 1, params_.warmup);
  }
  if (stats_.learned() == 1) {
    lo_ = hi_ = x;
  } else {
    lo_ = std::min(lo_, x);
    hi_ = std::max(hi_, x);
  }
  window_.push(x);
  return out;
}

void NeighbourRarity::update_batch(const double* x, std::size_t n, double* score, double* confidence) {
  for (std::size_t i = 0; i < n; ++i) {
    const Scored s = update(x[i]);
    score[i] = s.score;
    confidence[i] = s.confidence;
  }
}

void NeighbourRarity::reset() {
  stats_ = {};
  window_.clear();
  lo_ = hi_ = 0.0;
}

}  // namespace edgeswarm::ml
