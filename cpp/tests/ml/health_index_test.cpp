#include "edgeswarm/ml/health_index.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "../expect_invalid.hpp"

TEST(HealthIndex, ClipsRulOverTheCap) {
  Eigen::VectorXd r(4);
  r << 0.0, 62.5, 125.0, 500.0;
  const Eigen::VectorXd h = edgeswarm::ml::health_index(r, 125);
  EXPECT_EQ(h, Eigen::Vector4d(0.0, 0.5, 1.0, 1.0));
  expect_invalid([&] { edgeswarm::ml::health_index(r, 0); }, "cap");
  r(1) = std::numeric_limits<double>::quiet_NaN();
  expect_invalid([&] { edgeswarm::ml::health_index(r, 125); }, "rul");
}
