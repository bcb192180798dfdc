#include "edgeswarm/swarm/centered_clipping.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

#include "edgeswarm/swarm/coordinatewise.hpp"

namespace edgeswarm::swarm {
namespace {

using fixed::q16;
using u128 = unsigned __int128;

constexpr int kScaleBits = 30;
constexpr std::int64_t kScaleOne = std::int64_t{1} << kScaleBits;
constexpr std::int64_t kMaxTauRaw = std::int64_t{1} << 47;

int bit_length(u128 x) {
  const auto hi = static_cast<std::uint64_t>(x >> 64);
  if (hi != 0) return 128 - __builtin_clzll(hi);
  const auto lo = static_cast<std::uint64_t>(x);
  return lo == 0 ? 0 : 64 - __builtin_clzll(lo);
}

}  // namespace

std::uint64_t isqrt_u128(u128 x) {
  if (x == 0) return 0;
  // Newton's iteration from a power of two above the root decreases
  // monotonically and stops at floor(sqrt(x)).
  u128 r = static_cast<u128>(1) << ((bit_length(x) + 1) / 2);
  while (true) {
    const u128 next = (r + x / r) >> 1;
    if (next >= r) break;
    r = next;
  }
  return static_cast<std::uint64_t>(r);
}

std::int64_t clip_tau_raw(double clip_tau) {
  const double raw = std::round(clip_tau * fixed::kOne);
  if (!std::isfinite(clip_tau) || !(raw >= 1.0) || raw > static_cast<double>(kMaxTauRaw)) {
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, clip_tau);
    throw std::invalid_argument("clip_tau: " + std::string(buf, res.ptr) +
                                " is out of range; allowed a finite radius with round(clip_tau * 65536) in "
                                "[1, 2^47], about [7.7e-06, 2.1e+09]");
  }
  return static_cast<std::int64_t>(raw);
}

void centered_clipping(const q16* values, std::size_t n, std::size_t d, const q16* center, std::int64_t tau_raw,
                       int iters, q16* out, Workspace& work) {
  if (n == 0) throw std::invalid_argument("n: 0 reports; at least 1 is required");
  if (tau_raw < 1 || tau_raw > kMaxTauRaw) {
    throw std::invalid_argument("tau_raw: " + std::to_string(tau_raw) + " is out of range; allowed [1, 2^47]");
  }
  if (iters < 1) throw std::invalid_argument("clip_iters: " + std::to_string(iters) + " is out of range; allowed >= 1");
  if (d == 0) return;
  if (center != nullptr) {
    std::copy(center, center + d, out);
  } else {
    median(values, n, d, out, work);
  }
  std::int64_t* acc = reserve_scratch(work.wide, 2 * d);
  std::int64_t* diff = acc + d;
  const auto count = static_cast<std::int64_t>(n);
  for (int it = 0; it < iters; ++it) {
    std::fill(acc, acc + d, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const q16* x = values + i * d;
      u128 norm2 = 0;
      for (std::size_t c = 0; c < d; ++c) {
        diff[c] = std::int64_t{x[c]} - out[c];
        const auto mag = static_cast<std::uint64_t>(diff[c] < 0 ? -diff[c] : diff[c]);
        norm2 += static_cast<u128>(mag * mag);
      }
      const auto norm = static_cast<std::int64_t>(isqrt_u128(norm2));
      if (norm <= tau_raw) {
        for (std::size_t c = 0; c < d; ++c) acc[c] += diff[c];
        continue;
      }
      const auto scale =
          static_cast<std::int64_t>(fixed::div_round<__int128>(static_cast<__int128>(tau_raw) << kScaleBits, norm));
      for (std::size_t c = 0; c < d; ++c) acc[c] += fixed::div_round<std::int64_t>(diff[c] * scale, kScaleOne);
    }
    for (std::size_t c = 0; c < d; ++c) {
      out[c] = fixed::saturate(std::int64_t{out[c]} + fixed::div_round<std::int64_t>(acc[c], count));
    }
  }
}

}  // namespace edgeswarm::swarm
