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

TEST(HalfSpaceTrees, FarRegionScoresHighCrowdedRegionLow) {
  HalfSpaceTrees d(small(2));
  const auto x = ml_test::noise(400, 2, 2);
  for (std::size_t i = 0; i < 400; ++i) d.update(&x[2 * i]);
  const double far[2] = {1e6, -1e6};
  EXPECT_GT(d.update(far).score, 0.9);
  const double centre[2] = {0.0, 0.0};
  EXPECT_LT(d.update(centre).score, 0.1);
}

TEST(HalfSpaceTrees, ScoreIsSparsityAgainstTheTypicalReferenceSample) {
  // Window of 20: three 0s then seventeen 1s. Every tree splits its workspace
  // at a centre in (0, 1), so the 0s fill node 1 and the 1s node 2; node 2's
  // split lies above 1, so the 1s all reach leaf 5. With size limit 4 a path
  // stops at node 1 (mass 3), and the 1s' paths run to the leaf.
  HalfSpaceTreesParams p;
  p.n_trees = 3;
  p.depth = 2;
  p.window = 20;
  p.size_limit = 0.2;
  p.threshold = 10.0;
  HalfSpaceTrees d(p);
  for (int i = 0; i < 20; ++i) {
    const double v = i < 3 ? 0.0 : 1.0;
    d.update(&v);
  }
  const double lw = std::log2(20.0);
  // Each reference sample against the others (leave-one-out): the 0s see mass
  // 2 at depth 1, the 1s mass 16 at depth 2; log2(mass + 1) + depth - log2(20).
  const double typical = (3 * (std::log2(3.0) + 1) + 17 * (std::log2(17.0) + 2)) / 20.0 - lw;
  auto expected = [&](double log_density) {
    const double sparser = typical - log_density;
    return 1.0 / (1.0 + std::pow(10.0 / std::exp2(sparser), 2));
  };
  const double zero = 0.0, one = 1.0;
  EXPECT_NEAR(d.update(&zero).score, expected(std::log2(4.0) + 1 - lw), 1e-12);
  EXPECT_NEAR(d.update(&one).score, expected(std::log2(18.0) + 2 - lw), 1e-12);
}

TEST(HalfSpaceTrees, ANewRegionBecomesTypicalAfterOneWindow) {
  HalfSpaceTrees d(small(1));
  auto x = ml_test::noise(400, 1, 9);
  for (std::size_t i = 0; i < 400; ++i) d.update(&x[i]);  // 8 windows of 50 end here
  std::vector<double> shifted(50);
  for (std::size_t i = 0; i < 50; ++i) shifted[i] = x[i] + 8.0;
  const double first = d.update(&shifted[0]).score;
  for (std::size_t i = 1; i < 50; ++i) d.update(&shifted[i]);  // this window ends with the shifted samples
  const double after = d.update(&shifted[0]).score;
  EXPECT_GT(first, 0.5);
  EXPECT_LT(after, 0.5);
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
  p = small(1);
  p.threshold = 1.0;
  expect_invalid([&] { HalfSpaceTrees{p}; }, "threshold");
}
