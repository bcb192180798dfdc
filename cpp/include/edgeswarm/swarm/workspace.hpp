#pragma once
// Reusable scratch memory for the aggregation kernels, so that a warm
// Aggregator does not allocate per call. Buffers only grow.

#include <cstdint>
#include <vector>

#include "edgeswarm/core/fixed_point.hpp"

namespace edgeswarm::swarm {

/// Typed scratch buffers shared by the aggregation rules (contents are undefined between calls).
struct Workspace {
  std::vector<fixed::q16> values;
  std::vector<fixed::q16> values2;
  std::vector<fixed::q16> values3;
  std::vector<fixed::q16> column;
  std::vector<std::int32_t> lanes;
  std::vector<std::int64_t> wide;
  std::vector<std::uint64_t> keys;
  std::vector<std::uint32_t> index;
  std::vector<unsigned __int128> wide128;
};

/// Grows `buffer` to at least `count` elements and returns its data pointer.
template <typename T>
T* reserve_scratch(std::vector<T>& buffer, std::size_t count) {
  if (buffer.size() < count) buffer.resize(count);
  return buffer.data();
}

}  // namespace edgeswarm::swarm
