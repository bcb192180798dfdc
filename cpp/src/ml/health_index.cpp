#include "edgeswarm/ml/health_index.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::ml {

Eigen::VectorXd health_index(const Eigen::Ref<const Eigen::VectorXd>& rul, int cap) {
  core::require(cap >= 1, "cap", std::to_string(cap), "integers >= 1");
  Eigen::VectorXd h(rul.size());
  for (Eigen::Index i = 0; i < rul.size(); ++i) {
    core::require_finite("rul", rul(i), "finite values");
    h(i) = std::clamp(rul(i) / cap, 0.0, 1.0);
  }
  return h;
}

}  // namespace edgeswarm::ml
