#include "edgeswarm/swarm/swarm.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace edgeswarm::swarm;

namespace {

SwarmConfig reference_config() {
  SwarmConfig c;
  c.n_nodes = 100;
  c.signal = {0.5};
  c.noise_variance = 0.0025;
  c.aggregator.trim = 0.3;
  c.seed = 42;
  return c;
}

std::vector<edgeswarm::fixed::q16> consensus_history(int threads, TopologyKind kind) {
  SwarmConfig c = reference_config();
  c.n_nodes = 484;  // 22 x 22, a valid torus
  c.threads = threads;
  c.topology.kind = kind;
  Swarm s(c);
  AttackParams attack;
  s.inject_byzantine(48, attack);
  std::vector<edgeswarm::fixed::q16> out;
  for (int e = 0; e < 20; ++e) out.push_back(s.step().consensus[0]);
  return out;
}

}  // namespace

TEST(Swarm, ReferenceScenarioBansAttackersAndConverges) {
  Swarm s(reference_config());
  AttackParams attack;
  attack.bias = 0.9;
  s.inject_byzantine(30, attack);
  for (int e = 0; e < 10; ++e) s.step();
  EXPECT_EQ(s.last().byzantine_banned, 30u);
  EXPECT_EQ(s.last().honest_banned, 0u);
  EXPECT_LT(s.last().drift, 0.01);
}

TEST(Swarm, BitIdenticalForAnyThreadCount) {
  for (auto kind : {TopologyKind::Complete, TopologyKind::Torus}) {
    const auto one = consensus_history(1, kind);
    EXPECT_EQ(one, consensus_history(2, kind));
    EXPECT_EQ(one, consensus_history(4, kind));
  }
}

TEST(Swarm, InjectionValidation) {
  Swarm s(reference_config());
  EXPECT_THROW(s.inject_byzantine(101, AttackParams{}), std::invalid_argument);
  EXPECT_THROW(s.inject_noise(-1.0, 10.0), std::invalid_argument);
  EXPECT_THROW(s.inject_noise(1e6, 10.0), std::invalid_argument);  // sd beyond Q16.16
  EXPECT_THROW(s.inject_noise(0.5, NAN), std::invalid_argument);
  EXPECT_THROW(s.inject_noise(0.5, 1e300), std::invalid_argument);  // end epoch would overflow
  SwarmConfig bad = reference_config();
  bad.dim = 0;
  EXPECT_THROW(Swarm{bad}, std::invalid_argument);
}

TEST(Swarm, NoiseInjectionLastsItsDuration) {
  Swarm s(reference_config());
  s.inject_noise(0.5, 2.0);  // 4 epochs at 500 ms
  for (int e = 0; e < 4; ++e) EXPECT_DOUBLE_EQ(s.step().noise_intensity, 0.5);
  EXPECT_DOUBLE_EQ(s.step().noise_intensity, 0.0);
}

TEST(Swarm, ByzantineCountErrorsNameTheHonestNodesLeft) {
  Swarm s(reference_config());
  s.inject_byzantine(30, AttackParams{});
  EXPECT_EQ(s.honest_nodes(), 70u);
  try {
    s.inject_byzantine(71, AttackParams{});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "count: 71 exceeds the 70 honest nodes left");
  }
  EXPECT_STREQ(byzantine_count_error("-1", 70).what(),
               "count: -1 is out of range; allowed [0, 70] (the honest nodes left)");
  EXPECT_EQ(s.honest_nodes(), 70u);  // the failed injection changed nothing
}

TEST(Swarm, ZeroDurationEndsANoiseStorm) {
  Swarm s(reference_config());
  s.inject_noise(0.5, 60.0);
  EXPECT_DOUBLE_EQ(s.step().noise_intensity, 0.5);
  s.inject_noise(0.5, 0.0);
  EXPECT_DOUBLE_EQ(s.step().noise_intensity, 0.0);
}
