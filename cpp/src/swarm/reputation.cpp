#include "edgeswarm/swarm/reputation.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::swarm {
void validate(const ReputationParams& p) {
  using core::require;
  require(p.ban_threshold >= 0.0 && p.ban_threshold < 1.0, "ban_threshold", p.ban_threshold, "[0, 1)");
  require(p.initial > p.ban_threshold && p.initial <= 1.0, "initial", p.initial, "(ban_threshold, 1]");
  require(p.reward >= 0.0 && p.reward <= 1.0, "reward", p.reward, "[0, 1]");
  require(p.penalty > 0.0 && p.penalty <= 1.0, "penalty", p.penalty, "(0, 1]");
  require(p.tolerance > 0.0 && std::isfinite(p.tolerance), "tolerance", p.tolerance, "> 0");
  require(p.min_distance > 0.0 && std::isfinite(p.min_distance), "min_distance", p.min_distance, "> 0");
}

ReputationLedger::ReputationLedger(std::size_t n, const ReputationParams& params) : params_(params) {
  validate(params_);
  reward_ = fixed::from_double(params_.reward);
  penalty_ = fixed::from_double(params_.penalty);
  ban_threshold_ = fixed::from_double(params_.ban_threshold);
  reputation_.assign(n, fixed::from_double(params_.initial));
  banned_.assign(n, 0);
}

std::size_t ReputationLedger::update(const std::uint64_t* sq_distance, const std::uint8_t* reported) {
  const std::size_t n = reputation_.size();
  scratch_.clear();
  for (std::size_t i = 0; i < n; ++i) {
    if (reported[i] && !banned_[i]) scratch_.push_back(sq_distance[i]);
  }
  if (scratch_.empty()) return 0;
  // Median of squared distances = square of the median distance; a robust
  // scale that the honest majority sets, whatever the outliers do.
  auto mid = scratch_.begin() + static_cast<std::ptrdiff_t>(scratch_.size() / 2);
  std::nth_element(scratch_.begin(), mid, scratch_.end());
  const double median_sq = static_cast<double>(*mid);
  const double floor_raw = params_.min_distance * fixed::kOne;
  const double threshold_sq = std::max(params_.tolerance * params_.tolerance * median_sq, floor_raw * floor_raw);
  last_threshold_sq_ = static_cast<std::uint64_t>(std::min(threshold_sq, 1.8e19));

  std::size_t newly_banned = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!reported[i] || banned_[i]) continue;
    fixed::q16& r = reputation_[i];
    if (sq_distance[i] <= last_threshold_sq_) {
      r = std::min(fixed::kOne, fixed::add(r, reward_));
    } else {
      // Graded: a report just past the tolerance loses little, one at twice
      // the tolerated distance or more loses the full penalty. Honest nodes
      // in the tail of the noise are not banned for it.
      const double excess = std::min(1.0, std::sqrt(static_cast<double>(sq_distance[i]) / threshold_sq) - 1.0);
      const fixed::q16 loss = std::max<fixed::q16>(1, fixed::mul(penalty_, fixed::from_double(excess)));
      r = std::max(fixed::q16{0}, fixed::sub(r, loss));
    }
    if (r < ban_threshold_) {
      banned_[i] = 1;
      ++banned_count_;
      ++newly_banned;
    }
  }
  return newly_banned;
}

}  // namespace edgeswarm::swarm
