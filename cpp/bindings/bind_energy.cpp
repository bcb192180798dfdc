#include "bindings.hpp"

namespace edgeswarm::bindings {

void bind_energy(py::module_& m) { (void)m; }

}  // namespace edgeswarm::bindings
