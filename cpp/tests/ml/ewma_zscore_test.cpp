#include "edgeswarm/ml/ewma_zscore.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "../expect_invalid.hpp"
#include "test_series.hpp"

using edgeswarm::ml::EwmaZScore;
using edgeswarm::ml::EwmaZScoreParams;

TEST(EwmaZScore, HandCheckedScores) {
  EwmaZScoreParams p;
  p.alpha = 0.5;
  p.threshold = 1.0;
  p.warmup = 1.0;
  EwmaZScore d(p);
  // First sample: nothing learned, score 0 with confidence 0.
  auto s = d.update(0.0);
  EXPECT_EQ(s.score, 0.0);
  EXPECT_EQ(s.confidence, 0.0);
  // Learned {0}: mean 0, var 0 (floored) -> any deviation scores ~1.
  s = d.update(2.0);
  EXPECT_NEAR(s.score, 1.0, 1e-12);
  // Equal weights a = 1/2: mean 1, population variance 1.
  EXPECT_DOUBLE_EQ(d.mean(), 1.0);
  EXPECT_DOUBLE_EQ(d.variance(), 1.0);
  // x = 2: z = 1 = threshold -> score 0.5, confidence maturity(2) * 0 = 0.
  s = d.update(2.0);
  EXPECT_DOUBLE_EQ(s.score, 0.5);
  EXPECT_DOUBLE_EQ(s.confidence, 0.0);
  // a = max(0.5, 1/3) = 0.5: mean 1.5, var 0.5 * (1 + 0.5) = 0.75.
  EXPECT_DOUBLE_EQ(d.mean(), 1.5);
  EXPECT_DOUBLE_EQ(d.variance(), 0.75);
  // x = 3: z^2 = 2.25 / 0.75 = 3 -> 3/4; confidence 3/4 * |1.5 - 1| = 0.375.
  s = d.update(3.0);
  EXPECT_DOUBLE_EQ(s.score, 0.75);
  EXPECT_DOUBLE_EQ(s.confidence, 0.375);
}

TEST(EwmaZScore, ScoresBeforeLearning) {
  // A spike's score must be the same as scoring it against the past alone:
  // compare against a fresh copy fed only the prefix.
  const auto x = ml_test::noise(200, 1, 3);
  EwmaZScore d;
  for (double v : x) d.update(v);
  EwmaZScore copy = d;
  const auto s = d.update(50.0);
  EXPECT_GT(s.score, 0.99);
  // The copy learned nothing of 50: its z for 50 is the one the detector used.
  const double z2 = (50.0 - copy.mean()) * (50.0 - copy.mean()) / copy.variance();
  EXPECT_DOUBLE_EQ(s.score, z2 / (z2 + 9.0));
}

TEST(EwmaZScore, NaNAndInfinityAreCountedAndSkipped) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EwmaZScore a, b;
  const std::vector<double> with{1.0, nan, 2.0, inf, -inf, 3.0};
  const std::vector<double> without{1.0, 2.0, 3.0};
  std::vector<double> s(6), c(6);
  a.update_batch(with.data(), with.size(), s.data(), c.data());
  EXPECT_TRUE(std::isnan(s[1]) && std::isnan(s[3]) && std::isnan(s[4]));
  EXPECT_EQ(c[1], 0.0);
  for (double v : without) b.update(v);
  EXPECT_EQ(a.mean(), b.mean());
  EXPECT_EQ(a.variance(), b.variance());
  EXPECT_EQ(a.stats().seen, 6u);
  EXPECT_EQ(a.stats().invalid, 3u);
  EXPECT_EQ(a.stats().learned(), 3u);
}

TEST(EwmaZScore, ChunkedEqualsBatch) {
  auto x = ml_test::noise(1000, 1, 7);
  x[500] = std::numeric_limits<double>::quiet_NaN();
  ml_test::expect_chunked_equals_batch([] { return EwmaZScore(); }, x, 1);
}

TEST(EwmaZScore, ScoresAndConfidencesStayInRange) {
  auto x = ml_test::noise(2000, 1, 11);
  x[1000] = 1e300;
  EwmaZScore d;
  for (double v : x) {
    const auto s = d.update(v);
    EXPECT_TRUE(s.score >= 0.0 && s.score <= 1.0);
    EXPECT_TRUE(s.confidence >= 0.0 && s.confidence <= 1.0);
  }
}

TEST(EwmaZScore, RejectsBadOptions) {
  EwmaZScoreParams p;
  p.alpha = 0.0;
  expect_invalid([&] { EwmaZScore{p}; }, "alpha");
  p = {};
  p.alpha = 1.5;
  expect_invalid([&] { EwmaZScore{p}; }, "alpha");
  p = {};
  p.threshold = -1.0;
  expect_invalid([&] { EwmaZScore{p}; }, "threshold");
  p = {};
  p.warmup = std::numeric_limits<double>::quiet_NaN();
  expect_invalid([&] { EwmaZScore{p}; }, "warmup");
  p = {};
  p.min_std = 0.0;
  expect_invalid([&] { EwmaZScore{p}; }, "min_std");
}

TEST(EwmaZScore, BatchIsBitIdenticalToUpdate) {
  // update_batch has its own loop (state in locals, the settled division skipped): it must
  // reproduce update() exactly, across the switch from equal weights to alpha and over NaN.
  auto x = ml_test::noise(3000, 1, 17);
  x[10] = std::numeric_limits<double>::quiet_NaN();
  x[49] = std::numeric_limits<double>::infinity();
  x[2000] = 1e300;
  EwmaZScore a, b;
  std::vector<double> s(x.size()), c(x.size());
  b.update_batch(x.data(), x.size(), s.data(), c.data());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto r = a.update(x[i]);
    if (std::isnan(r.score)) {
      EXPECT_TRUE(std::isnan(s[i])) << i;
    } else {
      EXPECT_EQ(r.score, s[i]) << i;
    }
    EXPECT_EQ(r.confidence, c[i]) << i;
  }
  EXPECT_EQ(a.mean(), b.mean());
  EXPECT_EQ(a.variance(), b.variance());
  EXPECT_EQ(a.stats().invalid, b.stats().invalid);
}
