#pragma once
// The coordinate-wise trimmed mean kernel and the streaming column sum it is
// measured against. `trimmed_mean(values, n, d, f, out)` itself is declared in
// aggregators.hpp; this header adds the workspace overload and the portable
// path used as an independent check of the SIMD one.

#include <cstddef>
#include <cstdint>

#include "edgeswarm/core/fixed_point.hpp"
#include "edgeswarm/swarm/workspace.hpp"

namespace edgeswarm::swarm {

/// Trimmed mean as in aggregators.hpp, using `work` for scratch memory.
void trimmed_mean(const fixed::q16* values, std::size_t n, std::size_t d, std::size_t f, fixed::q16* out,
                  Workspace& work);

/// Same result as trimmed_mean, computed per column with std::nth_element (no SIMD).
void trimmed_mean_portable(const fixed::q16* values, std::size_t n, std::size_t d, std::size_t f, fixed::q16* out,
                           Workspace& work);

/// True when trimmed_mean dispatches to the AVX-512 kernel on this CPU.
bool trimmed_mean_uses_simd();

/// Exact int64 sum of every column of a row-major n x d matrix: one streaming pass.
void column_sum(const fixed::q16* values, std::size_t n, std::size_t d, std::int64_t* out);

}  // namespace edgeswarm::swarm
