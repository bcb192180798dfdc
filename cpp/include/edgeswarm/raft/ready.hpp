#pragma once
// What a node hands to the application after tick/step/propose: state to
// persist, messages to send, committed entries to apply.
//
// THE CONTRACT (as in etcd-io/raft), for each Ready in this order:
//   1. persist `snapshot` (if any), then `entries_to_persist` (replacing any
//      stored entries at or after the first one's index), then `hard_state`
//      (if any) -- durably;
//   2. only THEN send `messages`: a vote or an append acknowledgement must
//      never leave the node before the term, vote and entries it vouches for
//      are on disk;
//   3. install `snapshot` in the state machine (if any), then apply
//      `committed_entries` in order;
//   4. serve the `read_states` (their index is <= what step 3 applied);
//   5. call Node::advance(ready), before the next Node::ready().

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "edgeswarm/raft/message.hpp"
#include "edgeswarm/raft/records.hpp"

namespace edgeswarm::raft {

/// A node's role.
enum class Role : std::uint8_t { Follower = 0, PreCandidate = 1, Candidate = 2, Leader = 3 };

/// The role's name: "follower", "pre_candidate", "candidate" or "leader".
std::string to_string(Role role);

/// Volatile state worth showing, not persisting.
struct SoftState {
  NodeId leader = kNoNode;  ///< known leader of the current term, or kNoNode
  Role role = Role::Follower;

  friend bool operator==(const SoftState& a, const SoftState& b) { return a.leader == b.leader && a.role == b.role; }
  friend bool operator!=(const SoftState& a, const SoftState& b) { return !(a == b); }
};

/// A linearizable read: once the state machine has applied `index`, reading
/// it answers the read_index() request that passed `context`.
struct ReadState {
  std::uint64_t index = 0;
  std::uint64_t context = 0;
};

/// One batch of work for the application; see the contract above.
struct Ready {
  std::optional<HardState> hard_state;  ///< set when term, vote or commit changed
  std::vector<Entry> entries_to_persist;
  std::optional<Snapshot> snapshot;  ///< snapshot received from the leader
  std::vector<Message> messages;
  std::vector<Entry> committed_entries;
  std::vector<ReadState> read_states;
  SoftState soft_state;
};

}  // namespace edgeswarm::raft
