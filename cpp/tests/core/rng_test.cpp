#include "edgeswarm/core/rng.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using edgeswarm::core::Purpose;
using edgeswarm::core::Rng;

TEST(Rng, SameSeedAndStreamGiveTheSameSequence) {
  Rng a(42, 7), b(42, 7);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next_u64(), b.next_u64());
}

TEST(Rng, KnownFirstOutputsArePinned) {
  // Pinned so that a change to the generator (and so to every seeded result)
  // cannot go unnoticed.
  Rng r(1, 0);
  const std::uint64_t first = r.next_u64();
  EXPECT_EQ(first, 8147724763715497111ULL);
  EXPECT_NE(first, Rng(1, 1).next_u64());
  EXPECT_NE(first, Rng(2, 0).next_u64());
}

TEST(Rng, StreamsDifferPerNodeEpochAndPurpose) {
  auto a = Rng::for_node(5, 1, 0, Purpose::Sense).next_u64();
  EXPECT_NE(a, Rng::for_node(5, 2, 0, Purpose::Sense).next_u64());
  EXPECT_NE(a, Rng::for_node(5, 1, 1, Purpose::Sense).next_u64());
  EXPECT_NE(a, Rng::for_node(5, 1, 0, Purpose::Attack).next_u64());
}

TEST(Rng, UniformMomentsAndRange) {
  Rng r(3);
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sq += u * u;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  EXPECT_NEAR(sq / n - (sum / n) * (sum / n), 1.0 / 12.0, 0.002);
}

TEST(Rng, NormalMomentsAndTails) {
  Rng r(11);
  const int n = 200000;
  double sum = 0, sq = 0;
  int beyond2 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = r.normal();
    sum += z;
    sq += z * z;
    beyond2 += std::fabs(z) > 2.0;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sq / n, 1.0, 0.015);
  EXPECT_NEAR(static_cast<double>(beyond2) / n, 0.0455, 0.003);
}

TEST(Rng, BelowIsUnbiasedAndInRange) {
  Rng r(9);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    const auto k = r.below(7);
    ASSERT_LT(k, 7u);
    ++counts[k];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
}
