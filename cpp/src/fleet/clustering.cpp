#include "edgeswarm/fleet/clustering.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/core/rng.hpp"
#include "fleet_streams.hpp"
#include "parallel_work.hpp"

namespace edgeswarm::fleet {
namespace {

void require_positions(const Eigen::Ref<const Positions>& p) {
  core::require(p.rows() >= 1 && p.cols() >= 1, "positions", std::to_string(p.rows()) + "x" + std::to_string(p.cols()),
                "a non-empty (n, d) array");
  core::require(p.allFinite(), "positions", "a non-finite value", "finite coordinates");
}

/// Nearest centroid of point i; ties go to the lower cluster index.
std::int32_t nearest(const Eigen::Ref<const Positions>& p, const Positions& c, Eigen::Index i, double& best) {
  best = std::numeric_limits<double>::infinity();
  std::int32_t arg = 0;
  for (Eigen::Index j = 0; j < c.rows(); ++j) {
    const double d2 = (p.row(i) - c.row(j)).squaredNorm();
    if (d2 < best) {
      best = d2;
      arg = static_cast<std::int32_t>(j);
    }
  }
  return arg;
}

/// Centroids as member means (sums in device order), empty clusters removed
/// and renumbered in order, then heads, sizes and inertia.
void finish(const Eigen::Ref<const Positions>& p, Clustering& out, Eigen::Index k) {
  const Eigen::Index n = p.rows();
  Positions sums = Positions::Zero(k, p.cols());
  std::vector<std::int64_t> count(static_cast<std::size_t>(k), 0);
  for (Eigen::Index i = 0; i < n; ++i) {
    sums.row(out.labels[i]) += p.row(i);
    ++count[static_cast<std::size_t>(out.labels[i])];
  }
  std::vector<std::int32_t> renumber(static_cast<std::size_t>(k), -1);
  std::int32_t kept = 0;
  for (Eigen::Index j = 0; j < k; ++j)
    if (count[static_cast<std::size_t>(j)] > 0) renumber[static_cast<std::size_t>(j)] = kept++;
  out.centroids.resize(kept, p.cols());
  out.sizes.assign(static_cast<std::size_t>(kept), 0);
  for (Eigen::Index j = 0; j < k; ++j) {
    const std::int32_t r = renumber[static_cast<std::size_t>(j)];
    if (r < 0) continue;
    out.centroids.row(r) = sums.row(j) / static_cast<double>(count[static_cast<std::size_t>(j)]);
    out.sizes[static_cast<std::size_t>(r)] = count[static_cast<std::size_t>(j)];
  }
  for (auto& l : out.labels) l = renumber[static_cast<std::size_t>(l)];
  out.heads.assign(static_cast<std::size_t>(kept), -1);
  std::vector<double> best(static_cast<std::size_t>(kept), std::numeric_limits<double>::infinity());
  out.inertia = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto l = static_cast<std::size_t>(out.labels[i]);
    const double d2 = (p.row(i) - out.centroids.row(static_cast<Eigen::Index>(l))).squaredNorm();
    out.inertia += d2;
    if (d2 < best[l]) {  // strict: the lower id keeps a tie
      best[l] = d2;
      out.heads[l] = i;
    }
  }
}

}  // namespace

Clustering kmeans(const Eigen::Ref<const Positions>& p, std::size_t k, std::uint64_t seed, int max_iter) {
  require_positions(p);
  const Eigen::Index n = p.rows();
  core::require(k >= 1 && k <= static_cast<std::size_t>(n), "k", static_cast<double>(k),
                "[1, n_devices] (" + std::to_string(n) + ")");
  core::require(max_iter >= 1, "max_iter", static_cast<double>(max_iter), ">= 1");

  // k-means++: each next centre drawn with probability proportional to D^2.
  core::Rng rng(seed, core::stream_id(k, 0, kClusterStream));
  std::vector<Eigen::Index> chosen{static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(n)))};
  std::vector<double> d2(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) d2[i] = (p.row(i) - p.row(chosen[0])).squaredNorm();
  while (chosen.size() < k) {
    double total = 0.0;
    for (double v : d2) total += v;
    if (!(total > 0.0)) break;  // fewer distinct points than k
    const double u = rng.uniform() * total;
    double acc = 0.0;
    Eigen::Index pick = -1;
    for (Eigen::Index i = 0; i < n; ++i) {
      acc += d2[i];
      if (d2[i] > 0.0 && (acc > u || pick < 0)) {
        pick = i;
        if (acc > u) break;
      }
    }
    chosen.push_back(pick);
    for (Eigen::Index i = 0; i < n; ++i) d2[i] = std::min(d2[i], (p.row(i) - p.row(pick)).squaredNorm());
  }
  const auto kk = static_cast<Eigen::Index>(chosen.size());
  Positions c(kk, p.cols());
  for (Eigen::Index j = 0; j < kk; ++j) c.row(j) = p.row(chosen[static_cast<std::size_t>(j)]);

  Clustering out;
  out.labels.assign(static_cast<std::size_t>(n), -1);
  for (out.iterations = 0; out.iterations < max_iter;) {
    ++out.iterations;
    std::int64_t changed = 0;
#pragma omp parallel for schedule(static) reduction(+ : changed) if (static_cast<std::size_t>(n) * static_cast<std::size_t>(kk) >= kMinParallelWork)
    for (Eigen::Index i = 0; i < n; ++i) {
      double best;
      const std::int32_t l = nearest(p, c, i, best);
      if (l != out.labels[i]) {
        out.labels[i] = l;
        ++changed;
      }
    }
    if (changed == 0) {
      out.converged = true;
      break;
    }
    Positions sums = Positions::Zero(kk, p.cols());
    std::vector<std::int64_t> count(static_cast<std::size_t>(kk), 0);
    for (Eigen::Index i = 0; i < n; ++i) {
      sums.row(out.labels[i]) += p.row(i);
      ++count[static_cast<std::size_t>(out.labels[i])];
    }
    for (Eigen::Index j = 0; j < kk; ++j)  // an emptied cluster keeps its centre
      if (count[static_cast<std::size_t>(j)] > 0) c.row(j) = sums.row(j) / static_cast<double>(count[j]);
  }
  finish(p, out, kk);
  return out;
}

Clustering grid_clusters(const Eigen::Ref<const Positions>& p, double cell_size) {
  require_positions(p);
  core::require_positive("cell_size", cell_size);
  const Eigen::Index n = p.rows();
  std::map<std::vector<std::int64_t>, std::int32_t> cells;
  Clustering out;
  out.labels.resize(static_cast<std::size_t>(n));
  std::vector<std::int64_t> key(static_cast<std::size_t>(p.cols()));
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index d = 0; d < p.cols(); ++d) key[d] = static_cast<std::int64_t>(std::floor(p(i, d) / cell_size));
    const auto it = cells.emplace(key, static_cast<std::int32_t>(cells.size())).first;
    out.labels[i] = it->second;
  }
  out.iterations = 0;
  out.converged = true;
  finish(p, out, static_cast<Eigen::Index>(cells.size()));
  return out;
}

}  // namespace edgeswarm::fleet
