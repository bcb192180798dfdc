#include "edgeswarm/ml/robust_mad.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "../expect_invalid.hpp"
#include "test_series.hpp"

using edgeswarm::ml::RobustMad;
using edgeswarm::ml::RobustMadParams;

namespace {

// Reference median and MAD by sorting copies.
double ref_median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto k = v.size();
  return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}
double ref_mad(const std::vector<double>& v) {
  const double m = ref_median(v);
  std::vector<double> dev;
  for (double x : v) dev.push_back(std::fabs(x - m));
  return ref_median(dev);
}

}  // namespace

TEST(RobustMad, HandCheckedScore) {
  RobustMadParams p;
  p.window = 5;
  p.threshold = 1.0;
  RobustMad d(p);
  for (double v : {1.0, 2.0, 3.0, 4.0, 100.0}) d.update(v);
  // Window {1,2,3,4,100}: median 3, deviations {2,1,0,1,97} -> MAD 1.
  EXPECT_DOUBLE_EQ(d.median(), 3.0);
  EXPECT_DOUBLE_EQ(d.mad(), 1.0);
  // x = 3 + 1.4826: robust z = 1 = threshold -> 0.5.
  EXPECT_NEAR(d.update(3.0 + 1.4826).score, 0.5, 1e-12);
  // The oldest value (1) left the window: {2,3,4,100,4.4826}.
  EXPECT_DOUBLE_EQ(d.median(), 4.0);
}

TEST(RobustMad, MedianAndMadMatchSortingOverTheWindow) {
  RobustMadParams p;
  p.window = 8;
  RobustMad d(p);
  const auto x = ml_test::noise(100, 1, 5);
  for (std::size_t i = 0; i < x.size(); ++i) {
    d.update(x[i]);
    const std::size_t from = i + 1 >= 8 ? i + 1 - 8 : 0;
    const std::vector<double> window(x.begin() + from, x.begin() + i + 1);
    EXPECT_DOUBLE_EQ(d.median(), ref_median(window)) << i;
    EXPECT_DOUBLE_EQ(d.mad(), ref_mad(window)) << i;
  }
}

TEST(RobustMad, ScoresBeforeLearning) {
  RobustMadParams p;
  p.window = 5;
  p.threshold = 1.0;
  RobustMad d(p);
  for (double v : {0.0, 1.0, -1.0}) d.update(v);
  // Window {-1,0,1}: median 0, MAD 1. Scored before being pushed in:
  // z = 10 / 1.4826.
  const double z = 10.0 / 1.4826;
  EXPECT_DOUBLE_EQ(d.update(10.0).score, z * z / (z * z + 1.0));
}

TEST(RobustMad, RangeFloorBreaksTiesOnAFlatWindow) {
  RobustMadParams p;
  p.window = 5;
  RobustMad d(p);
  // The window ends as five 5s (MAD 0); the learned range is [0, 10].
  for (double v : {0.0, 10.0, 5.0, 5.0, 5.0, 5.0, 5.0}) d.update(v);
  EXPECT_DOUBLE_EQ(d.mad(), 0.0);
  EXPECT_DOUBLE_EQ(d.scale(), 0.1);  // range_floor 0.01 x range 10
  // 5.3 is 3 floors away: exactly the threshold, score 0.5; 5.6 is 6 away: 36 / 45.
  EXPECT_NEAR(d.update(5.3).score, 0.5, 1e-12);
  RobustMad e(p);
  for (double v : {0.0, 10.0, 5.0, 5.0, 5.0, 5.0, 5.0}) e.update(v);
  EXPECT_NEAR(e.update(5.6).score, 36.0 / 45.0, 1e-12);
  // Without the floor both are min_scale-many MADs away and tie at 1 (to rounding).
  p.range_floor = 0.0;
  RobustMad f(p);
  for (double v : {0.0, 10.0, 5.0, 5.0, 5.0, 5.0, 5.0}) f.update(v);
  EXPECT_GT(f.update(5.3).score, 1.0 - 1e-12);
}

TEST(RobustMad, NaNIsCountedAndSkipped) {
  RobustMad d;
  std::vector<double> x{1.0, std::numeric_limits<double>::quiet_NaN(), 2.0};
  std::vector<double> s(3), c(3);
  d.update_batch(x.data(), 3, s.data(), c.data());
  EXPECT_TRUE(std::isnan(s[1]));
  EXPECT_EQ(d.stats().invalid, 1u);
  EXPECT_DOUBLE_EQ(d.median(), 1.5);
}

TEST(RobustMad, ChunkedEqualsBatch) {
  auto x = ml_test::noise(700, 1, 9);
  x[10] = std::numeric_limits<double>::infinity();
  ml_test::expect_chunked_equals_batch([] { return RobustMad(); }, x, 1);
}

TEST(RobustMad, RejectsBadOptions) {
  RobustMadParams p;
  p.window = 2;
  expect_invalid([&] { RobustMad{p}; }, "window");
  p = {};
  p.threshold = 0.0;
  expect_invalid([&] { RobustMad{p}; }, "threshold");
  p = {};
  p.min_scale = -1.0;
  expect_invalid([&] { RobustMad{p}; }, "min_scale");
  p = {};
  p.range_floor = 1.5;
  expect_invalid([&] { RobustMad{p}; }, "range_floor");
}
