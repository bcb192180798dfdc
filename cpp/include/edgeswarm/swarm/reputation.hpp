#pragma once
// Reputation without oracles: each epoch a reporting node is rewarded when its
// report lies within `tolerance` times the median report distance from the
// aggregate, and penalised otherwise, in proportion to how far past the
// tolerance it lies (the full penalty from twice the tolerated distance). Reputation lives in [0, 1] (Q16.16),
// starts at `initial`, and a node whose reputation falls below
// `ban_threshold` is banned: its reports are excluded from then on. The
// ledger only ever sees distances, never who is Byzantine.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgeswarm/core/fixed_point.hpp"

namespace edgeswarm::swarm {

struct ReputationParams {
  double initial = 0.5;        ///< starting reputation, in (ban_threshold, 1]
  double reward = 0.05;        ///< gain for a report within tolerance, in [0, 1]
  double penalty = 0.15;       ///< loss for a report at twice the tolerance or more, in (0, 1]
  double ban_threshold = 0.2;  ///< below this a node is banned, in [0, 1)
  double tolerance = 3.0;      ///< allowed distance in units of the median distance (> 0)
  double min_distance = 1e-3;  ///< floor of the tolerated distance in real units (> 0), so a
                               ///< perfectly calm swarm does not punish rounding noise
};

/// Checks ranges; throws std::invalid_argument naming the field.
void validate(const ReputationParams& params);

class ReputationLedger {
 public:
  ReputationLedger(std::size_t n, const ReputationParams& params);

  const ReputationParams& params() const { return params_; }
  std::size_t size() const { return reputation_.size(); }

  /// One epoch: `sq_distance[i]` is the squared L2 distance (in squared raw
  /// Q16 units) of node i's report from the aggregate, used only where
  /// `reported[i]` is 1. Returns the number of nodes newly banned.
  std::size_t update(const std::uint64_t* sq_distance, const std::uint8_t* reported);

  fixed::q16 reputation_raw(std::size_t i) const { return reputation_[i]; }
  double reputation(std::size_t i) const { return fixed::to_double(reputation_[i]); }
  bool banned(std::size_t i) const { return banned_[i] != 0; }
  const std::uint8_t* banned_data() const { return banned_.data(); }
  const fixed::q16* reputation_data() const { return reputation_.data(); }
  std::size_t banned_count() const { return banned_count_; }
  /// Squared tolerated distance used in the last update (raw Q16 units squared).
  std::uint64_t last_threshold_sq() const { return last_threshold_sq_; }

 private:
  ReputationParams params_;
  fixed::q16 reward_, penalty_, ban_threshold_;
  std::vector<fixed::q16> reputation_;
  std::vector<std::uint8_t> banned_;
  std::vector<std::uint64_t> scratch_;
  std::size_t banned_count_ = 0;
  std::uint64_t last_threshold_sq_ = 0;
};

}  // namespace edgeswarm::swarm
