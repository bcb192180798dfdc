#pragma once
// Clustering devices by location: seeded k-means (k-means++ start, Lloyd
// iterations) with one cluster head per cluster, the member nearest the
// centroid (ties go to the lower device id).

#include <Eigen/Dense>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgeswarm::fleet {

/// Row-major (n, d) positions.
using Positions = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Result of clustering n devices into k clusters.
struct Clustering {
  std::vector<std::int32_t> labels;  ///< cluster of each device, 0..k-1
  Positions centroids;               ///< (k, d) cluster means
  std::vector<std::int64_t> heads;   ///< head device of each cluster (a member)
  std::vector<std::int64_t> sizes;   ///< members per cluster
  int iterations = 0;                ///< Lloyd iterations run
  bool converged = false;            ///< whether assignments stopped changing
  double inertia = 0.0;              ///< sum of squared distances to the own centroid
};

/// k-means of `positions` under `seed`: at most `k` non-empty clusters (fewer when
/// there are fewer distinct points), at most `max_iter` Lloyd iterations.
Clustering kmeans(const Eigen::Ref<const Positions>& positions, std::size_t k, std::uint64_t seed, int max_iter = 100);

/// Square grid cells of side `cell_size` anchored at the origin, numbered by
/// the first device in each cell; heads as for k-means.
Clustering grid_clusters(const Eigen::Ref<const Positions>& positions, double cell_size);

}  // namespace edgeswarm::fleet
