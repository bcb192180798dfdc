#include "edgeswarm/raft/cluster.hpp"

#include <algorithm>
#include <deque>
#include <limits>
#include <string>

#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/raft/codec.hpp"

namespace edgeswarm::raft {
namespace {

constexpr int kTickTag = 1;
static_assert(static_cast<std::size_t>(MessageType::TimeoutNow) + 1 == kMessageTypes,
              "kMessageTypes must count every MessageType");
constexpr SimTime kNever = std::numeric_limits<SimTime>::max();

net::LinkRules link_rules(const ClusterConfig& c) {
  net::LinkRules r;
  r.latency = net::LatencyModel::uniform(c.latency_min_us, c.latency_max_us);
  r.loss = c.loss;
  r.duplicate = c.duplicate;
  r.reorder = c.reorder;
  r.reorder_delay = net::LatencyModel::uniform(0, c.reorder_max_us);
  return r;
}

const ClusterConfig& validated(const ClusterConfig& c) {
  validate(c);
  return c;
}

}  // namespace

const char* to_string(OpStatus status) {
  switch (status) {
    case OpStatus::Ok:
      return "ok";
    case OpStatus::Failed:
      return "failed";
    case OpStatus::Unknown:
      return "unknown";
  }
  return "unknown";
}

void validate(const ClusterConfig& c) {
  using core::require;
  require(c.n >= 1 && c.n <= net::kMaxNodes, "n", std::to_string(c.n), "[1, " + std::to_string(net::kMaxNodes) + "]");
  require(c.heartbeat_ms >= 1, "heartbeat_ms", std::to_string(c.heartbeat_ms), "integers >= 1");
  require(c.election_min_ms > c.heartbeat_ms, "election_min_ms", std::to_string(c.election_min_ms),
          "integers > heartbeat_ms = " + std::to_string(c.heartbeat_ms));
  require(c.election_max_ms > c.election_min_ms, "election_max_ms", std::to_string(c.election_max_ms),
          "integers > election_min_ms = " + std::to_string(c.election_min_ms));
  require(c.latency_min_us >= 0 && c.latency_min_us <= c.latency_max_us && c.latency_max_us <= net::kMaxDelayUs,
          "latency_us", "(" + std::to_string(c.latency_min_us) + ", " + std::to_string(c.latency_max_us) + ")",
          "0 <= min <= max <= 2^50");
  core::require_fraction("loss", c.loss);
  core::require_fraction("duplicate", c.duplicate);
  core::require_fraction("reorder", c.reorder);
  require(c.reorder_max_us >= 0 && c.reorder_max_us <= net::kMaxDelayUs, "reorder_max_us",
          std::to_string(c.reorder_max_us), "[0, 2^50]");
  require(c.fsync_us >= 0 && c.fsync_us <= net::kMaxDelayUs, "fsync_us", std::to_string(c.fsync_us), "[0, 2^50]");
  require(c.max_entries_per_msg >= 1, "max_entries_per_msg", std::to_string(c.max_entries_per_msg), "integers >= 1");
  require(c.max_inflight_msgs >= 1, "max_inflight_msgs", std::to_string(c.max_inflight_msgs), "integers >= 1");
  require(c.client_retry_us > 0, "client_retry_us", std::to_string(c.client_retry_us), "integers > 0");
  require(c.client_timeout_us > 0, "client_timeout_us", std::to_string(c.client_timeout_us), "integers > 0");
}

// ---------------------------------------------------------------- state

struct Cluster::Server {
  /// A disk write and what to do once it is durable.
  struct Pending {
    std::uint64_t write_id = 0;
    bool is_ready = true;  ///< false: a compaction snapshot
    Snapshot snapshot;     ///< compaction only
  };

  std::unique_ptr<Node> node;  ///< null while down
  KvStore kv;
  Storage storage;                ///< durable state
  std::optional<Ready> inflight;  ///< Ready waiting for its record to become durable
  std::deque<Pending> writes;
  std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>> applied;
  std::array<std::uint64_t, kMessageTypes> sent_by_type{};  ///< survives restarts, like the network's counters
};

struct Cluster::Client {
  std::uint64_t id = 0;
  std::uint64_t seq = 0;
  bool busy = false;
  std::vector<std::uint8_t> command;
  std::size_t entry = 0;  ///< index into history_
  std::size_t target = 0;
  bool accepted = false;                 ///< some leader appended the command
  std::optional<std::size_t> listening;  ///< node that accepted the latest attempt: its answer counts
  SimTime retry_at = kNever;
  SimTime give_up_at = kNever;
};

Cluster::Cluster(const ClusterConfig& config)
    : config_(validated(config)), net_(config.n, config.seed, link_rules(config), config.fsync_us) {
  std::vector<NodeId> voters;
  for (std::size_t i = 0; i < config_.n; ++i) voters.push_back(i + 1);
  const Storage boot = Storage::bootstrap(voters);
  for (std::size_t i = 0; i < config_.n; ++i) {
    servers_.push_back(std::make_unique<Server>());
    servers_.back()->storage = boot;
  }
  for (std::size_t i = 0; i < config_.n; ++i) start(i);
}

Cluster::~Cluster() = default;

Cluster::Server& Cluster::server(std::size_t i) {
  core::require(i < servers_.size(), "node", std::to_string(i), "[0, " + std::to_string(servers_.size()) + ")");
  return *servers_[i];
}

const Cluster::Server& Cluster::server(std::size_t i) const {
  core::require(i < servers_.size(), "node", std::to_string(i), "[0, " + std::to_string(servers_.size()) + ")");
  return *servers_[i];
}

Config Cluster::node_config(std::size_t i) const {
  Config c;
  c.id = i + 1;
  c.seed = config_.seed;
  c.election_min_ticks = config_.election_min_ms;
  c.election_max_ticks = config_.election_max_ms;
  c.heartbeat_ticks = config_.heartbeat_ms;
  c.pre_vote = config_.pre_vote;
  c.check_quorum = config_.check_quorum;
  c.max_entries_per_msg = config_.max_entries_per_msg;
  c.max_inflight_msgs = config_.max_inflight_msgs;
  return c;
}

void Cluster::start(std::size_t i) {
  Server& s = *servers_[i];
  s.node = std::make_unique<Node>(node_config(i), s.storage);
  s.kv = KvStore::deserialize(s.storage.snapshot().data);
  const std::uint64_t snap = s.storage.snapshot().index;
  while (!s.applied.empty() && s.applied.back().first > snap) s.applied.pop_back();
  if (config_.check_invariants) {
    checker_.on_restart(i);
    checker_.on_restore(i, snap);
  }
  net_.schedule_timer(i, now() + kTickUs, kTickTag);
  pump(i);
  observe(i);
}

// ---------------------------------------------------------------- the Ready loop

void Cluster::pump(std::size_t i) {
  Server& s = *servers_[i];
  while (!s.inflight && s.node && s.node->has_ready()) {
    Ready rd = s.node->ready();
    if (config_.check_invariants && !rd.entries_to_persist.empty()) {
      checker_.on_entries(now(), i, s.node->log(), rd.entries_to_persist.front().index,
                          rd.entries_to_persist.back().index);
    }
    if (needs_persist(rd)) {
      const std::uint64_t id = net_.write(i, "wal", encode_persisted(rd));
      s.writes.push_back({id, true, {}});
      s.inflight = std::move(rd);
      return;
    }
    finish_ready(i, rd);
  }
}

void Cluster::on_durable(std::size_t i, std::uint64_t write_id) {
  Server& s = *servers_[i];
  while (!s.writes.empty() && s.writes.front().write_id <= write_id) {
    Server::Pending p = std::move(s.writes.front());
    s.writes.pop_front();
    if (!p.is_ready) {
      s.storage.compact(p.snapshot);
      continue;
    }
    Ready rd = std::move(*s.inflight);
    s.inflight.reset();
    s.storage.persist(rd);
    if (config_.check_invariants && rd.hard_state) checker_.on_persisted(now(), i, *rd.hard_state);
    finish_ready(i, rd);
  }
  pump(i);
}

void Cluster::finish_ready(std::size_t i, Ready& rd) {
  Server& s = *servers_[i];
  for (const Message& m : rd.messages) {
    ++s.sent_by_type[static_cast<std::size_t>(m.type)];
    net_.send(i, static_cast<std::size_t>(m.to - 1), encode_message(m));
  }
  if (rd.snapshot) {
    s.kv = KvStore::deserialize(rd.snapshot->data);
    if (config_.check_invariants) checker_.on_restore(i, rd.snapshot->index);
  }
  for (const Entry& e : rd.committed_entries) {
    if (config_.check_invariants) checker_.on_apply(now(), i, e);
    const bool data = e.type == EntryType::Normal && !e.data.empty();
    const std::optional<KvApplied> out = s.kv.apply(e.index, data ? e.data : std::vector<std::uint8_t>{});
    if (data && config_.record_applied) s.applied.emplace_back(e.index, e.data);
    if (out) answer(i, *out);
  }
  s.node->advance(rd);
  const Node& n = *s.node;
  if (config_.snapshot_every > 0 && n.applied_index() >= n.log().snapshot_index() + config_.snapshot_every) {
    Snapshot snap = s.node->compact(n.applied_index(), s.kv.serialize());
    ByteWriter w;
    write_snapshot(w, snap);
    const std::uint64_t id = net_.write(i, "snapshot", w.take());
    s.writes.push_back({id, false, std::move(snap)});
  }
}

void Cluster::observe(std::size_t i) {
  if (!config_.check_invariants) return;
  const Node* n = servers_[i]->node.get();
  if (n) checker_.observe(now(), i, n->role(), n->term(), n->commit_index(), n->log());
}

void Cluster::handle(const net::Occurrence& ev) {
  const std::size_t i = ev.node;
  Server& s = *servers_[i];
  switch (ev.kind) {
    case net::OccurrenceKind::Timer:
      net_.schedule_timer(i, now() + kTickUs, kTickTag);
      s.node->tick();
      break;
    case net::OccurrenceKind::Message:
      s.node->step(decode_message(ev.payload));
      break;
    case net::OccurrenceKind::Durable:
      on_durable(i, ev.id);
      break;
  }
  pump(i);
  observe(i);
}

// ---------------------------------------------------------------- running

bool Cluster::run_until(SimTime until, const std::function<bool()>& stop) {
  core::require(until >= now() && until <= net::kMaxTimeUs, "until", std::to_string(until),
                "[now = " + std::to_string(now()) + ", 2^61]");
  net::Occurrence ev;
  while (true) {
    const SimTime client_at = next_client_deadline();
    const SimTime limit = std::min(until, client_at);
    if (net_.next(ev, limit)) {
      handle(ev);
    } else if (client_at <= limit) {
      client_deadlines();
    } else {
      return false;
    }
    if (stop && stop()) return true;
  }
}

std::optional<std::size_t> Cluster::run_until_leader(SimTime timeout_us) {
  core::require(timeout_us >= 0, "timeout_us", std::to_string(timeout_us), "integers >= 0");
  if (leader()) return leader();
  run_until(std::min(now() + timeout_us, net::kMaxTimeUs), [this] { return leader().has_value(); });
  return leader();
}

std::optional<std::size_t> Cluster::leader() const {
  std::optional<std::size_t> best;
  std::uint64_t term = 0;
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    const Node* n = servers_[i]->node.get();
    if (n && n->role() == Role::Leader && (!best || n->term() > term)) {
      best = i;
      term = n->term();
    }
  }
  return best;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> Cluster::propose(std::vector<std::uint8_t> data) {
  const std::optional<std::size_t> l = leader();
  if (!l) return std::nullopt;
  return propose_at(*l, std::move(data));
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> Cluster::propose_at(std::size_t i,
                                                                           std::vector<std::uint8_t> data) {
  Server& s = server(i);
  if (!s.node) return std::nullopt;
  Node& n = *s.node;
  if (n.propose(std::move(data)) != ProposeResult::Ok) return std::nullopt;
  const std::pair<std::uint64_t, std::uint64_t> at{n.log().last_index(), n.term()};
  pump(i);
  observe(i);
  return at;
}

// ---------------------------------------------------------------- faults

void Cluster::crash(std::size_t i) {
  Server& s = server(i);
  if (!s.node) return;
  net_.crash(i);
  s.node.reset();
  s.kv = KvStore();
  s.inflight.reset();
  s.writes.clear();
}

void Cluster::restart(std::size_t i) {
  Server& s = server(i);
  if (s.node) return;
  net_.restart(i);
  start(i);
}

void Cluster::partition(const std::vector<std::vector<std::size_t>>& groups) {
  for (const auto& g : groups) {
    for (std::size_t i : g) server(i);
  }
  net_.partition(groups);
}

void Cluster::heal() { net_.heal(); }

void Cluster::cut(std::size_t i, std::size_t j) {
  server(i);
  server(j);
  net_.cut(i, j);
}

void Cluster::set_link_rules(const net::LinkRules& rules) { net_.set_rules(rules); }

// ---------------------------------------------------------------- inspection

bool Cluster::is_up(std::size_t i) const { return server(i).node != nullptr; }

const Node& Cluster::node(std::size_t i) const {
  const Server& s = server(i);
  if (!s.node) core::fail("node: " + std::to_string(i) + " is down; restart it first");
  return *s.node;
}

const KvStore& Cluster::kv(std::size_t i) const {
  node(i);
  return servers_[i]->kv;
}

const Storage& Cluster::storage(std::size_t i) const { return server(i).storage; }

PersistedState Cluster::persisted(std::size_t i) const {
  const Storage& st = storage(i);
  return {st.hard_state(), st.snapshot().index, st.snapshot().term, st.last_index(), st.entries().size()};
}

const std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>>& Cluster::applied(std::size_t i) const {
  return server(i).applied;
}

const std::array<std::uint64_t, kMessageTypes>& Cluster::messages_by_type(std::size_t i) const {
  return server(i).sent_by_type;
}

// ---------------------------------------------------------------- clients

Cluster::Client& Cluster::client(std::uint64_t id) {
  core::require(id >= 1 && id <= clients_.size(), "client", std::to_string(id),
                "ids in [1, " + std::to_string(clients_.size()) + "]");
  return *clients_[id - 1];
}

std::uint64_t Cluster::add_client() {
  auto c = std::make_unique<Client>();
  c->id = clients_.size() + 1;
  c->target = leader_guess_;
  clients_.push_back(std::move(c));
  return clients_.size();
}

bool Cluster::pending(std::uint64_t id) const {
  core::require(id >= 1 && id <= clients_.size(), "client", std::to_string(id),
                "ids in [1, " + std::to_string(clients_.size()) + "]");
  return clients_[id - 1]->busy;
}

std::size_t Cluster::submit(std::uint64_t id, KvOp op, std::string key, std::string value) {
  Client& c = client(id);
  if (c.busy) core::fail("client: " + std::to_string(id) + " already has an operation pending");
  const bool has_value = op == KvOp::Put || op == KvOp::Append || op == KvOp::Emergency;
  if (!has_value) value.clear();
  HistoryEntry h;
  h.client = id;
  h.kind = op;
  h.key = key;
  if (has_value) h.value = value;
  h.call = now();
  history_.push_back(std::move(h));
  c.entry = history_.size() - 1;
  c.command = encode(KvCommand{op, id, ++c.seq, std::move(key), std::move(value)});
  c.busy = true;
  c.accepted = false;
  c.give_up_at = now() + config_.client_timeout_us;
  attempt(c);
  return c.entry;
}

void Cluster::attempt(Client& c) {
  c.retry_at = now() + config_.client_retry_us;
  c.listening.reset();
  // One round: follow leader hints, otherwise go around the nodes, at most n + 1 tries.
  for (std::size_t tries = 0; tries <= servers_.size(); ++tries) {
    Server& s = *servers_[c.target];
    if (!s.node) {
      c.target = (c.target + 1) % servers_.size();
      continue;
    }
    Node& n = *s.node;
    switch (n.propose(c.command)) {
      case ProposeResult::Ok:
        c.accepted = true;
        c.listening = c.target;
        leader_guess_ = c.target;
        pump(c.target);
        observe(c.target);
        return;
      case ProposeResult::NotLeader: {
        const NodeId hint = n.leader();
        c.target = hint != kNoNode && hint - 1 != c.target ? static_cast<std::size_t>(hint - 1)
                                                           : (c.target + 1) % servers_.size();
        continue;
      }
      case ProposeResult::Dropped:
        return;  // a leader that cannot take it now (e.g. transferring): ask it again later
    }
  }
}

void Cluster::answer(std::size_t i, const KvApplied& a) {
  if (a.stale || a.client == 0 || a.client > clients_.size()) return;
  Client& c = *clients_[a.client - 1];
  if (!c.busy || a.seq != c.seq || c.listening != i) return;
  HistoryEntry& h = history_[c.entry];
  h.ret = now();
  h.status = OpStatus::Ok;
  h.pending = false;
  if (h.kind == KvOp::Get && a.result.found) h.output = a.result.value;
  if (h.kind == KvOp::Emergency) h.output = std::to_string(a.result.position);
  c.busy = false;
  c.retry_at = c.give_up_at = kNever;
  leader_guess_ = i;
}

SimTime Cluster::next_client_deadline() const {
  SimTime t = kNever;
  for (const auto& c : clients_) {
    if (c->busy) t = std::min({t, c->retry_at, c->give_up_at});
  }
  return t;
}

void Cluster::client_deadlines() {
  for (const auto& cp : clients_) {
    Client& c = *cp;
    if (!c.busy) continue;
    if (now() >= c.give_up_at) {
      HistoryEntry& h = history_[c.entry];
      h.status = c.accepted ? OpStatus::Unknown : OpStatus::Failed;
      h.pending = false;
      c.busy = false;
      c.retry_at = c.give_up_at = kNever;
    } else if (now() >= c.retry_at) {
      attempt(c);
    }
  }
}

const HistoryEntry& Cluster::wait(std::uint64_t id) {
  Client& c = client(id);
  const std::size_t entry = c.entry;
  if (c.busy) run_until(c.give_up_at, [&c] { return !c.busy; });
  return history_.at(entry);
}

}  // namespace edgeswarm::raft
