#include "bindings.hpp"

namespace edgeswarm::bindings {

void bind_aggregators(py::module_& m) { (void)m; }

}  // namespace edgeswarm::bindings
