#include "edgeswarm/ml/mahalanobis.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <vector>

#include "../expect_invalid.hpp"
#include "test_series.hpp"

using edgeswarm::ml::Mahalanobis;
using edgeswarm::ml::MahalanobisParams;

TEST(Mahalanobis, HandCheckedScoreOnAKnownCovariance) {
  // Four points (+-1, +-2) give mean 0 and the diagonal covariance (1, 4).
  MahalanobisParams p;
  p.dim = 2;
  p.alpha = 0.01;  // equal weights for these few samples
  p.ridge = 0.0;
  p.threshold = 1.0;
  Mahalanobis d(p);
  const double pts[4][2] = {{1, 2}, {-1, -2}, {1, -2}, {-1, 2}};
  for (const auto& r : pts) d.update(r);
  EXPECT_NEAR(d.mean()(0), 0.0, 1e-12);
  EXPECT_NEAR(d.covariance()(0, 0), 1.0, 1e-12);
  EXPECT_NEAR(d.covariance()(1, 1), 4.0, 1e-12);
  // x = (2, 0): d^2 = 4, D = d^2 / dim = 2, score 2 / 3.
  const double x[2] = {2.0, 0.0};
  EXPECT_NEAR(d.update(x).score, 2.0 / 3.0, 1e-9);
}

TEST(Mahalanobis, RankOneUpdatesTrackTheExactInverse) {
  MahalanobisParams p;
  p.dim = 4;
  p.alpha = 0.05;
  p.refresh = 1000000;  // never refresh after the equal-weight phase
  Mahalanobis d(p);
  const auto x = ml_test::noise(3000, 4, 12);
  for (std::size_t i = 0; i < 3000; ++i) d.update(&x[4 * i]);
  // Score a point with the tracked inverse and with an exact one.
  Eigen::MatrixXd c = d.covariance();
  c.diagonal().array() += p.ridge * c.trace() / 4 + 1e-12;
  const Eigen::Vector4d q(3.0, -1.0, 0.5, 2.0);
  const Eigen::VectorXd delta = q - d.mean();
  const double d2 = delta.dot(c.ldlt().solve(delta));
  const double expect = (d2 / 4) / (d2 / 4 + 9.0);
  // The ridge shrinks (1 - a) per step under rank-one updates, so allow a small gap.
  EXPECT_NEAR(d.update(q.data()).score, expect, 1e-3);
}

TEST(Mahalanobis, FindsACorrelationBreak) {
  // x1 = x0 + small noise; (1, -1) is near in each coordinate but far in Mahalanobis terms.
  MahalanobisParams p;
  p.dim = 2;
  Mahalanobis d(p);
  edgeswarm::core::Rng rng(1, 0);
  for (int i = 0; i < 2000; ++i) {
    const double a = rng.normal();
    const double r[2] = {a, a + 0.05 * rng.normal()};
    d.update(r);
  }
  const double brk[2] = {1.0, -1.0};
  const double ok[2] = {1.0, 1.0};
  EXPECT_GT(d.update(brk).score, 0.9);
  EXPECT_LT(d.update(ok).score, 0.5);
}

TEST(Mahalanobis, AnIsolatedSpikeIsLearnedOnTheClipRadiusAPersistingOneInFull) {
  MahalanobisParams p;
  p.dim = 2;
  Mahalanobis d(p);
  const auto x = ml_test::noise(1000, 2, 14);
  for (std::size_t i = 0; i < 1000; ++i) d.update(&x[2 * i]);
  const double spike[2] = {12.0, -3.0};
  // The first row beyond the radius: the mean moves by alpha * w * delta, w = sqrt(cap2 / d2),
  // with d2 read back from the score: D = d2 / dim = threshold^2 * s / (1 - s).
  Eigen::Vector2d before = d.mean();
  Eigen::Vector2d delta = Eigen::Vector2d(spike[0], spike[1]) - before;
  double s = d.update(spike).score;
  const double cap2 = p.clip * p.threshold * p.threshold * p.dim;
  const double d2 = p.dim * p.threshold * p.threshold * s / (1.0 - s);
  ASSERT_GT(d2, cap2);
  Eigen::Vector2d moved = d.mean() - before;
  EXPECT_NEAR((moved - p.alpha * std::sqrt(cap2 / d2) * delta).norm(), 0.0, 1e-12);
  // The next row is beyond the radius too: a lasting change, learned at full weight.
  before = d.mean();
  delta = Eigen::Vector2d(spike[0], spike[1]) - before;
  s = d.update(spike).score;
  EXPECT_GT(s, 0.5);
  moved = d.mean() - before;
  EXPECT_NEAR((moved - p.alpha * delta).norm(), 0.0, 1e-12);
}

TEST(Mahalanobis, InvalidRowsAreSkippedAndChunkedEqualsBatch) {
  auto x = ml_test::noise(600, 3, 13);
  x[30] = std::numeric_limits<double>::quiet_NaN();
  MahalanobisParams p;
  p.dim = 3;
  p.refresh = 64;
  ml_test::expect_chunked_equals_batch([&] { return Mahalanobis(p); }, x, 3);
  Mahalanobis d(p);
  std::vector<double> s(600), c(600);
  d.update_batch(x.data(), 200, s.data(), c.data());
  EXPECT_TRUE(std::isnan(s[10]));
  EXPECT_EQ(d.stats().invalid, 1u);
  EXPECT_EQ(d.stats().seen, 200u);
}

TEST(Mahalanobis, RejectsBadOptions) {
  MahalanobisParams p;
  p.dim = 0;
  expect_invalid([&] { Mahalanobis{p}; }, "dim");
  p = {};
  p.alpha = 2.0;
  expect_invalid([&] { Mahalanobis{p}; }, "alpha");
  p = {};
  p.ridge = -1.0;
  expect_invalid([&] { Mahalanobis{p}; }, "ridge");
  p = {};
  p.refresh = 0;
  expect_invalid([&] { Mahalanobis{p}; }, "refresh");
  p = {};
  p.clip = 0.0;
  expect_invalid([&] { Mahalanobis{p}; }, "clip");
  p.clip = std::numeric_limits<double>::quiet_NaN();
  expect_invalid([&] { Mahalanobis{p}; }, "clip");
}
