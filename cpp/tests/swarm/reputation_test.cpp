#include "edgeswarm/swarm/reputation.hpp"

#include <gtest/gtest.h>

#include <vector>

using edgeswarm::swarm::ReputationLedger;
using edgeswarm::swarm::ReputationParams;

TEST(Reputation, OutliersArePenalisedAndBannedInliersRewarded) {
  ReputationLedger ledger(10, ReputationParams{});
  // Nine nodes at distance 100 raw units, one at 100000 (far beyond 4x the median).
  std::vector<std::uint64_t> sq(10, 100 * 100);
  sq[9] = 100000ULL * 100000ULL;
  std::vector<std::uint8_t> reported(10, 1);
  int epochs_to_ban = 0;
  while (!ledger.banned(9) && epochs_to_ban < 10) {
    ledger.update(sq.data(), reported.data());
    ++epochs_to_ban;
  }
  EXPECT_EQ(epochs_to_ban, 3);  // 0.5 -> 0.35 -> 0.2 -> 0.05 < 0.2
  EXPECT_EQ(ledger.banned_count(), 1u);
  for (int i = 0; i < 9; ++i) {
    EXPECT_FALSE(ledger.banned(i));
    EXPECT_NEAR(ledger.reputation(i), 0.65, 1e-4);
  }
}

TEST(Reputation, ReputationIsCappedAtOneAndBannedNodesFrozen) {
  ReputationLedger ledger(3, ReputationParams{});
  std::vector<std::uint64_t> sq{1, 1, 1};
  std::vector<std::uint8_t> reported{1, 1, 0};
  for (int e = 0; e < 40; ++e) ledger.update(sq.data(), reported.data());
  EXPECT_DOUBLE_EQ(ledger.reputation(0), 1.0);
  EXPECT_DOUBLE_EQ(ledger.reputation(2), 0.5);  // never reported, never judged
}

TEST(Reputation, MinimumDistanceProtectsACalmSwarm) {
  ReputationLedger ledger(4, ReputationParams{});
  // All distances 0 except one node one raw unit off: below the 1e-3 floor.
  std::vector<std::uint64_t> sq{0, 0, 0, 1};
  std::vector<std::uint8_t> reported(4, 1);
  for (int e = 0; e < 20; ++e) ledger.update(sq.data(), reported.data());
  EXPECT_FALSE(ledger.banned(3));
}

TEST(Reputation, BadParametersNameTheField) {
  ReputationParams p;
  p.ban_threshold = 1.5;
  try {
    ReputationLedger ledger(3, p);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("ban_threshold", 0), 0u) << e.what();
  }
  p = ReputationParams{};
  p.tolerance = 0.0;
  EXPECT_THROW(ReputationLedger(3, p), std::invalid_argument);
}
