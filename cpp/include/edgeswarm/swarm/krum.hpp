#pragma once
// Krum and Multi-Krum (Blanchard et al., NeurIPS 2017) on raw Q16.16 reports.

#include <cstddef>
#include <cstdint>

#include "edgeswarm/core/fixed_point.hpp"
#include "edgeswarm/swarm/workspace.hpp"

namespace edgeswarm::swarm {

/// Krum score of every report: the exact sum of squared L2 distances (raw
/// Q16.16 differences, so units of 2^-32) to its n - f - 2 nearest other
/// reports. Requires n > 2f + 2. `scores` has n entries.
void krum_scores(const fixed::q16* values, std::size_t n, std::size_t d, std::size_t f, unsigned __int128* scores,
                 Workspace& work);

/// Multi-Krum: the coordinate-wise mean (rounding rule) of the m reports with
/// the smallest scores; equal scores are ordered by the report's values
/// (lexicographic), so the choice does not depend on row order. m = 1 is Krum.
/// Requires n > 2f + 2 and 1 <= m <= n.
void multi_krum(const fixed::q16* values, std::size_t n, std::size_t d, std::size_t f, std::size_t m, fixed::q16* out,
                Workspace& work);

}  // namespace edgeswarm::swarm
