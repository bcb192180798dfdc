#include "edgeswarm/net/network.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::net {
namespace {

// Priorities at equal times: durable notices, then messages, then timers.
int priority(OccurrenceKind kind) { return static_cast<int>(kind); }

constexpr std::uint32_t kAlone = std::numeric_limits<std::uint32_t>::max();

}  // namespace

Network::Network(std::size_t n, std::uint64_t seed, const LinkRules& rules, SimTime fsync_delay_us)
    : seed_(seed), fsync_delay_(0), sampler_(seed, 0) {
  core::require(n >= 1 && n <= kMaxNodes, "n", std::to_string(n), "[1, " + std::to_string(kMaxNodes) + "]");
  validate(rules);
  set_fsync_delay(fsync_delay_us);
  rules_.assign(1, rules);
  rule_of_.assign(n * n, 0);
  group_.assign(n, 0);
  cut_.assign(n * n, 0);
  up_.assign(n, 1);
  incarnation_.assign(n, 0);
  last_durable_at_.assign(n, 0);
  disks_.resize(n);
  node_counters_.resize(n);
  link_counters_.resize(n * n);
}

void Network::check_node(const char* name, NodeId node) const {
  if (node >= up_.size()) core::fail_range(name, std::to_string(node), "[0, " + std::to_string(up_.size()) + ")");
}

void Network::check_up(const char* name, NodeId node) const {
  check_node(name, node);
  if (!up_[node])
    core::fail(std::string(name) + ": node " + std::to_string(node) + " is down; allowed nodes that are up");
}

void Network::set_rules(const LinkRules& rules) {
  validate(rules);
  rules_.assign(1, rules);
  std::fill(rule_of_.begin(), rule_of_.end(), 0);
}

void Network::set_rules(NodeId from, NodeId to, const LinkRules& rules) {
  check_node("from", from);
  check_node("to", to);
  validate(rules);
  std::uint32_t& idx = rule_of_[link(from, to)];
  if (idx == 0) {
    idx = static_cast<std::uint32_t>(rules_.size());
    rules_.push_back(rules);
  } else {
    rules_[idx] = rules;
  }
}

const LinkRules& Network::rules(NodeId from, NodeId to) const {
  check_node("from", from);
  check_node("to", to);
  return rules_[rule_of_[link(from, to)]];
}

void Network::set_fsync_delay(SimTime delay_us) {
  core::require(delay_us >= 0 && delay_us <= kMaxDelayUs, "fsync_delay_us", std::to_string(delay_us),
                "[0, 2^50] microseconds");
  fsync_delay_ = delay_us;
}

std::uint64_t Network::send(NodeId from, NodeId to, Bytes payload, int tag) {
  check_up("from", from);
  check_node("to", to);
  const std::size_t l = link(from, to);
  const std::uint64_t id = ++last_message_id_;
  const std::size_t bytes = payload.size();
  node_counters_[from].sent.add(bytes);
  link_counters_[l].sent.add(bytes);
  if (blocked(l, from, to)) {
    drop(l, from, bytes, DropReason::Partition);
    return id;
  }
  const MessageFate fate = sampler_.message(rules_[rule_of_[l]]);
  if (fate.copies == 2) {
    node_counters_[from].duplicated.add(bytes);
    link_counters_[l].duplicated.add(bytes);
    schedule_copy(from, to, fate.copy[0], id, tag, payload);  // the copy; the original is moved below
  }
  schedule_copy(from, to, fate.copy[fate.copies - 1], id, tag, std::move(payload));
  return id;
}

void Network::schedule_copy(NodeId from, NodeId to, const CopyFate& fate, std::uint64_t id, int tag, Bytes payload) {
  if (fate.lost) {
    drop(link(from, to), from, payload.size(), DropReason::Loss);
    return;
  }
  Event e;
  e.kind = OccurrenceKind::Message;
  e.node = static_cast<std::uint32_t>(to);
  e.from = static_cast<std::uint32_t>(from);
  e.incarnation = incarnation_[to];
  e.tag = tag;
  e.id = id;
  e.payload = std::move(payload);
  queue_.push(now_ + fate.delay_us, priority(OccurrenceKind::Message), std::move(e));
  ++in_flight_;
}

void Network::drop(std::size_t link_index, NodeId from, std::size_t bytes, DropReason reason) {
  node_counters_[from].dropped.add(bytes);
  link_counters_[link_index].dropped.add(bytes);
  ++drops_[static_cast<int>(reason)];
}

EventHandle Network::schedule_timer(NodeId node, SimTime at, int tag) {
  check_up("node", node);
  if (at < now_ || at > kMaxTimeUs)
    core::fail_range("at", std::to_string(at), "[now (" + std::to_string(now_) + "), 2^61]");
  Event e;
  e.kind = OccurrenceKind::Timer;
  e.node = e.from = static_cast<std::uint32_t>(node);
  e.incarnation = incarnation_[node];
  e.tag = tag;
  return queue_.push(at, priority(OccurrenceKind::Timer), std::move(e));
}

bool Network::cancel_timer(EventHandle timer) { return queue_.cancel(timer); }

std::uint64_t Network::write(NodeId node, std::string key, Bytes value) {
  check_up("node", node);
  return schedule_durable(node, disks_[node].write(std::move(key), std::move(value)));
}

std::uint64_t Network::remove(NodeId node, std::string key) {
  check_up("node", node);
  return schedule_durable(node, disks_[node].remove(std::move(key)));
}

std::uint64_t Network::schedule_durable(NodeId node, std::uint64_t write_id) {
  Event e;
  e.kind = OccurrenceKind::Durable;
  e.node = e.from = static_cast<std::uint32_t>(node);
  e.incarnation = incarnation_[node];
  e.id = write_id;
  const SimTime at = std::max(now_ + fsync_delay_, last_durable_at_[node]);
  last_durable_at_[node] = at;
  queue_.push(at, priority(OccurrenceKind::Durable), std::move(e));
  return write_id;
}

const Disk& Network::disk(NodeId node) const {
  check_node("node", node);
  return disks_[node];
}

void Network::partition(const std::vector<std::vector<NodeId>>& groups) {
  const std::size_t n = up_.size();
  std::vector<std::uint32_t> group(n, kAlone);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].empty()) core::fail("groups: group " + std::to_string(g) + " is empty; allowed non-empty groups");
    for (NodeId node : groups[g]) {
      core::require(node < n, "groups", "node " + std::to_string(node), "nodes in [0, " + std::to_string(n) + ")");
      if (group[node] != kAlone)
        core::fail("groups: node " + std::to_string(node) + " is in two groups; allowed each node in one group");
      group[node] = static_cast<std::uint32_t>(g);
    }
  }
  // Unlisted nodes get a group of their own, numbered after the listed ones.
  std::uint32_t next = static_cast<std::uint32_t>(groups.size());
  for (auto& g : group)
    if (g == kAlone) g = next++;
  group_ = std::move(group);
}

void Network::cut(NodeId from, NodeId to) {
  check_node("from", from);
  check_node("to", to);
  cut_[link(from, to)] = 1;
}

void Network::heal() {
  std::fill(group_.begin(), group_.end(), 0);
  std::fill(cut_.begin(), cut_.end(), 0);
}

bool Network::connected(NodeId from, NodeId to) const {
  check_node("from", from);
  check_node("to", to);
  return !blocked(link(from, to), from, to);
}

void Network::crash(NodeId node) {
  check_node("node", node);
  if (!up_[node]) return;
  up_[node] = 0;
  ++incarnation_[node];  // orphans its timers, disk notices and messages in flight to it
  disks_[node].crash();
}

void Network::restart(NodeId node) {
  check_node("node", node);
  up_[node] = 1;
}

bool Network::is_up(NodeId node) const {
  check_node("node", node);
  return up_[node] != 0;
}

bool Network::next(Occurrence& out, SimTime until) {
  if (until < now_ || until > kMaxTimeUs)
    core::fail_range("until", std::to_string(until), "[now (" + std::to_string(now_) + "), 2^61]");
  if (advance(out, until)) return true;
  now_ = until;
  return false;
}

bool Network::step(Occurrence& out) { return advance(out, std::numeric_limits<SimTime>::max()); }

bool Network::advance(Occurrence& out, SimTime until) {
  while (!queue_.empty() && queue_.peek_time() <= until) {
    auto popped = queue_.pop();
    now_ = popped.time;
    Event& e = popped.value;
    const bool current = up_[e.node] && incarnation_[e.node] == e.incarnation;
    if (e.kind == OccurrenceKind::Message) {
      --in_flight_;
      const std::size_t l = link(e.from, e.node);
      if (!current) {
        drop(l, e.from, e.payload.size(), DropReason::Crash);
        continue;
      }
      if (blocked(l, e.from, e.node)) {
        drop(l, e.from, e.payload.size(), DropReason::Partition);
        continue;
      }
      node_counters_[e.node].received.add(e.payload.size());
      link_counters_[l].delivered.add(e.payload.size());
    } else if (!current) {
      continue;  // a timer or disk notice of a node that crashed since
    } else if (e.kind == OccurrenceKind::Durable) {
      disks_[e.node].make_durable(e.id);
    } else {
      e.id = popped.sequence;
    }
    out.kind = e.kind;
    out.time = popped.time;
    out.node = e.node;
    out.from = e.from;
    out.tag = e.tag;
    out.id = e.id;
    out.payload = std::move(e.payload);
    return true;
  }
  return false;
}

const NodeCounters& Network::node_counters(NodeId node) const {
  check_node("node", node);
  return node_counters_[node];
}

const LinkCounters& Network::link_counters(NodeId from, NodeId to) const {
  check_node("from", from);
  check_node("to", to);
  return link_counters_[link(from, to)];
}

LinkCounters Network::total_counters() const {
  LinkCounters t;
  auto add = [](Traffic& a, const Traffic& b) {
    a.messages += b.messages;
    a.bytes += b.bytes;
  };
  for (const auto& c : link_counters_) {
    add(t.sent, c.sent);
    add(t.duplicated, c.duplicated);
    add(t.delivered, c.delivered);
    add(t.dropped, c.dropped);
  }
  return t;
}

}  // namespace edgeswarm::net
