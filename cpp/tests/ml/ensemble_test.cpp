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

TEST(Ensemble, ASpikeBeyondEveryPastScoreScoresOne) {
  Ensemble e;
  const auto x = ml_test::noise(2000, 1, 21);
  for (double v : x) e.update(&v);
  const double spike = 40.0;
  const auto s = e.update(&spike);
  EXPECT_DOUBLE_EQ(s.score, 1.0);
  EXPECT_GT(s.confidence, 0.9);
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
}
