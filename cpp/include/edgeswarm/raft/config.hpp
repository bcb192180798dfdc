#pragma once
// Immutable parameters of one Raft node. Time is counted in ticks: the
// application calls Node::tick() at a fixed period of its choosing.

#include <cstddef>
#include <cstdint>

#include "edgeswarm/raft/records.hpp"

namespace edgeswarm::raft {

/// Parameters of one node.
struct Config {
  NodeId id = kNoNode;     ///< this node's id, != 0
  std::uint64_t seed = 0;  ///< election timeouts come from core::Rng(seed, stream of (id, persisted term))
  std::uint32_t election_min_ticks = 10;  ///< election timeout drawn from [min, max) ticks
  std::uint32_t election_max_ticks = 20;
  std::uint32_t heartbeat_ticks = 1;     ///< leader heartbeat period, < election_min_ticks
  bool pre_vote = true;                  ///< ask for a pre-vote before bumping the term
  bool check_quorum = true;              ///< leader steps down without a quorum; followers honour leases
  std::size_t max_entries_per_msg = 64;  ///< entries per Append message (1: no batching)
  std::size_t max_inflight_msgs = 256;   ///< unacknowledged Append messages per follower
};

/// Checks the fields (id != 0, heartbeat_ticks >= 1, election_min_ticks >
/// heartbeat_ticks, election_max_ticks > election_min_ticks, caps >= 1);
/// throws std::invalid_argument naming the field.
void validate(const Config& config);

}  // namespace edgeswarm::raft
