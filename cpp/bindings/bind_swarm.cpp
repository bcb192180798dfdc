#include "bindings.hpp"

namespace edgeswarm::bindings {

void bind_swarm(py::module_& m) { (void)m; }

}  // namespace edgeswarm::bindings
