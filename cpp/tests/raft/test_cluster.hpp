#pragma once
// An in-test "network" for Raft nodes: it runs each node's Ready loop
// (persist, send, apply, advance), delivers messages in order or shuffled,
// drops some, cuts links, crashes and restarts nodes, and checks the safety
// properties on the way (Election Safety, State Machine Safety, Log Matching).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "edgeswarm/core/rng.hpp"
#include "edgeswarm/raft/message.hpp"
#include "edgeswarm/raft/node.hpp"
#include "edgeswarm/raft/storage.hpp"

namespace raft_test {

using namespace edgeswarm::raft;

/// Payload bytes of a string.
inline std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

/// The test state machine: a running hash of applied entries, so equal
/// hashes at equal indexes mean equal histories.
struct AppState {
  std::uint64_t applied = 0;
  std::uint64_t hash = 0;
  std::vector<std::vector<std::uint8_t>> data;  ///< non-empty normal payloads, in order (since the last snapshot)

  void apply(const Entry& e) {
    hash = hash * 0x100000001B3ULL ^ (e.term * 31 + e.index);
    for (std::uint8_t b : e.data) hash = (hash ^ b) * 0x100000001B3ULL;
    if (e.type == EntryType::Normal && !e.data.empty()) data.push_back(e.data);
    applied = e.index;
  }
  std::vector<std::uint8_t> snapshot() const {
    std::vector<std::uint8_t> out(8);
    for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(hash >> (8 * i));
    return out;
  }
  void restore(const Snapshot& s) {
    hash = 0;
    for (int i = 0; i < 8 && i < static_cast<int>(s.data.size()); ++i) hash |= std::uint64_t{s.data[i]} << (8 * i);
    applied = s.index;
    data.clear();
  }
};

class Cluster {
 public:
  /// A bootstrapped cluster of `ids`; `base` supplies every config field but id and seed.
  Cluster(const std::vector<NodeId>& ids, std::uint64_t seed, Config base = small_config())
      : base_(base), rng_(seed, 99), seed_(seed) {
    const Storage boot = Storage::bootstrap(ids);
    for (NodeId id : ids) add(id, boot);
  }
  /// A cluster restarted from hand-made storages.
  Cluster(const std::map<NodeId, Storage>& disks, std::uint64_t seed, Config base = small_config())
      : base_(base), rng_(seed, 99), seed_(seed) {
    for (const auto& [id, s] : disks) add(id, s);
  }

  /// Short timeouts for fast tests: elections in [10, 20) ticks, heartbeat 1.
  static Config small_config() {
    Config c;
    c.election_min_ticks = 10;
    c.election_max_ticks = 20;
    c.heartbeat_ticks = 1;
    return c;
  }

  /// Adds node `id` started from `storage` (e.g. an empty one for a joiner).
  void add(NodeId id, const Storage& storage = Storage()) {
    disk_[id] = storage;
    ids_.insert(id);
    start(id);
  }

  Node& node(NodeId id) { return *nodes_.at(id); }
  bool up(NodeId id) const { return nodes_.count(id) > 0; }
  const Storage& disk(NodeId id) const { return disk_.at(id); }
  AppState& app(NodeId id) { return app_.at(id); }
  const std::vector<std::string>& violations() const { return violations_; }
  std::vector<ReadState>& reads(NodeId id) { return reads_[id]; }

  /// The leader with the highest term among running nodes, or kNoNode.
  NodeId leader() const {
    NodeId best = kNoNode;
    std::uint64_t term = 0;
    for (const auto& [id, n] : nodes_) {
      if (n->role() == Role::Leader && n->term() >= term) {
        best = id;
        term = n->term();
      }
    }
    return best;
  }

  // ------------------------------------------------------------ network faults
  double drop = 0.0;                          ///< probability of losing a message
  bool reorder = false;                       ///< deliver in random order
  std::function<bool(Message&)> filter;       ///< may edit a message; return false to drop it
  std::map<MessageType, std::uint64_t> sent;  ///< messages handed to the network, by type
  std::uint64_t append_rejections = 0;
  std::uint64_t appends_with_entries = 0;  ///< Append messages that carried entries

  void cut(NodeId a, NodeId b) {
    blocked_.insert({a, b});
    blocked_.insert({b, a});
  }
  void isolate(NodeId id) {
    for (NodeId o : ids_) {
      if (o != id) cut(id, o);
    }
  }
  void partition(const std::vector<std::vector<NodeId>>& groups) {
    heal();
    for (std::size_t g = 0; g < groups.size(); ++g) {
      for (std::size_t h = 0; h < groups.size(); ++h) {
        if (g == h) continue;
        for (NodeId a : groups[g]) {
          for (NodeId b : groups[h]) blocked_.insert({a, b});
        }
      }
    }
  }
  void heal() { blocked_.clear(); }

  void crash(NodeId id) {
    nodes_.erase(id);
    app_.erase(id);
    queue_.erase(std::remove_if(queue_.begin(), queue_.end(), [&](const Message& m) { return m.to == id; }),
                 queue_.end());
  }
  void restart(NodeId id) {
    crash(id);
    start(id);
  }

  // ------------------------------------------------------------ driving
  /// Runs the Ready loop of `id` until it has nothing more.
  void process(NodeId id) {
    Node& n = node(id);
    while (n.has_ready()) {
      Ready rd = n.ready();
      disk_[id].persist(rd);
      for (Message& m : rd.messages) enqueue(std::move(m));
      AppState& a = app_[id];
      if (rd.snapshot) a.restore(*rd.snapshot);
      for (const Entry& e : rd.committed_entries) {
        if (e.index != a.applied + 1) violation("node " + std::to_string(id) + " applied out of order");
        a.apply(e);
        check_applied(id, e, a.hash);
      }
      for (const ReadState& r : rd.read_states) {
        if (r.index > a.applied) violation("read state beyond applied index");
        reads_[id].push_back(r);
      }
      n.advance(rd);
      check_node(id);
    }
  }

  /// Delivers one message; false when none is in flight.
  bool deliver_one() {
    if (queue_.empty()) return false;
    const std::size_t i = reorder ? rng_.below(queue_.size()) : 0;
    Message m = std::move(queue_[i]);
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
    if (!up(m.to)) return true;
    if (m.type == MessageType::AppendResponse && m.reject) ++append_rejections;
    node(m.to).step(m);
    process(m.to);
    return true;
  }

  /// Processes every node and delivers until the network is quiet.
  void settle(std::size_t max_messages = 200000) {
    for (NodeId id : ids_) {
      if (up(id)) process(id);
    }
    for (std::size_t i = 0; i < max_messages && deliver_one(); ++i) {
    }
  }

  /// One tick on every running node, then settle.
  void tick() {
    for (NodeId id : ids_) {
      if (!up(id)) continue;
      node(id).tick();
      process(id);
    }
    settle();
  }
  void run(int ticks) {
    for (int t = 0; t < ticks; ++t) tick();
  }
  /// Ticks until a leader exists (at most max_ticks); returns it or kNoNode.
  NodeId run_until_leader(int max_ticks = 500) {
    for (int t = 0; t < max_ticks; ++t) {
      tick();
      if (leader() != kNoNode) return leader();
    }
    return kNoNode;
  }

  /// Ticks until one of `members` leads (at most max_ticks); returns it or kNoNode.
  NodeId run_until_leader_among(const std::vector<NodeId>& members, int max_ticks = 500) {
    for (int t = 0; t < max_ticks; ++t) {
      tick();
      for (NodeId id : members) {
        if (up(id) && node(id).role() == Role::Leader) return id;
      }
    }
    return kNoNode;
  }

  /// Proposes at the leader and settles; the result of the proposal.
  ProposeResult propose(const std::string& s) {
    const NodeId l = leader();
    if (l == kNoNode) return ProposeResult::NotLeader;
    const ProposeResult r = node(l).propose(bytes(s));
    settle();
    return r;
  }

  /// Node `id` snapshots at its applied index (node and disk); false if nothing to compact.
  bool compact(NodeId id) {
    Node& n = node(id);
    if (n.applied_index() <= n.log().snapshot_index()) return false;
    disk_[id].compact(n.compact(n.applied_index(), app_[id].snapshot()));
    return true;
  }

  // ------------------------------------------------------------ checks
  /// Log Matching between every pair of running nodes: where two logs hold
  /// an entry with the same index and term, they are identical up to there.
  void check_log_matching() {
    for (const auto& [a, na] : nodes_) {
      for (const auto& [b, nb] : nodes_) {
        if (a >= b) continue;
        const Log& la = na->log();
        const Log& lb = nb->log();
        const std::uint64_t lo = std::max(la.first_index(), lb.first_index());
        bool agreed = false;
        for (std::uint64_t i = std::min(la.last_index(), lb.last_index()); i >= lo && i > 0; --i) {
          const bool same_term = la.at(i).term == lb.at(i).term;
          if (agreed && la.at(i) != lb.at(i)) {
            violation("log matching: nodes " + std::to_string(a) + ", " + std::to_string(b) + " differ at " +
                      std::to_string(i));
            break;
          }
          if (same_term) {
            agreed = true;
            if (la.at(i) != lb.at(i)) violation("log matching: same term, different entry");
          }
        }
      }
    }
  }

 private:
  void start(NodeId id) {
    Config c = base_;
    c.id = id;
    c.seed = seed_;
    nodes_[id] = std::make_unique<Node>(c, disk_[id]);
    AppState a;
    a.restore(disk_[id].snapshot());
    app_[id] = a;
  }

  void enqueue(Message m) {
    ++sent[m.type];
    appends_with_entries += m.type == MessageType::Append && !m.entries.empty();
    if (blocked_.count({m.from, m.to})) return;
    if (drop > 0 && rng_.uniform() < drop) return;
    if (filter && !filter(m)) return;
    queue_.push_back(std::move(m));
  }

  void violation(const std::string& what) {
    if (violations_.size() < 20) violations_.push_back(what);
  }

  void check_applied(NodeId id, const Entry& e, std::uint64_t hash) {
    const auto [it, fresh] = committed_.emplace(e.index, std::make_pair(e, hash));
    if (!fresh && (it->second.first != e || it->second.second != hash)) {
      violation("state machine safety: node " + std::to_string(id) + " applied a different entry at " +
                std::to_string(e.index));
    }
  }

  void check_node(NodeId id) {
    const Node& n = node(id);
    // Term and commit are persisted, so they never go back, even across restarts.
    auto& [term, commit] = monotonic_[id];
    if (n.term() < term) violation("term decreased on node " + std::to_string(id));
    if (n.commit_index() < commit) violation("commit decreased on node " + std::to_string(id));
    term = n.term();
    commit = n.commit_index();
    if (n.role() != Role::Leader) return;
    const auto [it, fresh] = leaders_.emplace(n.term(), id);
    if (!fresh && it->second != id) {
      violation("election safety: two leaders in term " + std::to_string(n.term()));
    }
  }

  Config base_;
  edgeswarm::core::Rng rng_;
  std::uint64_t seed_;
  std::set<NodeId> ids_;
  std::map<NodeId, std::unique_ptr<Node>> nodes_;
  std::map<NodeId, Storage> disk_;
  std::map<NodeId, AppState> app_;
  std::map<NodeId, std::vector<ReadState>> reads_;
  std::vector<Message> queue_;
  std::set<std::pair<NodeId, NodeId>> blocked_;
  std::map<std::uint64_t, std::pair<Entry, std::uint64_t>> committed_;   ///< index -> (entry, state hash after it)
  std::map<std::uint64_t, NodeId> leaders_;                              ///< term -> leader
  std::map<NodeId, std::pair<std::uint64_t, std::uint64_t>> monotonic_;  ///< node -> (term, commit)
  std::vector<std::string> violations_;
};

}  // namespace raft_test
