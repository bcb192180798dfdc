#include "edgeswarm/ml/ensemble.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "../expect_invalid.hpp"
#include "test_series.hpp"

using edgeswarm::ml::EmpiricalCdf;
using edgeswarm::ml::Ensemble;
using edgeswarm::ml::EnsembleParams;

TEST(EmpiricalCdf, MidRanks) {
  EmpiricalCdf f(16);
  EXPECT_EQ(f.cdf(0.3), 0.5);
  for (double s : {0.1, 0.2, 0.2, 0.9}) f.add(s);
  // 0.2's bin holds two of four, one below: (1 + 1) / 4.
  EXPECT_DOUBLE_EQ(f.cdf(0.2), 0.5);
  EXPECT_DOUBLE_EQ(f.cdf(0.91), (3 + 0.5) / 4);  // 0.9's bin, [14/16, 15/16)
  EXPECT_DOUBLE_EQ(f.cdf(0.5), 3.0 / 4);
  EXPECT_DOUBLE_EQ(f.cdf(1.0), 1.0);  // the last bin is empty
  EXPECT_DOUBLE_EQ(f.cdf(0.0), 0.0);
}

TEST(EmpiricalCdf, QuantilesInterpolateWithinBins) {
  EmpiricalCdf f(16);
  EXPECT_EQ(f.quantile(0.5), 0.0);
  for (double s : {0.1, 0.2, 0.2, 0.9}) f.add(s);
  // Bin [1/16, 2/16) holds one of four, bin [3/16, 4/16) two, bin [14/16, 15/16) one.
  EXPECT_DOUBLE_EQ(f.quantile(0.125), 1.5 / 16);  // halfway through the first score's bin
  EXPECT_DOUBLE_EQ(f.quantile(0.5), 3.5 / 16);    // one of the two in 0.2's bin
  EXPECT_DOUBLE_EQ(f.quantile(1.0), 15.0 / 16);
}

TEST(EmpiricalCdf, FittedTailFollowsTheTwoQuantiles) {
  EmpiricalCdf f(1024);
  for (int i = 0; i < 1000; ++i) f.add((i + 0.5) / 1000.0);  // about uniform on (0, 1)
  const double fit = 0.1;
  // Below the 0.9 quantile, or with fit 0: the empirical tail.
  EXPECT_DOUBLE_EQ(f.tail(0.5, fit), 1.0 - f.cdf(0.5));
  EXPECT_DOUBLE_EQ(f.tail(0.97, 0.0), 1.0 - f.cdf(0.97));
  // Above it: fit * 2^(-(v(s) - v(q1)) / (v(q2) - v(q1))), v the log-odds.
  const auto v = [](double s) { return std::log(s / (1.0 - s)); };
  const double q1 = f.quantile(0.9), q2 = f.quantile(0.95);
  EXPECT_NEAR(q1, 0.9, 2e-3);
  EXPECT_NEAR(f.tail(0.97, fit), fit * std::exp2(-(v(0.97) - v(q1)) / (v(q2) - v(q1))), 1e-15);
  EXPECT_DOUBLE_EQ(f.tail(q2, fit), fit / 2);
  // It keeps falling beyond the largest score seen, down to 0 at a score of 1.
  EXPECT_LT(f.tail(0.9999, fit), f.tail(0.999, fit));
  EXPECT_GT(f.tail(0.9999, fit), 0.0);
  EXPECT_EQ(f.tail(1.0, fit), 0.0);
}

TEST(Ensemble, ASpikeBeyondEveryPastScoreScoresNearOne) {
  Ensemble e;
  const auto x = ml_test::noise(2000, 1, 21);
  for (double v : x) e.update(&v);
  const double spike = 40.0;
  const auto s = e.update(&spike);
  EXPECT_GT(s.score, 1.0 - 1e-6);
  EXPECT_GT(s.confidence, 0.9);
}

TEST(Ensemble, RecurringSpikesKeepScoringHigh) {
  // One spike in 100 (1 %): more than the 1 - 0.99 a rank alone can express.
  auto x = ml_test::noise(5000, 1, 24);
  for (std::size_t i = 300; i < x.size(); i += 100) x[i] += 10.0;
  EnsembleParams p;
  Ensemble fitted(p);
  p.tail_fit = 0.0;
  Ensemble ranks(p);
  int found_fitted = 0, found_ranks = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double a = fitted.update(&x[i]).score, b = ranks.update(&x[i]).score;
    if (i >= 2000 && i % 100 == 0) {
      found_fitted += a > 0.99;
      found_ranks += b > 0.99;
    }
  }
  EXPECT_EQ(found_fitted, 30);
  EXPECT_LT(found_ranks, 27);
}

TEST(Ensemble, ScoresOfUsualSamplesAreSpreadLikeOneMinusPValues) {
  // Under no anomalies, score > 0.9 should be rare (Bonferroni: at most ~10%).
  Ensemble e;
  const auto x = ml_test::noise(5000, 1, 22);
  int high = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto s = e.update(&x[i]);
    if (i >= 500 && s.score > 0.9) ++high;
  }
  EXPECT_LT(high, 450);
  EXPECT_GT(high, 0);
}

TEST(Ensemble, MultivariateChunkedEqualsBatchAndSkipsNaN) {
  auto x = ml_test::noise(800, 3, 23);
  x[300] = std::numeric_limits<double>::quiet_NaN();
  EnsembleParams p;
  p.dim = 3;
  p.hst.window = 100;
  ml_test::expect_chunked_equals_batch([&] { return Ensemble(p); }, x, 3);
  Ensemble e(p);
  std::vector<double> s(800), c(800);
  e.update_batch(x.data(), 800, s.data(), c.data());
  EXPECT_TRUE(std::isnan(s[100]));
  EXPECT_EQ(e.stats().invalid, 1u);
  EXPECT_EQ(e.members(), 2);
}

TEST(Ensemble, RejectsBadOptionsIncludingMembers) {
  EnsembleParams p;
  p.bins = 4;
  expect_invalid([&] { Ensemble{p}; }, "bins");
  p = {};
  p.dim = 0;
  expect_invalid([&] { Ensemble{p}; }, "dim");
  p = {};
  p.ewma.alpha = 0.0;
  expect_invalid([&] { Ensemble{p}; }, "alpha");
  p = {};
  p.hst.n_trees = 0;
  expect_invalid([&] { Ensemble{p}; }, "n_trees");
  p = {};
  p.tail_fit = 0.6;
  expect_invalid([&] { Ensemble{p}; }, "tail_fit");
  p = {};
  p.mahalanobis.clip = -1.0;
  p.dim = 2;
  expect_invalid([&] { Ensemble{p}; }, "clip");
}
