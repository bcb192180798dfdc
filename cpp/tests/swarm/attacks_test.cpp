#include "edgeswarm/swarm/attacks.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "../expect_invalid.hpp"
#include "edgeswarm/core/rng.hpp"

namespace fx = edgeswarm::fixed;
using edgeswarm::core::Purpose;
using edgeswarm::core::Rng;
using edgeswarm::swarm::alie_z;
using edgeswarm::swarm::apply_attack;
using edgeswarm::swarm::attack_active;
using edgeswarm::swarm::AttackKind;
using edgeswarm::swarm::AttackParams;
using edgeswarm::swarm::HonestView;
using edgeswarm::swarm::normal_quantile;
using edgeswarm::swarm::parse_attack;
using edgeswarm::swarm::q16;

namespace {

AttackParams with_kind(AttackKind kind) {
  AttackParams p;
  p.kind = kind;
  return p;
}

/// A k x d block of honest readings, distinct per entry.
std::vector<q16> readings(std::size_t k, std::size_t d) {
  std::vector<q16> out(k * d);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = fx::from_double(0.25 * static_cast<double>(i) - 3.1);
  return out;
}

std::vector<std::uint32_t> ids(std::size_t k) {
  std::vector<std::uint32_t> out(k);
  for (std::size_t i = 0; i < k; ++i) out[i] = static_cast<std::uint32_t>(100 + 3 * i);
  return out;
}

}  // namespace

TEST(Attacks, ParseRoundTripsAndRejectsUnknownNames) {
  for (auto kind : edgeswarm::swarm::kAttackKinds) EXPECT_EQ(parse_attack(to_string(kind)), kind);
  try {
    parse_attack("flood");
    FAIL();
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("attack: 'flood'", 0), 0u);
    for (const char* name : {"bias", "sign_flip", "gaussian", "alie", "ipm", "mimic", "intermittent"}) {
      EXPECT_NE(msg.find(name), std::string::npos) << name;
    }
  }
}

TEST(Attacks, ValidateNamesTheBadField) {
  auto bad = [](auto mutate, const char* name) {
    AttackParams p;
    mutate(p);
    expect_invalid([&] { edgeswarm::swarm::validate(p); }, name);
  };
  EXPECT_NO_THROW(edgeswarm::swarm::validate(AttackParams{}));
  bad([](AttackParams& p) { p.bias = NAN; }, "bias");
  bad([](AttackParams& p) { p.bias = 32768.0; }, "bias");  // beyond Q16.16: would saturate
  bad([](AttackParams& p) { p.bias = -1e308; }, "bias");
  AttackParams edge;
  edge.bias = edgeswarm::fixed::kMinReal;
  EXPECT_NO_THROW(edgeswarm::swarm::validate(edge));
  edge.bias = edgeswarm::fixed::kMaxReal;
  EXPECT_NO_THROW(edgeswarm::swarm::validate(edge));
  bad([](AttackParams& p) { p.jitter = -0.1; }, "jitter");
  bad([](AttackParams& p) { p.scale = 0.0; }, "scale");
  bad([](AttackParams& p) { p.sigma = -1.0; }, "sigma");
  bad([](AttackParams& p) { p.alie_z = INFINITY; }, "alie_z");
  bad([](AttackParams& p) { p.ipm_epsilon = 0.0; }, "ipm_epsilon");
  bad([](AttackParams& p) { p.on_epochs = 0; }, "on_epochs");
  bad([](AttackParams& p) { p.off_epochs = -1; }, "off_epochs");
}

TEST(Attacks, BiasFollowsItsStreamDefinition) {
  const std::size_t k = 5, d = 3;
  AttackParams p = with_kind(AttackKind::Bias);
  p.bias = 0.9;
  p.jitter = 0.05;
  auto reports = readings(k, d);
  const auto node_ids = ids(k);
  apply_attack(p, HonestView{}, d, 77, 4, node_ids.data(), k, reports.data());
  for (std::size_t r = 0; r < k; ++r) {
    Rng rng = Rng::for_node(77, node_ids[r], 4, Purpose::Attack);
    for (std::size_t c = 0; c < d; ++c) EXPECT_EQ(reports[r * d + c], fx::from_double(0.9 + 0.05 * rng.normal()));
  }
}

TEST(Attacks, BiasStatistics) {
  const std::size_t k = 4000, d = 2;
  AttackParams p = with_kind(AttackKind::Bias);
  p.bias = -1.5;
  p.jitter = 0.02;
  std::vector<q16> reports(k * d, 0);
  const auto node_ids = ids(k);
  apply_attack(p, HonestView{}, d, 1, 0, node_ids.data(), k, reports.data());
  double sum = 0, sq = 0;
  for (q16 v : reports) {
    sum += fx::to_double(v);
    sq += fx::to_double(v) * fx::to_double(v);
  }
  const double mean = sum / reports.size();
  EXPECT_NEAR(mean, -1.5, 0.002);
  EXPECT_NEAR(std::sqrt(sq / reports.size() - mean * mean), 0.02, 0.001);
}

TEST(Attacks, RandomAttacksDoNotDependOnRowOrder) {
  const std::size_t k = 6, d = 4;
  std::vector<double> mean(d, 0.5), sd(d, 0.1);
  HonestView honest{mean.data(), sd.data(), nullptr, 20, 6};
  for (auto kind : {AttackKind::Bias, AttackKind::Gaussian, AttackKind::Intermittent}) {
    const AttackParams p = with_kind(kind);
    auto forward = readings(k, d);
    auto node_ids = ids(k);
    apply_attack(p, honest, d, 9, 2, node_ids.data(), k, forward.data());
    // Same rows, reversed order.
    auto backward_ids = std::vector<std::uint32_t>(node_ids.rbegin(), node_ids.rend());
    auto backward = readings(k, d);
    apply_attack(p, honest, d, 9, 2, backward_ids.data(), k, backward.data());
    for (std::size_t r = 0; r < k; ++r) {
      for (std::size_t c = 0; c < d; ++c) EXPECT_EQ(forward[r * d + c], backward[(k - 1 - r) * d + c]);
    }
    // A different seed or epoch changes the draws.
    auto other = readings(k, d);
    apply_attack(p, honest, d, 10, 2, node_ids.data(), k, other.data());
    EXPECT_NE(other, forward) << to_string(kind);
  }
}

TEST(Attacks, SignFlipNegatesAndScalesOwnReading) {
  AttackParams p = with_kind(AttackKind::SignFlip);
  p.scale = 2.0;
  std::vector<q16> reports{fx::from_double(0.75), fx::from_double(-1.25), 0, fx::kMin, fx::kMax, 1};
  apply_attack(p, HonestView{}, 3, 0, 0, nullptr, 2, reports.data());
  EXPECT_EQ(reports[0], fx::from_double(-1.5));
  EXPECT_EQ(reports[1], fx::from_double(2.5));
  EXPECT_EQ(reports[2], 0);
  EXPECT_EQ(reports[3], fx::kMax);  // saturates
  EXPECT_EQ(reports[4], fx::kMin);
  EXPECT_EQ(reports[5], -2);
  // A half-ulp result rounds away from zero: 1 raw * 0.5 = 0.5 raw -> -1 raw.
  p.scale = 0.5;
  std::vector<q16> half{1, -1, 3};
  apply_attack(p, HonestView{}, 3, 0, 0, nullptr, 1, half.data());
  EXPECT_EQ(half, (std::vector<q16>{-1, 1, -2}));
}

TEST(Attacks, GaussianCentresOnHonestMean) {
  const std::size_t k = 3000, d = 2;
  AttackParams p = with_kind(AttackKind::Gaussian);
  p.sigma = 0.5;
  std::vector<double> mean{2.0, -1.0};
  HonestView honest{mean.data(), nullptr, nullptr, 0, 0};
  std::vector<q16> reports(k * d, 0);
  const auto node_ids = ids(k);
  apply_attack(p, honest, d, 3, 1, node_ids.data(), k, reports.data());
  for (std::size_t c = 0; c < d; ++c) {
    double sum = 0, sq = 0;
    for (std::size_t r = 0; r < k; ++r) {
      const double v = fx::to_double(reports[r * d + c]);
      sum += v;
      sq += v * v;
    }
    const double m = sum / k;
    EXPECT_NEAR(m, mean[c], 0.04);
    EXPECT_NEAR(std::sqrt(sq / k - m * m), 0.5, 0.03);
  }
  expect_invalid([&] { apply_attack(p, HonestView{}, d, 3, 1, node_ids.data(), k, reports.data()); }, "honest_mean");
}

TEST(Attacks, NormalQuantileMatchesKnownValues) {
  // Reference values from Python's statistics.NormalDist().inv_cdf.
  EXPECT_NEAR(normal_quantile(0.975), 1.9599639845400536, 1e-13);
  EXPECT_NEAR(normal_quantile(0.3), -0.5244005127080407, 1e-13);
  EXPECT_NEAR(normal_quantile(1e-10), -6.361340902404056, 1e-11);
  EXPECT_EQ(normal_quantile(0.5), 0.0);
  // Dyadic q, so that 1 - q is exact and the symmetry must hold bit for bit.
  for (double q : {0.0078125, 0.25, 0.4375}) EXPECT_EQ(normal_quantile(q), -normal_quantile(1.0 - q));
  expect_invalid([] { normal_quantile(0.0); }, "p");
  expect_invalid([] { normal_quantile(1.0); }, "p");
}

TEST(Attacks, AlieZMatchesIndependentReference) {
  // s = floor(n/2 + 1) - m, z = Phi^-1((n - s) / n); references from
  // statistics.NormalDist().inv_cdf.
  EXPECT_NEAR(alie_z(50, 12), 0.5828415072712162, 1e-13);    // s = 14, p = 0.72
  EXPECT_NEAR(alie_z(100, 20), 0.49585034734745304, 1e-13);  // s = 31, p = 0.69
  EXPECT_NEAR(alie_z(10, 3), 0.5244005127080407, 1e-13);     // s = 3, p = 0.7
  EXPECT_NEAR(alie_z(7, 0), -0.1800123697927051, 1e-13);     // s = 4, p = 3/7
  EXPECT_NEAR(alie_z(1000, 250), 0.6713462148778053, 1e-13);
  // Byzantine majority: s <= 0, p clamped to 1 - 1/(2n).
  EXPECT_NEAR(alie_z(50, 30), 2.3263478740408408, 1e-13);
  EXPECT_EQ(alie_z(1, 0), 0.0);  // p = 0 clamped to 1/2
  EXPECT_TRUE(std::isfinite(alie_z(50, 50)));
  expect_invalid([] { alie_z(0, 0); }, "n");
  expect_invalid([] { alie_z(5, 6); }, "m");
}

TEST(Attacks, AlieReportsMeanMinusZSd) {
  const std::size_t k = 3, d = 3;
  std::vector<double> mean{1.0, -0.5, 0.0}, sd{0.2, 0.0, 1.5};
  HonestView honest{mean.data(), sd.data(), nullptr, 50, 12};
  AttackParams p = with_kind(AttackKind::Alie);
  auto reports = readings(k, d);
  apply_attack(p, honest, d, 0, 0, nullptr, k, reports.data());
  const double z = 0.5828415072712162;
  for (std::size_t r = 0; r < k; ++r) {
    for (std::size_t c = 0; c < d; ++c) {
      EXPECT_NEAR(fx::to_double(reports[r * d + c]), mean[c] - z * sd[c], 1.0 / 65536);
      EXPECT_EQ(reports[r * d + c], fx::from_double(mean[c] - alie_z(50, 12) * sd[c]));
    }
  }
  p.alie_z = 2.0;  // explicit z wins
  apply_attack(p, honest, d, 0, 0, nullptr, k, reports.data());
  EXPECT_EQ(reports[0], fx::from_double(0.6));
  EXPECT_EQ(reports[2], fx::from_double(-3.0));
  sd[1] = -1.0;
  expect_invalid([&] { apply_attack(p, honest, d, 0, 0, nullptr, k, reports.data()); }, "honest_sd");
}

TEST(Attacks, IpmAndMimic) {
  const std::size_t k = 2, d = 3;
  std::vector<double> mean{1.0, -2.0, 0.3};
  std::vector<q16> copy{5, -6, 7};
  HonestView honest{mean.data(), nullptr, copy.data(), 0, 0};
  AttackParams ipm = with_kind(AttackKind::Ipm);
  ipm.ipm_epsilon = 0.5;
  auto reports = readings(k, d);
  apply_attack(ipm, honest, d, 0, 0, nullptr, k, reports.data());
  EXPECT_EQ(reports, (std::vector<q16>{-32768, 65536, fx::from_double(-0.15), -32768, 65536, fx::from_double(-0.15)}));
  apply_attack(with_kind(AttackKind::Mimic), honest, d, 0, 0, nullptr, k, reports.data());
  EXPECT_EQ(reports, (std::vector<q16>{5, -6, 7, 5, -6, 7}));
  expect_invalid([&] { apply_attack(with_kind(AttackKind::Mimic), HonestView{}, d, 0, 0, nullptr, k, reports.data()); },
                 "mimic");
}

TEST(Attacks, IntermittentFollowsItsSchedule) {
  AttackParams p = with_kind(AttackKind::Intermittent);
  p.on_epochs = 2;
  p.off_epochs = 3;
  const std::vector<bool> expected{true, true, false, false, false, true, true, false, false, false, true};
  for (std::uint64_t e = 0; e < expected.size(); ++e) EXPECT_EQ(attack_active(p, e), expected[e]) << e;
  EXPECT_TRUE(attack_active(with_kind(AttackKind::Bias), 3));

  const std::size_t k = 3, d = 2;
  const auto node_ids = ids(k);
  AttackParams bias = p;
  bias.kind = AttackKind::Bias;
  for (std::uint64_t e = 0; e < expected.size(); ++e) {
    auto reports = readings(k, d);
    apply_attack(p, HonestView{}, d, 5, e, node_ids.data(), k, reports.data());
    auto as_bias = readings(k, d);
    apply_attack(bias, HonestView{}, d, 5, e, node_ids.data(), k, as_bias.data());
    EXPECT_EQ(reports, expected[e] ? as_bias : readings(k, d)) << e;
  }
  p.off_epochs = 0;
  for (std::uint64_t e = 0; e < 10; ++e) EXPECT_TRUE(attack_active(p, e));
}
