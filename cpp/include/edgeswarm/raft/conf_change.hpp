#pragma once
// Membership change, one voter at a time (Raft thesis §4.1). A ConfChange
// entry takes effect on every node as soon as it is APPENDED to that node's
// log, committed or not; if the entry is later truncated away, the previous
// voter set comes back. A leader accepts a new change only once the previous
// one is committed and it has committed an entry of its own term.

#include <cstdint>
#include <vector>

#include "edgeswarm/raft/records.hpp"

namespace edgeswarm::raft {

/// Add or remove one voter.
enum class ConfChangeType : std::uint8_t { AddNode = 0, RemoveNode = 1 };

/// One membership change.
struct ConfChange {
  ConfChangeType type = ConfChangeType::AddNode;
  NodeId node = kNoNode;

  friend bool operator==(const ConfChange& a, const ConfChange& b) { return a.type == b.type && a.node == b.node; }
};

/// Entry payload for `change`: 1 byte type, 8 bytes node id (little-endian).
std::vector<std::uint8_t> encode(const ConfChange& change);

/// Parses an entry payload; throws std::invalid_argument ("data: ...") when malformed.
ConfChange decode_conf_change(const std::vector<std::uint8_t>& data);

/// The voter set after applying `change` to `conf` (unchanged if it is a no-op).
ConfState apply(const ConfState& conf, const ConfChange& change);

}  // namespace edgeswarm::raft
