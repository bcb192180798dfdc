#include "bindings.hpp"

namespace edgeswarm::bindings {

void bind_topology(py::module_& m) { (void)m; }

}  // namespace edgeswarm::bindings
