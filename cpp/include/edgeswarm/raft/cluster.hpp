#pragma once
// A Raft cluster on the deterministic network simulator: n nodes (numbered
// 0..n-1 here, Raft ids 1..n inside), each a raft::Node driven through its
// Ready loop, with a KvStore as the replicated state machine, clients that
// retry with de-duplication, and an InvariantChecker fed after every event.
//
// Time: simulated microseconds; every node ticks once per simulated
// millisecond (a network timer per node), so timeouts given in ms are ticks.
//
// The Ready loop of a node runs after each tick, message, proposal and
// restart: the durable part of a Ready (snapshot, entries, hard state) is
// written to the node's simulated disk as one record; its messages are held
// until the disk reports the record durable (fsync_us later; 0 = at the same
// instant, still through the event queue), then they are sent, committed
// entries are applied to the node's KvStore and the node advances. At most one
// Ready per node is in flight; a crash loses it with the pending write. The
// harness mirrors each node's durable state in a raft::Storage updated when a
// record becomes durable (equivalent to replaying the write-ahead log), and a
// restart builds Node(config, that storage) and the KvStore from the storage's
// snapshot. Every `snapshot_every` applied entries a node compacts its log
// into a snapshot of its KvStore (client sessions included), written to disk
// like a Ready.
//
// Clients talk to nodes directly (the client-server hop is instantaneous and
// not simulated): a command goes to the node the client believes leads; a
// NotLeader answer redirects it to that node's known leader, or else to the
// next node (a down node also sends it to the next), at most n + 1 tries per
// round; without an answer it starts a new round with the same (client, seq)
// every client_retry_us, and gives up after client_timeout_us. The answer comes
// when the node that accepted its latest attempt (as leader) applies the
// command; a node that refused it, or an earlier attempt, does not answer.
// Gets are logged like writes (so they are linearizable without leases). Each operation is
// recorded in history(): Ok with its output, Failed if no leader ever accepted
// it, Unknown otherwise (given up, or still pending).

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "edgeswarm/net/network.hpp"
#include "edgeswarm/raft/client.hpp"
#include "edgeswarm/raft/invariants.hpp"
#include "edgeswarm/raft/kv_store.hpp"
#include "edgeswarm/raft/node.hpp"
#include "edgeswarm/raft/storage.hpp"

namespace edgeswarm::raft {

using core::SimTime;

/// Number of MessageType values.
inline constexpr std::size_t kMessageTypes = 10;

/// Simulated time of one Raft tick.
inline constexpr SimTime kTickUs = 1000;

/// Everything that defines a cluster run.
struct ClusterConfig {
  std::size_t n = 5;  ///< nodes, in [1, net::kMaxNodes]
  std::uint64_t seed = 1;
  std::uint32_t election_min_ms = 150;  ///< election timeout drawn from [min, max) ms
  std::uint32_t election_max_ms = 300;
  std::uint32_t heartbeat_ms = 50;  ///< < election_min_ms
  SimTime latency_min_us = 1000;    ///< one-way latency, uniform over [min, max] us
  SimTime latency_max_us = 5000;
  double loss = 0.0;       ///< per copy, [0, 1]
  double duplicate = 0.0;  ///< per message, [0, 1]
  double reorder = 0.0;    ///< per copy: extra delay in [0, reorder_max_us], [0, 1]
  SimTime reorder_max_us = 10000;
  SimTime fsync_us = 100;               ///< delay before a disk write is durable, >= 0
  std::uint64_t snapshot_every = 1000;  ///< compact after this many applied entries (0: never)
  bool pre_vote = true;
  bool check_quorum = true;
  std::size_t max_entries_per_msg = 64;
  std::size_t max_inflight_msgs = 256;
  SimTime client_retry_us = 100000;     ///< resend an unanswered command after this long, > 0
  SimTime client_timeout_us = 5000000;  ///< give up (status Unknown or Failed) after this long, > 0
  bool check_invariants = true;         ///< run the InvariantChecker after every event
  bool record_applied = true;           ///< keep each node's applied payloads for applied()
};

/// Checks every field; throws std::invalid_argument naming the first bad one.
void validate(const ClusterConfig& config);

/// What a node holds on disk, as a restart would see it.
struct PersistedState {
  HardState hard_state;
  std::uint64_t snapshot_index = 0;
  std::uint64_t snapshot_term = 0;
  std::uint64_t last_index = 0;  ///< log length: index of the last durable entry
  std::size_t entries = 0;       ///< entries stored after the snapshot
};

/// A simulated Raft cluster with clients and safety checks.
class Cluster {
 public:
  /// A bootstrapped cluster of config.n voters, all up and connected.
  explicit Cluster(const ClusterConfig& config);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  /// Parameters.
  const ClusterConfig& config() const { return config_; }
  /// Number of nodes.
  std::size_t size() const { return servers_.size(); }
  /// Current simulated time (us).
  SimTime now() const { return net_.now(); }

  /// Runs until simulated time `until` (>= now()); stops early, right after
  /// the event that makes `stop` true, when given. Returns true if stopped early.
  bool run_until(SimTime until, const std::function<bool()>& stop = {});
  /// Runs for `us` microseconds.
  void run_for(SimTime us) { run_until(now() + us); }
  /// Runs until some node leads (at most timeout_us); returns it.
  std::optional<std::size_t> run_until_leader(SimTime timeout_us);

  /// The running node in role Leader with the highest term, if any.
  std::optional<std::size_t> leader() const;
  /// Proposes `data` at the leader; (index, term) of its entry, or nothing without a leader.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> propose(std::vector<std::uint8_t> data);
  /// Proposes `data` at node i (e.g. a deposed leader that does not know it yet);
  /// (index, term) of its entry, or nothing unless node i is up and leads.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> propose_at(std::size_t i, std::vector<std::uint8_t> data);

  /// Crashes node i (no effect if down): its Node, KvStore, pending disk writes and timers are lost.
  void crash(std::size_t i);
  /// Restarts node i from its durable state (no effect if up).
  void restart(std::size_t i);
  /// Splits the nodes into groups that cannot talk; unlisted nodes are each alone.
  void partition(const std::vector<std::vector<std::size_t>>& groups);
  /// Removes partitions and cuts.
  void heal();
  /// Blocks messages from i to j (one way).
  void cut(std::size_t i, std::size_t j);
  /// Replaces the rules of every link (latency, loss, duplication, reordering).
  void set_link_rules(const net::LinkRules& rules);

  /// True unless crashed.
  bool is_up(std::size_t i) const;
  /// Node i's Raft node; throws std::invalid_argument ("node: ...") if i is out of range or down.
  const Node& node(std::size_t i) const;
  /// Node i's state machine (node must be up).
  const KvStore& kv(std::size_t i) const;
  /// Node i's durable Raft state (up or down).
  const Storage& storage(std::size_t i) const;
  /// Summary of storage(i).
  PersistedState persisted(std::size_t i) const;
  /// (index, payload) of each non-empty Normal entry node i applied, by index;
  /// entries it received inside a snapshot are absent. Survives restarts.
  const std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>>& applied(std::size_t i) const;

  /// Messages node i handed to the network, by type (indexed by MessageType),
  /// counted before loss or duplication.
  const std::array<std::uint64_t, kMessageTypes>& messages_by_type(std::size_t i) const;
  /// The network, for counters and rules.
  const net::Network& network() const { return net_; }
  /// Violations found so far.
  const std::vector<Violation>& violations() const { return checker_.violations(); }
  /// The checker.
  const InvariantChecker& checker() const { return checker_; }

  /// A new client; returns its id (1, 2, ...).
  std::uint64_t add_client();
  /// Starts an operation of client `client` (which must have none pending);
  /// returns its position in history().
  std::size_t submit(std::uint64_t client, KvOp op, std::string key, std::string value = {});
  /// True while client's last operation waits for an answer.
  bool pending(std::uint64_t client) const;
  /// Runs until client's operation ends (answered or given up); returns its history entry.
  const HistoryEntry& wait(std::uint64_t client);
  /// Every client operation so far, in call order (pending ones have status Unknown).
  const std::vector<HistoryEntry>& history() const { return history_; }

 private:
  struct Server;
  struct Client;

  Server& server(std::size_t i);
  const Server& server(std::size_t i) const;
  Client& client(std::uint64_t id);
  Config node_config(std::size_t i) const;
  void start(std::size_t i);
  void handle(const net::Occurrence& ev);
  void pump(std::size_t i);
  void finish_ready(std::size_t i, Ready& rd);
  void on_durable(std::size_t i, std::uint64_t write_id);
  void observe(std::size_t i);
  void answer(std::size_t i, const KvApplied& a);
  void attempt(Client& c);
  SimTime next_client_deadline() const;
  void client_deadlines();

  ClusterConfig config_;
  net::Network net_;
  InvariantChecker checker_;
  std::vector<std::unique_ptr<Server>> servers_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<HistoryEntry> history_;
  std::size_t leader_guess_ = 0;
};

}  // namespace edgeswarm::raft
