#pragma once
// Messages between Raft nodes. One struct for every type; each type uses the
// fields listed beside it and leaves the others at their defaults.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgeswarm/raft/records.hpp"

namespace edgeswarm::raft {

/// Kinds of message on the wire.
enum class MessageType : std::uint8_t {
  Append = 0,             ///< leader -> follower: index/log_term of the previous entry, entries, commit
  AppendResponse = 1,     ///< index = last matching index, or reject with reject_hint/conflict_term
  Vote = 2,               ///< candidate: index/log_term of its last entry, transfer flag
  VoteResponse = 3,       ///< reject = vote refused
  PreVote = 4,            ///< like Vote, for term + 1, without bumping the sender's term
  PreVoteResponse = 5,    ///< term = the proposed term when granted
  Heartbeat = 6,          ///< commit (capped at the follower's match), read_seq
  HeartbeatResponse = 7,  ///< read_seq echoed
  Snapshot = 8,           ///< InstallSnapshot: snapshot
  TimeoutNow = 9,         ///< leadership transfer: campaign now
};

/// The type's name, e.g. "Append".
std::string to_string(MessageType type);

/// One message.
struct Message {
  MessageType type = MessageType::Append;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  std::uint64_t term = 0;
  std::uint64_t log_term = 0;  ///< Append: term at `index`; (Pre)Vote: term of the last entry
  std::uint64_t index = 0;     ///< Append: previous index; (Pre)Vote: last index; AppendResponse: match
  std::uint64_t commit = 0;
  std::vector<Entry> entries;
  bool reject = false;
  std::uint64_t reject_hint = 0;    ///< AppendResponse reject: follower's last index, or first index of conflict_term
  std::uint64_t conflict_term = 0;  ///< AppendResponse reject: follower's term at `index` (0: log too short)
  std::uint64_t read_seq = 0;       ///< Heartbeat(Response): ReadIndex round
  bool transfer = false;            ///< Vote: campaign caused by a leadership transfer (ignores leases)
  raft::Snapshot snapshot;          ///< Snapshot message only
};

/// Size of `m` in the compact binary encoding the harness counts:
/// 1 byte type, LEB128 varints for from, to, term, log_term, index, commit,
/// reject_hint, conflict_term, read_seq and the entry count, 1 flags byte
/// (reject, transfer); per entry a varint term, 1 type byte, a varint length
/// and the data (entry indexes follow from `index`); for Snapshot messages a
/// varint index, term, voter count, each voter, data length, then the data.
std::size_t message_bytes(const Message& m);

/// Size of `value` as an unsigned LEB128 varint (1 to 10 bytes).
std::size_t varint_bytes(std::uint64_t value);

}  // namespace edgeswarm::raft
