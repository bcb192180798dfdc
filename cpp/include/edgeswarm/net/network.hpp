#pragma once
// A deterministic discrete-event network of n nodes (0..n-1) with simulated
// disks, for driving pure state machines (Raft nodes, gossiping devices).
//
// Driving style: pull, not callbacks. The caller (a cluster harness) owns the
// loop; it sends messages, schedules timers and issues disk writes, then asks
// for the next thing that happens:
//
//   Occurrence ev;
//   while (net.next(ev, deadline)) {
//     switch (ev.kind) { case Kind::Message: ...; case Kind::Timer: ...; case Kind::Durable: ...; }
//   }
//   // now() == deadline here
//
// Each call pops events in (time, priority, sequence) order and returns the
// first one that reaches a node: a delivered message, a fired timer, or a
// write that became durable. Events that reach no one (a message to a crashed
// node, across a partition, a timer of a crashed node) are consumed silently
// and counted. Nothing runs behind the caller's back, so the network holds no
// references to the harness and a run is a pure function of the seed and the
// caller's calls. At equal times, durable notices come first, then messages,
// then timers: a node sees what arrived before it ticks.
//
// Randomness: every message's fate comes from one LinkSampler (stream 0 of the
// seed): one RNG stream per purpose (latency, loss, duplication, reordering),
// so e.g. turning on loss does not shift the latency draws of the messages
// that survive, and batch draws with the same rules mean the same thing.
//
// Message fate, decided per copy:
// - send: counted as sent by the sender and on the link. If the link is
//   blocked (partition or cut) at send time the message is dropped. Otherwise,
//   with probability `duplicate`, a second copy is made (counted as
//   duplicated, never as sent). Each copy is lost with probability `loss`,
//   otherwise scheduled after a latency draw, plus a reorder_delay draw with
//   probability `reorder`. Both copies carry the same message id.
// - delivery: dropped if the receiver is down or crashed since the send, or if
//   the link is blocked at delivery time (a partition cuts messages in flight).
// Counters obey, per link and in total:
//   sent + duplicated == delivered + dropped + in flight.
// Crash(node): the node goes down, messages in flight to it are dropped on
// arrival, its timers never fire, its pending disk writes are lost. Messages
// it sent before crashing still arrive. Restart(node) brings it back up with
// only its durable disk data; messages sent to it while it was down are
// delivered if they arrive after the restart.
//
// Memory is O(n^2) (per-link counters, cuts and rules), so n <= kMaxNodes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgeswarm/core/event_queue.hpp"
#include "edgeswarm/core/rng.hpp"
#include "edgeswarm/net/disk.hpp"
#include "edgeswarm/net/latency.hpp"
#include "edgeswarm/net/link_rules.hpp"
#include "edgeswarm/net/link_sampler.hpp"

namespace edgeswarm::net {

using core::EventHandle;

/// Node index in [0, n).
using NodeId = std::size_t;

/// Largest supported number of nodes.
inline constexpr std::size_t kMaxNodes = 1024;

/// What reached a node.
enum class OccurrenceKind : std::uint8_t { Durable = 0, Message = 1, Timer = 2 };

/// One thing that happened to a node, as returned by Network::next.
struct Occurrence {
  OccurrenceKind kind = OccurrenceKind::Message;
  SimTime time = 0;      ///< when it happened
  NodeId node = 0;       ///< receiver, timer owner, or disk owner
  NodeId from = 0;       ///< sender (messages only; otherwise == node)
  int tag = 0;           ///< caller's tag (messages and timers)
  std::uint64_t id = 0;  ///< message id, timer sequence, or durable write id
  Bytes payload;         ///< message bytes (empty otherwise)
};

/// A message and byte count.
struct Traffic {
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  void add(std::size_t n) {
    ++messages;
    bytes += n;
  }
};

/// Counters of one directed link.
struct LinkCounters {
  Traffic sent;        ///< messages handed to send()
  Traffic duplicated;  ///< extra copies made by duplication
  Traffic delivered;   ///< copies delivered
  Traffic dropped;     ///< copies dropped (loss, partition, crash)
};

/// Counters of one node: sent/duplicated/dropped for what it sent, received for what reached it.
struct NodeCounters {
  Traffic sent;
  Traffic duplicated;
  Traffic dropped;
  Traffic received;
};

/// Why copies were dropped, summed over the network.
enum class DropReason : std::uint8_t { Loss = 0, Partition = 1, Crash = 2 };

/// The simulator.
class Network {
 public:
  /// n nodes in [1, kMaxNodes], all up and fully connected; every link gets
  /// `rules`; disk writes become durable fsync_delay_us (>= 0) after they are issued.
  Network(std::size_t n, std::uint64_t seed, const LinkRules& rules = LinkRules{}, SimTime fsync_delay_us = 0);

  /// Number of nodes.
  std::size_t size() const { return up_.size(); }
  /// Current simulated time (microseconds).
  SimTime now() const { return now_; }
  /// The seed the network was built with.
  std::uint64_t seed() const { return seed_; }

  /// Gives every directed link `rules` (replacing per-link rules).
  void set_rules(const LinkRules& rules);
  /// Gives the direction from -> to `rules`.
  void set_rules(NodeId from, NodeId to, const LinkRules& rules);
  /// Rules in force on from -> to.
  const LinkRules& rules(NodeId from, NodeId to) const;
  /// Delay between a disk write and its durability, for writes issued from now on.
  void set_fsync_delay(SimTime delay_us);

  /// Sends `payload` from -> to with the caller's `tag`; returns the message id.
  /// `from` must be up; `to` may be down (the message is then dropped on arrival).
  std::uint64_t send(NodeId from, NodeId to, Bytes payload, int tag = 0);
  /// Fires a Timer occurrence for `node` (which must be up) at time `at` in
  /// [now(), kMaxTimeUs]; a crash of the node cancels it.
  EventHandle schedule_timer(NodeId node, SimTime at, int tag = 0);
  /// Cancels a timer; false if it already fired or was cancelled.
  bool cancel_timer(EventHandle timer);

  /// Writes `value` under `key` on node's disk (node up); returns the write id,
  /// reported by a Durable occurrence once the fsync delay has passed. Notices
  /// come in write order (a shortened fsync delay never overtakes earlier
  /// writes), and a notice for id k means every earlier write of the node is durable too.
  std::uint64_t write(NodeId node, std::string key, Bytes value);
  /// Removes `key` from node's disk, durable like a write; returns the write id.
  std::uint64_t remove(NodeId node, std::string key);
  /// Node's disk, for reads (pending writes are visible through read()).
  const Disk& disk(NodeId node) const;

  /// Splits the nodes into groups that cannot reach each other; nodes listed
  /// in no group are each cut off alone. Groups must be non-empty and disjoint.
  /// Replaces any earlier partition; one-way cuts stay.
  void partition(const std::vector<std::vector<NodeId>>& groups);
  /// Blocks the direction from -> to only.
  void cut(NodeId from, NodeId to);
  /// Removes every partition and cut.
  void heal();
  /// True when from -> to is neither partitioned nor cut.
  bool connected(NodeId from, NodeId to) const;

  /// Takes node down (see the top of this header); no effect if already down.
  void crash(NodeId node);
  /// Brings node back up; no effect if already up.
  void restart(NodeId node);
  /// True unless crashed and not restarted.
  bool is_up(NodeId node) const;

  /// Pops events up to and including `until` (in [now(), kMaxTimeUs]) and returns true with
  /// the first occurrence in `out`; returns false when none is left at or
  /// before `until`, with now() == until.
  bool next(Occurrence& out, SimTime until);
  /// Like next with no deadline; false when no event is pending (now() unchanged).
  bool step(Occurrence& out);

  /// Counters of node.
  const NodeCounters& node_counters(NodeId node) const;
  /// Counters of the direction from -> to.
  const LinkCounters& link_counters(NodeId from, NodeId to) const;
  /// Counters summed over all links.
  LinkCounters total_counters() const;
  /// Copies dropped for `reason`.
  std::uint64_t dropped(DropReason reason) const { return drops_[static_cast<int>(reason)]; }
  /// Copies scheduled and not yet delivered or dropped.
  std::uint64_t in_flight() const { return in_flight_; }
  /// Events in the queue (messages in flight, timers, disk notices).
  std::size_t pending_events() const { return queue_.size(); }

 private:
  struct Event {
    OccurrenceKind kind = OccurrenceKind::Message;
    std::uint32_t node = 0;
    std::uint32_t from = 0;
    std::uint32_t incarnation = 0;
    int tag = 0;
    std::uint64_t id = 0;
    Bytes payload;
  };

  std::size_t link(NodeId from, NodeId to) const { return from * up_.size() + to; }
  bool blocked(std::size_t l, NodeId from, NodeId to) const { return group_[from] != group_[to] || cut_[l]; }
  void check_node(const char* name, NodeId node) const;
  void check_up(const char* name, NodeId node) const;
  void schedule_copy(NodeId from, NodeId to, const CopyFate& fate, std::uint64_t id, int tag, Bytes payload);
  void drop(std::size_t link_index, NodeId from, std::size_t bytes, DropReason reason);
  std::uint64_t schedule_durable(NodeId node, std::uint64_t write_id);
  bool advance(Occurrence& out, SimTime until);

  std::uint64_t seed_;
  SimTime now_ = 0;
  SimTime fsync_delay_;
  core::EventQueue<Event> queue_;
  LinkSampler sampler_;

  std::vector<LinkRules> rules_;            // [0] is the default
  std::vector<std::uint32_t> rule_of_;      // per link: index into rules_
  std::vector<std::uint32_t> group_;        // partition group per node
  std::vector<std::uint8_t> cut_;           // per link
  std::vector<std::uint8_t> up_;            // per node
  std::vector<std::uint32_t> incarnation_;  // per node: bumped by each crash
  std::vector<SimTime> last_durable_at_;    // per node: keeps durable notices in write order
  std::vector<Disk> disks_;

  std::vector<NodeCounters> node_counters_;
  std::vector<LinkCounters> link_counters_;
  std::array<std::uint64_t, 3> drops_{};
  std::uint64_t in_flight_ = 0;
  std::uint64_t last_message_id_ = 0;
};

}  // namespace edgeswarm::net
