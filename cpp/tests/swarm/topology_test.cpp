#include "edgeswarm/swarm/topology.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "../expect_invalid.hpp"

using edgeswarm::swarm::default_radius;
using edgeswarm::swarm::parse_topology;
using edgeswarm::swarm::Topology;
using edgeswarm::swarm::TopologyKind;
using edgeswarm::swarm::TopologyParams;

namespace {

TopologyParams params_for(TopologyKind kind, int degree = 4, double radius = 0.0, double rewire = 0.1) {
  TopologyParams p;
  p.kind = kind;
  p.degree = degree;
  p.radius = radius;
  p.rewire = rewire;
  return p;
}

std::vector<std::uint32_t> neighbours_of(const Topology& t, std::size_t i) {
  return {t.neighbours_begin(i), t.neighbours_end(i)};
}

/// Sorted, in range, no self loops or duplicates, symmetric, degree() agrees.
void expect_simple_symmetric(const Topology& t) {
  ASSERT_EQ(t.offsets().size(), t.size() + 1);
  ASSERT_EQ(t.offsets().back(), t.neighbours().size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto nb = neighbours_of(t, i);
    ASSERT_EQ(nb.size(), t.degree(i)) << "node " << i;
    for (std::size_t s = 0; s < nb.size(); ++s) {
      ASSERT_LT(nb[s], t.size());
      ASSERT_NE(nb[s], i) << "self loop at " << i;
      if (s > 0) {
        ASSERT_LT(nb[s - 1], nb[s]) << "unsorted or duplicate at " << i;
      }
      ASSERT_TRUE(std::binary_search(t.neighbours_begin(nb[s]), t.neighbours_end(nb[s]), static_cast<std::uint32_t>(i)))
          << i << " -> " << nb[s] << " has no reverse edge";
    }
  }
  EXPECT_EQ(t.edge_count() * 2, t.neighbours().size());
}

bool connected(const Topology& t) {
  std::vector<char> seen(t.size(), 0);
  std::deque<std::size_t> queue{0};
  seen[0] = 1;
  std::size_t reached = 1;
  while (!queue.empty()) {
    const std::size_t u = queue.front();
    queue.pop_front();
    for (auto it = t.neighbours_begin(u); it != t.neighbours_end(u); ++it) {
      if (!seen[*it]) {
        seen[*it] = 1;
        ++reached;
        queue.push_back(*it);
      }
    }
  }
  return reached == t.size();
}

}  // namespace

TEST(Topology, ParseRoundTripsEveryName) {
  for (auto kind : edgeswarm::swarm::kTopologyKinds) EXPECT_EQ(parse_topology(to_string(kind)), kind);
  EXPECT_EQ(parse_topology("random_geometric"), TopologyKind::RandomGeometric);
}

TEST(Topology, ParseUnknownListsAllowedNames) {
  try {
    parse_topology("mesh");
    FAIL();
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("topology: 'mesh'", 0), 0u) << msg;
    for (const char* name :
         {"complete", "star", "ring", "k_regular", "grid", "torus", "random_geometric", "small_world"}) {
      EXPECT_NE(msg.find(name), std::string::npos) << name;
    }
  }
}

TEST(Topology, CompleteAndStarAreCentralisedWithoutLists) {
  const auto complete = Topology::build(7, params_for(TopologyKind::Complete), 1);
  const auto star = Topology::build(7, params_for(TopologyKind::Star), 1);
  for (const Topology* t : {&complete, &star}) {
    EXPECT_TRUE(t->centralised());
    EXPECT_EQ(t->offsets(), std::vector<std::uint64_t>(8, 0));
    EXPECT_TRUE(t->neighbours().empty());
    ASSERT_EQ(t->positions().size(), 14u);
    for (std::size_t i = 0; i < 7; ++i) {
      const double dx = t->positions()[2 * i] - 0.5, dy = t->positions()[2 * i + 1] - 0.5;
      EXPECT_NEAR(dx * dx + dy * dy, 0.25, 1e-12);
    }
  }
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(complete.degree(i), 6u);
    EXPECT_EQ(star.degree(i), 1u);
  }
  EXPECT_EQ(complete.edge_count(), 21u);
  EXPECT_EQ(star.edge_count(), 7u);
  EXPECT_FALSE(Topology::build(9, params_for(TopologyKind::Ring), 1).centralised());
}

TEST(Topology, RingLinksPredecessorAndSuccessor) {
  const std::size_t n = 11;
  const auto t = Topology::build(n, params_for(TopologyKind::Ring), 3);
  expect_simple_symmetric(t);
  EXPECT_EQ(t.edge_count(), n);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::uint32_t> expected{static_cast<std::uint32_t>((i + n - 1) % n),
                                        static_cast<std::uint32_t>((i + 1) % n)};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(neighbours_of(t, i), expected);
  }
  EXPECT_TRUE(connected(t));
  expect_invalid([] { Topology::build(2, params_for(TopologyKind::Ring), 0); }, "n");
}

TEST(Topology, KRegularHasExactDegreesAndIsConnected) {
  for (int k : {3, 4, 7, 16}) {
    const std::size_t n = 2000;
    const auto t = Topology::build(n, params_for(TopologyKind::KRegular, k), 5);
    expect_simple_symmetric(t);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(t.degree(i), static_cast<std::size_t>(k));
    EXPECT_EQ(t.edge_count(), n * k / 2);
    EXPECT_TRUE(connected(t)) << "k = " << k;
  }
}

TEST(Topology, KRegularIsRandomNotALattice) {
  const std::size_t n = 1000;
  const auto t = Topology::build(n, params_for(TopologyKind::KRegular, 4), 2);
  std::size_t far = 0;  // edges longer than the lattice's reach of 2 around the ring
  for (std::size_t i = 0; i < n; ++i) {
    for (auto j : neighbours_of(t, i)) {
      const std::size_t gap = std::min<std::size_t>((i + n - j) % n, (j + n - i) % n);
      far += gap > 2;
    }
  }
  EXPECT_GT(far, t.neighbours().size() * 9 / 10);
}

TEST(Topology, KRegularDenseAndTinyCases) {
  struct Case {
    std::size_t n;
    int k;
  };
  for (const Case c : {Case{5, 4}, Case{6, 3}, Case{10, 7}, Case{8, 5}, Case{4, 2}, Case{2, 1}, Case{300, 200}}) {
    const auto t = Topology::build(c.n, params_for(TopologyKind::KRegular, c.k), 9);
    expect_simple_symmetric(t);
    for (std::size_t i = 0; i < c.n; ++i) ASSERT_EQ(t.degree(i), static_cast<std::size_t>(c.k)) << c.n << " " << c.k;
  }
}

TEST(Topology, KRegularValidatesDegree) {
  expect_invalid([] { Topology::build(10, params_for(TopologyKind::KRegular, 0), 0); }, "degree");
  expect_invalid([] { Topology::build(10, params_for(TopologyKind::KRegular, 10), 0); }, "degree");
  expect_invalid([] { Topology::build(9, params_for(TopologyKind::KRegular, 3), 0); }, "degree");
  expect_invalid([] { Topology::build(10, params_for(TopologyKind::KRegular, -2), 0); }, "degree");
}

TEST(Topology, GridMatchesFourNeighbourhoodOfCoordinates) {
  const std::size_t n = 37;  // side 7, last row has 2 nodes
  const std::size_t side = 7;
  const auto t = Topology::build(n, params_for(TopologyKind::Grid), 0);
  expect_simple_symmetric(t);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::uint32_t> expected;
    for (std::size_t j = 0; j < n; ++j) {
      const long dr = static_cast<long>(i / side) - static_cast<long>(j / side);
      const long dc = static_cast<long>(i % side) - static_cast<long>(j % side);
      if (std::labs(dr) + std::labs(dc) == 1) expected.push_back(static_cast<std::uint32_t>(j));
    }
    EXPECT_EQ(neighbours_of(t, i), expected) << "node " << i;
    EXPECT_DOUBLE_EQ(t.positions()[2 * i], static_cast<double>(i % side) / (side - 1));
    EXPECT_DOUBLE_EQ(t.positions()[2 * i + 1], static_cast<double>(i / side) / (side - 1));
  }
  EXPECT_TRUE(connected(t));
  EXPECT_EQ(Topology::build(1, params_for(TopologyKind::Grid), 0).edge_count(), 0u);
}

TEST(Topology, TorusWrapsAroundAndIsFourRegular) {
  const std::size_t side = 5, n = 25;
  const auto t = Topology::build(n, params_for(TopologyKind::Torus), 0);
  expect_simple_symmetric(t);
  for (std::size_t i = 0; i < n; ++i) {
    std::set<std::uint32_t> expected;
    const std::size_t r = i / side, c = i % side;
    expected.insert(static_cast<std::uint32_t>(r * side + (c + 1) % side));
    expected.insert(static_cast<std::uint32_t>(r * side + (c + side - 1) % side));
    expected.insert(static_cast<std::uint32_t>(((r + 1) % side) * side + c));
    expected.insert(static_cast<std::uint32_t>(((r + side - 1) % side) * side + c));
    EXPECT_EQ(neighbours_of(t, i), std::vector<std::uint32_t>(expected.begin(), expected.end()));
  }
  EXPECT_EQ(t.edge_count(), 2 * n);
  EXPECT_TRUE(connected(t));
  expect_invalid([] { Topology::build(24, params_for(TopologyKind::Torus), 0); }, "n");
  expect_invalid([] { Topology::build(4, params_for(TopologyKind::Torus), 0); }, "n");
}

TEST(Topology, RandomGeometricMatchesBruteForce) {
  const std::size_t n = 600;
  const double radius = 0.07;
  const auto t = Topology::build(n, params_for(TopologyKind::RandomGeometric, 4, radius), 13);
  expect_simple_symmetric(t);
  const auto& pos = t.positions();
  for (double v : pos) {
    ASSERT_GE(v, 0.0);
    ASSERT_LT(v, 1.0);
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::uint32_t> expected;
    for (std::size_t j = 0; j < n; ++j) {
      const double dx = pos[2 * i] - pos[2 * j], dy = pos[2 * i + 1] - pos[2 * j + 1];
      if (j != i && dx * dx + dy * dy <= radius * radius) expected.push_back(static_cast<std::uint32_t>(j));
    }
    ASSERT_EQ(neighbours_of(t, i), expected) << "node " << i;
  }
}

TEST(Topology, RandomGeometricDefaultRadiusIsConnected) {
  const std::size_t n = 2000;
  EXPECT_NEAR(default_radius(n), std::sqrt(2.0 * std::log(2000.0) / (M_PI * 2000.0)), 1e-15);
  const auto t = Topology::build(n, params_for(TopologyKind::RandomGeometric), 1);
  expect_simple_symmetric(t);
  EXPECT_TRUE(connected(t));
  // Mean degree is close to pi r^2 n = 2 ln n, a little less because of the border.
  const double mean_degree = static_cast<double>(t.neighbours().size()) / n;
  EXPECT_GT(mean_degree, 0.85 * 2.0 * std::log(2000.0));
  EXPECT_LT(mean_degree, 1.02 * 2.0 * std::log(2000.0));
}

TEST(Topology, SmallWorldWithoutRewiringIsTheRingLattice) {
  const std::size_t n = 30;
  const auto t = Topology::build(n, params_for(TopologyKind::SmallWorld, 6, 0.0, 0.0), 4);
  expect_simple_symmetric(t);
  for (std::size_t i = 0; i < n; ++i) {
    std::set<std::uint32_t> expected;
    for (std::size_t j = 1; j <= 3; ++j) {
      expected.insert(static_cast<std::uint32_t>((i + j) % n));
      expected.insert(static_cast<std::uint32_t>((i + n - j) % n));
    }
    EXPECT_EQ(neighbours_of(t, i), std::vector<std::uint32_t>(expected.begin(), expected.end()));
  }
}

TEST(Topology, SmallWorldRewiresAboutTheRequestedFraction) {
  const std::size_t n = 5000;
  const double p = 0.2;
  const auto t = Topology::build(n, params_for(TopologyKind::SmallWorld, 4, 0.0, p), 8);
  expect_simple_symmetric(t);
  EXPECT_EQ(t.edge_count(), n * 2);  // rewiring moves edges, never adds or drops them
  std::size_t lattice = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (auto j : neighbours_of(t, i)) {
      const std::size_t gap = std::min<std::size_t>((i + n - j) % n, (j + n - i) % n);
      lattice += gap <= 2;
    }
  }
  const double rewired = 1.0 - static_cast<double>(lattice) / t.neighbours().size();
  EXPECT_NEAR(rewired, p, 0.02);
  // Full rewiring still gives a simple graph with the same edge count.
  const auto full = Topology::build(200, params_for(TopologyKind::SmallWorld, 8, 0.0, 1.0), 8);
  expect_simple_symmetric(full);
  EXPECT_EQ(full.edge_count(), 800u);
}

TEST(Topology, SmallWorldValidatesDegreeAndRewire) {
  expect_invalid([] { Topology::build(20, params_for(TopologyKind::SmallWorld, 3), 0); }, "degree");
  expect_invalid([] { Topology::build(20, params_for(TopologyKind::SmallWorld, 0), 0); }, "degree");
  expect_invalid([] { Topology::build(6, params_for(TopologyKind::SmallWorld, 6), 0); }, "degree");
  expect_invalid([] { Topology::build(20, params_for(TopologyKind::SmallWorld, 4, 0.0, 1.5), 0); }, "rewire");
  expect_invalid([] { Topology::build(20, params_for(TopologyKind::SmallWorld, 4, 0.0, -0.1), 0); }, "rewire");
  expect_invalid([] { Topology::build(20, params_for(TopologyKind::SmallWorld, 4, 0.0, NAN), 0); }, "rewire");
}

TEST(Topology, CommonValidation) {
  for (auto kind : edgeswarm::swarm::kTopologyKinds) {
    expect_invalid([kind] { Topology::build(0, params_for(kind), 0); }, "n");
  }
  expect_invalid([] { Topology::build(10, params_for(TopologyKind::RandomGeometric, 4, -0.1), 0); }, "radius");
  expect_invalid([] { Topology::build(10, params_for(TopologyKind::RandomGeometric, 4, NAN), 0); }, "radius");
}

TEST(Topology, RandomKindsAreDeterministicPerSeed) {
  for (auto kind : {TopologyKind::KRegular, TopologyKind::RandomGeometric, TopologyKind::SmallWorld}) {
    const auto a = Topology::build(500, params_for(kind), 21);
    const auto b = Topology::build(500, params_for(kind), 21);
    const auto c = Topology::build(500, params_for(kind), 22);
    EXPECT_EQ(a.neighbours(), b.neighbours());
    EXPECT_EQ(a.offsets(), b.offsets());
    EXPECT_EQ(a.positions(), b.positions());
    EXPECT_NE(a.neighbours(), c.neighbours()) << to_string(kind);
  }
}

TEST(Topology, SmallGraphSweepStaysSimpleAndRegular) {
  // Every valid (n, degree) up to n = 16: exercises the dense (complement) and
  // tiny cases of k_regular and full rewiring of small_world.
  for (std::size_t n = 3; n <= 16; ++n) {
    for (int k = 1; k < static_cast<int>(n); ++k) {
      for (std::uint64_t seed = 0; seed < 3; ++seed) {
        if ((n * k) % 2 == 0) {
          const auto t = Topology::build(n, params_for(TopologyKind::KRegular, k), seed);
          expect_simple_symmetric(t);
          for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(t.degree(i), static_cast<std::size_t>(k)) << n << " " << k;
        }
        if (k % 2 == 0) {
          const auto t = Topology::build(n, params_for(TopologyKind::SmallWorld, k, 0.0, 1.0), seed);
          expect_simple_symmetric(t);
          ASSERT_EQ(t.edge_count(), n * k / 2) << n << " " << k;
        }
      }
    }
  }
}
