#include "bindings.hpp"

namespace edgeswarm::bindings {

void bind_regime(py::module_& m) { (void)m; }

}  // namespace edgeswarm::bindings
