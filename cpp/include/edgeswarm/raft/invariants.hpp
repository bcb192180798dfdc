#pragma once
// Raft's safety properties, checked incrementally as a harness runs. The
// harness reports what happens to each node (its state after an event, the
// entries it appends, the hard states that become durable, the entries it
// applies, restarts); each report costs O(1) amortised per entry, so the
// checker can run after every event. What it checks (Raft paper, Figure 3,
// plus the persistence properties a crash-recovery harness must keep):
//
// - ElectionSafety: at most one node is leader in a term.
// - LogMatching: two entries with the same index and term hold the same data
//   and follow the same previous term (so, inductively, identical prefixes).
// - LeaderCompleteness: a leader of term T holds the last entry known to be
//   committed before T (known: some node reported a commit index covering it
//   while in a term < T); with LogMatching this covers every earlier entry.
// - StateMachineSafety: no two nodes commit or apply different entries at an
//   index; each node applies indexes in order.
// - LeaderAppendOnly: while a node leads a term its log only grows.
// - TermDecreased / CommitDecreased: per node, the in-memory term and commit
//   never go back within one run of the node, and the persisted ones never go
//   back at all (across restarts).
// - DoubleVote: at most one persisted vote per (node, term), across restarts.
//
// A violation is recorded as a structured record, never just logged.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgeswarm/core/event_queue.hpp"
#include "edgeswarm/raft/log.hpp"
#include "edgeswarm/raft/ready.hpp"
#include "edgeswarm/raft/records.hpp"

namespace edgeswarm::raft {

/// Which property was broken.
enum class ViolationKind : std::uint8_t {
  ElectionSafety = 0,
  LogMatching = 1,
  LeaderCompleteness = 2,
  StateMachineSafety = 3,
  LeaderAppendOnly = 4,
  TermDecreased = 5,
  DoubleVote = 6,
  CommitDecreased = 7,
};

/// The kind's name in snake_case, e.g. "election_safety".
std::string to_string(ViolationKind kind);

/// One broken property.
struct Violation {
  ViolationKind kind = ViolationKind::ElectionSafety;
  NodeId node = 0;          ///< node that showed it (the harness's node number)
  std::uint64_t term = 0;   ///< term concerned
  std::uint64_t index = 0;  ///< log index concerned (0 when none)
  core::SimTime time = 0;   ///< simulated time of the event that showed it
  std::string detail;       ///< what exactly differed
};

/// Incremental checker of Raft's safety properties.
class InvariantChecker {
 public:
  /// Keeps at most `max_recorded` violations (all are counted).
  explicit InvariantChecker(std::size_t max_recorded = 1000) : max_recorded_(max_recorded) {}

  /// Node's volatile state after an event: role, term, commit index and log.
  void observe(core::SimTime time, NodeId node, Role role, std::uint64_t term, std::uint64_t commit, const Log& log);
  /// Node appended log entries [first, last] (they are in `log`).
  void on_entries(core::SimTime time, NodeId node, const Log& log, std::uint64_t first, std::uint64_t last);
  /// Node's hard state `hs` became durable.
  void on_persisted(core::SimTime time, NodeId node, const HardState& hs);
  /// Node's state machine applied `entry`.
  void on_apply(core::SimTime time, NodeId node, const Entry& entry);
  /// Node's state machine was reset to a snapshot at `index` (applying resumes at index + 1).
  void on_restore(NodeId node, std::uint64_t index);
  /// Node crashed and restarts: its volatile state is gone, its persisted state is what counts.
  void on_restart(NodeId node);

  /// Recorded violations, in the order found (at most max_recorded).
  const std::vector<Violation>& violations() const { return violations_; }
  /// Number of violations found, recorded or not.
  std::uint64_t violation_count() const { return count_; }
  /// Reports handled so far (one per call), a measure of how much was checked.
  std::uint64_t checks() const { return checks_; }

 private:
  struct Digest {
    std::uint64_t term = 0;  ///< 0: unknown
    std::uint64_t hash = 0;
  };
  struct Track {
    std::uint64_t term = 0;
    std::uint64_t commit = 0;
    std::uint64_t recorded_commit = 0;  ///< entries up to here were checked into committed_
    bool leading = false;
    std::uint64_t lead_term = 0;
    std::uint64_t lead_last_index = 0;
    std::uint64_t lead_last_term = 0;
    std::optional<std::uint64_t> applied;
    std::uint64_t p_term = 0, p_vote = kNoNode, p_commit = 0;  ///< persisted
  };
  struct EntryKey {
    std::uint64_t index, term;
    bool operator==(const EntryKey& o) const { return index == o.index && term == o.term; }
  };
  struct EntryKeyHash {
    std::size_t operator()(const EntryKey& k) const { return std::size_t(k.index * 0x9E3779B97F4A7C15ULL ^ k.term); }
  };
  struct Seen {
    std::uint64_t hash;
    std::uint64_t prev_term;  ///< kUnknown when the previous entry was compacted away
  };
  static constexpr std::uint64_t kUnknown = ~std::uint64_t{0};

  static std::uint64_t digest(const Entry& e);
  void report(ViolationKind kind, core::SimTime time, NodeId node, std::uint64_t term, std::uint64_t index,
              std::string detail);
  void record_committed(core::SimTime time, NodeId node, std::uint64_t index, std::uint64_t term, std::uint64_t hash,
                        const char* how);
  void record_commit_frontier(std::uint64_t term, std::uint64_t commit);
  std::uint64_t committed_before(std::uint64_t term) const;

  std::size_t max_recorded_;
  std::uint64_t count_ = 0;
  std::uint64_t checks_ = 0;
  std::vector<Violation> violations_;
  std::map<NodeId, Track> nodes_;
  std::map<std::uint64_t, NodeId> leaders_;          ///< term -> the leader seen in it
  std::vector<Digest> committed_;                    ///< committed_[i - 1]: the entry committed at index i
  std::map<std::uint64_t, std::uint64_t> frontier_;  ///< term -> highest index known committed by then (monotone)
  std::unordered_map<EntryKey, Seen, EntryKeyHash> entries_;  ///< (index, term) -> first entry seen there
};

}  // namespace edgeswarm::raft
