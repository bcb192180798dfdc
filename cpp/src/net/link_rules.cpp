#include "edgeswarm/net/link_rules.hpp"

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::net {

void validate(const LinkRules& rules) {
  core::require_fraction("loss", rules.loss);
  core::require_fraction("duplicate", rules.duplicate);
  core::require_fraction("reorder", rules.reorder);
}

}  // namespace edgeswarm::net
