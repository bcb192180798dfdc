#include "edgeswarm/core/fixed_point.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace fx = edgeswarm::fixed;

TEST(FixedPoint, ConversionRoundsToNearestTiesAwayFromZero) {
  EXPECT_EQ(fx::from_double(1.0), 65536);
  EXPECT_EQ(fx::from_double(0.5 / 65536.0), 1);    // tie -> away from zero
  EXPECT_EQ(fx::from_double(-0.5 / 65536.0), -1);  // tie -> away from zero
  EXPECT_EQ(fx::from_double(0.49 / 65536.0), 0);
  EXPECT_EQ(fx::from_double(-1.25), -81920);
  EXPECT_DOUBLE_EQ(fx::to_double(fx::from_double(0.5)), 0.5);
}

TEST(FixedPoint, ConversionSaturatesAndRejectsNaN) {
  EXPECT_EQ(fx::from_double(1e12), fx::kMax);
  EXPECT_EQ(fx::from_double(-1e12), fx::kMin);
  EXPECT_EQ(fx::from_double(std::numeric_limits<double>::infinity()), fx::kMax);
  EXPECT_EQ(fx::from_double(-std::numeric_limits<double>::infinity()), fx::kMin);
  EXPECT_THROW(fx::from_double(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
}

TEST(FixedPoint, ArithmeticSaturates) {
  EXPECT_EQ(fx::add(fx::kMax, 1), fx::kMax);
  EXPECT_EQ(fx::sub(fx::kMin, 1), fx::kMin);
  EXPECT_EQ(fx::mul(fx::from_double(30000.0), fx::from_double(3.0)), fx::kMax);
  EXPECT_EQ(fx::mul(fx::from_double(-30000.0), fx::from_double(3.0)), fx::kMin);
  EXPECT_EQ(fx::div(fx::kOne, 0), fx::kMax);
  EXPECT_EQ(fx::div(-fx::kOne, 0), fx::kMin);
  EXPECT_EQ(fx::div(0, 0), 0);
  EXPECT_EQ(fx::div(fx::from_double(1000.0), fx::from_double(0.001)), fx::kMax);
}

TEST(FixedPoint, MulAndDivRoundByTheRule) {
  EXPECT_EQ(fx::mul(fx::from_double(1.5), fx::from_double(2.0)), fx::from_double(3.0));
  EXPECT_EQ(fx::mul(1, 32768), 1);    // 0.5 ulp -> away from zero
  EXPECT_EQ(fx::mul(-1, 32768), -1);  // -0.5 ulp -> away from zero
  EXPECT_EQ(fx::mul(1, 32767), 0);
  EXPECT_EQ(fx::div(fx::kOne, fx::from_double(3.0)), 21845);      // 21845.33 -> 21845
  EXPECT_EQ(fx::div(2 * fx::kOne, fx::from_double(3.0)), 43691);  // 43690.67 -> 43691
  EXPECT_EQ(fx::div(fx::kOne, -fx::from_double(3.0)), -21845);
  EXPECT_EQ(fx::div_round<long long>(5, 2), 3);
  EXPECT_EQ(fx::div_round<long long>(-5, 2), -3);
  EXPECT_EQ(fx::div_round<long long>(7, 3), 2);
}

TEST(FixedPoint, ValueTypeOperators) {
  const auto a = fx::Q16::from(0.75);
  const auto b = fx::Q16::from(0.25);
  EXPECT_EQ((a + b).raw, fx::kOne);
  EXPECT_EQ((a - b).raw, fx::kOne / 2);
  EXPECT_DOUBLE_EQ((a * b).to_double(), 0.1875);
  EXPECT_DOUBLE_EQ((a / b).to_double(), 3.0);
  EXPECT_TRUE(b < a);
}
