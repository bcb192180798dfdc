#pragma once
// The leader's view of one follower's log: how far it matches (match), what
// to send next (next), and how sending is paced. Probe: one Append at a time
// until the follower's log is found; Replicate: stream Appends optimistically,
// at most max_inflight unacknowledged ones; Snapshot: wait for an
// InstallSnapshot to be acknowledged.

#include <cstddef>
#include <cstdint>
#include <deque>

namespace edgeswarm::raft {

/// Pace of replication to one follower.
enum class ProgressState : std::uint8_t { Probe = 0, Replicate = 1, Snapshot = 2 };

/// Leader-side replication state for one follower.
struct Progress {
  std::uint64_t match = 0;  ///< highest index known replicated
  std::uint64_t next = 1;   ///< next index to send
  ProgressState state = ProgressState::Probe;
  bool probe_sent = false;             ///< Probe: an Append is outstanding
  std::uint64_t pending_snapshot = 0;  ///< Snapshot: index of the snapshot sent
  std::uint32_t snapshot_ticks = 0;    ///< Snapshot: ticks waited for its acknowledgement
  bool recent_active = false;          ///< heard from since the last CheckQuorum round
  std::uint64_t read_ack_seq = 0;      ///< highest ReadIndex round it acknowledged
  std::deque<std::uint64_t> inflight;  ///< Replicate: last index of each unacknowledged Append

  /// True when no Append may be sent now.
  bool paused(std::size_t max_inflight) const;
  /// Records an acknowledgement of `index`; false when it tells nothing new.
  bool update(std::uint64_t index);
  /// Handles a rejection of the Append whose previous index was `rejected`,
  /// moving next to `hint_next` (clamped to (match, rejected]) and switching
  /// to Probe; false when stale.
  bool decrease(std::uint64_t rejected, std::uint64_t hint_next);
  /// Switches to Probe, next = match + 1 (or after a pending snapshot).
  void become_probe();
  /// Switches to Replicate, next = match + 1.
  void become_replicate();
  /// Switches to Snapshot after sending the snapshot at `index`.
  void become_snapshot(std::uint64_t index);
  /// Records an Append sent whose last entry is `last` (optimistic in Replicate).
  void sent(std::uint64_t last, std::size_t count);
};

}  // namespace edgeswarm::raft
