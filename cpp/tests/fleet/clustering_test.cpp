#include "edgeswarm/fleet/clustering.hpp"

#include <gtest/gtest.h>

#include <set>

#include "../expect_invalid.hpp"
#include "edgeswarm/core/rng.hpp"

using namespace edgeswarm::fleet;

namespace {
Positions blobs(std::size_t per, std::uint64_t seed) {
  const double centres[3][2] = {{0, 0}, {100, 0}, {50, 90}};
  Positions p(3 * per, 2);
  edgeswarm::core::Rng rng(seed);
  for (std::size_t i = 0; i < 3 * per; ++i) {
    p(i, 0) = centres[i % 3][0] + rng.normal(0.0, 3.0);
    p(i, 1) = centres[i % 3][1] + rng.normal(0.0, 3.0);
  }
  return p;
}
}  // namespace

TEST(Clustering, FindsSeparatedBlobsWithMemberHeads) {
  const Positions p = blobs(200, 1);
  const Clustering c = kmeans(p, 3, 42);
  ASSERT_EQ(c.labels.size(), 600u);
  ASSERT_EQ(c.heads.size(), 3u);
  EXPECT_TRUE(c.converged);
  for (std::size_t i = 0; i < 600; ++i) EXPECT_EQ(c.labels[i], c.labels[i % 3]);
  std::set<std::int32_t> distinct(c.labels.begin(), c.labels.end());
  EXPECT_EQ(distinct.size(), 3u);
  std::int64_t total = 0;
  for (std::size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(c.labels[static_cast<std::size_t>(c.heads[j])], static_cast<std::int32_t>(j));
    total += c.sizes[j];
    // the head is no farther from the centroid than any member
    const double dh = (p.row(c.heads[j]) - c.centroids.row(j)).squaredNorm();
    for (Eigen::Index i = 0; i < p.rows(); ++i)
      if (c.labels[i] == static_cast<std::int32_t>(j)) {
        EXPECT_LE(dh, (p.row(i) - c.centroids.row(j)).squaredNorm());
      }
  }
  EXPECT_EQ(total, 600);
}

TEST(Clustering, DeterministicAndTiesGoToLowerId) {
  const Positions p = blobs(100, 2);
  const Clustering a = kmeans(p, 5, 7), b = kmeans(p, 5, 7);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.heads, b.heads);
  Positions square(4, 2);
  square << 0, 0, 2, 0, 0, 2, 2, 2;  // all four equally near the centre
  const Clustering g = kmeans(square, 1, 3);
  EXPECT_EQ(g.heads, std::vector<std::int64_t>{0});
}

TEST(Clustering, FewerDistinctPointsGiveFewerClusters) {
  Positions p(6, 2);
  p << 1, 1, 1, 1, 5, 5, 5, 5, 1, 1, 5, 5;
  const Clustering c = kmeans(p, 4, 1);
  EXPECT_EQ(c.heads.size(), 2u);
  EXPECT_EQ(c.inertia, 0.0);
}

TEST(Clustering, GridNumbersCellsByFirstDevice) {
  Positions p(4, 2);
  p << 15, 1, 1, 1, 14, 9, 2, 3;
  const Clustering c = grid_clusters(p, 10.0);
  EXPECT_EQ(c.labels, (std::vector<std::int32_t>{0, 1, 0, 1}));
  EXPECT_EQ(c.heads.size(), 2u);
}

TEST(Clustering, RejectsBadInput) {
  const Positions p = blobs(2, 1);
  expect_invalid([&] { kmeans(p, 0, 1); }, "k");
  expect_invalid([&] { kmeans(p, 7, 1); }, "k");
  expect_invalid([&] { grid_clusters(p, 0.0); }, "cell_size");
  Positions bad = p;
  bad(0, 0) = std::nan("");
  expect_invalid([&] { kmeans(bad, 2, 1); }, "positions");
}
