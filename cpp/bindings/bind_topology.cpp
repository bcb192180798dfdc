// Topology construction: one call builds the graph and hands its CSR arrays
// to NumPy as read-only views owned by the C++ object (no copies).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "edgeswarm/swarm/topology.hpp"

namespace edgeswarm::bindings {
namespace {

using swarm::Topology;

/// A read-only NumPy view of `data` with `shape`, kept alive by `owner`.
template <typename T>
py::array readonly_view(const std::vector<T>& data, std::vector<py::ssize_t> shape, const py::capsule& owner) {
  py::array_t<T> view(std::move(shape), data.empty() ? nullptr : data.data(), owner);
  view.attr("setflags")(py::arg("write") = false);
  return view;
}

py::dict build_topology(std::int64_t n, const std::string& topology, int degree, double radius, double rewire,
                        std::uint64_t seed) {
  if (n < 0) throw std::invalid_argument("n: " + std::to_string(n) + " is out of range; allowed >= 1");
  swarm::TopologyParams params;
  params.kind = swarm::parse_topology(topology);
  params.degree = degree;
  params.radius = radius;
  params.rewire = rewire;
  auto built = std::make_unique<Topology>();
  {
    py::gil_scoped_release release;
    *built = Topology::build(static_cast<std::size_t>(n), params, seed);
  }
  const Topology& t = *built;
  py::capsule owner(built.get(), [](void* p) { delete static_cast<Topology*>(p); });
  built.release();  // the capsule owns it now

  const auto size = static_cast<py::ssize_t>(t.size());
  py::dict out;
  out["topology"] = swarm::to_string(t.kind());
  out["offsets"] = readonly_view(t.offsets(), {size + 1}, owner);
  out["neighbours"] = readonly_view(t.neighbours(), {static_cast<py::ssize_t>(t.neighbours().size())}, owner);
  out["positions"] = readonly_view(t.positions(), {size, 2}, owner);
  out["centralised"] = t.centralised();
  out["edge_count"] = t.edge_count();
  return out;
}

}  // namespace

void bind_topology(py::module_& m) {
  py::tuple names(swarm::kTopologyKinds.size());
  for (std::size_t i = 0; i < swarm::kTopologyKinds.size(); ++i) names[i] = swarm::to_string(swarm::kTopologyKinds[i]);
  m.attr("TOPOLOGIES") = names;

  m.def("build_topology", &build_topology, py::arg("n"), py::kw_only(), py::arg("topology") = "complete",
        py::arg("degree") = 4, py::arg("radius") = 0.0, py::arg("rewire") = 0.1, py::arg("seed") = 0,
        "Builds the `topology` graph on n nodes and returns a dict: offsets (uint64, n + 1) and neighbours "
        "(uint32) in CSR form with sorted symmetric lists (empty for the centralised complete and star), "
        "positions (float64, n x 2) in the unit square, centralised (bool), edge_count (int) and topology "
        "(str). The arrays are read-only views. Random kinds (k_regular, random_geometric, small_world) are "
        "deterministic for `seed`. Bad parameters raise ValueError naming the parameter.");
}

}  // namespace edgeswarm::bindings
