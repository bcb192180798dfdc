#pragma once
// Who talks to whom. Complete and star are centralised (one aggregator sees
// every report); the other kinds are decentralised meshes where every node
// aggregates what its neighbours gossiped (W-MSR style).

#include <cstdint>
#include <string>
#include <vector>

namespace edgeswarm::swarm {

enum class TopologyKind : std::uint8_t {
  Complete,
  Star,
  Ring,
  KRegular,
  Grid,
  Torus,
  RandomGeometric,
  SmallWorld,
};

/// Parses "complete", "star", "ring", "k_regular", "grid", "torus",
/// "random_geometric", "small_world"; throws std::invalid_argument naming
/// `topology` and the allowed values otherwise.
TopologyKind parse_topology(const std::string& name);
std::string to_string(TopologyKind kind);

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
  /// Degree of node i (n - 1 for complete, 1 for star leaves).
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
  /// Number of undirected edges.
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
