#pragma once
// Who talks to whom. Complete and star are centralised (one aggregator sees
// every report); the other kinds are decentralised meshes where every node
// aggregates what its neighbours gossiped (W-MSR style).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace edgeswarm::swarm {

enum class TopologyKind : std::uint8_t {
  Complete,         ///< everyone hears everyone through one aggregator
  Star,             ///< every node reports to an external hub (the aggregator)
  Ring,             ///< i - 1 and i + 1 (mod n); n >= 3
  KRegular,         ///< random simple graph, every node has exactly `degree` neighbours
  Grid,             ///< side ceil(sqrt(n)), row-major, last row partial, 4-neighbourhood
  Torus,            ///< grid with wrap-around; n must be s * s with s >= 3
  RandomGeometric,  ///< uniform points in the unit square, edge when distance <= radius
  SmallWorld,       ///< Watts-Strogatz: ring lattice of `degree`, edges rewired with `rewire`
};

/// Every kind, in declaration order (the order of the names below).
inline constexpr std::array<TopologyKind, 8> kTopologyKinds = {
    TopologyKind::Complete,        TopologyKind::Star,       TopologyKind::Ring,
    TopologyKind::KRegular,        TopologyKind::Grid,       TopologyKind::Torus,
    TopologyKind::RandomGeometric, TopologyKind::SmallWorld,
};

/// Parses "complete", "star", "ring", "k_regular", "grid", "torus",
/// "random_geometric", "small_world"; throws std::invalid_argument naming
/// `topology` and the allowed values otherwise.
TopologyKind parse_topology(const std::string& name);
/// The name parse_topology accepts for `kind`.
std::string to_string(TopologyKind kind);

/// The random_geometric radius used when `radius` is 0: sqrt(2 ln n / (pi n)),
/// twice the connectivity threshold's area, so the graph is connected with
/// high probability (0 for n = 1).
double default_radius(std::size_t n);

struct TopologyParams {
  TopologyKind kind = TopologyKind::Complete;
  /// Neighbours per node for k_regular (must be even for the ring lattice
  /// under small_world, and < n).
  int degree = 4;
  /// Radio range for random_geometric in the unit square; 0 picks a range
  /// that makes the graph connected with high probability.
  double radius = 0.0;
  /// Rewiring probability for small_world (Watts-Strogatz), in [0, 1].
  double rewire = 0.1;
};

/// Immutable neighbour lists in compressed sparse row form.
class Topology {
 public:
  /// Builds the graph for n nodes; random kinds draw from (seed, Topology
  /// stream). Throws std::invalid_argument on bad parameters.
  static Topology build(std::size_t n, const TopologyParams& params, std::uint64_t seed);

  TopologyKind kind() const { return kind_; }
  std::size_t size() const { return n_; }
  /// True for complete and star: a single aggregator, no neighbour lists.
  bool centralised() const { return kind_ == TopologyKind::Complete || kind_ == TopologyKind::Star; }
  /// Degree of node i (n - 1 for complete; 1 for star, whose hub is the
  /// aggregator, not one of the n nodes).
  std::size_t degree(std::size_t i) const;
  /// Neighbours of node i, sorted ascending, no self loops, no duplicates.
  /// Empty for centralised kinds (use centralised() instead).
  const std::uint32_t* neighbours_begin(std::size_t i) const { return neighbours_.data() + offsets_[i]; }
  const std::uint32_t* neighbours_end(std::size_t i) const { return neighbours_.data() + offsets_[i + 1]; }
  const std::vector<std::uint64_t>& offsets() const { return offsets_; }
  const std::vector<std::uint32_t>& neighbours() const { return neighbours_; }
  /// Node positions in the unit square (x0, y0, x1, y1, ...): grid, torus and
  /// random_geometric have real ones; other kinds place nodes on a circle.
  const std::vector<double>& positions() const { return positions_; }
  /// Number of undirected edges (n (n - 1) / 2 for complete, n for star).
  std::size_t edge_count() const;

 private:
  TopologyKind kind_ = TopologyKind::Complete;
  std::size_t n_ = 0;
  std::vector<std::uint64_t> offsets_;
  std::vector<std::uint32_t> neighbours_;
  std::vector<double> positions_;
  friend class TopologyBuilder;
};

}  // namespace edgeswarm::swarm
