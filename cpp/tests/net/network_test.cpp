#include "edgeswarm/net/network.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "../expect_invalid.hpp"

using edgeswarm::core::Rng;
using edgeswarm::net::Bytes;
using edgeswarm::net::DropReason;
using edgeswarm::net::LatencyModel;
using edgeswarm::net::LinkCounters;
using edgeswarm::net::LinkRules;
using edgeswarm::net::Network;
using edgeswarm::net::NodeId;
using edgeswarm::net::Occurrence;
using Kind = edgeswarm::net::OccurrenceKind;
using edgeswarm::net::SimTime;

namespace {

LinkRules fixed_rules(SimTime latency_us) {
  LinkRules r;
  r.latency = LatencyModel::fixed(latency_us);
  return r;
}

std::vector<Occurrence> drain(Network& net) {
  std::vector<Occurrence> out;
  Occurrence ev;
  while (net.step(ev)) out.push_back(ev);
  return out;
}

int delivered_between(const std::vector<Occurrence>& evs, NodeId from, NodeId to) {
  int n = 0;
  for (const auto& e : evs) n += e.kind == Kind::Message && e.from == from && e.node == to;
  return n;
}

void mix(std::uint64_t& h, std::uint64_t v) {
  h ^= v;
  h *= 0x100000001B3ULL;
}

// Five nodes on a lossy, duplicating, reordering network.
Network chaos_network(std::uint64_t seed) {
  LinkRules r;
  r.latency = LatencyModel::uniform(200, 3000);
  r.loss = 0.1;
  r.duplicate = 0.1;
  r.reorder = 0.2;
  return Network(5, seed, r, 500);
}

// A busy run over 200 ms: every node ticks every 1 ms, sends to a random peer
// and persists a little; receivers echo some messages back; a crash, a restart
// and partitions come and go. Returns a hash of everything that reached a node.
std::uint64_t chaos_trace_hash(Network& net) {
  const std::uint64_t seed = net.seed();
  Rng driver(seed, 99);
  for (NodeId i = 0; i < 5; ++i) net.schedule_timer(i, 1000, 0);
  std::uint64_t h = 0xCBF29CE484222325ULL;
  Occurrence ev;
  bool partitioned = false;
  for (SimTime until = 10'000; until <= 200'000; until += 10'000) {
    while (net.next(ev, until)) {
      mix(h, static_cast<std::uint64_t>(ev.time));
      mix(h, static_cast<std::uint64_t>(ev.kind));
      mix(h, ev.node);
      mix(h, ev.from);
      mix(h, static_cast<std::uint64_t>(ev.tag));
      mix(h, ev.id);
      for (auto b : ev.payload) mix(h, b);
      if (ev.kind == Kind::Timer) {
        const NodeId to = (ev.node + 1 + driver.below(4)) % 5;
        net.send(ev.node, to, Bytes(1 + driver.below(64), static_cast<std::uint8_t>(ev.node)), 1);
        net.write(ev.node, "tick", Bytes{static_cast<std::uint8_t>(ev.time & 0xFF)});
        net.schedule_timer(ev.node, ev.time + 1000, 0);
      } else if (ev.kind == Kind::Message && ev.tag == 1 && driver.below(2) == 0) {
        net.send(ev.node, ev.from, std::move(ev.payload), 2);
      }
    }
    // Faults between rounds: a crash/restart and a partition/heal.
    if (until == 50'000) net.crash(3);
    if (until == 80'000) {
      net.restart(3);
      net.schedule_timer(3, net.now() + 1, 0);
    }
    partitioned = !partitioned && until % 30'000 == 0;
    if (partitioned)
      net.partition({{0, 1}, {2, 3, 4}});
    else
      net.heal();
  }
  return h;
}

}  // namespace

TEST(Network, SameSeedSameTraceDifferentSeedDifferentTrace) {
  Network a = chaos_network(7), b = chaos_network(7), c = chaos_network(8);
  const auto h = chaos_trace_hash(a);
  EXPECT_EQ(h, chaos_trace_hash(b));
  EXPECT_NE(h, chaos_trace_hash(c));
  EXPECT_EQ(a.total_counters().delivered.messages, b.total_counters().delivered.messages);
}

TEST(Network, CountersAddUpAfterAChaoticRun) {
  Network n = chaos_network(11);
  chaos_trace_hash(n);
  Network* net = &n;
  drain(n);
  EXPECT_EQ(net->in_flight(), 0u);
  const LinkCounters t = net->total_counters();
  EXPECT_GT(t.duplicated.messages, 0u);
  EXPECT_GT(t.dropped.messages, 0u);
  EXPECT_EQ(t.sent.messages + t.duplicated.messages, t.delivered.messages + t.dropped.messages);
  EXPECT_EQ(t.sent.bytes + t.duplicated.bytes, t.delivered.bytes + t.dropped.bytes);
  EXPECT_EQ(net->dropped(DropReason::Loss) + net->dropped(DropReason::Partition) + net->dropped(DropReason::Crash),
            t.dropped.messages);
  EXPECT_GT(net->dropped(DropReason::Loss), 0u);
  EXPECT_GT(net->dropped(DropReason::Partition), 0u);
  EXPECT_GT(net->dropped(DropReason::Crash), 0u);
  EXPECT_GT(t.delivered.messages, 500u);
  std::uint64_t sent = 0, received = 0, dropped = 0, dup = 0, received_bytes = 0;
  for (NodeId i = 0; i < 5; ++i) {
    const auto& c = net->node_counters(i);
    sent += c.sent.messages;
    received += c.received.messages;
    received_bytes += c.received.bytes;
    dropped += c.dropped.messages;
    dup += c.duplicated.messages;
    for (NodeId j = 0; j < 5; ++j) {
      const auto& l = net->link_counters(i, j);
      EXPECT_EQ(l.sent.messages + l.duplicated.messages, l.delivered.messages + l.dropped.messages);
    }
  }
  EXPECT_EQ(sent, t.sent.messages);
  EXPECT_EQ(received, t.delivered.messages);
  EXPECT_EQ(received_bytes, t.delivered.bytes);
  EXPECT_EQ(dropped, t.dropped.messages);
  EXPECT_EQ(dup, t.duplicated.messages);
}

TEST(Network, DeliversAfterTheLatencyAndTimeOnlyMovesForward) {
  Network net(2, 1, fixed_rules(1500));
  const auto id = net.send(0, 1, Bytes{1, 2, 3}, 9);
  Occurrence ev;
  EXPECT_FALSE(net.next(ev, 1499));
  EXPECT_EQ(net.now(), 1499);
  ASSERT_TRUE(net.next(ev, 2000));
  EXPECT_EQ(ev.kind, Kind::Message);
  EXPECT_EQ(ev.time, 1500);
  EXPECT_EQ(ev.node, 1u);
  EXPECT_EQ(ev.from, 0u);
  EXPECT_EQ(ev.tag, 9);
  EXPECT_EQ(ev.id, id);
  EXPECT_EQ(ev.payload, (Bytes{1, 2, 3}));
  EXPECT_EQ(net.now(), 1500);
  EXPECT_FALSE(net.step(ev));
  EXPECT_EQ(net.now(), 1500);
  expect_invalid([&] { net.next(ev, 100); }, "until");
}

TEST(Network, EqualTimesOrderDurableThenMessageThenTimer) {
  Network net(2, 1, fixed_rules(1000), 1000);
  net.schedule_timer(1, 1000, 5);
  net.send(0, 1, Bytes{}, 0);
  net.write(1, "k", Bytes{1});
  const auto evs = drain(net);
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0].kind, Kind::Durable);
  EXPECT_EQ(evs[1].kind, Kind::Message);
  EXPECT_EQ(evs[2].kind, Kind::Timer);
  EXPECT_EQ(evs[2].tag, 5);
}

TEST(Network, TimersFireAtTheirTimeAndCanBeCancelled) {
  Network net(1, 1);
  const auto a = net.schedule_timer(0, 300, 1);
  net.schedule_timer(0, 200, 2);
  const auto c = net.schedule_timer(0, 100, 3);
  EXPECT_TRUE(net.cancel_timer(a));
  EXPECT_FALSE(net.cancel_timer(a));
  const auto evs = drain(net);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].time, 100);
  EXPECT_EQ(evs[0].tag, 3);
  EXPECT_EQ(evs[0].id, c.sequence);
  EXPECT_EQ(evs[1].time, 200);
  EXPECT_FALSE(net.cancel_timer(c));  // already fired
  expect_invalid([&] { net.schedule_timer(0, 199); }, "at");
}

TEST(Network, LossRateMatchesTheRule) {
  LinkRules r = fixed_rules(10);
  r.loss = 0.2;
  Network net(2, 3, r);
  const int n = 50000;
  for (int i = 0; i < n; ++i) net.send(0, 1, Bytes(4), 0);
  const auto evs = drain(net);
  EXPECT_NEAR(static_cast<double>(evs.size()) / n, 0.8, 0.01);
  EXPECT_EQ(net.dropped(DropReason::Loss), n - evs.size());
  EXPECT_EQ(net.link_counters(0, 1).dropped.bytes, 4 * (n - evs.size()));
}

TEST(Network, DuplicationRateMatchesTheRuleAndCopiesShareTheId) {
  LinkRules r = fixed_rules(10);
  r.duplicate = 0.3;
  Network net(2, 3, r);
  const int n = 50000;
  for (int i = 0; i < n; ++i) net.send(0, 1, Bytes(2), 0);
  const auto evs = drain(net);
  EXPECT_NEAR(static_cast<double>(evs.size()) / n, 1.3, 0.01);
  EXPECT_EQ(net.link_counters(0, 1).duplicated.messages, evs.size() - n);
  EXPECT_EQ(net.link_counters(0, 1).sent.messages, static_cast<std::uint64_t>(n));
  int same_id_pairs = 0;
  for (std::size_t i = 1; i < evs.size(); ++i) same_id_pairs += evs[i].id == evs[i - 1].id;
  EXPECT_EQ(static_cast<std::size_t>(same_id_pairs), evs.size() - n);  // fixed latency: copies arrive together
}

TEST(Network, ReorderingReordersAndItsAbsenceKeepsFifo) {
  auto inversions = [](double reorder) {
    LinkRules r = fixed_rules(1000);
    r.reorder = reorder;
    r.reorder_delay = LatencyModel::uniform(0, 5000);
    Network net(2, 4, r);
    Occurrence ev;
    std::vector<Occurrence> evs;
    for (SimTime t = 0; t < 100'000; t += 100) {  // one send every 100 us
      net.send(0, 1, Bytes{}, 0);
      while (net.next(ev, t + 100)) evs.push_back(ev);
    }
    for (auto& e : drain(net)) evs.push_back(e);
    EXPECT_EQ(evs.size(), 1000u);
    std::uint64_t last = 0;
    int inv = 0;
    for (const auto& e : evs) {
      inv += e.id < last;
      last = std::max(last, e.id);
    }
    return inv;
  };
  EXPECT_EQ(inversions(0.0), 0);
  EXPECT_GT(inversions(0.3), 100);
}

TEST(Network, RulesArePerDirection) {
  Network net(2, 1, fixed_rules(10));
  LinkRules lossy = fixed_rules(10);
  lossy.loss = 1.0;
  net.set_rules(0, 1, lossy);
  EXPECT_EQ(net.rules(0, 1).loss, 1.0);
  EXPECT_EQ(net.rules(1, 0).loss, 0.0);
  for (int i = 0; i < 10; ++i) {
    net.send(0, 1, Bytes{}, 0);
    net.send(1, 0, Bytes{}, 0);
  }
  const auto evs = drain(net);
  EXPECT_EQ(delivered_between(evs, 0, 1), 0);
  EXPECT_EQ(delivered_between(evs, 1, 0), 10);
  net.set_rules(fixed_rules(10));  // every link again
  EXPECT_EQ(net.rules(0, 1).loss, 0.0);
}

TEST(Network, PartitionBlocksAcrossGroupsOnlyAndHealRestores) {
  Network net(5, 1, fixed_rules(100));
  auto all_pairs = [&] {
    for (NodeId i = 0; i < 5; ++i)
      for (NodeId j = 0; j < 5; ++j)
        if (i != j) net.send(i, j, Bytes{}, 0);
    return drain(net);
  };
  net.partition({{0, 1}, {2, 3, 4}});
  auto evs = all_pairs();
  for (NodeId i = 0; i < 5; ++i)
    for (NodeId j = 0; j < 5; ++j)
      if (i != j) {
        EXPECT_EQ(delivered_between(evs, i, j), (i < 2) == (j < 2) ? 1 : 0) << i << "->" << j;
      }
  EXPECT_FALSE(net.connected(0, 2));
  EXPECT_TRUE(net.connected(2, 4));
  net.heal();
  evs = all_pairs();
  EXPECT_EQ(evs.size(), 20u);
  // Unlisted nodes are each cut off alone.
  net.partition({{0, 1}});
  EXPECT_TRUE(net.connected(1, 0));
  EXPECT_FALSE(net.connected(2, 3));
  EXPECT_FALSE(net.connected(3, 0));
}

TEST(Network, APartitionCutsMessagesInFlight) {
  Network net(2, 1, fixed_rules(1000));
  net.send(0, 1, Bytes{}, 0);
  Occurrence ev;
  EXPECT_FALSE(net.next(ev, 500));
  net.partition({{0}, {1}});
  EXPECT_FALSE(net.step(ev));
  EXPECT_EQ(net.dropped(DropReason::Partition), 1u);
}

TEST(Network, OneWayCutBlocksOneDirectionOnly) {
  Network net(3, 1, fixed_rules(100));
  net.cut(0, 1);
  EXPECT_FALSE(net.connected(0, 1));
  EXPECT_TRUE(net.connected(1, 0));
  net.send(0, 1, Bytes{}, 0);
  net.send(1, 0, Bytes{}, 0);
  net.send(0, 2, Bytes{}, 0);
  auto evs = drain(net);
  EXPECT_EQ(delivered_between(evs, 0, 1), 0);
  EXPECT_EQ(delivered_between(evs, 1, 0), 1);
  EXPECT_EQ(delivered_between(evs, 0, 2), 1);
  net.heal();
  net.send(0, 1, Bytes{}, 0);
  evs = drain(net);
  EXPECT_EQ(delivered_between(evs, 0, 1), 1);
}

TEST(Network, CrashDropsInFlightMessagesAndTimersAndRestartWorks) {
  Network net(3, 1, fixed_rules(1000));
  net.send(0, 2, Bytes{1}, 0);  // in flight when 2 crashes
  net.send(2, 1, Bytes{2}, 0);  // sent by 2 before it crashes: still arrives
  net.schedule_timer(2, 800, 0);
  Occurrence ev;
  EXPECT_FALSE(net.next(ev, 500));
  net.crash(2);
  EXPECT_FALSE(net.is_up(2));
  net.send(0, 2, Bytes{3}, 0);  // arrives at 1500, while 2 is still down
  expect_invalid([&] { net.send(2, 0, Bytes{}, 0); }, "from");
  expect_invalid([&] { net.schedule_timer(2, 900); }, "node");
  expect_invalid([&] { net.write(2, "k", Bytes{}); }, "node");
  auto evs = drain(net);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].node, 1u);
  EXPECT_EQ(net.dropped(DropReason::Crash), 2u);
  EXPECT_EQ(net.node_counters(2).received.messages, 0u);

  net.send(1, 2, Bytes{4}, 0);  // sent while down, arrives after the restart
  EXPECT_FALSE(net.next(ev, net.now() + 500));
  net.restart(2);
  net.schedule_timer(2, net.now() + 100, 7);
  evs = drain(net);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].kind, Kind::Timer);
  EXPECT_EQ(evs[1].kind, Kind::Message);
  EXPECT_EQ(evs[1].payload, Bytes{4});
}

TEST(Network, CrashThenQuickRestartStillDropsWhatWasInFlight) {
  Network net(2, 1, fixed_rules(1000));
  net.send(0, 1, Bytes{}, 0);
  Occurrence ev;
  net.next(ev, 100);
  net.crash(1);
  net.restart(1);
  EXPECT_FALSE(net.step(ev));
  EXPECT_EQ(net.dropped(DropReason::Crash), 1u);
}

TEST(Network, DiskWriteIsLostIfTheNodeCrashesBeforeTheFsyncDelay) {
  Network net(1, 1, LinkRules{}, 2000);
  net.write(0, "term", Bytes{5});
  Occurrence ev;
  EXPECT_FALSE(net.next(ev, 1999));
  ASSERT_NE(net.disk(0).read("term"), nullptr);  // the running node sees its own write
  net.crash(0);
  EXPECT_FALSE(net.step(ev));  // no durable notice for a lost write
  net.restart(0);
  EXPECT_EQ(net.disk(0).read("term"), nullptr);
  EXPECT_TRUE(net.disk(0).durable().empty());
}

TEST(Network, DiskWriteIsKeptOnceDurable) {
  Network net(1, 1, LinkRules{}, 2000);
  const auto id = net.write(0, "term", Bytes{5});
  net.write(0, "vote", Bytes{1});
  Occurrence ev;
  ASSERT_TRUE(net.next(ev, 2000));
  EXPECT_EQ(ev.kind, Kind::Durable);
  EXPECT_EQ(ev.node, 0u);
  EXPECT_EQ(ev.id, id);
  EXPECT_EQ(ev.time, 2000);
  net.crash(0);  // the second write, notified at the same time, is still pending
  net.restart(0);
  EXPECT_FALSE(net.step(ev));
  ASSERT_NE(net.disk(0).read_durable("term"), nullptr);
  EXPECT_EQ(*net.disk(0).read_durable("term"), Bytes{5});
  EXPECT_EQ(net.disk(0).read("vote"), nullptr);
  const auto r = net.remove(0, "term");
  ASSERT_TRUE(net.step(ev));
  EXPECT_EQ(ev.id, r);
  EXPECT_TRUE(net.disk(0).durable().empty());
}

TEST(Network, DurableNoticesStayInWriteOrderWhenTheFsyncDelayShrinks) {
  Network net(1, 1, LinkRules{}, 2000);
  const auto a = net.write(0, "a", Bytes{1});
  net.set_fsync_delay(100);
  const auto b = net.write(0, "b", Bytes{2});
  const auto evs = drain(net);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].id, a);
  EXPECT_EQ(evs[1].id, b);
  EXPECT_EQ(evs[1].time, 2000);
  EXPECT_EQ(net.disk(0).durable().size(), 2u);
}

TEST(Network, BadParametersNameTheParameter) {
  expect_invalid([] { Network(0, 1); }, "n");
  expect_invalid([] { Network(edgeswarm::net::kMaxNodes + 1, 1); }, "n");
  expect_invalid([] { Network(2, 1, LinkRules{}, -1); }, "fsync_delay_us");
  LinkRules bad;
  bad.loss = 1.5;
  expect_invalid([&] { Network(2, 1, bad); }, "loss");
  Network net(3, 1);
  bad = LinkRules{};
  bad.duplicate = -0.1;
  expect_invalid([&] { net.set_rules(bad); }, "duplicate");
  bad = LinkRules{};
  bad.reorder = std::nan("");
  expect_invalid([&] { net.set_rules(0, 1, bad); }, "reorder");
  expect_invalid([&] { net.send(3, 0, Bytes{}, 0); }, "from");
  expect_invalid([&] { net.send(0, 7, Bytes{}, 0); }, "to");
  expect_invalid([&] { net.cut(0, 3); }, "to");
  expect_invalid([&] { net.crash(5); }, "node");
  expect_invalid([&] { net.partition({{0}, {}}); }, "groups");
  expect_invalid([&] { net.partition({{0, 1}, {1, 2}}); }, "groups");
  expect_invalid([&] { net.partition({{0, 3}}); }, "groups");
  expect_invalid([&] { net.set_fsync_delay(-5); }, "fsync_delay_us");
  Occurrence ev;
  expect_invalid([&] { net.next(ev, edgeswarm::net::kMaxTimeUs + 1); }, "until");
  expect_invalid([&] { net.schedule_timer(0, edgeswarm::net::kMaxTimeUs + 1); }, "at");
  EXPECT_EQ(net.pending_events(), 0u);  // failed calls changed nothing
  EXPECT_TRUE(net.connected(0, 1));
}
