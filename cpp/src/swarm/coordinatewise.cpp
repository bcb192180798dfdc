#include "edgeswarm/swarm/coordinatewise.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "edgeswarm/swarm/trimmed_mean.hpp"

namespace edgeswarm::swarm {
namespace {

using fixed::q16;

void require_rows(std::size_t n) {
  if (n == 0) throw std::invalid_argument("n: 0 reports; at least 1 is required");
}

}  // namespace

void mean(const q16* values, std::size_t n, std::size_t d, q16* out) {
  require_rows(n);
  std::vector<std::int64_t> sums(d);
  column_sum(values, n, d, sums.data());
  for (std::size_t c = 0; c < d; ++c) out[c] = fixed::mean_of_sum<std::int64_t>(sums[c], static_cast<std::int64_t>(n));
}

void median(const q16* values, std::size_t n, std::size_t d, q16* out, Workspace& work) {
  require_rows(n);
  // Trimming (n - 1) / 2 per side keeps the middle value (odd n) or the two
  // middle values (even n), averaged by the rounding rule: the median.
  trimmed_mean(values, n, d, (n - 1) / 2, out, work);
}

void reputation_trimmed_mean(const q16* values, std::size_t n, std::size_t d, const q16* weights, std::size_t f,
                             q16* out, Workspace& work) {
  require_rows(n);
  if (2 * f >= n) {
    throw std::invalid_argument("f: " + std::to_string(f) + " leaves no report of n = " + std::to_string(n) +
                                "; allowed 2f < n");
  }
  if (weights == nullptr) throw std::invalid_argument("weights: required (one per report)");
  for (std::size_t r = 0; r < n; ++r) {
    if (weights[r] < 0 || weights[r] > fixed::kOne) {
      throw std::invalid_argument("weights: " + std::to_string(weights[r]) + " at row " + std::to_string(r) +
                                  " is out of range; allowed [0, 65536] (Q16.16 in [0, 1])");
    }
  }
  if (d == 0) return;
  // Key = value * 2^32 + weight: ordering keys orders by (value, weight).
  constexpr std::size_t kBlock = 16;
  std::uint64_t* keys = reserve_scratch(work.keys, n * kBlock);
  const auto keep = static_cast<std::int64_t>(n - 2 * f);
  for (std::size_t b0 = 0; b0 < d; b0 += kBlock) {
    const std::size_t w = std::min(kBlock, d - b0);
    for (std::size_t r = 0; r < n; ++r) {
      const q16* row = values + r * d + b0;
      const auto wr = static_cast<std::int64_t>(weights[r]);
      for (std::size_t j = 0; j < w; ++j) {
        const std::int64_t key = std::int64_t{row[j]} * (std::int64_t{1} << 32) + wr;
        keys[j * n + r] = static_cast<std::uint64_t>(key) ^ (std::uint64_t{1} << 63);  // order-preserving
      }
    }
    for (std::size_t j = 0; j < w; ++j) {
      std::uint64_t* col = keys + j * n;
      if (f > 0) {
        std::nth_element(col, col + f, col + n);
        std::nth_element(col + f, col + (n - f), col + n);
      }
      __int128 weighted = 0;
      std::int64_t weight_sum = 0;
      std::int64_t plain = 0;
      for (std::size_t i = f; i < n - f; ++i) {
        const auto key = static_cast<std::int64_t>(col[i] ^ (std::uint64_t{1} << 63));
        const std::int64_t x = key >> 32;  // floor division by 2^32
        const std::int64_t wt = key & 0xFFFFFFFF;
        weighted += static_cast<__int128>(x) * wt;
        weight_sum += wt;
        plain += x;
      }
      out[b0 + j] = weight_sum == 0 ? fixed::mean_of_sum<std::int64_t>(plain, keep)
                                    : fixed::mean_of_sum<__int128>(weighted, weight_sum);
    }
  }
}

}  // namespace edgeswarm::swarm
