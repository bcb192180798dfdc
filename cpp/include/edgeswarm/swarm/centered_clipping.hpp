#pragma once
// Centered clipping (Karimireddy, He and Jaggi, ICML 2021) in exact integers.
//
// Integer recipe, per iteration, with v the current center (int32 raw):
//   diff_ic  = x_ic - v_c                               (int64, exact)
//   norm_i   = isqrt(sum_c diff_ic^2)                   (floor square root of an exact 128-bit sum)
//   scale_i  = 2^30                                     if norm_i <= tau
//            = div_round(tau * 2^30, norm_i)            otherwise (a Q2.30 factor in (0, 2^30))
//   step_ic  = div_round(diff_ic * scale_i, 2^30)       (int64)
//   v_c      = saturate(v_c + div_round(sum_i step_ic, n))
// where tau is clip_tau in raw Q16.16 units (round to nearest, ties away) and
// div_round is the project rounding rule (nearest, ties away from zero).

#include <cstddef>
#include <cstdint>

#include "edgeswarm/core/fixed_point.hpp"
#include "edgeswarm/swarm/workspace.hpp"

namespace edgeswarm::swarm {

/// Floor of the square root of a 128-bit unsigned integer, exactly.
std::uint64_t isqrt_u128(unsigned __int128 x);

/// Converts clip_tau (real units) to raw Q16.16 units; throws std::invalid_argument
/// naming clip_tau unless the result is in [1, 2^47].
std::int64_t clip_tau_raw(double clip_tau);

/// Runs `iters` clipping iterations from `center` (d raw values; nullptr starts
/// at the coordinate-wise median) with radius `tau_raw` (raw units, >= 1).
void centered_clipping(const fixed::q16* values, std::size_t n, std::size_t d, const fixed::q16* center,
                       std::int64_t tau_raw, int iters, fixed::q16* out, Workspace& work);

}  // namespace edgeswarm::swarm
