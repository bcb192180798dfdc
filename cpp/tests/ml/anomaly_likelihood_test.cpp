#include "edgeswarm/ml/anomaly_likelihood.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "../expect_invalid.hpp"
#include "test_series.hpp"

using edgeswarm::ml::AnomalyLikelihood;
using edgeswarm::ml::AnomalyLikelihoodParams;
using edgeswarm::ml::log_tail_score;
using edgeswarm::ml::normal_tail;

namespace {

AnomalyLikelihoodParams small() {
  AnomalyLikelihoodParams p;
  p.average = 4;
  p.learning = 10;
  p.estimate_every = 20;
  p.history = 50;
  return p;
}

// Calm raw scores: a repeating pattern in [0.1, 0.3].
double calm(std::size_t i) { return 0.1 + 0.05 * static_cast<double>(i % 5); }

}  // namespace

TEST(AnomalyLikelihood, TailAndLogScale) {
  EXPECT_DOUBLE_EQ(normal_tail(0.0), 0.5);
  EXPECT_DOUBLE_EQ(normal_tail(-1.5), normal_tail(1.5));
  EXPECT_NEAR(normal_tail(1.959963984540054), 0.025, 1e-12);
  EXPECT_NEAR(log_tail_score(1e-5), 0.5, 1e-5);
  EXPECT_EQ(log_tail_score(0.0), 1.0);
  EXPECT_GE(log_tail_score(1.0), 0.0);
  EXPECT_LT(log_tail_score(1.0), 1e-9);
}

TEST(AnomalyLikelihood, FitsTheShortMeansAfterLearning) {
  AnomalyLikelihood d(small());
  std::vector<double> raw, means;
  for (std::size_t i = 0; i < 29; ++i) {
    raw.push_back(calm(i));
    const auto s = d.update(raw.back());
    // Unfitted: p = 0.5 for every sample.
    EXPECT_DOUBLE_EQ(s.score, log_tail_score(0.5)) << i;
  }
  EXPECT_FALSE(d.fitted());
  raw.push_back(calm(29));
  d.update(raw.back());  // the 20th mean after 10 learning samples: the first fit
  ASSERT_TRUE(d.fitted());
  for (std::size_t i = 10; i < raw.size(); ++i) {
    const std::size_t from = i >= 3 ? i - 3 : 0;
    double s = 0.0;
    for (std::size_t j = from; j <= i; ++j) s += raw[j];
    means.push_back(s / static_cast<double>(i - from + 1));
  }
  double mean = 0.0, var = 0.0;
  for (double m : means) mean += m;
  mean /= static_cast<double>(means.size());
  for (double m : means) var += (m - mean) * (m - mean);
  var /= static_cast<double>(means.size());
  EXPECT_NEAR(d.fitted_mean(), mean, 1e-15);
  EXPECT_NEAR(d.fitted_std(), std::sqrt(std::max(var, 3e-4)), 1e-15);
}

TEST(AnomalyLikelihood, ALastingJumpRingsOnceThenTurnsYellow) {
  AnomalyLikelihood d(small());
  for (std::size_t i = 0; i < 300; ++i) EXPECT_LT(d.update(calm(i)).score, 0.5) << i;
  // Raw scores jump to 1: the short mean leaves the fitted distribution.
  std::vector<double> s;
  for (int i = 0; i < 6; ++i) s.push_back(d.update(1.0).score);
  std::size_t first = 0;
  while (first < s.size() && s[first] < 0.5) ++first;
  ASSERT_LT(first, s.size() - 1);
  EXPECT_GT(s[first], 0.5);
  // The red samples after the first are shown as p = 1e-3.
  EXPECT_DOUBLE_EQ(s[first + 1], log_tail_score(1e-3));
}

TEST(AnomalyLikelihood, NaNAndInfinityAreCountedAndSkipped) {
  AnomalyLikelihood a(small()), b(small());
  std::vector<double> with, without;
  for (std::size_t i = 0; i < 200; ++i) {
    with.push_back(calm(i));
    without.push_back(calm(i));
    if (i % 37 == 0) with.push_back(std::numeric_limits<double>::quiet_NaN());
  }
  with.push_back(std::numeric_limits<double>::infinity());
  std::vector<double> sa(with.size()), ca(with.size()), sb(without.size()), cb(without.size());
  a.update_batch(with.data(), with.size(), sa.data(), ca.data());
  b.update_batch(without.data(), without.size(), sb.data(), cb.data());
  std::vector<double> kept;
  for (std::size_t i = 0; i < with.size(); ++i) {
    if (std::isfinite(with[i])) {
      kept.push_back(sa[i]);
    } else {
      EXPECT_TRUE(std::isnan(sa[i]));
      EXPECT_EQ(ca[i], 0.0);
    }
  }
  EXPECT_EQ(kept, sb);
  EXPECT_EQ(a.stats().invalid, with.size() - without.size());
}

TEST(AnomalyLikelihood, ChunkedEqualsBatch) {
  auto x = ml_test::noise(2000, 1, 3);
  for (auto& v : x) v = v * v / (v * v + 9.0);  // raw scores shaped like a z-score detector's
  x[700] = std::numeric_limits<double>::quiet_NaN();
  ml_test::expect_chunked_equals_batch([] { return AnomalyLikelihood(small()); }, x, 1);
}

TEST(AnomalyLikelihood, ScoresAndConfidencesStayInRange) {
  auto x = ml_test::noise(3000, 1, 9);
  x[2500] = 1e300;
  AnomalyLikelihood d(small());
  for (double v : x) {
    const auto s = d.update(v);
    EXPECT_TRUE(s.score >= 0.0 && s.score <= 1.0);
    EXPECT_TRUE(s.confidence >= 0.0 && s.confidence <= 1.0);
  }
}

TEST(AnomalyLikelihood, RejectsBadOptions) {
  AnomalyLikelihoodParams p;
  p.average = 0;
  expect_invalid([&] { AnomalyLikelihood{p}; }, "average");
  p = {};
  p.learning = -1;
  expect_invalid([&] { AnomalyLikelihood{p}; }, "learning");
  p = {};
  p.estimate_every = 0;
  expect_invalid([&] { AnomalyLikelihood{p}; }, "estimate_every");
  p = {};
  p.history = 1;
  expect_invalid([&] { AnomalyLikelihood{p}; }, "history");
  p = {};
  p.mean_floor = -0.1;
  expect_invalid([&] { AnomalyLikelihood{p}; }, "mean_floor");
  p = {};
  p.variance_floor = 0.0;
  expect_invalid([&] { AnomalyLikelihood{p}; }, "variance_floor");
}
