#pragma once
// What the application keeps on disk for one node, and what a node reads at
// restart: the hard state, the latest snapshot and the entries after it.
// Like etcd's MemoryStorage, the application owns it: it writes each Ready
// into it (persist) and hands it to Node's constructor after a crash.

#include <cstdint>
#include <vector>

#include "edgeswarm/raft/ready.hpp"
#include "edgeswarm/raft/records.hpp"

namespace edgeswarm::raft {

/// Persisted state of one node.
class Storage {
 public:
  /// Empty storage: term 0, no voters (a node joining an existing cluster).
  Storage() = default;

  /// Storage for a brand-new cluster: one AddNode entry per voter at indexes
  /// 1..n (term 1), committed, so every founding node starts with the same
  /// log and a node that joins later learns the founders from the log.
  /// Throws std::invalid_argument ("voters: ...") for an empty list, id 0 or duplicates.
  static Storage bootstrap(const std::vector<NodeId>& voters);

  /// Hard state last written.
  const HardState& hard_state() const { return hard_state_; }
  /// Latest snapshot (index 0 when none).
  const Snapshot& snapshot() const { return snapshot_; }
  /// Entries after snapshot().index, consecutive.
  const std::vector<Entry>& entries() const { return entries_; }
  /// Index of the last entry, or the snapshot index.
  std::uint64_t last_index() const { return snapshot_.index + entries_.size(); }

  /// Writes the hard state.
  void set_hard_state(const HardState& hs) { hard_state_ = hs; }
  /// Appends entries, replacing any stored entries at or after the first
  /// one's index; throws std::invalid_argument ("entries: ...") on a gap.
  void append(const std::vector<Entry>& entries);
  /// Installs a snapshot received from the leader: keeps stored entries after
  /// it only if the entry at its index has its term.
  void apply_snapshot(const Snapshot& snapshot);
  /// Records the application's own snapshot (from Node::compact) and drops
  /// the entries it covers.
  void compact(const Snapshot& snapshot);

  /// Writes the durable parts of a Ready (snapshot, entries, hard state), as
  /// the Ready contract requires before its messages are sent.
  void persist(const Ready& ready);

 private:
  HardState hard_state_;
  Snapshot snapshot_;
  std::vector<Entry> entries_;
};

}  // namespace edgeswarm::raft
