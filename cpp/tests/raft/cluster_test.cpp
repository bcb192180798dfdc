// The cluster harness on the network simulator: elections, replication,
// crashes and restarts, clients with de-duplicated retries, determinism;
// the invariant checker runs after every event and must stay silent.

#include "edgeswarm/raft/cluster.hpp"

#include <gtest/gtest.h>

#include "../expect_invalid.hpp"

using namespace edgeswarm::raft;

namespace {

ClusterConfig small(std::uint64_t seed, std::size_t n = 5) {
  ClusterConfig c;
  c.n = n;
  c.seed = seed;
  return c;
}

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

void expect_no_violation(const Cluster& c) {
  for (const Violation& v : c.violations()) {
    ADD_FAILURE() << to_string(v.kind) << " on node " << v.node << ": " << v.detail;
  }
}

}  // namespace

TEST(Cluster, RejectsBadConfigs) {
  ClusterConfig c;
  c.n = 0;
  expect_invalid([&] { Cluster x(c); }, "n");
  c = ClusterConfig{};
  c.election_max_ms = c.election_min_ms;
  expect_invalid([&] { Cluster x(c); }, "election_max_ms");
  c = ClusterConfig{};
  c.heartbeat_ms = c.election_min_ms;
  expect_invalid([&] { Cluster x(c); }, "election_min_ms");
  c = ClusterConfig{};
  c.loss = 1.5;
  expect_invalid([&] { Cluster x(c); }, "loss");
  c = ClusterConfig{};
  c.latency_min_us = 10;
  c.latency_max_us = 5;
  expect_invalid([&] { Cluster x(c); }, "latency_us");
  Cluster ok(small(1, 3));
  expect_invalid([&] { ok.crash(3); }, "node");
  expect_invalid([&] { ok.cut(0, 7); }, "node");
  expect_invalid([&] { ok.submit(1, KvOp::Put, "k", "v"); }, "client");
}

TEST(Cluster, ElectsOneLeaderAndReplicates) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    Cluster c(small(seed));
    const auto l = c.run_until_leader(5'000'000);
    ASSERT_TRUE(l) << "seed " << seed;
    c.run_for(500'000);
    ASSERT_EQ(c.leader(), l) << "seed " << seed;
    const std::uint64_t term = c.node(*l).term();
    for (std::size_t i = 0; i < c.size(); ++i) EXPECT_EQ(c.node(i).term(), term);
    const auto at = c.propose(bytes("hello"));
    ASSERT_TRUE(at);
    c.run_for(100'000);
    for (std::size_t i = 0; i < c.size(); ++i) {
      EXPECT_GE(c.node(i).commit_index(), at->first);
      ASSERT_FALSE(c.applied(i).empty());
      EXPECT_EQ(c.applied(i).back(), std::make_pair(at->first, bytes("hello")));
    }
    expect_no_violation(c);
    EXPECT_GT(c.checker().checks(), 100u);
  }
}

TEST(Cluster, ByteCountersMatchTheWireFormat) {
  Cluster c(small(3, 3));
  c.run_until_leader(5'000'000);
  c.run_for(200'000);
  const auto total = c.network().total_counters();
  EXPECT_GT(total.sent.messages, 0u);
  EXPECT_GT(total.sent.bytes, total.sent.messages * 8);  // every message carries a header of several varints
}

TEST(Cluster, RestartRecoversFromDisk) {
  Cluster c(small(4, 3));
  ASSERT_TRUE(c.run_until_leader(5'000'000));
  for (int k = 0; k < 5; ++k) c.propose(bytes("e" + std::to_string(k)));
  c.run_for(100'000);
  const std::uint64_t commit = c.node(0).commit_index();
  const auto before = c.applied(0);
  for (std::size_t i = 0; i < 3; ++i) c.crash(i);
  EXPECT_FALSE(c.leader());
  EXPECT_EQ(c.persisted(0).last_index, c.storage(0).last_index());
  EXPECT_GE(c.persisted(0).hard_state.commit, commit - 1);
  for (std::size_t i = 0; i < 3; ++i) c.restart(i);
  ASSERT_TRUE(c.run_until_leader(5'000'000));
  c.run_for(200'000);
  EXPECT_EQ(c.applied(0), before);
  EXPECT_GE(c.node(0).commit_index(), commit);
  expect_no_violation(c);
}

TEST(Cluster, SnapshotsCompactAndCatchUpAFollower) {
  ClusterConfig cfg = small(5, 3);
  cfg.snapshot_every = 10;
  Cluster c(cfg);
  const auto l = c.run_until_leader(5'000'000);
  ASSERT_TRUE(l);
  const std::size_t lagging = (*l + 1) % 3;
  c.crash(lagging);
  const std::uint64_t id = c.add_client();
  for (int k = 0; k < 40; ++k) {
    c.submit(id, KvOp::Append, "log", std::to_string(k % 10));
    ASSERT_EQ(c.wait(id).status, OpStatus::Ok);
  }
  EXPECT_GT(c.storage(*l).snapshot().index, 20u);
  c.restart(lagging);
  c.run_for(1'000'000);
  EXPECT_EQ(c.kv(lagging).get("log"), c.kv(*l).get("log"));
  EXPECT_EQ(c.kv(lagging).get("log")->size(), 40u);
  expect_no_violation(c);
}

TEST(Cluster, ClientRetriesApplyOnce) {
  int retried_twice_in_log = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    ClusterConfig cfg = small(seed);
    cfg.fsync_us = 1000;
    Cluster c(cfg);
    const auto l = c.run_until_leader(5'000'000);
    ASSERT_TRUE(l);
    const std::uint64_t id = c.add_client();
    c.submit(id, KvOp::Put, "k", "v0");
    ASSERT_EQ(c.wait(id).status, OpStatus::Ok);
    // The leader accepts an append, replicates it, and crashes before answering:
    // the client retries the same (client, seq) at the next leader.
    c.submit(id, KvOp::Append, "k", "+1");
    c.run_for(3'000);
    c.crash(*l);
    const HistoryEntry& h = c.wait(id);
    EXPECT_EQ(h.status, OpStatus::Ok) << "seed " << seed;
    c.submit(id, KvOp::Get, "k");
    const HistoryEntry& g = c.wait(id);
    ASSERT_EQ(g.status, OpStatus::Ok);
    EXPECT_EQ(g.output, "v0+1") << "seed " << seed;
    // Did the retry reach the log a second time (so dedup, not luck, kept "+1" single)?
    const auto survivor = c.leader().value();
    const auto append = encode(KvCommand{KvOp::Append, id, 2, "k", "+1"});
    int copies = 0;
    for (const auto& [index, data] : c.applied(survivor)) copies += data == append;
    retried_twice_in_log += copies >= 2;
    expect_no_violation(c);
  }
  EXPECT_GT(retried_twice_in_log, 0);
}

TEST(Cluster, ClientGivesUpWithoutAMajority) {
  ClusterConfig cfg = small(2, 3);
  cfg.client_timeout_us = 1'000'000;
  Cluster c(cfg);
  ASSERT_TRUE(c.run_until_leader(5'000'000));
  c.crash(0);
  c.crash(1);
  c.crash(2);
  const std::uint64_t id = c.add_client();
  c.submit(id, KvOp::Put, "k", "v");
  const HistoryEntry& h = c.wait(id);
  EXPECT_EQ(h.status, OpStatus::Failed);  // no node was up to accept it
  EXPECT_FALSE(h.ret);
  EXPECT_EQ(c.now(), h.call + 1'000'000);
}

TEST(Cluster, SameSeedSameRun) {
  auto run = [](std::uint64_t seed) {
    ClusterConfig cfg = small(seed);
    cfg.loss = 0.1;
    cfg.reorder = 0.2;
    cfg.duplicate = 0.05;
    Cluster c(cfg);
    const std::uint64_t id = c.add_client();
    for (int k = 0; k < 5; ++k) {
      c.submit(id, KvOp::Append, "x", std::to_string(k));
      c.wait(id);
      if (k == 2) c.crash(c.leader().value_or(0));
    }
    return std::make_tuple(c.now(), c.network().total_counters().sent.bytes, c.history().back().ret,
                           c.checker().checks());
  };
  EXPECT_EQ(run(9), run(9));
  EXPECT_NE(run(9), run(10));
}
