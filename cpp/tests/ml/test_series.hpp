#pragma once
// Shared helpers of the detector tests: a seeded noisy series and the
// chunked-versus-batch check.

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <vector>

#include "edgeswarm/core/rng.hpp"

namespace ml_test {

/// n x dim standard-normal values from the project RNG.
inline std::vector<double> noise(std::size_t n, int dim, std::uint64_t seed) {
  edgeswarm::core::Rng rng(seed, 0);
  std::vector<double> x(n * dim);
  for (auto& v : x) v = rng.normal();
  return x;
}

/// Runs `make()` twice: one update_batch over all rows, and over uneven chunks;
/// scores and confidences must be bit-identical.
template <typename Make>
void expect_chunked_equals_batch(Make make, const std::vector<double>& x, int dim) {
  const std::size_t n = x.size() / dim;
  auto a = make();
  std::vector<double> sa(n), ca(n);
  a.update_batch(x.data(), n, sa.data(), ca.data());
  auto b = make();
  std::vector<double> sb(n), cb(n);
  std::size_t start = 0, chunk = 1;
  while (start < n) {
    const std::size_t len = std::min(chunk, n - start);
    b.update_batch(x.data() + start * dim, len, sb.data() + start, cb.data() + start);
    start += len;
    chunk = chunk * 3 + 1;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(sa[i])) {
      EXPECT_TRUE(std::isnan(sb[i])) << i;
    } else {
      EXPECT_EQ(sa[i], sb[i]) << i;
    }
    EXPECT_EQ(ca[i], cb[i]) << i;
  }
}

}  // namespace ml_test
