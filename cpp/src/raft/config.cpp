#include "edgeswarm/raft/config.hpp"

#include <string>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::raft {

void validate(const Config& c) {
  using core::require;
  require(c.id != kNoNode, "id", std::to_string(c.id), "ids >= 1");
  require(c.heartbeat_ticks >= 1, "heartbeat_ticks", std::to_string(c.heartbeat_ticks), "integers >= 1");
  require(c.election_min_ticks > c.heartbeat_ticks, "election_min_ticks", std::to_string(c.election_min_ticks),
          "integers > heartbeat_ticks = " + std::to_string(c.heartbeat_ticks));
  require(c.election_max_ticks > c.election_min_ticks, "election_max_ticks", std::to_string(c.election_max_ticks),
          "integers > election_min_ticks = " + std::to_string(c.election_min_ticks));
  require(c.max_entries_per_msg >= 1, "max_entries_per_msg", std::to_string(c.max_entries_per_msg), "integers >= 1");
  require(c.max_inflight_msgs >= 1, "max_inflight_msgs", std::to_string(c.max_inflight_msgs), "integers >= 1");
}

}  // namespace edgeswarm::raft
