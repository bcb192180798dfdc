// The invariant checker, fed fabricated states: each kind of violation is
// caught, recorded with its node, term and index, and legal histories
// (including a term bump lost in a crash) produce none.

#include "edgeswarm/raft/invariants.hpp"

#include <gtest/gtest.h>

#include <initializer_list>

using namespace edgeswarm::raft;

namespace {

/// A log holding one entry per term in `terms` at indexes 1, 2, ...; data = {index, salt}.
Log make_log(std::initializer_list<std::uint64_t> terms, std::uint8_t salt = 0) {
  Log log;
  std::uint64_t i = 0;
  for (std::uint64_t t : terms) {
    ++i;
    log.push(Entry{t, i, EntryType::Normal, {static_cast<std::uint8_t>(i), salt}});
  }
  return log;
}

Entry entry(std::uint64_t term, std::uint64_t index, std::uint8_t salt = 0) {
  return Entry{term, index, EntryType::Normal, {static_cast<std::uint8_t>(index), salt}};
}

/// The only violation recorded, which must be of `kind`.
const Violation& only(const InvariantChecker& c, ViolationKind kind) {
  EXPECT_EQ(c.violations().size(), 1u);
  EXPECT_EQ(c.violation_count(), c.violations().size());
  static const Violation none{};
  if (c.violations().empty()) return none;
  EXPECT_EQ(c.violations()[0].kind, kind) << to_string(c.violations()[0].kind) << ": " << c.violations()[0].detail;
  return c.violations()[0];
}

}  // namespace

TEST(Invariants, LegalHistoryHasNoViolation) {
  InvariantChecker c;
  const Log a = make_log({1, 1, 2});
  c.on_entries(10, 0, a, 1, 3);
  c.on_entries(10, 1, a, 1, 3);
  c.observe(10, 0, Role::Leader, 2, 2, a);
  c.on_persisted(10, 0, HardState{2, 1, 2});
  c.observe(11, 1, Role::Follower, 2, 3, a);
  c.observe(12, 0, Role::Leader, 2, 3, make_log({1, 1, 2, 2}));
  for (std::uint64_t i = 1; i <= 3; ++i) c.on_apply(13, 1, a.at(i));
  // A term bump that never reached the disk is lost in a crash: not a violation.
  c.observe(14, 1, Role::Candidate, 7, 3, a);
  c.on_restart(1);
  c.observe(15, 1, Role::Follower, 2, 2, a);
  c.on_restore(1, 0);
  c.on_apply(15, 1, a.at(1));
  // A later leader holds everything committed before its term.
  c.observe(20, 1, Role::Leader, 3, 3, a);
  EXPECT_TRUE(c.violations().empty()) << c.violations()[0].detail;
  EXPECT_GT(c.checks(), 5u);
}

TEST(Invariants, TwoLeadersInOneTerm) {
  InvariantChecker c;
  c.observe(5, 0, Role::Leader, 3, 0, Log());
  c.observe(6, 1, Role::Leader, 4, 0, Log());
  c.observe(7, 2, Role::Leader, 3, 0, Log());
  const Violation& v = only(c, ViolationKind::ElectionSafety);
  EXPECT_EQ(v.node, 2u);
  EXPECT_EQ(v.term, 3u);
  EXPECT_EQ(v.time, 7);
}

TEST(Invariants, SameIndexAndTermWithDifferentData) {
  InvariantChecker c;
  c.on_entries(1, 0, make_log({1, 2}), 1, 2);
  c.on_entries(2, 1, make_log({1, 2}, /*salt=*/9), 2, 2);
  const Violation& v = only(c, ViolationKind::LogMatching);
  EXPECT_EQ(v.index, 2u);
  EXPECT_EQ(v.node, 1u);
}

TEST(Invariants, SameEntryAfterDifferentPrefixes) {
  InvariantChecker c;
  c.on_entries(1, 0, make_log({1, 3}), 1, 2);
  c.on_entries(2, 1, make_log({2, 3}), 1, 2);  // index 2, term 3 follows term 2 here but term 1 there
  EXPECT_EQ(only(c, ViolationKind::LogMatching).index, 2u);
}

TEST(Invariants, LeaderMissingACommittedEntry) {
  InvariantChecker c;
  c.observe(1, 0, Role::Follower, 1, 3, make_log({1, 1, 1}));  // entries 1..3 committed in term 1
  c.observe(2, 1, Role::Leader, 2, 0, make_log({1, 1}));       // new leader lacks entry 3
  const Violation& v = only(c, ViolationKind::LeaderCompleteness);
  EXPECT_EQ(v.index, 3u);
  EXPECT_EQ(v.term, 2u);
}

TEST(Invariants, LeaderWithAnotherEntryWhereOneWasCommitted) {
  InvariantChecker c;
  c.observe(1, 0, Role::Follower, 2, 2, make_log({1, 2}));
  c.observe(2, 1, Role::Leader, 3, 0, make_log({1, 1, 3}));
  EXPECT_EQ(only(c, ViolationKind::LeaderCompleteness).index, 2u);
}

TEST(Invariants, StaleLeaderMayLackEntriesCommittedLater) {
  InvariantChecker c;
  c.observe(1, 0, Role::Leader, 2, 0, make_log({1}));
  c.observe(2, 1, Role::Leader, 3, 2, make_log({1, 3}));  // committed in term 3
  c.observe(3, 0, Role::Leader, 2, 0, make_log({1, 2}));  // term-2 leader need not have it
  EXPECT_TRUE(c.violations().empty());
}

TEST(Invariants, TwoNodesApplyDifferentEntriesAtAnIndex) {
  InvariantChecker c;
  c.on_apply(1, 0, entry(1, 1));
  c.on_apply(2, 1, entry(1, 1, /*salt=*/5));
  const Violation& v = only(c, ViolationKind::StateMachineSafety);
  EXPECT_EQ(v.index, 1u);
  EXPECT_EQ(v.node, 1u);
}

TEST(Invariants, CommittedEntryChanges) {
  InvariantChecker c;
  c.observe(1, 0, Role::Follower, 1, 2, make_log({1, 1}));
  c.observe(2, 1, Role::Follower, 2, 2, make_log({1, 2}));
  EXPECT_EQ(only(c, ViolationKind::StateMachineSafety).index, 2u);
}

TEST(Invariants, ApplyOutOfOrder) {
  InvariantChecker c;
  c.on_restore(0, 0);
  c.on_apply(1, 0, entry(1, 1));
  c.on_apply(2, 0, entry(1, 3));
  EXPECT_EQ(only(c, ViolationKind::StateMachineSafety).index, 3u);
}

TEST(Invariants, LeaderTruncatesItsLog) {
  InvariantChecker c;
  c.observe(1, 0, Role::Leader, 2, 0, make_log({1, 2, 2}));
  c.observe(2, 0, Role::Leader, 2, 0, make_log({1, 2}));
  EXPECT_EQ(only(c, ViolationKind::LeaderAppendOnly).index, 3u);
}

TEST(Invariants, LeaderOverwritesItsLastEntry) {
  InvariantChecker c;
  c.observe(1, 0, Role::Leader, 3, 0, make_log({1, 2}));
  c.observe(2, 0, Role::Leader, 3, 0, make_log({1, 3, 3}));
  EXPECT_EQ(only(c, ViolationKind::LeaderAppendOnly).index, 2u);
}

TEST(Invariants, TermGoesBack) {
  InvariantChecker c;
  c.observe(1, 0, Role::Follower, 5, 0, Log());
  c.observe(2, 0, Role::Follower, 4, 0, Log());
  EXPECT_EQ(only(c, ViolationKind::TermDecreased).term, 4u);
}

TEST(Invariants, PersistedTermGoesBackAcrossARestart) {
  InvariantChecker c;
  c.on_persisted(1, 0, HardState{5, 0, 0});
  c.on_restart(0);
  c.observe(2, 0, Role::Follower, 4, 0, Log());  // restarted from an older term than it had persisted
  EXPECT_EQ(only(c, ViolationKind::TermDecreased).term, 4u);
  InvariantChecker d;
  d.on_persisted(1, 0, HardState{5, 0, 0});
  d.on_persisted(2, 0, HardState{4, 0, 0});
  only(d, ViolationKind::TermDecreased);
}

TEST(Invariants, TwoVotesInOneTermAcrossARestart) {
  InvariantChecker c;
  c.on_persisted(1, 0, HardState{2, 1, 0});
  c.on_restart(0);
  c.on_persisted(2, 0, HardState{2, 0, 0});  // a record without the vote does not erase it
  c.on_persisted(3, 0, HardState{2, 3, 0});
  const Violation& v = only(c, ViolationKind::DoubleVote);
  EXPECT_EQ(v.term, 2u);
  EXPECT_EQ(v.time, 3);
}

TEST(Invariants, CommitGoesBack) {
  InvariantChecker c;
  const Log log = make_log({1, 1, 1});
  c.observe(1, 0, Role::Follower, 1, 3, log);
  c.observe(2, 0, Role::Follower, 1, 2, log);
  EXPECT_EQ(only(c, ViolationKind::CommitDecreased).index, 2u);
  InvariantChecker d;
  d.on_persisted(1, 0, HardState{1, 0, 3});
  d.on_restart(0);
  d.observe(2, 0, Role::Follower, 1, 1, log);  // restarted below its persisted commit
  only(d, ViolationKind::CommitDecreased);
}

TEST(Invariants, RecordsAreCappedButCounted) {
  InvariantChecker c(2);
  for (std::uint64_t t = 1; t <= 5; ++t) {
    c.observe(1, 0, Role::Leader, t, 0, Log());
    c.observe(1, 1, Role::Leader, t, 0, Log());
  }
  EXPECT_EQ(c.violations().size(), 2u);
  EXPECT_EQ(c.violation_count(), 5u);
}
