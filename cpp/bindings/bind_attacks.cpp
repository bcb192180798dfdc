#include "bindings.hpp"

namespace edgeswarm::bindings {

void bind_attacks(py::module_& m) { (void)m; }

}  // namespace edgeswarm::bindings
