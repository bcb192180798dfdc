// The compiled core of edgeswarm. Users import the facades in the edgeswarm
// package; this module is private.
#include "bindings.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "edgeswarm compiled engine (private; use the edgeswarm package)";
  using namespace edgeswarm::bindings;
  bind_core(m);
  bind_topology(m);
  bind_aggregators(m);
  bind_attacks(m);
  bind_regime(m);
  bind_energy(m);
  bind_swarm(m);
  bind_net(m);
  bind_raft(m);
  bind_ml(m);
  bind_fleet(m);
  bind_quality_control(m);
  bind_maintenance(m);
}
