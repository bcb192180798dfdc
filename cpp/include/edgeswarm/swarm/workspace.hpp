#pragma once
// Reusable scratch memory for the aggregation kernels, so that a warm
// Aggregator does not allocate per call. Buffers only grow.

#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "edgeswarm/core/fixed_point.hpp"

namespace edgeswarm::swarm {

/// Allocator that leaves new elements uninitialised: scratch is always written before it is read.
template <typename T>
struct UninitializedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  UninitializedAllocator() = default;
  template <typename U>
  UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

/// A growable scratch buffer of T.
template <typename T>
using ScratchVector = std::vector<T, UninitializedAllocator<T>>;

/// Typed scratch buffers shared by the aggregation rules (contents are undefined between calls).
struct Workspace {
  ScratchVector<fixed::q16> values;
  ScratchVector<fixed::q16> values2;
  ScratchVector<fixed::q16> values3;
  ScratchVector<fixed::q16> values4;
  ScratchVector<fixed::q16> column;
  ScratchVector<std::int32_t> lanes;
  ScratchVector<std::int64_t> wide;
  ScratchVector<std::uint64_t> keys;
  ScratchVector<std::uint32_t> index;
  ScratchVector<unsigned __int128> wide128;
};

/// Grows `buffer` to at least `count` elements and returns its data pointer.
template <typename T>
T* reserve_scratch(ScratchVector<T>& buffer, std::size_t count) {
  if (buffer.size() < count) buffer.resize(count);
  return buffer.data();
}

}  // namespace edgeswarm::swarm
