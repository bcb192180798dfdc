#include "edgeswarm/ml/rul_features.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "../expect_invalid.hpp"

using edgeswarm::ml::RowMatrix;

namespace {

/// One engine of `n` cycles: sensor 0 rises by 1 a cycle, sensor 1 is 3 + sin(cycle).
RowMatrix line_engine(int n) {
  RowMatrix x(n, 2);
  for (int i = 0; i < n; ++i) {
    x(i, 0) = 10.0 + i;
    x(i, 1) = 3.0 + std::sin(static_cast<double>(i));
  }
  return x;
}

}  // namespace

TEST(RulFeatures, MeanSlopeAndAgeOnALine) {
  const RowMatrix x = line_engine(40);
  const auto f = edgeswarm::ml::rul_window_features(x, {0, 40}, 10);
  ASSERT_EQ(f.values.rows(), 40);
  ASSERT_EQ(f.values.cols(), 7);
  EXPECT_EQ(f.skipped, 0u);
  EXPECT_EQ(f.values(0, 4), 0.0);  // one cycle: slope defined as 0
  for (int i = 1; i < 40; ++i) EXPECT_NEAR(f.values(i, 4), 1.0, 1e-12) << i;
  // The mean over the last 10 cycles of a line is its value 4.5 cycles back.
  EXPECT_NEAR(f.values(20, 2), x(20, 0) - 4.5, 1e-12);
  EXPECT_DOUBLE_EQ(f.values(39, 6), 40.0 / edgeswarm::ml::kRulAgeScale);
  EXPECT_EQ(f.remaining_cycles.front(), 39);
  EXPECT_EQ(f.remaining_cycles.back(), 0);
  EXPECT_EQ(f.last_row, std::vector<std::int64_t>{39});
}

TEST(RulFeatures, NeverLookAheadAndEnginesAreIndependent) {
  const RowMatrix x = line_engine(30);
  RowMatrix two(55, 2);
  two.topRows(30) = x;
  two.bottomRows(25) = x.topRows(25);
  const auto full = edgeswarm::ml::rul_window_features(x, {0, 30}, 8);
  const auto both = edgeswarm::ml::rul_window_features(two, {0, 30, 55}, 8);
  EXPECT_EQ(both.values.topRows(30), full.values);
  EXPECT_EQ(both.values.bottomRows(25), full.values.topRows(25));  // the cut engine sees only its past
  EXPECT_EQ(both.last_row, (std::vector<std::int64_t>{29, 54}));
}

TEST(RulFeatures, NonFiniteCyclesAreCountedAndSkippedNotAveraged) {
  RowMatrix x = line_engine(12);
  x(5, 1) = std::numeric_limits<double>::quiet_NaN();
  x(6, 0) = std::numeric_limits<double>::infinity();
  const auto f = edgeswarm::ml::rul_window_features(x, {0, 12}, 4);
  EXPECT_EQ(f.skipped, 2u);
  ASSERT_EQ(f.values.rows(), 10);
  EXPECT_TRUE(f.values.allFinite());
  // Cycle 7's window is cycles 4..7; 5 and 6 are skipped, so its mean is over cycles 4 and 7.
  EXPECT_EQ(f.source_row[5], 7);
  EXPECT_DOUBLE_EQ(f.values(5, 2), (x(4, 0) + x(7, 0)) / 2.0);
  EXPECT_NEAR(f.values(5, 4), 1.0, 1e-12);        // the line's slope survives the gap
  EXPECT_DOUBLE_EQ(f.values(5, 6), 8.0 / 100.0);  // age keeps counting skipped cycles
  EXPECT_EQ(f.remaining_cycles[5], 4);

  RowMatrix dead(3, 2);
  dead.setConstant(std::numeric_limits<double>::quiet_NaN());
  const auto g = edgeswarm::ml::rul_window_features(dead, {0, 3}, 4);
  EXPECT_EQ(g.skipped, 3u);
  EXPECT_EQ(g.last_row, std::vector<std::int64_t>{-1});
}

TEST(RulFeatures, BadArgumentsNameTheParameter) {
  const RowMatrix x = line_engine(10);
  expect_invalid([&] { edgeswarm::ml::rul_window_features(x, {0, 10}, 1); }, "window");
  expect_invalid([&] { edgeswarm::ml::rul_window_features(x, {0, 9}, 3); }, "starts");
  expect_invalid([&] { edgeswarm::ml::rul_window_features(x, {1, 10}, 3); }, "starts");
  expect_invalid([&] { edgeswarm::ml::rul_window_features(x, {0, 4, 4, 10}, 3); }, "starts");
  expect_invalid([&] { edgeswarm::ml::rul_window_features(x, {0}, 3); }, "starts");
}
