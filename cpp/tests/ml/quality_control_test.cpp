#include "edgeswarm/ml/quality_control.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "../expect_invalid.hpp"
#include "edgeswarm/core/rng.hpp"
#include "test_series.hpp"

using namespace edgeswarm::ml;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

ControlChartParams only(int signals) {
  ControlChartParams p;
  p.signals = signals;
  return p;
}

/// Signal bits of each sample of `z` (mean 0, sigma 1) on a fresh chart.
std::vector<int> signals_of(const std::vector<double>& z, int enabled = kWesternElectricRules) {
  ControlChart chart(only(enabled));
  std::vector<int> out;
  for (double v : z) out.push_back(chart.update(v).signals);
  return out;
}

/// Run length (1-based) until the first enabled signal on N(shift, 1) data, capped at `cap`.
int run_length(ControlChart& chart, edgeswarm::core::Rng& rng, double shift, int cap) {
  chart.reset();
  for (int t = 1; t <= cap; ++t) {
    if (chart.update(shift + rng.normal()).defect()) return t;
  }
  return cap;
}

}  // namespace

TEST(EstimateInControl, MovingRangeAndStdDevByHand) {
  const std::vector<double> x{1.0, 3.0, 2.0, kNaN, 6.0, kInf};
  const InControl mr = estimate_in_control(x.data(), x.size(), SigmaMethod::kMovingRange);
  EXPECT_EQ(mr.n, 4u);
  EXPECT_EQ(mr.invalid, 2u);
  EXPECT_DOUBLE_EQ(mr.mean, 3.0);
  // Moving ranges of consecutive finite values: 2, 1, 4 -> mean 7/3, over d2 = 2 / sqrt(pi).
  EXPECT_DOUBLE_EQ(mr.sigma, 7.0 / 3.0 / (2.0 / std::sqrt(M_PI)));
  const InControl sd = estimate_in_control(x.data(), x.size(), SigmaMethod::kStdDev);
  // Deviations -2, 0, -1, 3: sum of squares 14 over n - 1 = 3.
  EXPECT_DOUBLE_EQ(sd.sigma, std::sqrt(14.0 / 3.0));
}

TEST(EstimateInControl, MovingRangeSigmaIsUnbiasedForNormalData) {
  const auto x = ml_test::noise(200000, 1, 11);
  const InControl mr = estimate_in_control(x.data(), x.size(), SigmaMethod::kMovingRange);
  EXPECT_NEAR(mr.sigma, 1.0, 0.01);
  EXPECT_NEAR(mr.mean, 0.0, 0.01);
}

TEST(EstimateInControl, TooFewOrConstantValuesAreRefused) {
  const std::vector<double> one{1.0, kNaN};
  expect_invalid([&] { estimate_in_control(one.data(), one.size(), SigmaMethod::kMovingRange); }, "x");
  const std::vector<double> flat{2.0, 2.0, 2.0};
  expect_invalid([&] { estimate_in_control(flat.data(), flat.size(), SigmaMethod::kStdDev); }, "x");
  expect_invalid([&] { estimate_in_control(flat.data(), flat.size(), SigmaMethod::kMovingRange); }, "x");
}

TEST(ProcessCapability, HandComputed) {
  // mean 10, sigma 0.5, spec [8, 13]: Cp = 5 / 3, Cpu = 3 / 1.5 = 2, Cpl = 2 / 1.5, Cpk = Cpl.
  const Capability c = process_capability(10.0, 0.5, 8.0, 13.0);
  EXPECT_DOUBLE_EQ(c.cp, 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(c.cpu, 2.0);
  EXPECT_DOUBLE_EQ(c.cpl, 4.0 / 3.0);
  EXPECT_DOUBLE_EQ(c.cpk, 4.0 / 3.0);
  // A mean outside the spec gives a negative Cpk, not an error.
  EXPECT_LT(process_capability(14.0, 0.5, 8.0, 13.0).cpk, 0.0);
}

TEST(ProcessCapability, BadLimitsNameTheParameter) {
  expect_invalid([] { process_capability(0.0, 1.0, 1.0, 1.0); }, "usl");
  expect_invalid([] { process_capability(0.0, 1.0, 2.0, 1.0); }, "usl");
  expect_invalid([] { process_capability(0.0, 1.0, kNaN, 1.0); }, "lsl");
  expect_invalid([] { process_capability(0.0, 1.0, -1.0, kInf); }, "usl");
  expect_invalid([] { process_capability(0.0, 0.0, -1.0, 1.0); }, "sigma");
  expect_invalid([] { process_capability(kNaN, 1.0, -1.0, 1.0); }, "mean");
}

TEST(ControlChart, BadOptionsNameTheParameter) {
  auto with = [](auto edit) {
    ControlChartParams p;
    edit(p);
    return p;
  };
  expect_invalid([&] { ControlChart(with([](auto& p) { p.sigma = 0.0; })); }, "sigma");
  expect_invalid([&] { ControlChart(with([](auto& p) { p.mean = kInf; })); }, "mean");
  expect_invalid([&] { ControlChart(with([](auto& p) { p.ewma_lambda = 0.0; })); }, "ewma_lambda");
  expect_invalid([&] { ControlChart(with([](auto& p) { p.ewma_lambda = 1.5; })); }, "ewma_lambda");
  expect_invalid([&] { ControlChart(with([](auto& p) { p.ewma_width = -1.0; })); }, "ewma_width");
  expect_invalid([&] { ControlChart(with([](auto& p) { p.cusum_k = -0.1; })); }, "cusum_k");
  expect_invalid([&] { ControlChart(with([](auto& p) { p.cusum_h = 0.0; })); }, "cusum_h");
  expect_invalid([&] { ControlChart(with([](auto& p) { p.signals = 0; })); }, "signals");
  expect_invalid([&] { ControlChart(with([](auto& p) { p.signals = 64; })); }, "signals");
}

TEST(WesternElectric, Rule1BeyondThreeSigmaButNotAtIt) {
  // Zeros in between keep rule 2 (two of three beyond 2 sigma) out of it.
  EXPECT_EQ(signals_of({0.0, 3.5, 0.0, 0.0, -3.2, 0.0, 0.0, 3.0, 0.0, 0.0, -3.0}),
            (std::vector<int>{0, kRule1, 0, 0, kRule1, 0, 0, 0, 0, 0, 0}));
}

TEST(WesternElectric, Rule2TwoOfThreeBeyondTwoSigmaSameSide) {
  EXPECT_EQ(signals_of({2.5, 0.0, 2.5}), (std::vector<int>{0, 0, kRule2}));
  EXPECT_EQ(signals_of({-2.1, -2.1}), (std::vector<int>{0, kRule2}));
  // Near misses: too far apart, opposite sides, exactly at 2 sigma.
  EXPECT_EQ(signals_of({2.5, 0.0, 0.0, 2.5}), (std::vector<int>(4, 0)));
  EXPECT_EQ(signals_of({2.5, -2.5, 0.0}), (std::vector<int>(3, 0)));
  EXPECT_EQ(signals_of({2.5, 0.0, 2.0}), (std::vector<int>(3, 0)));
}

TEST(WesternElectric, Rule3FourOfFiveBeyondOneSigmaSameSide) {
  EXPECT_EQ(signals_of({1.5, 1.5, 0.0, 1.5, 1.5}), (std::vector<int>{0, 0, 0, 0, kRule3}));
  EXPECT_EQ(signals_of({-1.2, -1.9, -1.1, -1.5}), (std::vector<int>{0, 0, 0, kRule3}));
  // Near misses: three of five, and four of six.
  EXPECT_EQ(signals_of({1.5, 0.0, 1.5, 0.0, 1.5}), (std::vector<int>(5, 0)));
  EXPECT_EQ(signals_of({1.5, 1.5, 0.0, 0.0, 1.5, 1.5}), (std::vector<int>(6, 0)));
  EXPECT_EQ(signals_of({1.5, 1.5, -1.5, 1.5}), (std::vector<int>(4, 0)));
}

TEST(WesternElectric, Rule4EightInARowOnOneSide) {
  std::vector<int> expected(8, 0);
  expected[7] = kRule4;
  EXPECT_EQ(signals_of(std::vector<double>(8, 0.5)), expected);
  EXPECT_EQ(signals_of(std::vector<double>(8, -0.5)), expected);
  // Near misses: seven then a change of side; a point exactly on the center line.
  std::vector<double> seven(7, 0.5);
  seven.push_back(-0.5);
  EXPECT_EQ(signals_of(seven), (std::vector<int>(8, 0)));
  std::vector<double> centered{0.5, 0.5, 0.5, 0.5, 0.0, 0.5, 0.5, 0.5, 0.5};
  EXPECT_EQ(signals_of(centered), (std::vector<int>(9, 0)));
}

TEST(WesternElectric, SeveralRulesAtOnceAndOnlyEnabledOnes) {
  // Rule 2 from the second point on; the fourth point adds rule 1 and completes rule 3 (4 of 4 beyond 1).
  EXPECT_EQ(signals_of({2.5, 2.5, 2.5, 3.5}), (std::vector<int>{0, kRule2, kRule2, kRule1 | kRule2 | kRule3}));
  EXPECT_EQ(signals_of({2.5, 2.5, 2.5, 3.5}, kRule1), (std::vector<int>{0, 0, 0, kRule1}));
}

TEST(WesternElectric, InvalidSamplesNeitherBreakNorExtendAPattern) {
  EXPECT_EQ(signals_of({2.5, kNaN, 2.5}), (std::vector<int>{0, 0, kRule2}));
  EXPECT_EQ(signals_of({0.5, 0.5, 0.5, kInf, 0.5, 0.5, 0.5, 0.5, -kInf}),
            (std::vector<int>{0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(ControlChart, EwmaByHandWithExactLimits) {
  ControlChartParams p = only(kEwma);
  p.ewma_lambda = 0.5;
  p.ewma_width = 2.0;
  ControlChart chart(p);
  // t = 1: e = 1; sigma_e = sqrt(1/3 * (1 - 1/4)) = 0.5; limits ±1 -> exactly at the limit: no signal.
  ControlPoint c = chart.update(2.0);
  EXPECT_DOUBLE_EQ(c.ewma, 1.0);
  EXPECT_DOUBLE_EQ(c.ewma_ucl, 1.0);
  EXPECT_DOUBLE_EQ(c.ewma_lcl, -1.0);
  EXPECT_EQ(c.signals, 0);
  EXPECT_EQ(c.confidence, 0.0);
  // t = 2: e = 1.5; sigma_e^2 = 1/3 * 15/16 = 5/16; half-width^2 = 5/4 -> q = 2.25 / 3.5 = 9/14.
  c = chart.update(2.0);
  EXPECT_DOUBLE_EQ(c.ewma, 1.5);
  EXPECT_DOUBLE_EQ(c.ewma_ucl, std::sqrt(1.25));
  EXPECT_EQ(c.signals, kEwma);
  EXPECT_NEAR(c.confidence, 9.0 / 14.0, 1e-15);
}

TEST(ControlChart, CusumByHand) {
  ControlChartParams p = only(kCusum);
  p.cusum_k = 0.5;
  p.cusum_h = 1.0;
  p.mean = 10.0;
  p.sigma = 2.0;
  ControlChart chart(p);
  // z = 1 three times: C+ = 0.5, 1.0 (at h: no signal), 1.5 (signal, q = 2.25 / 3.25).
  EXPECT_EQ(chart.update(12.0).signals, 0);
  ControlPoint c = chart.update(12.0);
  EXPECT_DOUBLE_EQ(c.cusum_upper, 1.0);
  EXPECT_EQ(c.signals, 0);
  c = chart.update(12.0);
  EXPECT_DOUBLE_EQ(c.cusum_upper, 1.5);
  EXPECT_DOUBLE_EQ(c.cusum_lower, 0.0);
  EXPECT_EQ(c.signals, kCusum);
  EXPECT_DOUBLE_EQ(c.confidence, 2.25 / 3.25);
  // z = -3: C+ = max(0, 1.5 - 3.5) = 0, C- = 2.5.
  c = chart.update(4.0);
  EXPECT_DOUBLE_EQ(c.cusum_upper, 0.0);
  EXPECT_DOUBLE_EQ(c.cusum_lower, 2.5);
  EXPECT_EQ(c.signals, kCusum);
  EXPECT_DOUBLE_EQ(c.confidence, 6.25 / 7.25);
}

TEST(ControlChart, ConfidenceCombinesTheSignallingCharts) {
  // Rule 1 alone at 6 sigma: q = 36 / 45 = 0.8.
  ControlChart one(only(kRule1));
  one.update(0.0);
  EXPECT_DOUBLE_EQ(one.update(6.0).confidence, 0.8);
  // A pattern rule without a point beyond 3 sigma counts as 0.5.
  ControlChart pattern(only(kRule2));
  pattern.update(2.5);
  EXPECT_DOUBLE_EQ(pattern.update(2.5).confidence, 0.5);
  // Rule 1 and CUSUM (h = 1, k = 0): z = 6 -> C+ = 6, q = 36 / 37; both: 1 - 0.2 * 1/37.
  ControlChartParams p = only(kRule1 | kCusum);
  p.cusum_k = 0.0;
  p.cusum_h = 1.0;
  ControlChart two(p);
  const ControlPoint c = two.update(6.0);
  EXPECT_EQ(c.signals, kRule1 | kCusum);
  EXPECT_NEAR(c.confidence, 1.0 - 0.2 * (1.0 / 37.0), 1e-15);
  EXPECT_EQ(two.update(0.0).confidence, 1.0 - (1.0 - 36.0 / 37.0));  // C+ still 6, CUSUM alone
}

TEST(ControlChart, NaNAndInfinityAreCountedAndSkipped) {
  ControlChart a, b;
  const std::vector<double> with{0.3, kNaN, -1.2, kInf, -kInf, 2.0, 4.0};
  const std::vector<double> without{0.3, -1.2, 2.0, 4.0};
  std::vector<ControlPoint> pa, pb;
  for (double v : with) pa.push_back(a.update(v));
  for (double v : without) pb.push_back(b.update(v));
  EXPECT_TRUE(std::isnan(pa[1].ewma) && std::isnan(pa[3].cusum_upper) && std::isnan(pa[4].ewma_ucl));
  EXPECT_EQ(pa[1].signals, 0);
  EXPECT_EQ(pa[1].confidence, 0.0);
  const std::vector<std::size_t> valid{0, 2, 5, 6};
  for (std::size_t i = 0; i < valid.size(); ++i) {
    EXPECT_EQ(pa[valid[i]].ewma, pb[i].ewma);
    EXPECT_EQ(pa[valid[i]].ewma_ucl, pb[i].ewma_ucl);
    EXPECT_EQ(pa[valid[i]].signals, pb[i].signals);
    EXPECT_EQ(pa[valid[i]].confidence, pb[i].confidence);
  }
  EXPECT_EQ(a.stats().seen, 7u);
  EXPECT_EQ(a.stats().invalid, 3u);
  EXPECT_EQ(a.stats().defects, b.stats().defects);
  EXPECT_EQ(a.stats().fired, b.stats().fired);
}

TEST(ControlChart, ChunkedEqualsBatchBitForBit) {
  auto x = ml_test::noise(5000, 1, 21);
  for (std::size_t i = 3000; i < x.size(); ++i) x[i] += 1.0;  // a shift, so every signal fires
  x[100] = kNaN;
  x[2500] = kInf;
  const std::size_t n = x.size();
  struct Out {
    std::vector<double> e, lo, hi, cu, cl, conf;
    std::vector<std::uint8_t> sig;
    explicit Out(std::size_t n) : e(n), lo(n), hi(n), cu(n), cl(n), conf(n), sig(n) {}
    ControlArrays at(std::size_t i) { return {&e[i], &lo[i], &hi[i], &cu[i], &cl[i], &sig[i], &conf[i]}; }
  };
  ControlChart whole;
  Out a(n);
  whole.update_batch(x.data(), n, a.at(0));
  ControlChart chunked;
  Out b(n);
  std::size_t start = 0, chunk = 1;
  while (start < n) {
    const std::size_t len = std::min(chunk, n - start);
    chunked.update_batch(x.data() + start, len, b.at(start));
    start += len;
    chunk = chunk * 3 + 1;
  }
  auto same = [](const std::vector<double>& u, const std::vector<double>& v) {
    for (std::size_t i = 0; i < u.size(); ++i) {
      if (std::isnan(u[i]) ? !std::isnan(v[i]) : u[i] != v[i]) return false;
    }
    return true;
  };
  EXPECT_TRUE(same(a.e, b.e) && same(a.lo, b.lo) && same(a.hi, b.hi));
  EXPECT_TRUE(same(a.cu, b.cu) && same(a.cl, b.cl) && same(a.conf, b.conf));
  EXPECT_EQ(a.sig, b.sig);
  EXPECT_EQ(whole.stats().fired, chunked.stats().fired);
  for (int i = 0; i < kSignalCount; ++i) EXPECT_GT(whole.stats().fired[i], 0u) << "signal bit " << i;
}

TEST(ControlChart, InControlRuleRatesMatchTheory) {
  // Per-sample firing probabilities for independent N(0, 1) data with full history:
  // rule 1: 2 P(Z > 3); rule 2: 2 p2 (1 - (1 - p2)^2); rule 3: 2 p1 P(>= 3 of 4 beyond 1);
  // rule 4: 2 / 2^8.
  const double p3 = 0.5 * std::erfc(3.0 / std::sqrt(2.0));
  const double p2 = 0.5 * std::erfc(2.0 / std::sqrt(2.0));
  const double p1 = 0.5 * std::erfc(1.0 / std::sqrt(2.0));
  const double expected[4] = {2 * p3, 2 * p2 * (1 - (1 - p2) * (1 - p2)),
                              2 * p1 * (4 * p1 * p1 * p1 * (1 - p1) + p1 * p1 * p1 * p1), 2.0 / 256.0};
  const std::size_t n = 2000000;
  const auto x = ml_test::noise(n, 1, 5);
  ControlChart chart(only(kWesternElectricRules));
  for (double v : x) chart.update(v);
  for (int r = 0; r < 4; ++r) {
    const double rate = static_cast<double>(chart.stats().fired[r]) / static_cast<double>(n);
    // 4 binomial standard errors; rules 2-4 fire in clumps (overlapping patterns), which at
    // most triples the variance.
    const double inflation = r == 0 ? 1.0 : 3.0;
    const double tolerance = 4.0 * std::sqrt(inflation * expected[r] * (1 - expected[r]) / static_cast<double>(n));
    EXPECT_NEAR(rate, expected[r], tolerance) << "rule " << r + 1;
  }
}

TEST(ControlChart, OneSigmaShiftIsCaughtSoonerByCusumAndEwmaThanByShewhart) {
  // Zero-state average run lengths over 2000 runs; theory (Montgomery): Shewhart 3 sigma
  // 1 / (P(Z > 2) + P(Z < -4)) = 43.9, CUSUM k = 0.5, h = 5: 10.4.
  edgeswarm::core::Rng rng(17, 0);
  ControlChart shewhart(only(kRule1)), ewma(only(kEwma)), cusum(only(kCusum));
  double sum_s = 0.0, sum_e = 0.0, sum_c = 0.0;
  const int runs = 2000;
  for (int i = 0; i < runs; ++i) {
    sum_s += run_length(shewhart, rng, 1.0, 100000);
    sum_e += run_length(ewma, rng, 1.0, 100000);
    sum_c += run_length(cusum, rng, 1.0, 100000);
  }
  const double arl_s = sum_s / runs, arl_e = sum_e / runs, arl_c = sum_c / runs;
  EXPECT_NEAR(arl_s, 43.9, 4.0);  // standard error ~1
  EXPECT_NEAR(arl_c, 10.4, 1.0);
  EXPECT_LT(arl_e, arl_s / 3.0);
  EXPECT_LT(arl_c, arl_s / 3.0);
}

TEST(ControlChart, InControlRunLengthsAreLong) {
  // In-control ARL: Shewhart 3 sigma 370.4, CUSUM k = 0.5, h = 5: 465 (Montgomery).
  edgeswarm::core::Rng rng(19, 0);
  ControlChart shewhart(only(kRule1)), cusum(only(kCusum));
  double sum_s = 0.0, sum_c = 0.0;
  const int runs = 1000;
  for (int i = 0; i < runs; ++i) {
    sum_s += run_length(shewhart, rng, 0.0, 1000000);
    sum_c += run_length(cusum, rng, 0.0, 1000000);
  }
  EXPECT_NEAR(sum_s / runs, 370.4, 45.0);  // standard error ~12
  EXPECT_NEAR(sum_c / runs, 465.0, 60.0);  // standard error ~15
}

TEST(ControlChart, ResetStartsOver) {
  const auto x = ml_test::noise(300, 1, 23);
  ControlChart chart;
  std::vector<ControlPoint> first, second;
  for (double v : x) first.push_back(chart.update(v + 0.8));
  chart.reset();
  EXPECT_EQ(chart.ewma(), 0.0);
  EXPECT_EQ(chart.stats().seen, 0u);
  for (double v : x) second.push_back(chart.update(v + 0.8));
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(first[i].ewma, second[i].ewma);
    EXPECT_EQ(first[i].signals, second[i].signals);
  }
}
