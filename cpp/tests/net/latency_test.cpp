#include "edgeswarm/net/latency.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../expect_invalid.hpp"

using edgeswarm::core::Rng;
using edgeswarm::net::kMaxDelayUs;
using edgeswarm::net::LatencyModel;
using edgeswarm::net::SimTime;

namespace {

std::vector<SimTime> draws(const LatencyModel& m, int n, std::uint64_t seed = 3) {
  Rng rng(seed);
  std::vector<SimTime> out(n);
  for (auto& x : out) x = m.sample(rng);
  std::sort(out.begin(), out.end());
  return out;
}

double mean(const std::vector<SimTime>& v) {
  double s = 0;
  for (auto x : v) s += static_cast<double>(x);
  return s / static_cast<double>(v.size());
}

double sd(const std::vector<SimTime>& v) {
  const double m = mean(v);
  double s = 0;
  for (auto x : v) s += (static_cast<double>(x) - m) * (static_cast<double>(x) - m);
  return std::sqrt(s / static_cast<double>(v.size()));
}

double quantile(const std::vector<SimTime>& sorted, double p) {
  return static_cast<double>(sorted[static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1))]);
}

}  // namespace

TEST(Latency, FixedIsExact) {
  const auto v = draws(LatencyModel::fixed(1234), 100);
  EXPECT_EQ(v.front(), 1234);
  EXPECT_EQ(v.back(), 1234);
  EXPECT_EQ(draws(LatencyModel(), 10).back(), 0);
}

TEST(Latency, UniformCoversBothEndsEvenly) {
  const auto v = draws(LatencyModel::uniform(100, 109), 100000);
  EXPECT_EQ(v.front(), 100);
  EXPECT_EQ(v.back(), 109);
  for (SimTime k = 100; k <= 109; ++k) {
    const auto c = std::count(v.begin(), v.end(), k);
    EXPECT_NEAR(static_cast<double>(c), 10000.0, 450.0) << k;
  }
  const auto w = draws(LatencyModel::uniform(1000, 5000), 100000);
  EXPECT_NEAR(mean(w), 3000.0, 15.0);
  EXPECT_NEAR(quantile(w, 0.9), 4600.0, 30.0);
}

TEST(Latency, NormalHasItsMeanAndSd) {
  const auto v = draws(LatencyModel::normal(5000, 500), 100000);
  EXPECT_NEAR(mean(v), 5000.0, 8.0);
  EXPECT_NEAR(sd(v), 500.0, 8.0);
  EXPECT_NEAR(quantile(v, 0.5), 5000.0, 10.0);
  EXPECT_NEAR(quantile(v, 0.975), 5000.0 + 1.96 * 500.0, 20.0);
}

TEST(Latency, NormalIsTruncatedAtZeroByRedrawing) {
  // Half-normal: mean sd * sqrt(2 / pi); a clamp would instead put half the mass at 0.
  const auto v = draws(LatencyModel::normal(0, 1000), 100000);
  EXPECT_GE(v.front(), 0);
  EXPECT_NEAR(mean(v), 1000.0 * std::sqrt(2.0 / M_PI), 10.0);
  EXPECT_LT(std::count(v.begin(), v.end(), SimTime{0}), 200);
}

TEST(Latency, ParetoFollowsItsQuantilesAndCap) {
  // Q(p) = scale / (1 - p)^(1 / shape)
  const double scale = 1000, shape = 1.5;
  const auto v = draws(LatencyModel::pareto(1000, shape, 10'000'000), 200000);
  EXPECT_GE(v.front(), 1000);
  for (double p : {0.5, 0.9, 0.99}) {
    const double expected = scale / std::pow(1.0 - p, 1.0 / shape);
    EXPECT_NEAR(quantile(v, p) / expected, 1.0, 0.03) << p;
  }
  const auto capped = draws(LatencyModel::pareto(1000, 0.5, 5000), 10000);
  EXPECT_EQ(capped.back(), 5000);  // P(X > 5000) = sqrt(0.2): many draws clamp
  EXPECT_GT(std::count(capped.begin(), capped.end(), SimTime{5000}), 4000);
}

TEST(Latency, SameSeedSameDraws) {
  const auto m = LatencyModel::normal(300, 100);
  EXPECT_EQ(draws(m, 1000, 9), draws(m, 1000, 9));
  EXPECT_NE(draws(m, 1000, 9), draws(m, 1000, 10));
}

TEST(Latency, BadParametersNameTheParameter) {
  expect_invalid([] { LatencyModel::fixed(-1); }, "delay_us");
  expect_invalid([] { LatencyModel::fixed(kMaxDelayUs + 1); }, "delay_us");
  expect_invalid([] { LatencyModel::uniform(-5, 10); }, "min_us");
  expect_invalid([] { LatencyModel::uniform(5, -10); }, "max_us");
  expect_invalid([] { LatencyModel::uniform(10, 5); }, "max_us");
  expect_invalid([] { LatencyModel::normal(-1, 10); }, "mean_us");
  expect_invalid([] { LatencyModel::normal(std::nan(""), 10); }, "mean_us");
  expect_invalid([] { LatencyModel::normal(10, -1); }, "sd_us");
  expect_invalid([] { LatencyModel::normal(10, INFINITY); }, "sd_us");
  expect_invalid([] { LatencyModel::pareto(0, 1.0, 10); }, "scale_us");
  expect_invalid([] { LatencyModel::pareto(10, 0.0, 100); }, "shape");
  expect_invalid([] { LatencyModel::pareto(10, 1.0, 5); }, "cap_us");
}
