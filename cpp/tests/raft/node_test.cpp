#include "edgeswarm/raft/node.hpp"

#include <gtest/gtest.h>

#include "../expect_invalid.hpp"
#include "test_cluster.hpp"

using namespace raft_test;

namespace {

std::vector<NodeId> ids(int n) {
  std::vector<NodeId> out;
  for (int i = 1; i <= n; ++i) out.push_back(static_cast<NodeId>(i));
  return out;
}

int count_leaders(Cluster& c, const std::vector<NodeId>& members) {
  int leaders = 0;
  for (NodeId id : members) leaders += c.up(id) && c.node(id).role() == Role::Leader;
  return leaders;
}

}  // namespace

// ---------------------------------------------------------------- elections

TEST(RaftElection, ThreeNodesElectExactlyOneLeader) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Cluster c(ids(3), seed);
    const NodeId l = c.run_until_leader();
    ASSERT_NE(l, kNoNode) << "seed " << seed;
    c.run(30);
    EXPECT_EQ(count_leaders(c, ids(3)), 1);
    EXPECT_EQ(c.leader(), l) << "a stable cluster keeps its leader";
    for (NodeId id : ids(3)) {
      EXPECT_EQ(c.node(id).leader(), l);
      EXPECT_EQ(c.node(id).term(), c.node(l).term());
    }
    EXPECT_TRUE(c.violations().empty()) << c.violations().front();
  }
}

TEST(RaftElection, FiveNodesElectExactlyOneLeader) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Cluster c(ids(5), seed);
    ASSERT_NE(c.run_until_leader(), kNoNode);
    c.run(30);
    EXPECT_EQ(count_leaders(c, ids(5)), 1);
    EXPECT_TRUE(c.violations().empty());
  }
}

TEST(RaftElection, TimeoutsAreDrawnPerNodeAndSeed) {
  // Same seed: same leader and term; the first leader varies with the seed.
  std::set<NodeId> first_leaders;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    Cluster a(ids(5), seed), b(ids(5), seed);
    const NodeId la = a.run_until_leader();
    EXPECT_EQ(la, b.run_until_leader());
    EXPECT_EQ(a.node(la).term(), b.node(la).term());
    first_leaders.insert(la);
  }
  EXPECT_GE(first_leaders.size(), 3u);
}

TEST(RaftElection, ReelectionAfterLeaderIsolated) {
  Cluster c(ids(3), 7);
  const NodeId old = c.run_until_leader();
  const std::uint64_t old_term = c.node(old).term();
  c.isolate(old);
  c.run(60);
  const NodeId fresh = c.leader();
  ASSERT_NE(fresh, kNoNode);
  ASSERT_NE(fresh, old);
  EXPECT_GT(c.node(fresh).term(), old_term);
  // CheckQuorum: the isolated leader stepped down on its own.
  EXPECT_NE(c.node(old).role(), Role::Leader);
  c.heal();
  c.run(30);
  EXPECT_EQ(c.leader(), fresh) << "the old leader rejoins as a follower";
  EXPECT_EQ(c.node(old).leader(), fresh);
  EXPECT_TRUE(c.violations().empty());
}

TEST(RaftElection, NoLeaderWithoutMajority) {
  Cluster c(ids(5), 3);
  c.run_until_leader();
  c.partition({{1, 2}, {3}, {4}, {5}});
  c.run(100);
  EXPECT_EQ(count_leaders(c, ids(5)), 0);
}

TEST(RaftElection, PreVoteKeepsPartitionedNodeFromDisruptingTheTerm) {
  Cluster c(ids(3), 11);
  const NodeId l = c.run_until_leader();
  const NodeId lonely = l == 3 ? 1 : 3;
  const std::uint64_t term = c.node(l).term();
  c.isolate(lonely);
  c.run(200);  // many election timeouts
  EXPECT_EQ(c.node(lonely).term(), term) << "pre-votes never reach a quorum, so the term stays";
  c.heal();
  c.run(30);
  EXPECT_EQ(c.leader(), l);
  EXPECT_EQ(c.node(l).term(), term) << "rejoining does not bump the cluster's term";
}

TEST(RaftElection, WithoutPreVoteThePartitionedNodeBumpsTheTerm) {
  // The counterpart of the test above, so that it cannot pass by accident.
  Config cfg = Cluster::small_config();
  cfg.pre_vote = false;
  cfg.check_quorum = false;
  Cluster c(ids(3), 11, cfg);
  const NodeId l = c.run_until_leader();
  const NodeId lonely = l == 3 ? 1 : 3;
  const std::uint64_t term = c.node(l).term();
  c.isolate(lonely);
  c.run(200);
  EXPECT_GT(c.node(lonely).term(), term + 3);
  c.heal();
  c.run(60);
  ASSERT_NE(c.leader(), kNoNode);
  EXPECT_GT(c.node(c.leader()).term(), term);
}

TEST(RaftElection, CheckQuorumStepsDownAMinorityLeader) {
  Cluster c(ids(5), 5);
  const NodeId l = c.run_until_leader();
  std::vector<NodeId> minority{l}, majority;
  for (NodeId id : ids(5)) {
    if (id == l) continue;
    (minority.size() < 2 ? minority : majority).push_back(id);
  }
  c.partition({minority, majority});
  c.run(Cluster::small_config().election_min_ticks * 2 + 1);
  EXPECT_NE(c.node(l).role(), Role::Leader);
  EXPECT_EQ(c.node(l).leader(), kNoNode);
  c.run(60);
  ASSERT_NE(c.leader(), kNoNode);
  EXPECT_TRUE(std::find(majority.begin(), majority.end(), c.leader()) != majority.end());
}

TEST(RaftElection, WithoutCheckQuorumAMinorityLeaderStaysLeader) {
  Config cfg = Cluster::small_config();
  cfg.check_quorum = false;
  Cluster c(ids(3), 5, cfg);
  const NodeId l = c.run_until_leader();
  c.isolate(l);
  c.run(100);
  EXPECT_EQ(c.node(l).role(), Role::Leader);
}

// ---------------------------------------------------------------- replication

TEST(RaftReplication, ProposalsCommitOnEveryNodeInOrder) {
  Cluster c(ids(5), 2);
  const NodeId l = c.run_until_leader();
  for (int i = 0; i < 10; ++i) ASSERT_EQ(c.propose("x" + std::to_string(i)), ProposeResult::Ok);
  c.run(3);
  for (NodeId id : ids(5)) {
    EXPECT_EQ(c.node(id).commit_index(), c.node(l).log().last_index());
    ASSERT_EQ(c.app(id).data.size(), 10u);
    EXPECT_EQ(c.app(id).data[9], bytes("x9"));
  }
  c.check_log_matching();
  EXPECT_TRUE(c.violations().empty());
}

TEST(RaftReplication, FollowerCannotPropose) {
  Cluster c(ids(3), 2);
  const NodeId l = c.run_until_leader();
  const NodeId f = l == 1 ? 2 : 1;
  EXPECT_EQ(c.node(f).propose(bytes("no")), ProposeResult::NotLeader);
}

TEST(RaftReplication, CommitsWithOneFollowerDownNotWithTwo) {
  Cluster c(ids(3), 4);
  const NodeId l = c.run_until_leader();
  std::vector<NodeId> others;
  for (NodeId id : ids(3)) {
    if (id != l) others.push_back(id);
  }
  c.crash(others[0]);
  const std::uint64_t before = c.node(l).commit_index();
  ASSERT_EQ(c.propose("a"), ProposeResult::Ok);
  EXPECT_EQ(c.node(l).commit_index(), before + 1);
  c.crash(others[1]);
  c.node(l).propose(bytes("b"));
  c.settle();
  EXPECT_EQ(c.node(l).commit_index(), before + 1) << "no commit without a majority";
  c.restart(others[0]);
  c.restart(others[1]);
  c.run(40);
  const NodeId now = c.leader();
  ASSERT_NE(now, kNoNode);
  for (NodeId id : ids(3)) EXPECT_EQ(c.app(id).data.size(), c.app(now).data.size());
  EXPECT_TRUE(c.violations().empty());
}

namespace {

// Storage holding the bootstrap entries of {1, 2, 3}, then entries of the given terms.
Storage with_log(std::uint64_t term, const std::vector<std::uint64_t>& terms) {
  Storage s = Storage::bootstrap({1, 2, 3});
  std::vector<Entry> tail;
  for (std::uint64_t t : terms) {
    Entry e;
    e.term = t;
    e.index = s.last_index() + tail.size() + 1;
    e.data = bytes("t" + std::to_string(t));
    tail.push_back(e);
  }
  s.append(tail);
  s.set_hard_state({term, kNoNode, 3});
  return s;
}

}  // namespace

TEST(RaftReplication, OldTermEntryOnAMajorityIsNotCommittedByCounting) {
  // Figure 8: S1 and S2 hold (4, term 2); S3 holds (4, term 3). S1 wins term 5
  // while S3 is cut off, and gets (4, term 2) acknowledged by S2 -- a majority --
  // but its no-op of term 5 is held back. Counting replicas of an old-term
  // entry must not commit it: S3 could still be elected and overwrite it.
  Cluster c({{1, with_log(4, {2})}, {2, with_log(4, {2})}, {3, with_log(4, {3})}}, 1);
  c.isolate(3);
  c.filter = [](Message& m) {
    if (m.from == 2 && (m.type == MessageType::PreVote || m.type == MessageType::Vote)) return false;  // S1 must win
    if (m.type == MessageType::Append) {
      m.entries.erase(std::remove_if(m.entries.begin(), m.entries.end(), [](const Entry& e) { return e.term >= 5; }),
                      m.entries.end());
    }
    return true;
  };
  ASSERT_EQ(c.run_until_leader(), 1u);
  c.run(5);
  ASSERT_NE(c.node(1).progress(2), nullptr);
  EXPECT_EQ(c.node(1).progress(2)->match, 4u) << "S2 acknowledged the old-term entry";
  EXPECT_EQ(c.node(1).commit_index(), 3u) << "an old-term entry is not committed by counting replicas";
  // Once the no-op of term 5 reaches S2, both commit.
  c.filter = nullptr;
  c.run(3);
  EXPECT_EQ(c.node(1).commit_index(), 5u);
  c.heal();
  c.run(5);
  EXPECT_EQ(c.node(3).log().at(4).term, 2u) << "S3's divergent entry was replaced";
  c.check_log_matching();
  EXPECT_TRUE(c.violations().empty());
}

TEST(RaftReplication, FastBackupOverLongDivergentLogs) {
  Config cfg = Cluster::small_config();
  cfg.max_entries_per_msg = 64;
  Cluster c(ids(5), 9, cfg);
  const NodeId l1 = c.run_until_leader();
  std::vector<NodeId> others;
  for (NodeId id : ids(5)) {
    if (id != l1) others.push_back(id);
  }
  const NodeId a = others[0];
  // l1 and a pile up 150 uncommitted entries.
  c.partition({{l1, a}, {others[1], others[2], others[3]}});
  for (int i = 0; i < 150; ++i) c.node(l1).propose(bytes("lost" + std::to_string(i)));
  c.settle();
  // The other three elect a leader and commit 150 entries.
  const NodeId l2 = c.run_until_leader_among({others[1], others[2], others[3]});
  ASSERT_NE(l2, kNoNode);
  for (int i = 0; i < 150; ++i) c.node(l2).propose(bytes("kept" + std::to_string(i)));
  c.run(3);
  // l2 and one follower pile up 150 more uncommitted entries.
  NodeId x = kNoNode, y = kNoNode;
  for (NodeId id : {others[1], others[2], others[3]}) {
    if (id == l2) continue;
    (x == kNoNode ? x : y) = id;
  }
  c.partition({{l2, x}, {y}, {l1, a}});
  for (int i = 0; i < 150; ++i) c.node(l2).propose(bytes("lost2-" + std::to_string(i)));
  c.settle();
  // y (most up to date among l1, a, y) wins and reconciles l1 and a; then all heal.
  c.partition({{l1, a, y}, {l2, x}});
  c.append_rejections = 0;
  ASSERT_EQ(c.run_until_leader_among({l1, a, y}), y);
  c.run(5);
  c.propose("after");
  c.heal();
  c.run(40);
  c.propose("end");
  c.run(5);
  // Without the hint each divergent follower would need one rejection per
  // entry (hundreds); with it, a couple per follower.
  EXPECT_LE(c.append_rejections, 12u);
  EXPECT_GE(c.append_rejections, 3u) << "the scenario must create divergence";
  for (NodeId id : ids(5)) {
    EXPECT_EQ(c.node(id).log().last_index(), c.node(y).log().last_index());
    EXPECT_EQ(c.app(id).hash, c.app(y).hash);
  }
  EXPECT_EQ(c.app(y).data.size(), 152u);
  c.check_log_matching();
  EXPECT_TRUE(c.violations().empty());
}

// ---------------------------------------------------------------- persistence

TEST(RaftPersistence, VoteSurvivesRestartSoNoDoubleVote) {
  Config cfg = Cluster::small_config();
  cfg.id = 1;
  Storage disk = Storage::bootstrap({1, 2, 3});
  Node n(cfg, disk);
  Message v;
  v.type = MessageType::Vote;
  v.from = 2;
  v.to = 1;
  v.term = 5;
  v.index = 3;
  v.log_term = 1;
  n.step(v);
  Ready rd = n.ready();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term, 5u);
  EXPECT_EQ(rd.hard_state->vote, 2u);
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_FALSE(rd.messages[0].reject);
  disk.persist(rd);
  n.advance(rd);

  Node again(cfg, disk);  // crash and restart
  EXPECT_EQ(again.term(), 5u);
  EXPECT_EQ(again.vote(), 2u);
  v.from = 3;
  again.step(v);
  Ready rd2 = again.ready();
  ASSERT_EQ(rd2.messages.size(), 1u);
  EXPECT_EQ(rd2.messages[0].type, MessageType::VoteResponse);
  EXPECT_TRUE(rd2.messages[0].reject) << "already voted for 2 in term 5";
  v.from = 2;
  again.step(v);
  EXPECT_FALSE(again.ready().messages.at(0).reject) << "re-granting the same candidate is fine";
}

TEST(RaftPersistence, MessagesComeWithTheStateTheyDependOn) {
  // A vote response and an append acknowledgement come in the same Ready as
  // the hard state and entries they vouch for (persisted first by contract).
  Config cfg = Cluster::small_config();
  cfg.id = 2;
  Node n(cfg, Storage::bootstrap({1, 2, 3}));
  Message a;
  a.type = MessageType::Append;
  a.from = 1;
  a.to = 2;
  a.term = 2;
  a.index = 3;
  a.log_term = 1;
  a.commit = 3;
  a.entries = {Entry{2, 4, EntryType::Normal, bytes("x")}};
  n.step(a);
  ASSERT_TRUE(n.has_ready());
  Ready rd = n.ready();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term, 2u);
  ASSERT_EQ(rd.entries_to_persist.size(), 1u);
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].index, 4u);
  n.advance(rd);
  EXPECT_FALSE(n.has_ready());
}

TEST(RaftPersistence, WholeClusterRestartKeepsTermsLogsAndCommits) {
  Cluster c(ids(3), 21);
  c.run_until_leader();
  for (int i = 0; i < 5; ++i) c.propose("p" + std::to_string(i));
  c.run(3);
  std::map<NodeId, std::uint64_t> terms, lasts;
  for (NodeId id : ids(3)) {
    terms[id] = c.node(id).term();
    lasts[id] = c.node(id).log().last_index();
  }
  for (NodeId id : ids(3)) c.restart(id);
  for (NodeId id : ids(3)) {
    EXPECT_EQ(c.node(id).term(), terms[id]);
    EXPECT_EQ(c.node(id).log().last_index(), lasts[id]);
    EXPECT_EQ(c.node(id).role(), Role::Follower);
  }
  ASSERT_NE(c.run_until_leader(), kNoNode);
  c.propose("after");
  c.run(3);
  for (NodeId id : ids(3)) {
    ASSERT_EQ(c.app(id).data.size(), 6u) << "committed entries re-applied after restart";
    EXPECT_EQ(c.app(id).data.back(), bytes("after"));
    EXPECT_GE(c.node(id).term(), terms[id]);
  }
  EXPECT_TRUE(c.violations().empty());
}

// ---------------------------------------------------------------- snapshots

TEST(RaftSnapshot, LaggingFollowerIsBroughtUpByInstallSnapshot) {
  Cluster c(ids(3), 8);
  const NodeId l = c.run_until_leader();
  const NodeId lag = l == 3 ? 2 : 3;
  c.crash(lag);
  for (int i = 0; i < 40; ++i) c.propose("e" + std::to_string(i));
  c.run(2);
  // Every running node snapshots at its applied index and drops its log.
  for (NodeId id : ids(3)) {
    if (!c.up(id)) continue;
    const std::uint64_t at = c.node(id).applied_index();
    ASSERT_TRUE(c.compact(id));
    EXPECT_EQ(c.node(id).snapshot().index, at);
    EXPECT_EQ(c.node(id).snapshot().conf.voters, (std::vector<NodeId>{1, 2, 3}));
    EXPECT_EQ(c.node(id).log().first_index(), at + 1);
    EXPECT_EQ(c.disk(id).snapshot(), c.node(id).snapshot());
  }
  c.propose("tail");
  c.restart(lag);
  c.sent.clear();
  c.run(20);
  EXPECT_GE(c.sent[MessageType::Snapshot], 1u);
  EXPECT_EQ(c.node(lag).log().snapshot_index(), c.node(l).log().snapshot_index());
  EXPECT_EQ(c.node(lag).commit_index(), c.node(l).commit_index());
  EXPECT_EQ(c.app(lag).hash, c.app(l).hash) << "snapshot + tail give the same state";
  EXPECT_EQ(c.disk(lag).snapshot().index, c.node(l).log().snapshot_index()) << "the snapshot was persisted";
  c.propose("more");
  c.run(2);
  EXPECT_EQ(c.app(lag).data.back(), bytes("more"));
  EXPECT_TRUE(c.violations().empty());
}

TEST(RaftSnapshot, CompactChecksTheIndex) {
  Cluster c(ids(1), 1);
  c.run_until_leader();
  Node& n = c.node(1);
  expect_invalid([&] { n.compact(n.applied_index() + 1, {}); }, "index");
  n.compact(2, {});
  expect_invalid([&] { n.compact(2, {}); }, "index");
}

// ---------------------------------------------------------------- ReadIndex

TEST(RaftReadIndex, ReadReturnsOnlyAfterLeadershipIsConfirmed) {
  Cluster c(ids(3), 13);
  const NodeId l = c.run_until_leader();
  c.propose("v1");
  const std::uint64_t commit = c.node(l).commit_index();
  EXPECT_EQ(c.node(l == 1 ? 2 : 1).read_index(1), ProposeResult::NotLeader);
  // Cut off, the leader cannot confirm it still leads: no read state.
  c.isolate(l);
  ASSERT_EQ(c.node(l).read_index(7), ProposeResult::Ok);
  c.settle();
  c.run(3);
  EXPECT_TRUE(c.reads(l).empty());
  c.heal();
  c.run(1);
  ASSERT_EQ(c.reads(l).size(), 1u);
  EXPECT_EQ(c.reads(l)[0].context, 7u);
  EXPECT_EQ(c.reads(l)[0].index, commit);
  EXPECT_LE(c.reads(l)[0].index, c.app(l).applied);
}

TEST(RaftReadIndex, NewLeaderWaitsForItsNoOpBeforeServingReads) {
  Cluster c(ids(3), 17);
  const NodeId old = c.run_until_leader();
  c.isolate(old);
  bool block = true;
  c.filter = [&](Message& m) { return !(block && m.type == MessageType::Append); };
  NodeId l = kNoNode;
  for (int t = 0; t < 200 && (l == kNoNode || l == old); ++t) {
    c.tick();
    l = c.leader();
  }
  ASSERT_NE(l, old);
  ASSERT_EQ(c.node(l).read_index(5), ProposeResult::Ok);
  c.run(5);  // heartbeats flow, the no-op does not
  EXPECT_TRUE(c.reads(l).empty());
  EXPECT_LT(c.node(l).commit_index(), c.node(l).log().last_index());
  block = false;
  c.run(3);
  ASSERT_EQ(c.reads(l).size(), 1u);
  EXPECT_EQ(c.reads(l)[0].context, 5u);
  EXPECT_GE(c.reads(l)[0].index, c.node(l).log().last_index()) << "read index covers the new term's no-op";
}

// ---------------------------------------------------------------- leadership transfer

TEST(RaftTransfer, LeadershipMovesToTheTarget) {
  Cluster c(ids(3), 19);
  const NodeId l = c.run_until_leader();
  const NodeId target = l == 1 ? 2 : 1;
  const std::uint64_t term = c.node(l).term();
  ASSERT_EQ(c.node(l).transfer_leadership(target), ProposeResult::Ok);
  c.settle();
  EXPECT_EQ(c.leader(), target);
  EXPECT_EQ(c.node(target).term(), term + 1);
  EXPECT_EQ(c.node(l).leader(), target);
  EXPECT_EQ(c.node(l).transfer_leadership(l), ProposeResult::NotLeader);
}

TEST(RaftTransfer, TargetIsCaughtUpFirstAndProposalsWait) {
  Cluster c(ids(3), 19);
  const NodeId l = c.run_until_leader();
  const NodeId target = l == 1 ? 2 : 1;
  c.crash(target);
  for (int i = 0; i < 10; ++i) c.propose("w" + std::to_string(i));
  c.restart(target);
  ASSERT_EQ(c.node(l).transfer_leadership(target), ProposeResult::Ok);
  EXPECT_EQ(c.node(l).propose(bytes("during")), ProposeResult::Dropped);
  c.settle();
  c.run(2);
  ASSERT_EQ(c.leader(), target);
  EXPECT_EQ(c.app(target).data.size(), 10u);
}

TEST(RaftTransfer, TransferToAnUnreachableNodeTimesOut) {
  Cluster c(ids(3), 23);
  const NodeId l = c.run_until_leader();
  const NodeId target = l == 1 ? 2 : 1;
  c.crash(target);
  c.propose("x");
  ASSERT_EQ(c.node(l).transfer_leadership(target), ProposeResult::Ok);
  EXPECT_EQ(c.node(l).propose(bytes("y")), ProposeResult::Dropped);
  c.run(static_cast<int>(Cluster::small_config().election_min_ticks));
  EXPECT_EQ(c.leader(), l);
  EXPECT_EQ(c.node(l).propose(bytes("z")), ProposeResult::Ok);
}

// ---------------------------------------------------------------- membership

TEST(RaftMembership, AddThenRemoveVoters) {
  Cluster c(ids(3), 29);
  NodeId l = c.run_until_leader();
  c.propose("before");
  c.add(4);  // empty storage: knows nothing, not a voter, never campaigns
  c.run(30);
  EXPECT_EQ(c.node(4).term(), 0u);
  ASSERT_EQ(c.node(l).propose_conf_change({ConfChangeType::AddNode, 4}), ProposeResult::Ok);
  EXPECT_EQ(c.node(l).propose_conf_change({ConfChangeType::AddNode, 5}), ProposeResult::Dropped)
      << "one change at a time";
  c.run(5);
  const std::vector<NodeId> four{1, 2, 3, 4};
  for (NodeId id : four) EXPECT_EQ(c.node(id).conf().voters, four) << "node " << id;
  EXPECT_EQ(c.app(4).data, c.app(l).data) << "the new node caught up from index 1";
  EXPECT_EQ(c.node(l).propose_conf_change({ConfChangeType::AddNode, 4}), ProposeResult::Dropped) << "no-op change";

  // Remove a follower; the three remaining voters commit without it.
  const NodeId gone = l == 2 ? 3 : 2;
  ASSERT_EQ(c.node(l).propose_conf_change({ConfChangeType::RemoveNode, gone}), ProposeResult::Ok);
  c.run(3);
  c.crash(gone);
  EXPECT_EQ(c.node(l).conf().voters.size(), 3u);
  ASSERT_EQ(c.propose("three"), ProposeResult::Ok);
  c.run(2);
  EXPECT_EQ(c.app(4).data.back(), bytes("three"));

  // Remove the leader itself: it steps down once the change commits; the rest elect a new leader.
  ASSERT_EQ(c.node(l).propose_conf_change({ConfChangeType::RemoveNode, l}), ProposeResult::Ok);
  c.run(2);
  EXPECT_NE(c.node(l).role(), Role::Leader);
  c.crash(l);
  const NodeId next = c.run_until_leader();
  ASSERT_NE(next, kNoNode);
  ASSERT_NE(next, l);
  EXPECT_EQ(c.node(next).conf().voters.size(), 2u);
  ASSERT_EQ(c.propose("two"), ProposeResult::Ok);
  c.run(2);
  EXPECT_EQ(c.app(next).data.back(), bytes("two"));
  EXPECT_TRUE(c.violations().empty());
}

TEST(RaftMembership, TruncatedChangeIsUndone) {
  // A conf change takes effect when appended; if the entry is overwritten,
  // the node goes back to the previous voters.
  Config cfg = Cluster::small_config();
  cfg.id = 2;
  Node n(cfg, Storage::bootstrap({1, 2, 3}));
  Message a;
  a.type = MessageType::Append;
  a.from = 1;
  a.to = 2;
  a.term = 2;
  a.index = 3;
  a.log_term = 1;
  a.entries = {Entry{2, 4, EntryType::ConfChange, encode(ConfChange{ConfChangeType::AddNode, 9})}};
  n.step(a);
  EXPECT_EQ(n.conf().voters, (std::vector<NodeId>{1, 2, 3, 9}));
  a.term = 3;
  a.entries = {Entry{3, 4, EntryType::Normal, bytes("other")}};
  n.step(a);
  EXPECT_EQ(n.conf().voters, (std::vector<NodeId>{1, 2, 3}));
}

// ---------------------------------------------------------------- batching and flow control

TEST(RaftFlowControl, BatchesRespectMaxEntriesAndInflightCap) {
  Config cfg = Cluster::small_config();
  cfg.max_entries_per_msg = 4;
  cfg.max_inflight_msgs = 2;
  Cluster c(ids(3), 31, cfg);
  const NodeId l = c.run_until_leader();
  c.run(2);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(c.node(l).propose(bytes("b" + std::to_string(i))), ProposeResult::Ok);
  Ready rd = c.node(l).ready();
  std::map<NodeId, int> appends;
  for (const Message& m : rd.messages) {
    if (m.type != MessageType::Append) continue;
    EXPECT_LE(m.entries.size(), 4u);
    ++appends[m.to];
  }
  ASSERT_EQ(appends.size(), 2u);
  for (const auto& [to, n] : appends) EXPECT_EQ(n, 2) << "two Appends in flight, then wait";
  c.node(l).advance(rd);
  // Nothing more goes out until something is acknowledged.
  for (NodeId id : ids(3)) {
    if (id == l) continue;
    EXPECT_EQ(c.node(l).progress(id)->inflight.size(), 2u);
  }
  // Hand back the messages (they were taken out of the cluster loop) and settle.
  for (const Message& m : rd.messages) {
    c.node(m.to).step(m);
    c.process(m.to);
  }
  c.settle();
  c.run(2);
  EXPECT_EQ(c.app(l).data.size(), 20u);
  for (NodeId id : ids(3)) EXPECT_EQ(c.app(id).data.size(), 20u);
}

TEST(RaftFlowControl, ProposalsBetweenTwoReadiesShareOneAppend) {
  Cluster c(ids(3), 31);
  const NodeId l = c.run_until_leader();
  c.run(2);
  c.appends_with_entries = 0;
  for (int i = 0; i < 30; ++i) c.node(l).propose(bytes("q"));
  c.settle();
  EXPECT_EQ(c.appends_with_entries, 2u) << "one Append per follower for 30 proposals";
  for (NodeId id : ids(3)) EXPECT_EQ(c.app(id).data.size(), 30u);
}

// ---------------------------------------------------------------- validation

TEST(RaftConfig, ValidationNamesTheField) {
  auto make = [](auto set) {
    Config c;
    c.id = 1;
    set(c);
    return Node(c, Storage::bootstrap({1}));
  };
  expect_invalid([&] { make([](Config& c) { c.id = 0; }); }, "id");
  expect_invalid([&] { make([](Config& c) { c.heartbeat_ticks = 0; }); }, "heartbeat_ticks");
  expect_invalid([&] { make([](Config& c) { c.election_min_ticks = c.heartbeat_ticks; }); }, "election_min_ticks");
  expect_invalid([&] { make([](Config& c) { c.election_max_ticks = c.election_min_ticks; }); }, "election_max_ticks");
  expect_invalid([&] { make([](Config& c) { c.max_entries_per_msg = 0; }); }, "max_entries_per_msg");
  expect_invalid([&] { make([](Config& c) { c.max_inflight_msgs = 0; }); }, "max_inflight_msgs");
  EXPECT_NO_THROW(make([](Config&) {}));
}

TEST(RaftConfig, StorageIsChecked) {
  expect_invalid([] { Storage::bootstrap({}); }, "voters");
  expect_invalid([] { Storage::bootstrap({1, 1}); }, "voters");
  expect_invalid([] { Storage::bootstrap({0, 1}); }, "voters");
  Storage s = Storage::bootstrap({1, 2});
  s.set_hard_state({1, 0, 9});
  Config c;
  c.id = 1;
  expect_invalid([&] { Node(c, s); }, "storage");
  Storage gap;
  expect_invalid([&] { gap.append({Entry{1, 5, EntryType::Normal, {}}}); }, "entries");
  Node n(c, Storage::bootstrap({1}));
  expect_invalid([&] { n.propose_conf_change({ConfChangeType::AddNode, 0}); }, "node");
}

// ---------------------------------------------------------------- wire size

TEST(RaftMessage, BinarySizeCountsFieldsAndPayload) {
  Message hb;
  hb.type = MessageType::Heartbeat;
  hb.from = 1;
  hb.to = 2;
  hb.term = 3;
  // type + flags + 10 one-byte varints.
  EXPECT_EQ(message_bytes(hb), 12u);
  Message ap = hb;
  ap.type = MessageType::Append;
  ap.entries = {Entry{3, 1, EntryType::Normal, std::vector<std::uint8_t>(200, 7)}};
  // entry: term (1) + type (1) + length varint (2) + 200 bytes.
  EXPECT_EQ(message_bytes(ap), 12u + 204u);
  ap.term = 300;  // a two-byte varint
  EXPECT_EQ(message_bytes(ap), 12u + 205u);
  EXPECT_EQ(varint_bytes(0), 1u);
  EXPECT_EQ(varint_bytes(127), 1u);
  EXPECT_EQ(varint_bytes(128), 2u);
  EXPECT_EQ(varint_bytes(~0ULL), 10u);
  Message snap;
  snap.type = MessageType::Snapshot;
  snap.snapshot.conf.voters = {1, 2, 3};
  snap.snapshot.data.assign(10, 0);
  EXPECT_EQ(message_bytes(snap), 12u + 3u + 3u + 1u + 10u);
}
