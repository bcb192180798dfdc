#include "edgeswarm/swarm/krum.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace edgeswarm::swarm {
namespace {

using fixed::q16;
using u128 = unsigned __int128;

/// Largest n for which the full n x n distance matrix is kept (16 MiB).
constexpr std::size_t kMatrixRows = 1024;

/// Exact squared L2 distance between two rows of d raw values.
u128 squared_distance(const q16* a, const q16* b, std::size_t d, bool fits_u64) {
  if (fits_u64) {
    std::uint64_t s = 0;
    for (std::size_t c = 0; c < d; ++c) {
      const std::int64_t diff = std::int64_t{a[c]} - b[c];
      s += static_cast<std::uint64_t>(diff * diff);
    }
    return s;
  }
  u128 s = 0;
  for (std::size_t c = 0; c < d; ++c) {
    const std::int64_t diff = std::int64_t{a[c]} - b[c];
    const auto mag = static_cast<std::uint64_t>(diff < 0 ? -diff : diff);
    s += static_cast<u128>(mag * mag);  // mag < 2^32, so mag^2 fits in 64 bits
  }
  return s;
}

/// True when every squared distance is below 2^63, so 64-bit sums are exact.
bool distances_fit_u64(const q16* values, std::size_t n, std::size_t d) {
  if (n == 0 || d == 0) return true;
  std::int64_t lo = values[0], hi = values[0];
  for (std::size_t i = 0; i < n * d; ++i) {
    lo = std::min<std::int64_t>(lo, values[i]);
    hi = std::max<std::int64_t>(hi, values[i]);
  }
  const auto span = static_cast<u128>(hi - lo);
  return span * span * d < (static_cast<u128>(1) << 63);
}

void check(std::size_t n, std::size_t f) {
  if (n == 0) throw std::invalid_argument("n: 0 reports; at least 1 is required");
  if (n <= 2 * f + 2) {
    throw std::invalid_argument("krum_f: f = " + std::to_string(f) + " needs n > 2f + 2 = " +
                                std::to_string(2 * f + 2) + " reports; got n = " + std::to_string(n));
  }
}

}  // namespace

void krum_scores(const q16* values, std::size_t n, std::size_t d, std::size_t f, u128* scores, Workspace& work) {
  check(n, f);
  const bool fits = distances_fit_u64(values, n, d);
  const std::size_t k = n - f - 2;  // nearest neighbours counted
  const bool matrix = n <= kMatrixRows;
  u128* row = reserve_scratch(work.wide128, n + (matrix ? n * n : 0));
  u128* dist = matrix ? row + n : nullptr;
  if (matrix) {
    for (std::size_t i = 0; i < n; ++i) {
      dist[i * n + i] = 0;
      for (std::size_t j = i + 1; j < n; ++j) {
        const u128 dd = squared_distance(values + i * d, values + j * d, d, fits);
        dist[i * n + j] = dd;
        dist[j * n + i] = dd;
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t m = 0;
    for (std::size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      row[m++] = matrix ? dist[i * n + j] : squared_distance(values + i * d, values + j * d, d, fits);
    }
    std::nth_element(row, row + (k - 1), row + m);
    u128 s = 0;
    for (std::size_t t = 0; t < k; ++t) s += row[t];
    scores[i] = s;
  }
}

void multi_krum(const q16* values, std::size_t n, std::size_t d, std::size_t f, std::size_t m, q16* out,
                Workspace& work) {
  check(n, f);
  if (m < 1 || m > n) {
    throw std::invalid_argument("multi_krum_m: " + std::to_string(m) + " is out of range for n = " + std::to_string(n) +
                                " reports; allowed 1 <= multi_krum_m <= n");
  }
  std::vector<u128> scores(n);
  krum_scores(values, n, d, f, scores.data(), work);
  std::uint32_t* order = reserve_scratch(work.index, n);
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
  auto better = [&](std::uint32_t a, std::uint32_t b) {
    if (scores[a] != scores[b]) return scores[a] < scores[b];
    return std::lexicographical_compare(values + a * d, values + (a + 1) * d, values + b * d, values + (b + 1) * d);
  };
  std::partial_sort(order, order + m, order + n, better);
  for (std::size_t c = 0; c < d; ++c) {
    std::int64_t s = 0;
    for (std::size_t t = 0; t < m; ++t) s += values[order[t] * d + c];
    out[c] = fixed::mean_of_sum<std::int64_t>(s, static_cast<std::int64_t>(m));
  }
}

}  // namespace edgeswarm::swarm
