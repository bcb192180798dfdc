#pragma once
// Health index of a machine from its predicted remaining useful life.

#include <Eigen/Core>

namespace edgeswarm::ml {

/// Health in [0, 1]: rul / cap clipped (1 = no visible wear, 0 = failure due now); rul finite, cap >= 1.
Eigen::VectorXd health_index(const Eigen::Ref<const Eigen::VectorXd>& rul, int cap);

}  // namespace edgeswarm::ml
