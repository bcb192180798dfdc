#pragma once
// Coordinate-wise rules other than the trimmed mean: mean, median and the
// reputation-weighted trimmed mean. All inputs are row-major n x d raw Q16.16.

#include <cstddef>

#include "edgeswarm/core/fixed_point.hpp"
#include "edgeswarm/swarm/workspace.hpp"

namespace edgeswarm::swarm {

/// Column means: exact int64 sum / n with the rounding rule; n must be >= 1.
void mean(const fixed::q16* values, std::size_t n, std::size_t d, fixed::q16* out);

/// Column medians; for even n the two middle values averaged with the rounding rule.
void median(const fixed::q16* values, std::size_t n, std::size_t d, fixed::q16* out, Workspace& work);

/// Reputation-weighted trimmed mean. Per column the entries are ordered by
/// (value, weight of their row), both ascending; the first f and last f are
/// dropped and the rest averaged as round(sum(w * x) / sum(w)) exactly
/// (__int128). When every kept weight is 0 the unweighted mean of the kept
/// values is returned. `weights` (n) are Q16.16 in [0, 65536]; requires 2f < n.
void reputation_trimmed_mean(const fixed::q16* values, std::size_t n, std::size_t d, const fixed::q16* weights,
                             std::size_t f, fixed::q16* out, Workspace& work);

}  // namespace edgeswarm::swarm
