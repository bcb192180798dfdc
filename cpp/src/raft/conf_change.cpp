#include "edgeswarm/raft/conf_change.hpp"

#include <algorithm>
#include <string>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::raft {

std::vector<std::uint8_t> encode(const ConfChange& change) {
  std::vector<std::uint8_t> out(9);
  out[0] = static_cast<std::uint8_t>(change.type);
  for (int i = 0; i < 8; ++i) out[1 + i] = static_cast<std::uint8_t>(change.node >> (8 * i));
  return out;
}

ConfChange decode_conf_change(const std::vector<std::uint8_t>& data) {
  if (data.size() != 9 || data[0] > 1) {
    core::fail_range("data", std::to_string(data.size()) + " bytes", "9 bytes: type (0 or 1), node id");
  }
  ConfChange change;
  change.type = static_cast<ConfChangeType>(data[0]);
  for (int i = 0; i < 8; ++i) change.node |= static_cast<NodeId>(data[1 + i]) << (8 * i);
  return change;
}

ConfState apply(const ConfState& conf, const ConfChange& change) {
  ConfState out = conf;
  auto& v = out.voters;
  const auto it = std::lower_bound(v.begin(), v.end(), change.node);
  const bool present = it != v.end() && *it == change.node;
  if (change.type == ConfChangeType::AddNode && !present) v.insert(it, change.node);
  if (change.type == ConfChangeType::RemoveNode && present) v.erase(it);
  return out;
}

}  // namespace edgeswarm::raft
