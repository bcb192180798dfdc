#include "edgeswarm/ml/neighbour_rarity.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "../expect_invalid.hpp"
#include "test_series.hpp"

using edgeswarm::ml::NeighbourRarity;
using edgeswarm::ml::NeighbourRarityParams;

TEST(NeighbourRarity, HandCheckedScores) {
  NeighbourRarityParams p;
  p.window = 4;
  p.radius = 0.25;
  p.rare_fraction = 0.5;
  NeighbourRarity d(p);
  // First sample: nothing learned, score 0 with confidence 0.
  const auto first = d.update(0.0);
  EXPECT_EQ(first.score, 0.0);
  EXPECT_EQ(first.confidence, 0.0);
  // Learned {0}: the range is 0, so only an equal value is a neighbour.
  EXPECT_EQ(d.update(4.0).score, 1.0);  // no neighbour: 2^0
  // Learned {0, 4}: range 4, radius 1; x = 0.5 has one neighbour of two: q = 0.5 -> 2^-1.
  EXPECT_DOUBLE_EQ(d.update(0.5).score, 0.5);
  // Learned {0, 4, 0.5}: x = 0.25 has neighbours 0 and 0.5 (both within 1): q = 2/3.
  EXPECT_DOUBLE_EQ(d.update(0.25).score, std::exp2(-(2.0 / 3.0) / 0.5));
  // Window full {0, 4, 0.5, 0.25}; the next update pushes 0 out.
  EXPECT_EQ(d.neighbours(0.0), 3u);
  d.update(8.0);  // window {4, 0.5, 0.25, 8}, range now 8, radius 2
  EXPECT_EQ(d.neighbours(0.0), 2u);
  EXPECT_EQ(d.neighbours(6.0), 2u);
}

TEST(NeighbourRarity, CountsMatchABruteForceWindow) {
  NeighbourRarityParams p;
  p.window = 50;
  p.radius = 0.1;
  p.rare_fraction = 0.05;
  NeighbourRarity d(p);
  const auto x = ml_test::noise(400, 1, 21);
  double lo = 0.0, hi = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (i > 0) {
      const std::size_t from = i >= 50 ? i - 50 : 0;
      const double h = 0.1 * (hi - lo);
      std::size_t count = 0;
      for (std::size_t j = from; j < i; ++j) count += (x[j] >= x[i] - h && x[j] <= x[i] + h);
      ASSERT_EQ(d.neighbours(x[i]), count) << i;
      const double q = static_cast<double>(count) / static_cast<double>(i - from);
      EXPECT_DOUBLE_EQ(d.update(x[i]).score, std::exp2(-q / 0.05)) << i;
    } else {
      d.update(x[i]);
    }
    lo = i == 0 ? x[i] : std::min(lo, x[i]);
    hi = i == 0 ? x[i] : std::max(hi, x[i]);
  }
}

TEST(NeighbourRarity, ANewValueScoresHigherThanACommonOne) {
  NeighbourRarity d;
  for (double v : ml_test::noise(2000, 1, 4)) d.update(v);
  NeighbourRarity copy = d;
  EXPECT_LT(d.update(0.0).score, 0.01);
  EXPECT_GT(copy.update(3.9).score, 0.5);
}

TEST(NeighbourRarity, NaNAndInfinityAreCountedAndSkipped) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  NeighbourRarity a, b;
  const std::vector<double> with{1.0, nan, 2.0, std::numeric_limits<double>::infinity(), 3.0, 1.5};
  std::vector<double> s(6), c(6);
  a.update_batch(with.data(), with.size(), s.data(), c.data());
  EXPECT_TRUE(std::isnan(s[1]) && std::isnan(s[3]));
  EXPECT_EQ(c[1], 0.0);
  for (double v : {1.0, 2.0, 3.0}) b.update(v);
  EXPECT_EQ(b.update(1.5).score, s[5]);
  EXPECT_EQ(a.stats().invalid, 2u);
  EXPECT_EQ(a.stats().learned(), 4u);
}

TEST(NeighbourRarity, ChunkedEqualsBatch) {
  auto x = ml_test::noise(1500, 1, 7);
  x[300] = std::numeric_limits<double>::quiet_NaN();
  NeighbourRarityParams p;
  p.window = 200;
  ml_test::expect_chunked_equals_batch([p] { return NeighbourRarity(p); }, x, 1);
}

TEST(NeighbourRarity, ScoresAndConfidencesStayInRange) {
  auto x = ml_test::noise(3000, 1, 11);
  x[1000] = 1e300;
  x[2000] = -1e300;
  NeighbourRarity d;
  for (double v : x) {
    const auto s = d.update(v);
    EXPECT_TRUE(s.score >= 0.0 && s.score <= 1.0);
    EXPECT_TRUE(s.confidence >= 0.0 && s.confidence <= 1.0);
  }
}

TEST(NeighbourRarity, ResetStartsOver) {
  const auto x = ml_test::noise(300, 1, 5);
  NeighbourRarity d;
  std::vector<double> s1(300), s2(300), c(300);
  d.update_batch(x.data(), 300, s1.data(), c.data());
  d.reset();
  d.update_batch(x.data(), 300, s2.data(), c.data());
  EXPECT_EQ(s1, s2);
}

TEST(NeighbourRarity, RejectsBadOptions) {
  NeighbourRarityParams p;
  p.window = 0;
  expect_invalid([&] { NeighbourRarity{p}; }, "window");
  p = {};
  p.radius = 0.0;
  expect_invalid([&] { NeighbourRarity{p}; }, "radius");
  p = {};
  p.rare_fraction = -1.0;
  expect_invalid([&] { NeighbourRarity{p}; }, "rare_fraction");
  p = {};
  p.warmup = std::numeric_limits<double>::infinity();
  expect_invalid([&] { NeighbourRarity{p}; }, "warmup");
}
