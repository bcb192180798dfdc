#include "edgeswarm/swarm/regime.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "../expect_invalid.hpp"
#include "edgeswarm/core/rng.hpp"

using edgeswarm::swarm::Regime;
using edgeswarm::swarm::RegimeDetector;
using edgeswarm::swarm::RegimeParams;
using edgeswarm::swarm::residual_entropy;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TEST(ResidualEntropy, OneBinIsZeroAndEvenSpreadIsOne) {
  const std::vector<double> same{0.01, 0.02, 0.03, 0.0};
  EXPECT_EQ(residual_entropy(same.data(), same.size(), 1.0, 16), 0.0);

  // One residual in the middle of each of 8 bins over range 8.
  std::vector<double> even;
  for (int b = 0; b < 8; ++b) even.push_back(b + 0.5);
  EXPECT_NEAR(residual_entropy(even.data(), even.size(), 8.0, 8), 1.0, 1e-12);
}

TEST(ResidualEntropy, TwoEqualBinsOutOfFourIsOneHalf) {
  // p = (1/2, 1/2, 0, 0): H = log 2 / log 4 = 1/2.
  const std::vector<double> r{0.1, 0.1, 0.6, 0.6};
  EXPECT_NEAR(residual_entropy(r.data(), r.size(), 1.0, 4), 0.5, 1e-12);
}

TEST(ResidualEntropy, NegativeResidualsUseTheirMagnitude) {
  const std::vector<double> pos{0.1, 0.6, 0.3, 0.9};
  const std::vector<double> neg{-0.1, 0.6, -0.3, -0.9};
  EXPECT_EQ(residual_entropy(pos.data(), 4, 1.0, 4), residual_entropy(neg.data(), 4, 1.0, 4));
  EXPECT_NEAR(residual_entropy(pos.data(), 4, 1.0, 4), 1.0, 1e-12);
}

TEST(ResidualEntropy, SaturatedResidualsAreSpreadOverEveryBin) {
  // 0.1 and 0.9 fill bins 0 and 3; 3.0 and infinity are saturated and give
  // 1/2 to each of the 4 bins: p = (3, 1, 1, 3) / 8.
  const std::vector<double> r{0.1, 0.9, 3.0, std::numeric_limits<double>::infinity()};
  const double expected = -(2 * 0.375 * std::log(0.375) + 2 * 0.125 * std::log(0.125)) / std::log(4.0);
  EXPECT_NEAR(residual_entropy(r.data(), r.size(), 1.0, 4), expected, 1e-12);
}

TEST(ResidualEntropy, AllSaturatedIsOneNotZero) {
  // Before saturation was counted these shared the last bin and read as 0 (calm).
  const std::vector<double> r{5.0, -7.0, 300.0, std::numeric_limits<double>::infinity()};
  EXPECT_NEAR(residual_entropy(r.data(), r.size(), 1.0, 16), 1.0, 1e-12);
}

TEST(ResidualEntropy, MoreSaturatedResidualsNeverLowerTheEntropy) {
  // A calm core (every residual in bin 0) and a lumpy one, each joined by 0 to
  // 300 saturated residuals: H never falls.
  const std::vector<std::vector<double>> cores{std::vector<double>(100, 0.01), {0.01, 0.01, 0.01, 0.3, 0.3, 0.9}};
  for (const auto& core : cores) {
    double previous = -1.0;
    for (int saturated = 0; saturated <= 300; ++saturated) {
      std::vector<double> r = core;
      r.insert(r.end(), static_cast<std::size_t>(saturated), 2.0);
      const double h = residual_entropy(r.data(), r.size(), 1.0, 16);
      ASSERT_GE(h, previous) << saturated << " saturated";
      previous = h;
    }
  }
  // The calm core with 300 saturated: bin 0 holds 100 + 300/16 of 400, the
  // other 15 bins 300/16 each.
  std::vector<double> r(100, 0.01);
  r.insert(r.end(), 300, 2.0);
  const double p0 = (100.0 + 300.0 / 16) / 400, p = (300.0 / 16) / 400;
  EXPECT_NEAR(residual_entropy(r.data(), r.size(), 1.0, 16),
              -(p0 * std::log(p0) + 15 * p * std::log(p)) / std::log(16.0), 1e-12);
}

TEST(ResidualEntropy, RangeItselfIsSaturated) {
  // 0.99 is in bin 3; 1.0 is at the range, saturated: p = (1, 1, 1, 5) / 8
  // (the last-bin rule put both in bin 3 and gave 0).
  const std::vector<double> r{0.99, 1.0};
  const double expected = -(3 * 0.125 * std::log(0.125) + 0.625 * std::log(0.625)) / std::log(4.0);
  EXPECT_NEAR(residual_entropy(r.data(), r.size(), 1.0, 4), expected, 1e-12);
}

TEST(ResidualEntropy, BinEdgeBelongsToTheUpperBin) {
  // 0.25 / 1.0 * 4 = 1 exactly: bin 1, not bin 0, so the two values differ.
  const std::vector<double> r{0.2499, 0.25};
  EXPECT_NEAR(residual_entropy(r.data(), r.size(), 1.0, 4), 0.5, 1e-12);
}

TEST(ResidualEntropy, StormWiderThanTheRangeStaysAStorm) {
  // Gaussian residuals of sd 1 to 1000 times the range: most are saturated.
  // The old last-bin rule gave H = 0.81 at sd 1 falling to 0.00 at sd 1000;
  // saturation keeps it above 0.95 all the way and rising to 1.
  edgeswarm::core::Rng rng(14, 4);
  std::vector<double> unit(2000);
  for (double& v : unit) v = rng.normal();
  std::vector<double> r(unit.size());
  double previous = 0.0;
  for (double sd : {1.0, 10.0, 100.0, 1000.0}) {
    for (std::size_t i = 0; i < unit.size(); ++i) r[i] = sd * unit[i];
    previous = residual_entropy(r.data(), r.size(), 1.0, 16);
    EXPECT_GT(previous, 0.95) << "sd " << sd;
  }
  EXPECT_GT(previous, 0.9999);
}

TEST(ResidualEntropy, NaNIsSkippedAndEmptyIsZero) {
  const std::vector<double> r{0.1, kNaN, 0.6};
  const std::vector<double> clean{0.1, 0.6};
  EXPECT_EQ(residual_entropy(r.data(), r.size(), 1.0, 4), residual_entropy(clean.data(), 2, 1.0, 4));
  EXPECT_EQ(residual_entropy(nullptr, 0, 1.0, 4), 0.0);
  const std::vector<double> all_nan{kNaN, kNaN};
  EXPECT_EQ(residual_entropy(all_nan.data(), 2, 1.0, 4), 0.0);
}

TEST(ResidualEntropy, ValidatesRangeAndBins) {
  const double r[1] = {0.1};
  expect_invalid([&] { residual_entropy(r, 1, 0.0, 4); }, "residual_range");
  expect_invalid([&] { residual_entropy(r, 1, -1.0, 4); }, "residual_range");
  expect_invalid([&] { residual_entropy(r, 1, kNaN, 4); }, "residual_range");
  expect_invalid([&] { residual_entropy(r, 1, std::numeric_limits<double>::infinity(), 4); }, "residual_range");
  expect_invalid([&] { residual_entropy(r, 1, 1.0, 1); }, "bins");
}

TEST(RegimeParams, ValidationNamesTheField) {
  auto with = [](auto set) {
    RegimeParams p;
    set(p);
    return p;
  };
  expect_invalid([&] { RegimeDetector(with([](RegimeParams& p) { p.calm_threshold = -0.1; })); }, "calm_threshold");
  expect_invalid([&] { RegimeDetector(with([](RegimeParams& p) { p.calm_threshold = 0.8; })); }, "calm_threshold");
  expect_invalid([&] { RegimeDetector(with([](RegimeParams& p) { p.storm_threshold = 1.5; })); }, "storm_threshold");
  expect_invalid([&] { RegimeDetector(with([](RegimeParams& p) { p.storm_threshold = kNaN; })); }, "storm_threshold");
  expect_invalid([&] { RegimeDetector(with([](RegimeParams& p) { p.derivative_threshold = 0.0; })); },
                 "derivative_threshold");
  expect_invalid([&] { RegimeDetector(with([](RegimeParams& p) { p.hysteresis = 0; })); }, "hysteresis");
  expect_invalid([&] { RegimeDetector(with([](RegimeParams& p) { p.smoothing = 0.0; })); }, "smoothing");
  expect_invalid([&] { RegimeDetector(with([](RegimeParams& p) { p.smoothing = 1.1; })); }, "smoothing");
  EXPECT_NO_THROW(RegimeDetector(with([](RegimeParams& p) { p.smoothing = 1.0; })));
}

TEST(RegimeDetector, SmoothedAndDerivativeFollowTheEwma) {
  RegimeDetector d;  // smoothing 0.3
  d.update(0.2);
  EXPECT_EQ(d.smoothed(), 0.2);
  EXPECT_EQ(d.derivative(), 0.0);
  d.update(0.6);
  EXPECT_NEAR(d.smoothed(), 0.32, 1e-15);
  EXPECT_NEAR(d.derivative(), 0.12, 1e-15);
}

TEST(RegimeDetector, SlowRampVisitsCalmPreStormStorm) {
  // H rises by 0.01 per epoch, so the smoothed rise stays below 0.05 and only
  // the thresholds drive the regime.
  RegimeDetector d;
  std::vector<Regime> seen;
  int first_prestorm = -1, first_storm = -1;
  for (int t = 0; t <= 100; ++t) {
    const double h = 0.01 * t;
    const Regime r = d.update(h);
    ASSERT_LT(d.derivative(), 0.05);
    if (seen.empty() || seen.back() != r) seen.push_back(r);
    if (r == Regime::PreStorm && first_prestorm < 0) first_prestorm = t;
    if (r == Regime::Storm && first_storm < 0) first_storm = t;
  }
  ASSERT_EQ(seen, (std::vector<Regime>{Regime::Calm, Regime::PreStorm, Regime::Storm}));
  // H first reaches 0.45 at t = 45 (the third confirmation is t = 47); 0.7 at t = 70.
  EXPECT_EQ(first_prestorm, 47);
  EXPECT_EQ(first_storm, 72);
}

TEST(RegimeDetector, RisingDerivativeBelowCalmThresholdGivesPreStorm) {
  RegimeDetector d;
  for (int t = 0; t < 10; ++t) ASSERT_EQ(d.update(0.0), Regime::Calm);
  // A jump to 0.4 (< calm_threshold 0.45): smoothed rises by 0.12, 0.084, 0.0588.
  EXPECT_EQ(d.update(0.4), Regime::Calm);
  EXPECT_EQ(d.update(0.4), Regime::Calm);
  EXPECT_GE(d.derivative(), 0.05);
  EXPECT_EQ(d.update(0.4), Regime::PreStorm);
  EXPECT_LT(d.smoothed(), 0.45);
}

TEST(RegimeDetector, SpikeShorterThanHysteresisDoesNotChangeTheRegime) {
  RegimeDetector d;  // hysteresis 3
  for (int t = 0; t < 5; ++t) d.update(0.1);
  EXPECT_EQ(d.update(0.95), Regime::Calm);
  EXPECT_EQ(d.update(0.95), Regime::Calm);
  // The third epoch is calm again (falling H), which resets the count.
  for (int t = 0; t < 20; ++t) ASSERT_EQ(d.update(0.1), Regime::Calm);
  // Three storm epochs in a row do switch.
  EXPECT_EQ(d.update(0.95), Regime::Calm);
  EXPECT_EQ(d.update(0.95), Regime::Calm);
  EXPECT_EQ(d.update(0.95), Regime::Storm);
}

TEST(RegimeDetector, CandidateEqualToTheRegimeResetsTheCount) {
  RegimeDetector d;  // hysteresis 3
  d.update(0.1);
  EXPECT_EQ(d.update(0.95), Regime::Calm);
  EXPECT_EQ(d.update(0.95), Regime::Calm);
  EXPECT_EQ(d.update(0.1), Regime::Calm);  // calm candidate: the count starts over
  EXPECT_EQ(d.update(0.95), Regime::Calm);
  EXPECT_EQ(d.update(0.95), Regime::Calm);
  EXPECT_EQ(d.update(0.95), Regime::Storm);
}

TEST(RegimeDetector, DeescalatesToCalmWithHysteresis) {
  RegimeDetector d;
  for (int t = 0; t < 5; ++t) d.update(0.9);
  ASSERT_EQ(d.regime(), Regime::Storm);
  // Falling H: smoothed falls, derivative negative, candidate Calm.
  EXPECT_EQ(d.update(0.1), Regime::Storm);
  EXPECT_EQ(d.update(0.1), Regime::Storm);
  EXPECT_EQ(d.update(0.1), Regime::Calm);
}

TEST(RegimeDetector, AlternatingCandidatesNeverConfirm) {
  RegimeParams p;
  p.hysteresis = 2;
  RegimeDetector d(p);
  d.update(0.1);
  // Storm and PreStorm candidates alternate; neither reaches 2 in a row.
  for (int t = 0; t < 10; ++t) {
    ASSERT_EQ(d.update(0.9), Regime::Calm);
    ASSERT_EQ(d.update(0.5), Regime::Calm);
  }
}

TEST(RegimeDetector, HysteresisOneSwitchesImmediately) {
  RegimeParams p;
  p.hysteresis = 1;
  RegimeDetector d(p);
  EXPECT_EQ(d.update(0.8), Regime::Storm);
  EXPECT_EQ(d.update(0.5), Regime::PreStorm);
}

TEST(RegimeDetector, NaNAndInfinityAreIgnored) {
  RegimeDetector a, b;
  const std::vector<double> hs{0.1, 0.2, 0.8, 0.8, 0.8, 0.3, 0.1};
  for (double h : hs) {
    a.update(h);
    b.update(kNaN);
    b.update(h);
    b.update(std::numeric_limits<double>::infinity());
    ASSERT_EQ(a.regime(), b.regime());
    ASSERT_EQ(a.smoothed(), b.smoothed());
    ASSERT_EQ(a.derivative(), b.derivative());
  }
  RegimeDetector fresh;
  EXPECT_EQ(fresh.update(kNaN), Regime::Calm);
  EXPECT_EQ(fresh.smoothed(), 0.0);
  fresh.update(0.4);
  EXPECT_EQ(fresh.smoothed(), 0.4);  // NaN did not initialise the EWMA
}

TEST(RegimeDetector, ResetRestoresTheInitialState) {
  RegimeDetector d;
  for (int t = 0; t < 5; ++t) d.update(0.9);
  ASSERT_EQ(d.regime(), Regime::Storm);
  d.reset();
  EXPECT_EQ(d.regime(), Regime::Calm);
  EXPECT_EQ(d.smoothed(), 0.0);
  EXPECT_EQ(d.derivative(), 0.0);
  d.update(0.3);
  EXPECT_EQ(d.smoothed(), 0.3);
}

TEST(Regime, Names) {
  EXPECT_EQ(to_string(Regime::Calm), "Calm");
  EXPECT_EQ(to_string(Regime::PreStorm), "PreStorm");
  EXPECT_EQ(to_string(Regime::Storm), "Storm");
}
