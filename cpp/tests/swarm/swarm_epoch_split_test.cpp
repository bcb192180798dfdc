// Swarm's split epoch (begin_epoch / outgoing / finish_epoch), the seam that carries the gossip
// over a real network: everything delivered is step(), and a lost report only changes its receiver.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "edgeswarm/swarm/swarm.hpp"
#include "edgeswarm/swarm/wire.hpp"

using namespace edgeswarm::swarm;

namespace {

SwarmConfig config_for(TopologyKind kind) {
  SwarmConfig c;
  c.n_nodes = 36;  // 6 x 6, a valid torus
  c.signal = {0.5};
  c.noise_variance = 0.0025;
  c.aggregator.trim = 0.3;
  c.topology.kind = kind;
  c.seed = 7;
  return c;
}

Swarm attacked(TopologyKind kind) {
  Swarm s(config_for(kind));
  AttackParams attack;
  attack.bias = 0.9;
  s.inject_byzantine(5, attack);
  return s;
}

std::vector<std::uint8_t> everything(const Swarm& s) { return std::vector<std::uint8_t>(s.link_count(), 1); }

}  // namespace

TEST(SwarmEpochSplit, BeginAndFinishWithEverythingDeliveredIsStep) {
  for (auto kind : {TopologyKind::Complete, TopologyKind::Ring, TopologyKind::Torus}) {
    Swarm stepped = attacked(kind), split = attacked(kind);
    for (int e = 0; e < 12; ++e) {
      const EpochMetrics a = stepped.step();
      split.begin_epoch();
      const EpochMetrics b = split.finish_epoch(everything(split));
      ASSERT_EQ(a.consensus, b.consensus) << to_string(kind) << " epoch " << e;
      ASSERT_EQ(a.reporting, b.reporting);
      ASSERT_EQ(a.banned, b.banned);
      ASSERT_EQ(a.bytes_per_node_day, b.bytes_per_node_day);
    }
    EXPECT_EQ(stepped.models(), split.models());
    EXPECT_EQ(stepped.reports(), split.reports());
  }
}

TEST(SwarmEpochSplit, OutgoingIsTheNodesReportOnTheWire) {
  Swarm s = attacked(TopologyKind::Ring);
  s.begin_epoch();
  std::size_t senders = 0;
  for (std::size_t i = 0; i < s.config().n_nodes; ++i) {
    if (!s.sends(i)) continue;
    ++senders;
    const auto bytes = s.outgoing(i);
    ASSERT_EQ(bytes.size(), message_bytes(1));
    const WireMessage m = decode(bytes.data(), bytes.size());
    EXPECT_EQ(m.node, i);
    EXPECT_EQ(m.epoch, 0u);
    ASSERT_EQ(m.values.size(), 1u);
    EXPECT_EQ(m.values[0], s.reports()(i, 0));
  }
  EXPECT_GT(senders, 0u);
}

TEST(SwarmEpochSplit, LinksFollowTheTopology) {
  Swarm ring(config_for(TopologyKind::Ring));
  ASSERT_EQ(ring.link_count(), 72u);  // two neighbours each
  EXPECT_EQ(ring.link_receiver(0), 0u);
  EXPECT_EQ(ring.link_receiver(2), 1u);
  EXPECT_EQ(ring.link_sender(0), 1u);  // node 0 hears 1 and 35, sorted
  EXPECT_EQ(ring.link_sender(1), 35u);
  Swarm star(config_for(TopologyKind::Complete));
  ASSERT_EQ(star.link_count(), 36u);
  EXPECT_EQ(star.link_sender(5), 5u);
  EXPECT_EQ(star.link_receiver(5), kHubId);
  EXPECT_THROW(star.link_sender(36), std::invalid_argument);
}

TEST(SwarmEpochSplit, ADroppedReportChangesOnlyItsReceiversModel) {
  Swarm full = attacked(TopologyKind::Ring), lossy = attacked(TopologyKind::Ring);
  for (int e = 0; e < 3; ++e) {  // past the first epoch, so reports blend models
    full.step();
    lossy.step();
  }
  full.begin_epoch();
  lossy.begin_epoch();
  // Find an honest receiver whose neighbour sends a report that moves its aggregate.
  std::vector<std::uint8_t> delivered = everything(lossy);
  full.finish_epoch(everything(full));
  std::size_t dropped = lossy.link_count();
  std::uint32_t receiver = 0;
  for (std::size_t k = 0; k < lossy.link_count(); ++k) {
    const std::uint32_t r = lossy.link_receiver(k), p = lossy.link_sender(k);
    if (!lossy.byzantine()[r] && lossy.sends(r) && lossy.sends(p) && !lossy.reputation().banned(p) &&
        lossy.reports()(p, 0) != lossy.reports()(r, 0)) {
      dropped = k;
      receiver = r;
      break;
    }
  }
  ASSERT_LT(dropped, lossy.link_count());
  delivered[dropped] = 0;
  lossy.finish_epoch(delivered);
  for (std::size_t i = 0; i < lossy.config().n_nodes; ++i) {
    if (i == receiver) {
      EXPECT_NE(lossy.models()(i, 0), full.models()(i, 0)) << "receiver " << i;
    } else {
      EXPECT_EQ(lossy.models()(i, 0), full.models()(i, 0)) << "node " << i;
    }
  }
}

TEST(SwarmEpochSplit, ALostReportNeverReachesTheHub) {
  Swarm full = attacked(TopologyKind::Complete), lossy = attacked(TopologyKind::Complete);
  full.begin_epoch();
  lossy.begin_epoch();
  std::vector<std::uint8_t> delivered = everything(lossy);
  std::size_t lost = 0;
  for (std::size_t i = 0; i < lossy.config().n_nodes && lost < 10; ++i) {
    if (lossy.sends(i) && !lossy.byzantine()[i]) {
      delivered[i] = 0;
      ++lost;
    }
  }
  const EpochMetrics a = full.finish_epoch(everything(full));
  const EpochMetrics b = lossy.finish_epoch(delivered);
  EXPECT_EQ(b.reporting + lost, a.reporting);
  EXPECT_NE(a.consensus, b.consensus);
}

TEST(SwarmEpochSplit, MisuseIsRefused) {
  Swarm s(config_for(TopologyKind::Ring));
  EXPECT_THROW(s.finish_epoch(everything(s)), std::logic_error);
  EXPECT_THROW(s.outgoing(0), std::logic_error);
  s.begin_epoch();
  EXPECT_THROW(s.begin_epoch(), std::logic_error);
  EXPECT_THROW(s.step(), std::logic_error);
  EXPECT_THROW(s.inject_noise(0.1, 1.0), std::logic_error);
  EXPECT_THROW(s.inject_byzantine(1, AttackParams{}), std::logic_error);
  EXPECT_THROW(s.outgoing(36), std::invalid_argument);
  EXPECT_THROW(s.finish_epoch(std::vector<std::uint8_t>(3, 1)), std::invalid_argument);
  EXPECT_TRUE(s.in_epoch());
  s.finish_epoch(everything(s));
  EXPECT_FALSE(s.in_epoch());
  EXPECT_EQ(s.epoch(), 1u);
}
