#include "edgeswarm/ml/half_space_trees.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "../expect_invalid.hpp"
#include "test_series.hpp"

using edgeswarm::ml::HalfSpaceTrees;
using edgeswarm::ml::HalfSpaceTreesParams;

namespace {

HalfSpaceTreesParams small(int dim) {
  HalfSpaceTreesParams p;
  p.dim = dim;
  p.n_trees = 10;
  p.depth = 6;
  p.window = 50;
  return p;
}

}  // namespace

TEST(HalfSpaceTrees, FirstWindowScoresZeroThenBuilds) {
  HalfSpaceTrees d(small(1));
  const auto x = ml_test::noise(60, 1, 1);
  for (int i = 0; i < 50; ++i) {
    const auto s = d.update(&x[i]);
    EXPECT_EQ(s.score, 0.0);
    EXPECT_EQ(s.confidence, 0.0);
  }
  EXPECT_TRUE(d.built());
  const auto s = d.update(&x[50]);
  EXPECT_GT(s.score, 0.0);
}

TEST(HalfSpaceTrees, EmptyRegionScoresOneAndCrowdedRegionLow) {
  // Size limit 0: every descent reaches a leaf. A far point lands in an
  // empty leaf of every tree: q = 0, score 2^0 = 1.
  auto p = small(2);
  p.size_limit = 0.0;
  HalfSpaceTrees d(p);
  const auto x = ml_test::noise(400, 2, 2);
  for (std::size_t i = 0; i < 400; ++i) d.update(&x[2 * i]);
  const double far[2] = {1e6, -1e6};
  EXPECT_DOUBLE_EQ(d.update(far).score, 1.0);
  const double centre[2] = {0.0, 0.0};
  EXPECT_LT(d.update(centre).score, 0.5);
}

TEST(HalfSpaceTrees, ScoresBeforeCounting) {
  // Scores read only the previous window's masses, so the same point scored
  // twice in a row within a window gets the same score.
  HalfSpaceTrees d(small(1));
  const auto x = ml_test::noise(120, 1, 3);
  for (std::size_t i = 0; i < 120; ++i) d.update(&x[i]);  // window index 2 starts at 100
  const double v = 0.3;
  const double first = d.update(&v).score;
  EXPECT_EQ(d.update(&v).score, first);
}

TEST(HalfSpaceTrees, SameSeedSameScoresOtherSeedOtherScores) {
  const auto x = ml_test::noise(300, 3, 4);
  auto run = [&](std::uint64_t seed) {
    auto p = small(3);
    p.seed = seed;
    HalfSpaceTrees d(p);
    std::vector<double> s(300), c(300);
    d.update_batch(x.data(), 300, s.data(), c.data());
    return s;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST(HalfSpaceTrees, ResetRedrawsTheSameTrees) {
  const auto x = ml_test::noise(200, 2, 8);
  HalfSpaceTrees d(small(2));
  std::vector<double> s1(200), s2(200), c(200);
  d.update_batch(x.data(), 200, s1.data(), c.data());
  d.reset();
  d.update_batch(x.data(), 200, s2.data(), c.data());
  EXPECT_EQ(s1, s2);
}

TEST(HalfSpaceTrees, InvalidRowsAreSkipped) {
  auto x = ml_test::noise(300, 2, 6);
  auto clean = x;
  x.insert(x.begin() + 20, {std::numeric_limits<double>::quiet_NaN(), 1.0});
  HalfSpaceTrees a(small(2)), b(small(2));
  std::vector<double> sa(301), ca(301), sb(300), cb(300);
  a.update_batch(x.data(), 301, sa.data(), ca.data());
  b.update_batch(clean.data(), 300, sb.data(), cb.data());
  EXPECT_TRUE(std::isnan(sa[10]));
  EXPECT_EQ(a.stats().invalid, 1u);
  EXPECT_EQ(sa[300], sb[299]);
}

TEST(HalfSpaceTrees, ChunkedEqualsBatch) {
  auto x = ml_test::noise(500, 2, 7);
  x[101] = std::numeric_limits<double>::infinity();
  ml_test::expect_chunked_equals_batch([] { return HalfSpaceTrees(small(2)); }, x, 2);
}

TEST(HalfSpaceTrees, RejectsBadOptions) {
  auto p = small(1);
  p.dim = 0;
  expect_invalid([&] { HalfSpaceTrees{p}; }, "dim");
  p = small(1);
  p.n_trees = 0;
  expect_invalid([&] { HalfSpaceTrees{p}; }, "n_trees");
  p = small(1);
  p.depth = 21;
  expect_invalid([&] { HalfSpaceTrees{p}; }, "depth");
  p = small(1);
  p.window = 1;
  expect_invalid([&] { HalfSpaceTrees{p}; }, "window");
  p = small(1);
  p.size_limit = 1.5;
  expect_invalid([&] { HalfSpaceTrees{p}; }, "size_limit");
}
