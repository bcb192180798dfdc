#include "edgeswarm/swarm/topology.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/core/rng.hpp"

namespace edgeswarm::swarm {
namespace {

using core::fail;

constexpr const char* kNames[] = {"complete",         "star",       "ring", "k_regular", "grid", "torus",
                                  "random_geometric", "small_world"};
static_assert(sizeof(kNames) / sizeof(kNames[0]) == kTopologyKinds.size());
constexpr double kPi = 3.14159265358979323846;

using Edges = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

/// floor(sqrt(n)) computed exactly.
std::size_t isqrt(std::size_t n) {
  auto s = static_cast<std::size_t>(std::sqrt(static_cast<double>(n)));
  while (s * s > n) --s;
  while ((s + 1) * (s + 1) <= n) ++s;
  return s;
}

/// Everything a build produces; moved into the Topology at the end.
struct Csr {
  std::vector<std::uint64_t> offsets;
  std::vector<std::uint32_t> neighbours;
  std::vector<double> positions;
};

/// Nodes evenly spaced on the circle inscribed in the unit square.
std::vector<double> circle_positions(std::size_t n) {
  std::vector<double> pos(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const double angle = 2.0 * kPi * static_cast<double>(i) / static_cast<double>(n);
    pos[2 * i] = 0.5 + 0.5 * std::cos(angle);
    pos[2 * i + 1] = 0.5 + 0.5 * std::sin(angle);
  }
  return pos;
}

/// Sorted, symmetric CSR from a list of simple undirected edges.
void csr_from_edges(std::size_t n, const Edges& edges, Csr& out) {
  out.offsets.assign(n + 1, 0);
  for (const auto& [u, v] : edges) {
    ++out.offsets[u + 1];
    ++out.offsets[v + 1];
  }
  std::partial_sum(out.offsets.begin(), out.offsets.end(), out.offsets.begin());
  out.neighbours.resize(out.offsets[n]);
  std::vector<std::uint64_t> next(out.offsets.begin(), out.offsets.end() - 1);
  for (const auto& [u, v] : edges) {
    out.neighbours[next[u]++] = v;
    out.neighbours[next[v]++] = u;
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::sort(out.neighbours.begin() + static_cast<std::ptrdiff_t>(out.offsets[i]),
              out.neighbours.begin() + static_cast<std::ptrdiff_t>(out.offsets[i + 1]));
  }
}

void build_ring(std::size_t n, Csr& out) {
  Edges edges(n);
  for (std::size_t i = 0; i < n; ++i) {
    edges[i] = {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>((i + 1) % n)};
  }
  csr_from_edges(n, edges, out);
  out.positions = circle_positions(n);
}

/// Grid coordinates (col, row) scaled so that side - 1 spans the unit square.
std::vector<double> grid_positions(std::size_t n, std::size_t side) {
  std::vector<double> pos(2 * n);
  const double scale = side > 1 ? 1.0 / static_cast<double>(side - 1) : 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    pos[2 * i] = side > 1 ? static_cast<double>(i % side) * scale : 0.5;
    pos[2 * i + 1] = side > 1 ? static_cast<double>(i / side) * scale : 0.5;
  }
  return pos;
}

void build_grid(std::size_t n, Csr& out) {
  std::size_t side = isqrt(n);
  if (side * side < n) ++side;
  Edges edges;
  edges.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto u = static_cast<std::uint32_t>(i);
    if (i % side + 1 < side && i + 1 < n) edges.emplace_back(u, static_cast<std::uint32_t>(i + 1));
    if (i + side < n) edges.emplace_back(u, static_cast<std::uint32_t>(i + side));
  }
  csr_from_edges(n, edges, out);
  out.positions = grid_positions(n, side);
}

void build_torus(std::size_t n, Csr& out) {
  const std::size_t side = isqrt(n);
  Edges edges;
  edges.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t row = i / side, col = i % side;
    const auto u = static_cast<std::uint32_t>(i);
    edges.emplace_back(u, static_cast<std::uint32_t>(row * side + (col + 1) % side));
    edges.emplace_back(u, static_cast<std::uint32_t>(((row + 1) % side) * side + col));
  }
  csr_from_edges(n, edges, out);
  out.positions = grid_positions(n, side);
}

/// A k-regular multigraph held as an edge list plus, per node, exactly k
/// neighbour slots (a multiset: a self loop puts the node in its own slots twice).
class RegularMultigraph {
 public:
  RegularMultigraph(std::size_t n, std::size_t k) : n_(n), k_(k), adj_(n * k), edges_(n * k / 2) {}

  std::size_t edge_count() const { return edges_.size(); }
  const std::pair<std::uint32_t, std::uint32_t>& edge(std::size_t e) const { return edges_[e]; }

  /// Sets the edges and fills the neighbour slots from them.
  void assign(Edges edges) {
    edges_ = std::move(edges);
    std::vector<std::size_t> fill(n_, 0);
    for (const auto& [u, v] : edges_) {
      adj_[u * k_ + fill[u]++] = v;
      adj_[v * k_ + fill[v]++] = u;
    }
  }

  /// Sorts every node's slots (a sequential pass) and returns, per node,
  /// whether it has a self loop or a repeated neighbour.
  std::vector<char> sort_and_flag() {
    std::vector<char> flagged(n_, 0);
    for (std::size_t u = 0; u < n_; ++u) {
      std::uint32_t* slots = adj_.data() + u * k_;
      std::sort(slots, slots + k_);
      for (std::size_t s = 0; s < k_; ++s) {
        if (slots[s] == u || (s > 0 && slots[s] == slots[s - 1])) flagged[u] = 1;
      }
    }
    return flagged;
  }

  /// True when edge e is a self loop or one of several copies of an edge.
  bool bad(std::size_t e) const {
    const auto [u, v] = edges_[e];
    return u == v || multiplicity(u, v) > 1;
  }

  /// Replaces edges e = (u, v) and i = (x, y) (or (y, x) when `flip`) by
  /// (u, x) and (v, y) when both are new, distinct, simple edges; degrees are
  /// unchanged. Returns whether it switched.
  bool try_switch(std::size_t e, std::size_t i, bool flip) {
    if (e == i) return false;
    const auto [u, v] = edges_[e];
    auto [x, y] = edges_[i];
    if (flip) std::swap(x, y);
    // (u, x) == (v, y) as a pair implies u, x already adjacent, caught below.
    if (x == y || u == x || v == y) return false;
    if (multiplicity(u, x) != 0 || multiplicity(v, y) != 0) return false;
    replace(u, v, x);
    replace(v, u, y);
    replace(x, y, u);
    replace(y, x, v);
    edges_[e] = {u, x};
    edges_[i] = {v, y};
    return true;
  }

  /// Sorted CSR of the (by now simple) graph.
  void to_csr(Csr& out) const {
    out.offsets.resize(n_ + 1);
    for (std::size_t i = 0; i <= n_; ++i) out.offsets[i] = i * k_;
    out.neighbours = adj_;
    for (std::size_t i = 0; i < n_; ++i) {
      auto first = out.neighbours.begin() + static_cast<std::ptrdiff_t>(i * k_);
      std::sort(first, first + static_cast<std::ptrdiff_t>(k_));
    }
  }

 private:
  std::size_t multiplicity(std::uint32_t u, std::uint32_t v) const {
    const std::uint32_t* slots = adj_.data() + u * k_;
    return static_cast<std::size_t>(std::count(slots, slots + k_, v));
  }
  void replace(std::uint32_t node, std::uint32_t old_neighbour, std::uint32_t new_neighbour) {
    std::uint32_t* slots = adj_.data() + node * k_;
    *std::find(slots, slots + k_, old_neighbour) = new_neighbour;
  }

  std::size_t n_, k_;
  std::vector<std::uint32_t> adj_;
  Edges edges_;
};

/// Configuration model: a uniform random pairing of the n * k stubs.
Edges random_pairing(std::size_t n, std::size_t k, core::Rng& rng) {
  std::vector<std::uint32_t> stubs(n * k);
  if (stubs.empty()) return {};
  for (std::size_t i = 0; i < stubs.size(); ++i) stubs[i] = static_cast<std::uint32_t>(i / k);
  for (std::size_t i = stubs.size() - 1; i > 0; --i) std::swap(stubs[i], stubs[rng.below(i + 1)]);
  Edges edges(stubs.size() / 2);
  for (std::size_t e = 0; e < edges.size(); ++e) edges[e] = {stubs[2 * e], stubs[2 * e + 1]};
  return edges;
}

/// Switches every self loop and repeated edge with a random partner edge until
/// the graph is simple; false when `budget` switch attempts did not suffice.
bool repair(RegularMultigraph& g, core::Rng& rng, std::size_t budget) {
  const std::size_t m = g.edge_count();
  const std::vector<char> flagged = g.sort_and_flag();
  std::vector<std::size_t> suspects;
  for (std::size_t e = 0; e < m; ++e) {
    if (flagged[g.edge(e).first] && g.bad(e)) suspects.push_back(e);
  }
  // A successful switch only removes bad edges and adds simple new ones, so
  // only the suspects can still be bad.
  for (std::size_t e : suspects) {
    while (g.bad(e)) {
      if (budget == 0) return false;
      --budget;
      const std::size_t i = rng.below(m);
      g.try_switch(e, i, (rng.next_u64() & 1) != 0);
    }
  }
  return true;
}

/// The circulant graph with offsets 1..k/2 (and n/2 when k is odd): simple
/// and k-regular whenever k < n and n * k is even.
Edges circulant(std::size_t n, std::size_t k) {
  Edges edges;
  edges.reserve(n * k / 2);
  for (std::size_t j = 1; j <= k / 2; ++j) {
    for (std::size_t i = 0; i < n; ++i) {
      edges.emplace_back(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>((i + j) % n));
    }
  }
  if (k % 2 == 1) {
    for (std::size_t i = 0; i < n / 2; ++i) {
      edges.emplace_back(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + n / 2));
    }
  }
  return edges;
}

/// A random simple k-regular graph for 2k < n (see build_k_regular).
void random_regular(std::size_t n, std::size_t k, core::Rng& rng, Csr& out) {
  RegularMultigraph g(n, k);
  const std::size_t m = n * k / 2;
  if (m > 0) {
    constexpr int kPairingTries = 4;
    bool simple = false;
    for (int attempt = 0; attempt < kPairingTries && !simple; ++attempt) {
      g.assign(random_pairing(n, k, rng));
      simple = repair(g, rng, 50 * m + 1000);
    }
    if (!simple) {
      g.assign(circulant(n, k));
      for (std::size_t s = 0; s < 10 * m; ++s) {
        const std::size_t e = rng.below(m);
        const std::size_t i = rng.below(m);
        g.try_switch(e, i, (rng.next_u64() & 1) != 0);
      }
    }
  }
  g.to_csr(out);
}

/// The complement of a sorted CSR graph (no self loops).
void complement_of(std::size_t n, const Csr& in, Csr& out) {
  out.offsets.assign(n + 1, 0);
  out.neighbours.clear();
  out.neighbours.reserve(n * (n - 1) - in.neighbours.size());
  for (std::size_t i = 0; i < n; ++i) {
    auto skip = in.neighbours.begin() + static_cast<std::ptrdiff_t>(in.offsets[i]);
    const auto skip_end = in.neighbours.begin() + static_cast<std::ptrdiff_t>(in.offsets[i + 1]);
    for (std::size_t j = 0; j < n; ++j) {
      if (skip != skip_end && *skip == j) {
        ++skip;
        continue;
      }
      if (j != i) out.neighbours.push_back(static_cast<std::uint32_t>(j));
    }
    out.offsets[i + 1] = out.neighbours.size();
  }
}

// Random k-regular graph: configuration-model pairing, then the few self loops
// and repeated edges (O(k^2) expected, independent of n) are removed by
// degree-preserving switches with random partner edges. This is O(n k) and
// close to uniform. Dense graphs (2k >= n) are built as the complement of a
// random (n - 1 - k)-regular graph, so repair always works on a sparse graph;
// if it still stalls (tiny graphs), a circulant graph randomised by 10 m
// double-edge switches is used instead.
void build_k_regular(std::size_t n, std::size_t k, core::Rng& rng, Csr& out) {
  if (k > (n - 1) / 2) {
    Csr sparse;
    random_regular(n, n - 1 - k, rng, sparse);
    complement_of(n, sparse, out);
  } else {
    random_regular(n, k, rng, out);
  }
  out.positions = circle_positions(n);
}

// Watts-Strogatz as in the original paper (and networkx): for each lattice
// offset j = 1..k/2 in turn and each node u, the edge (u, u + j) is, with
// probability p, moved to (u, w) for w uniform among the nodes that are
// neither u nor already adjacent to u. Every edge is kept as a slot of its
// owner u, so adjacency is a scan of two slot lists of k/2 entries.
void build_small_world(std::size_t n, std::size_t k, double p, core::Rng& rng, Csr& out) {
  const std::size_t h = k / 2;
  std::vector<std::uint32_t> target(n * h);
  for (std::size_t u = 0; u < n; ++u) {
    for (std::size_t j = 1; j <= h; ++j) target[u * h + j - 1] = static_cast<std::uint32_t>((u + j) % n);
  }
  std::vector<std::size_t> degree(n, k);
  auto adjacent = [&](std::size_t a, std::size_t b) {
    const std::uint32_t* ta = target.data() + a * h;
    const std::uint32_t* tb = target.data() + b * h;
    return std::find(ta, ta + h, static_cast<std::uint32_t>(b)) != ta + h ||
           std::find(tb, tb + h, static_cast<std::uint32_t>(a)) != tb + h;
  };
  for (std::size_t j = 1; j <= h; ++j) {
    for (std::size_t u = 0; u < n; ++u) {
      if (!(rng.uniform() < p) || degree[u] >= n - 1) continue;
      std::size_t w;
      do {
        w = rng.below(n);
      } while (w == u || adjacent(u, w));
      std::uint32_t& slot = target[u * h + j - 1];
      --degree[slot];
      ++degree[w];
      slot = static_cast<std::uint32_t>(w);
    }
  }
  Edges edges(n * h);
  for (std::size_t u = 0; u < n; ++u) {
    for (std::size_t s = 0; s < h; ++s) edges[u * h + s] = {static_cast<std::uint32_t>(u), target[u * h + s]};
  }
  csr_from_edges(n, edges, out);
  out.positions = circle_positions(n);
}

// Points are bucketed into square cells at least `radius` wide, so each node
// only looks at the 3 x 3 cells around its own: O(n) for the default radius.
void build_random_geometric(std::size_t n, double radius, core::Rng& rng, Csr& out) {
  out.positions.resize(2 * n);
  for (double& coordinate : out.positions) coordinate = rng.uniform();

  // At most ~sqrt(n) cells per side so the cell table stays O(n).
  const double max_cells = std::max(1.0, std::floor(std::sqrt(static_cast<double>(n))));
  const double by_radius = radius > 0.0 ? std::floor(1.0 / radius) : max_cells;
  const auto cells = static_cast<std::size_t>(std::clamp(by_radius, 1.0, max_cells));
  auto cell_of = [&](double coordinate) {
    return std::min(cells - 1, static_cast<std::size_t>(coordinate * static_cast<double>(cells)));
  };
  std::vector<std::size_t> cell_start(cells * cells + 1, 0);
  std::vector<std::size_t> cell(n);
  for (std::size_t i = 0; i < n; ++i) {
    cell[i] = cell_of(out.positions[2 * i + 1]) * cells + cell_of(out.positions[2 * i]);
    ++cell_start[cell[i] + 1];
  }
  std::partial_sum(cell_start.begin(), cell_start.end(), cell_start.begin());
  // Cell-ordered copies of the coordinates: the three cells of a row are one
  // contiguous run, so the scan below reads memory sequentially.
  std::vector<std::uint32_t> members(n);
  std::vector<double> xs(n), ys(n);
  {
    std::vector<std::size_t> next(cell_start.begin(), cell_start.end() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t s = next[cell[i]]++;
      members[s] = static_cast<std::uint32_t>(i);
      xs[s] = out.positions[2 * i];
      ys[s] = out.positions[2 * i + 1];
    }
  }

  // Scan in cell order (the cell table and coordinates stay in cache), then
  // move each node's sorted list to its place in node order.
  const double r2 = radius * radius;
  const double expected_degree = kPi * r2 * static_cast<double>(n);
  std::vector<std::uint32_t> by_slot(
      static_cast<std::size_t>(std::min(expected_degree * 1.05 + 1.0, static_cast<double>(n))) * n + 4096);
  std::size_t used = 0;
  std::vector<std::uint64_t> slot_offsets(n + 1, 0);
  for (std::size_t c = 0; c < cells * cells; ++c) {
    const std::size_t cx = c % cells, cy = c / cells;
    const std::size_t x_lo = cx > 0 ? cx - 1 : 0, x_hi = std::min(cx + 1, cells - 1);
    const std::size_t y_lo = cy > 0 ? cy - 1 : 0, y_hi = std::min(cy + 1, cells - 1);
    std::size_t candidates = 0;
    for (std::size_t y = y_lo; y <= y_hi; ++y) {
      candidates += cell_start[y * cells + x_hi + 1] - cell_start[y * cells + x_lo];
    }
    for (std::size_t slot = cell_start[c]; slot < cell_start[c + 1]; ++slot) {
      if (by_slot.size() < used + candidates) by_slot.resize(std::max(2 * by_slot.size(), used + candidates));
      const double xi = xs[slot], yi = ys[slot];
      const std::size_t begin = used;
      for (std::size_t y = y_lo; y <= y_hi; ++y) {
        const std::size_t run_end = cell_start[y * cells + x_hi + 1];
        for (std::size_t s = cell_start[y * cells + x_lo]; s < run_end; ++s) {
          const double dx = xi - xs[s], dy = yi - ys[s];
          // Branch-free append: write always, keep it only when in range.
          by_slot[used] = members[s];
          used += static_cast<std::size_t>((dx * dx + dy * dy <= r2) & (s != slot));
        }
      }
      std::sort(by_slot.begin() + static_cast<std::ptrdiff_t>(begin),
                by_slot.begin() + static_cast<std::ptrdiff_t>(used));
      slot_offsets[slot + 1] = used;
    }
  }
  out.offsets.assign(n + 1, 0);
  for (std::size_t slot = 0; slot < n; ++slot) {
    out.offsets[members[slot] + 1] = slot_offsets[slot + 1] - slot_offsets[slot];
  }
  std::partial_sum(out.offsets.begin(), out.offsets.end(), out.offsets.begin());
  out.neighbours.resize(used);
  for (std::size_t slot = 0; slot < n; ++slot) {
    std::copy(by_slot.begin() + static_cast<std::ptrdiff_t>(slot_offsets[slot]),
              by_slot.begin() + static_cast<std::ptrdiff_t>(slot_offsets[slot + 1]),
              out.neighbours.begin() + static_cast<std::ptrdiff_t>(out.offsets[members[slot]]));
  }
}

void validate_topology(std::size_t n, const TopologyParams& params) {
  if (n == 0) fail("n: 0 is out of range; allowed >= 1");
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    fail("n: " + std::to_string(n) + " is out of range; allowed <= 4294967295 (32-bit node ids)");
  }
  if (!(params.radius >= 0.0) || !std::isfinite(params.radius)) {
    fail("radius: " + core::format_value(params.radius) +
         " is out of range; allowed a finite value >= 0 (0 = default)");
  }
  if (!(params.rewire >= 0.0 && params.rewire <= 1.0)) {
    fail("rewire: " + core::format_value(params.rewire) + " is out of range; allowed [0, 1]");
  }
  const long long degree = params.degree;
  switch (params.kind) {
    case TopologyKind::Ring:
      if (n < 3) fail("n: " + std::to_string(n) + " is too small for ring; allowed >= 3");
      break;
    case TopologyKind::Torus: {
      const std::size_t side = isqrt(n);
      if (side * side != n || side < 3) {
        fail("n: " + std::to_string(n) + " is not allowed for torus; allowed s * s with s >= 3 (9, 16, 25, ...)");
      }
      break;
    }
    case TopologyKind::KRegular:
      if (degree < 1 || static_cast<unsigned long long>(degree) >= n) {
        fail("degree: " + std::to_string(degree) + " is out of range for k_regular with n = " + std::to_string(n) +
             "; allowed [1, n - 1]");
      }
      if ((n * static_cast<std::size_t>(degree)) % 2 != 0) {
        fail("degree: " + std::to_string(degree) + " is odd and n = " + std::to_string(n) +
             " is odd; k_regular needs n * degree even");
      }
      break;
    case TopologyKind::SmallWorld:
      if (n < 3) fail("n: " + std::to_string(n) + " is too small for small_world; allowed >= 3");
      if (degree < 2 || degree % 2 != 0 || static_cast<unsigned long long>(degree) >= n) {
        fail("degree: " + std::to_string(degree) + " is not allowed for small_world with n = " + std::to_string(n) +
             "; allowed even values in [2, n - 1]");
      }
      break;
    default:
      break;
  }
}

}  // namespace

TopologyKind parse_topology(const std::string& name) {
  for (std::size_t i = 0; i < kTopologyKinds.size(); ++i) {
    if (name == kNames[i]) return kTopologyKinds[i];
  }
  std::string allowed;
  for (const char* known : kNames) allowed += (allowed.empty() ? "" : ", ") + std::string(known);
  fail("topology: '" + name + "' is unknown; allowed " + allowed);
}

std::string to_string(TopologyKind kind) {
  const auto index = static_cast<std::size_t>(kind);
  if (index >= kTopologyKinds.size()) fail("topology: kind " + std::to_string(index) + " is unknown");
  return kNames[index];
}

double default_radius(std::size_t n) {
  const double nn = static_cast<double>(n);
  return n > 1 ? std::sqrt(2.0 * std::log(nn) / (kPi * nn)) : 0.0;
}

Topology Topology::build(std::size_t n, const TopologyParams& params, std::uint64_t seed) {
  validate_topology(n, params);
  core::Rng rng(seed, core::stream_id(static_cast<std::uint64_t>(core::Purpose::Topology),
                                      static_cast<std::uint64_t>(params.kind)));
  Csr csr;
  const auto degree = static_cast<std::size_t>(std::max(params.degree, 0));
  switch (params.kind) {
    case TopologyKind::Complete:
    case TopologyKind::Star:
      csr.offsets.assign(n + 1, 0);
      csr.positions = circle_positions(n);
      break;
    case TopologyKind::Ring:
      build_ring(n, csr);
      break;
    case TopologyKind::KRegular:
      build_k_regular(n, degree, rng, csr);
      break;
    case TopologyKind::Grid:
      build_grid(n, csr);
      break;
    case TopologyKind::Torus:
      build_torus(n, csr);
      break;
    case TopologyKind::RandomGeometric:
      build_random_geometric(n, params.radius > 0.0 ? params.radius : default_radius(n), rng, csr);
      break;
    case TopologyKind::SmallWorld:
      build_small_world(n, degree, params.rewire, rng, csr);
      break;
  }
  Topology t;
  t.kind_ = params.kind;
  t.n_ = n;
  t.offsets_ = std::move(csr.offsets);
  t.neighbours_ = std::move(csr.neighbours);
  t.positions_ = std::move(csr.positions);
  return t;
}

std::size_t Topology::degree(std::size_t i) const {
  if (kind_ == TopologyKind::Complete) return n_ - 1;
  if (kind_ == TopologyKind::Star) return 1;
  return static_cast<std::size_t>(offsets_[i + 1] - offsets_[i]);
}

std::size_t Topology::edge_count() const {
  if (kind_ == TopologyKind::Complete) return n_ * (n_ - 1) / 2;
  if (kind_ == TopologyKind::Star) return n_;
  return neighbours_.size() / 2;
}

}  // namespace edgeswarm::swarm
