#pragma once
// One Raft node as a pure state machine in the style of etcd-io/raft: no
// clock, no I/O, no threads. The application drives it:
//
//   node.tick();              // at a fixed period (timeouts count ticks)
//   node.step(message);       // for each message received
//   node.propose(data);       // on the leader
//   while (node.has_ready()) {
//     Ready rd = node.ready();
//     storage.persist(rd);    // 1. durably, BEFORE sending (see ready.hpp)
//     send(rd.messages);      // 2.
//     apply(rd.snapshot, rd.committed_entries);  // 3.
//     serve(rd.read_states);  // 4.
//     node.advance(rd);       // 5.
//   }
//
// Implemented: randomised election timeouts, PreVote, CheckQuorum with
// leader leases, log replication with conflict-term backtracking, the
// Figure 8 commit rule, batching and an in-flight cap, snapshots with
// InstallSnapshot, ReadIndex, leadership transfer and one-at-a-time
// membership changes (effective when appended, see conf_change.hpp).

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "edgeswarm/core/rng.hpp"
#include "edgeswarm/raft/conf_change.hpp"
#include "edgeswarm/raft/config.hpp"
#include "edgeswarm/raft/log.hpp"
#include "edgeswarm/raft/message.hpp"
#include "edgeswarm/raft/progress.hpp"
#include "edgeswarm/raft/ready.hpp"
#include "edgeswarm/raft/records.hpp"
#include "edgeswarm/raft/storage.hpp"

namespace edgeswarm::raft {

/// Outcome of a request to the node.
enum class ProposeResult : std::uint8_t {
  Ok = 0,         ///< accepted (a proposal is appended, not yet committed)
  NotLeader = 1,  ///< this node is not the leader; retry at Node::leader()
  Dropped = 2,    ///< the leader cannot take it now (transfer or membership change in progress, ...)
};

/// A Raft node.
class Node {
 public:
  /// Restarts from persisted state (a fresh node: Storage::bootstrap or an
  /// empty Storage). The node starts as a follower with no known leader; its
  /// applied index is the snapshot's index, so the application rebuilds its
  /// state machine from the snapshot and re-applies the committed entries
  /// handed out by ready(). Throws std::invalid_argument for a bad config
  /// (naming the field) or inconsistent storage ("storage: ...").
  Node(const Config& config, const Storage& storage);

  /// Advances logical time by one tick (elections, heartbeats, CheckQuorum).
  void tick();
  /// Handles a message addressed to this node (others are ignored).
  void step(const Message& message);
  /// Appends `data` to the log if this node is the leader.
  ProposeResult propose(std::vector<std::uint8_t> data);
  /// Proposes a membership change (leader only; Dropped while another change
  /// is uncommitted, before the leader has committed an entry of its term, or
  /// when the change is a no-op or would leave no voter).
  ProposeResult propose_conf_change(const ConfChange& change);
  /// Starts a linearizable read (leader only): a ReadState with `context`
  /// comes out of ready() once leadership is confirmed by a quorum and the
  /// read index is applied.
  ProposeResult read_index(std::uint64_t context);
  /// Hands leadership to voter `target` once it is caught up (leader only;
  /// proposals are dropped until it completes or times out after
  /// election_min_ticks).
  ProposeResult transfer_leadership(NodeId target);
  /// Compacts the log up to `index` (<= applied index) into a snapshot with
  /// the application's state `data`, kept to bring slow followers up; returns
  /// it for the application to store (Storage::compact). Throws
  /// std::invalid_argument ("index: ...") outside (snapshot index, applied].
  Snapshot compact(std::uint64_t index, std::vector<std::uint8_t> data);

  /// True when ready() has something to hand out.
  bool has_ready() const;
  /// The next batch of work; the messages are moved out of the node.
  Ready ready();
  /// Acknowledges that `ready` was persisted, sent and applied.
  void advance(const Ready& ready);

  /// This node's id.
  NodeId id() const { return config_.id; }
  /// Parameters.
  const Config& config() const { return config_; }
  /// Current term.
  std::uint64_t term() const { return term_; }
  /// Vote cast in the current term.
  NodeId vote() const { return vote_; }
  /// Current role.
  Role role() const { return role_; }
  /// Known leader of the current term, or kNoNode.
  NodeId leader() const { return leader_; }
  /// Highest index known committed.
  std::uint64_t commit_index() const { return commit_; }
  /// Highest index the application has applied (as acknowledged by advance()).
  std::uint64_t applied_index() const { return applied_; }
  /// The in-memory log.
  const Log& log() const { return log_; }
  /// Voters in force (the latest configuration in the log).
  const ConfState& conf() const { return conf_.empty() ? base_conf_ : conf_.back().second; }
  /// The latest snapshot (index 0 when none).
  const Snapshot& snapshot() const { return snapshot_; }
  /// Leader only: replication state of `peer`, or nullptr.
  const Progress* progress(NodeId peer) const;
  /// Hard state as the node currently holds it.
  HardState hard_state() const { return {term_, vote_, commit_}; }

 private:
  struct PendingRead {
    std::uint64_t context;
    std::uint64_t index;
    std::uint64_t seq;
  };
  enum class Campaign { PreElection, Election, Transfer };

  bool is_voter(NodeId id) const;
  std::size_t quorum() const;
  void reset(std::uint64_t term);
  void become_follower(std::uint64_t term, NodeId leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void campaign(Campaign kind);
  bool poll(NodeId from, bool granted, std::size_t* rejections);
  void send(Message m);

  void step_leader(const Message& m);
  void step_candidate(const Message& m);
  void step_follower(const Message& m);
  void handle_vote_request(const Message& m);
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  void handle_append_response(const Message& m);
  void handle_heartbeat_response(const Message& m);

  void append_to_log(const std::vector<Entry>& entries);
  void append_as_leader(Entry entry);
  void on_conf_changed();
  bool maybe_commit();
  void commit_to(std::uint64_t index);
  bool send_append(NodeId to, bool send_if_empty);
  void broadcast_append();
  void broadcast_heartbeat();
  void send_heartbeat(NodeId to);
  void register_read(std::uint64_t context);
  void release_reads();
  bool committed_in_term() const;

  Config config_;
  core::Rng rng_;
  Log log_;
  Snapshot snapshot_;                                      ///< latest snapshot, for InstallSnapshot
  ConfState base_conf_;                                    ///< voters at log_.snapshot_index()
  std::vector<std::pair<std::uint64_t, ConfState>> conf_;  ///< voters after each ConfChange entry in the log

  std::uint64_t term_ = 0;
  NodeId vote_ = kNoNode;
  std::uint64_t commit_ = 0;
  std::uint64_t applied_ = 0;
  std::uint64_t handed_applied_ = 0;  ///< last index handed out in committed_entries
  std::uint64_t stable_ = 0;          ///< entries up to here are on disk
  HardState persisted_hs_;
  std::optional<Snapshot> pending_snapshot_;  ///< received, not yet handed out/acknowledged
  SoftState last_soft_;

  Role role_ = Role::Follower;
  NodeId leader_ = kNoNode;
  std::uint32_t election_elapsed_ = 0;
  std::uint32_t heartbeat_elapsed_ = 0;
  std::uint32_t randomized_timeout_ = 0;
  std::map<NodeId, bool> votes_;
  std::map<NodeId, Progress> progress_;
  NodeId transferee_ = kNoNode;
  std::uint32_t transfer_elapsed_ = 0;
  bool pending_broadcast_ = false;   ///< appends to send at the next ready()
  bool pending_read_round_ = false;  ///< a ReadIndex heartbeat round to send at the next ready()

  std::uint64_t read_seq_ = 0;
  std::deque<PendingRead> pending_reads_;           ///< awaiting quorum confirmation
  std::vector<std::uint64_t> reads_before_commit_;  ///< contexts waiting for the term's first commit
  std::deque<ReadState> confirmed_reads_;           ///< confirmed, waiting to be applied

  std::vector<Message> msgs_;
};

}  // namespace edgeswarm::raft
