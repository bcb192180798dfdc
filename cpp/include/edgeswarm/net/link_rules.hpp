#pragma once
// How one direction of a link treats each message: its latency, and the
// chances that it is lost, duplicated, or held back (reordered). Rules are per
// direction, so a -> b may be lossy while b -> a is clean.

#include "edgeswarm/net/latency.hpp"

namespace edgeswarm::net {

/// Per-direction link behaviour.
struct LinkRules {
  LatencyModel latency = LatencyModel::fixed(1000);  ///< one-way delay of every copy
  double loss = 0.0;                                 ///< probability in [0, 1] that a copy is lost
  double duplicate = 0.0;                            ///< probability in [0, 1] that a second copy is sent
  double reorder = 0.0;                              ///< probability in [0, 1] that a copy gets reorder_delay extra
  LatencyModel reorder_delay = LatencyModel::uniform(0, 10000);  ///< extra delay of a reordered copy
};

/// Checks loss, duplicate and reorder lie in [0, 1]; throws
/// std::invalid_argument naming the field. (Latency models are checked when built.)
void validate(const LinkRules& rules);

}  // namespace edgeswarm::net
