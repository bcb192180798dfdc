#include "edgeswarm/ml/likelihood_alarm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "../expect_invalid.hpp"
#include "test_series.hpp"

using edgeswarm::ml::AlarmBase;
using edgeswarm::ml::LikelihoodAlarm;
using edgeswarm::ml::LikelihoodAlarmParams;

namespace {

// A bounded periodic signal with small noise: its range is learned within one period.
std::vector<double> periodic(std::size_t n, std::uint64_t seed) {
  auto x = ml_test::noise(n, 1, seed);
  for (std::size_t i = 0; i < n; ++i) x[i] = std::sin(static_cast<double>(i) * 0.1) + 0.01 * x[i];
  return x;
}

}  // namespace

TEST(LikelihoodAlarm, ARangeBreakScoresOneThenHoldsOff) {
  LikelihoodAlarmParams p;
  p.holdoff = 5;
  LikelihoodAlarm d(p);
  const auto x = periodic(1500, 2);
  for (double v : x) d.update(v);
  EXPECT_EQ(d.quiet(), 0);
  // 1.2 lies beyond max ~1 by more than 5 % of the range ~2.
  EXPECT_EQ(d.update(1.2).score, 1.0);
  EXPECT_EQ(d.quiet(), 5);
  // The hold-off silences the next 5 valid samples, even a bigger break; NaN does not count.
  EXPECT_TRUE(std::isnan(d.update(std::numeric_limits<double>::quiet_NaN()).score));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(d.update(5.0 + i).score, 0.0) << i;
  EXPECT_EQ(d.quiet(), 0);
  // The range now reaches 9: 9.5 is within 5 % of it and no break.
  EXPECT_LT(d.update(9.5).score, 1.0);
}

TEST(LikelihoodAlarm, WithoutRangeBreakAValueJustBeyondTheRangeIsNotAnAlarmByItself) {
  LikelihoodAlarmParams p;
  p.range_break = false;
  LikelihoodAlarm with_break, without(p);
  const auto x = periodic(1500, 3);
  for (double v : x) {
    with_break.update(v);
    without.update(v);
  }
  EXPECT_EQ(with_break.update(1.2).score, 1.0);
  EXPECT_LT(without.update(1.2).score, 1.0);
}

TEST(LikelihoodAlarm, RarityFindsAValueInAGapOfTheRange) {
  // A noisy square wave between 0 and 1, then values at 0.5, where it never was: rare, but in range.
  LikelihoodAlarmParams p;
  p.range_break = false;
  LikelihoodAlarm d(p);
  const auto e = ml_test::noise(3100, 1, 4);
  for (std::size_t i = 0; i < 3000; ++i) {
    EXPECT_LT(d.update(((i / 25) % 2 ? 1.0 : 0.0) + 0.02 * e[i]).score, 0.5) << i;
  }
  double best = 0.0;
  for (std::size_t i = 3000; i < 3020; ++i) best = std::max(best, d.update(0.5 + 0.02 * e[i]).score);
  EXPECT_GE(best, 0.5);
}

TEST(LikelihoodAlarm, EwmaBaseFindsALevelShiftInsideTheRange) {
  LikelihoodAlarmParams p;
  p.base = AlarmBase::ewma;
  p.range_break = false;
  LikelihoodAlarm d(p);
  const auto x = ml_test::noise(3100, 1, 8);
  for (std::size_t i = 0; i < 3000; ++i) EXPECT_LT(d.update(x[i]).score, 0.5) << i;
  double best = 0.0;
  for (std::size_t i = 3000; i < 3020; ++i) best = std::max(best, d.update(x[i] + 2.5).score);
  EXPECT_GE(best, 0.5);
}

TEST(LikelihoodAlarm, ChunkedEqualsBatch) {
  auto x = periodic(3000, 5);
  x[1200] = std::numeric_limits<double>::quiet_NaN();
  x[2000] += 3.0;
  for (AlarmBase base : {AlarmBase::rarity, AlarmBase::ewma}) {
    LikelihoodAlarmParams p;
    p.base = base;
    ml_test::expect_chunked_equals_batch([p] { return LikelihoodAlarm(p); }, x, 1);
  }
}

TEST(LikelihoodAlarm, ScoresAndConfidencesStayInRange) {
  auto x = ml_test::noise(3000, 1, 13);
  x[1000] = 1e300;
  x[2000] = -1e300;
  LikelihoodAlarm d;
  for (double v : x) {
    const auto s = d.update(v);
    EXPECT_TRUE(s.score >= 0.0 && s.score <= 1.0);
    EXPECT_TRUE(s.confidence >= 0.0 && s.confidence <= 1.0);
  }
}

TEST(LikelihoodAlarm, ResetStartsOver) {
  auto x = periodic(800, 6);
  x[600] = 4.0;
  LikelihoodAlarm d;
  std::vector<double> s1(800), s2(800), c(800);
  d.update_batch(x.data(), 800, s1.data(), c.data());
  d.reset();
  d.update_batch(x.data(), 800, s2.data(), c.data());
  EXPECT_EQ(s1, s2);
  EXPECT_EQ(d.stats().seen, 800u);
}

TEST(LikelihoodAlarm, RejectsBadOptions) {
  LikelihoodAlarmParams p;
  p.range_tolerance = -0.1;
  expect_invalid([&] { LikelihoodAlarm{p}; }, "range_tolerance");
  p = {};
  p.holdoff = -1;
  expect_invalid([&] { LikelihoodAlarm{p}; }, "holdoff");
  p = {};
  p.rarity.window = 0;
  expect_invalid([&] { LikelihoodAlarm{p}; }, "window");
  p = {};
  p.likelihood.average = 0;
  expect_invalid([&] { LikelihoodAlarm{p}; }, "average");
}
