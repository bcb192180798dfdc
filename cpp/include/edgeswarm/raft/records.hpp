#pragma once
// The records Raft persists and sends: log entries, the hard state (term,
// vote, commit), the voter set and snapshots. Plain values, compared by value.

#include <cstdint>
#include <vector>

namespace edgeswarm::raft {

/// Node identifier; 0 means "nobody".
using NodeId = std::uint64_t;
inline constexpr NodeId kNoNode = 0;

/// What a log entry carries.
enum class EntryType : std::uint8_t {
  Normal = 0,      ///< application data (empty data: the leader's no-op)
  ConfChange = 1,  ///< a membership change, data = encode(ConfChange)
};

/// One log entry.
struct Entry {
  std::uint64_t term = 0;
  std::uint64_t index = 0;
  EntryType type = EntryType::Normal;
  std::vector<std::uint8_t> data;

  friend bool operator==(const Entry& a, const Entry& b) {
    return a.term == b.term && a.index == b.index && a.type == b.type && a.data == b.data;
  }
  friend bool operator!=(const Entry& a, const Entry& b) { return !(a == b); }
};

/// State that must be on disk before any message that depends on it is sent.
struct HardState {
  std::uint64_t term = 0;    ///< current term
  NodeId vote = kNoNode;     ///< candidate voted for in `term`
  std::uint64_t commit = 0;  ///< highest index known committed

  friend bool operator==(const HardState& a, const HardState& b) {
    return a.term == b.term && a.vote == b.vote && a.commit == b.commit;
  }
  friend bool operator!=(const HardState& a, const HardState& b) { return !(a == b); }
};

/// The voter set, sorted ascending, without duplicates.
struct ConfState {
  std::vector<NodeId> voters;

  friend bool operator==(const ConfState& a, const ConfState& b) { return a.voters == b.voters; }
  friend bool operator!=(const ConfState& a, const ConfState& b) { return !(a == b); }
};

/// Application state up to `index` (inclusive), with the voters in force there.
struct Snapshot {
  std::uint64_t index = 0;  ///< last log index the snapshot covers (0: none)
  std::uint64_t term = 0;   ///< term of the entry at `index`
  ConfState conf;           ///< voters as of `index`
  std::vector<std::uint8_t> data;

  friend bool operator==(const Snapshot& a, const Snapshot& b) {
    return a.index == b.index && a.term == b.term && a.conf == b.conf && a.data == b.data;
  }
  friend bool operator!=(const Snapshot& a, const Snapshot& b) { return !(a == b); }
};

}  // namespace edgeswarm::raft
