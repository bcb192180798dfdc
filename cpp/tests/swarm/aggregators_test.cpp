#include "edgeswarm/swarm/aggregators.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "../expect_invalid.hpp"
#include "edgeswarm/core/rng.hpp"
#include "edgeswarm/swarm/centered_clipping.hpp"
#include "edgeswarm/swarm/coordinatewise.hpp"
#include "edgeswarm/swarm/krum.hpp"
#include "edgeswarm/swarm/trimmed_mean.hpp"

namespace es = edgeswarm::swarm;
namespace fx = edgeswarm::fixed;
using edgeswarm::core::Rng;
using fx::q16;

namespace {

std::vector<q16> run(es::AggregatorKind kind, const std::vector<q16>& values, std::size_t n, std::size_t d,
                     es::AggregatorParams params = {}, const std::vector<q16>* weights = nullptr,
                     const std::vector<q16>* center = nullptr) {
  params.kind = kind;
  es::Aggregator agg(params);
  std::vector<q16> out(d, 12345);
  agg.aggregate(values.data(), n, d, weights ? weights->data() : nullptr, center ? center->data() : nullptr,
                out.data());
  return out;
}

/// Sort-based trimmed mean, written independently of the kernels.
std::vector<q16> reference_trimmed_mean(const std::vector<q16>& v, std::size_t n, std::size_t d, std::size_t f) {
  std::vector<q16> out(d);
  std::vector<q16> col(n);
  for (std::size_t c = 0; c < d; ++c) {
    for (std::size_t r = 0; r < n; ++r) col[r] = v[r * d + c];
    std::sort(col.begin(), col.end());
    std::int64_t s = 0;
    for (std::size_t r = f; r < n - f; ++r) s += col[r];
    out[c] = fx::mean_of_sum<std::int64_t>(s, static_cast<std::int64_t>(n - 2 * f));
  }
  return out;
}

/// Random matrices of several shapes of value distribution (ties, extremes, outliers).
std::vector<q16> random_matrix(Rng& rng, std::size_t n, std::size_t d, int kind) {
  std::vector<q16> v(n * d);
  for (std::size_t i = 0; i < n * d; ++i) {
    const std::uint64_t u = rng.next_u64();
    switch (kind) {
      case 0:
        v[i] = static_cast<q16>(static_cast<std::uint32_t>(u));
        break;  // full range
      case 1:
        v[i] = static_cast<q16>(rng.below(7)) - 3;
        break;  // heavy ties
      case 2:
        v[i] = (u & 1) ? fx::kMax : fx::kMin;
        break;  // extremes
      case 3:
        v[i] = static_cast<q16>(rng.below(1 << 20)) + ((i / d) % 10 < 3 ? (1 << 28) : 0);
        break;  // 30% biased
      case 4:
        v[i] = 42;
        break;  // all equal
      default:
        v[i] = static_cast<q16>(rng.normal() * 65536.0);
        break;  // gaussian
    }
  }
  if (kind == 5) {  // sorted columns: structured input for the sampler
    for (std::size_t c = 0; c < d; ++c) {
      std::vector<q16> col(n);
      for (std::size_t r = 0; r < n; ++r) col[r] = v[r * d + c];
      std::sort(col.begin(), col.end());
      for (std::size_t r = 0; r < n; ++r) v[r * d + c] = col[r];
    }
  }
  return v;
}

std::vector<q16> permute_rows(const std::vector<q16>& v, std::size_t n, std::size_t d,
                              const std::vector<std::size_t>& perm) {
  std::vector<q16> out(n * d);
  for (std::size_t r = 0; r < n; ++r) std::copy_n(v.begin() + perm[r] * d, d, out.begin() + r * d);
  return out;
}

}  // namespace

TEST(Aggregators, NamesRoundTrip) {
  for (const char* name :
       {"mean", "trimmed_mean", "median", "reputation_trimmed_mean", "krum", "multi_krum", "centered_clipping"}) {
    EXPECT_EQ(es::to_string(es::parse_aggregator(name)), name);
  }
  expect_invalid([] { es::parse_aggregator("average"); }, "aggregator");
}

TEST(Aggregators, MeanRoundsTiesAwayFromZero) {
  EXPECT_EQ(run(es::AggregatorKind::Mean, {1, 2}, 2, 1)[0], 2);     // 1.5 -> 2
  EXPECT_EQ(run(es::AggregatorKind::Mean, {-1, -2}, 2, 1)[0], -2);  // -1.5 -> -2
  EXPECT_EQ(run(es::AggregatorKind::Mean, {1, 1, 2}, 3, 1)[0], 1);  // 1.33 -> 1
  // Exact int64 sum: no overflow at the extremes.
  EXPECT_EQ(run(es::AggregatorKind::Mean, {fx::kMax, fx::kMax, fx::kMax}, 3, 1)[0], fx::kMax);
  EXPECT_EQ(run(es::AggregatorKind::Mean, {fx::kMin, fx::kMax}, 2, 1)[0], -1);  // -0.5 -> -1
}

TEST(Aggregators, TrimmedMeanDropsExtremesPerColumn) {
  // Column 0: 10 1 100 3 2 -> drop 1 and 100 -> (2 + 3 + 10) / 3 = 5.
  // Column 1: 5 5 5 5 -7 -> drop -7 and one 5 -> 5.
  const std::vector<q16> v = {10, 5, 1, 5, 100, 5, 3, 5, 2, -7};
  es::AggregatorParams p;
  p.trim_count = 1;
  EXPECT_EQ(run(es::AggregatorKind::TrimmedMean, v, 5, 2, p), (std::vector<q16>{5, 5}));
  p.trim_count = -1;
  p.trim = 0.2;  // floor(0.2 * 5) = 1
  EXPECT_EQ(run(es::AggregatorKind::TrimmedMean, v, 5, 2, p), (std::vector<q16>{5, 5}));
  p.trim = 0.19;  // floor(0.95) = 0: plain mean, (116 / 5 = 23.2 -> 23, 13 / 5 = 2.6 -> 3)
  EXPECT_EQ(run(es::AggregatorKind::TrimmedMean, v, 5, 2, p), (std::vector<q16>{23, 3}));
}

TEST(Aggregators, MedianOddAndEven) {
  EXPECT_EQ(run(es::AggregatorKind::Median, {5, 1, 3}, 3, 1)[0], 3);
  EXPECT_EQ(run(es::AggregatorKind::Median, {4, 1, 3, 2}, 4, 1)[0], 3);       // 2.5 -> 3
  EXPECT_EQ(run(es::AggregatorKind::Median, {-4, -1, -3, -2}, 4, 1)[0], -3);  // -2.5 -> -3
  EXPECT_EQ(run(es::AggregatorKind::Median, {7}, 1, 1)[0], 7);
  EXPECT_EQ(run(es::AggregatorKind::Median, {fx::kMax, fx::kMax}, 2, 1)[0], fx::kMax);
}

TEST(Aggregators, ReputationTrimmedMeanWeightsKeptValues) {
  es::AggregatorParams p;
  p.trim_count = 1;
  // Keeps 2 (weight 1) and 3 (weight 0): the weighted mean is 2.
  std::vector<q16> w = {fx::kOne, fx::kOne, 0, fx::kOne};
  EXPECT_EQ(run(es::AggregatorKind::ReputationTrimmedMean, {1, 2, 3, 100}, 4, 1, p, &w)[0], 2);
  // Ties at the cut are resolved by (value, weight): (1,0) (1,1) (4,0) (4,1) keeps (1,1) and (4,0) -> 1.
  w = {0, fx::kOne, 0, fx::kOne};
  EXPECT_EQ(run(es::AggregatorKind::ReputationTrimmedMean, {1, 1, 4, 4}, 4, 1, p, &w)[0], 1);
  std::vector<q16> w_rev = {fx::kOne, 0, fx::kOne, 0};
  EXPECT_EQ(run(es::AggregatorKind::ReputationTrimmedMean, {1, 1, 4, 4}, 4, 1, p, &w_rev)[0], 1);
  // Weighted rounding: (1 * 1 + 2 * 2) / 3 = 1.67 -> 2 (weights 1 and 2 raw).
  p.trim_count = 0;
  w = {1, 2};
  EXPECT_EQ(run(es::AggregatorKind::ReputationTrimmedMean, {1, 2}, 2, 1, p, &w)[0], 2);
  // All kept weights zero: unweighted trimmed mean.
  p.trim_count = 1;
  w = {fx::kOne, 0, 0, fx::kOne};
  EXPECT_EQ(run(es::AggregatorKind::ReputationTrimmedMean, {1, 2, 5, 100}, 4, 1, p, &w)[0], 4);  // 3.5 -> 4
}

TEST(Aggregators, KrumPicksTheMostCentralReport) {
  // 1-D reports 0 1 2 3 100, f = 1: two nearest neighbours each.
  // Scores: 0 -> 1 + 4 = 5, 1 -> 2, 2 -> 2, 3 -> 5, 100 -> 9409 + 9604.
  const std::vector<q16> v = {2, 100, 0, 3, 1};
  es::AggregatorParams p;
  p.krum_f = 1;
  EXPECT_EQ(run(es::AggregatorKind::Krum, v, 5, 1, p)[0], 1);  // tie 1 vs 2 -> smaller values first
  p.multi_krum_m = 3;
  EXPECT_EQ(run(es::AggregatorKind::MultiKrum, v, 5, 1, p)[0], 1);  // {1, 2, 0}
  p.multi_krum_m = 4;
  EXPECT_EQ(run(es::AggregatorKind::MultiKrum, v, 5, 1, p)[0], 2);  // {1, 2, 0, 3} -> 1.5 -> 2
  p.multi_krum_m = -1;                                              // n - f = 4
  EXPECT_EQ(run(es::AggregatorKind::MultiKrum, v, 5, 1, p)[0], 2);
}

TEST(Aggregators, KrumScoresAreExactBeyond64Bits) {
  // Two coordinates at opposite extremes: each squared difference is about
  // 2^64, so the sum needs more than 64 bits.
  const std::vector<q16> v = {fx::kMin, fx::kMin, fx::kMax, fx::kMax, 0, 0, 1, 1};
  es::Workspace work;
  std::vector<unsigned __int128> scores(4);
  es::krum_scores(v.data(), 4, 2, 0, scores.data(), work);  // 2 nearest of the other 3
  using u128 = unsigned __int128;
  auto sq = [](std::uint64_t x) { return static_cast<u128>(x) * x; };
  const u128 s0 = 2 * sq(0x80000000ULL) + 2 * sq(0x80000001ULL);  // nearest: (0,0) and (1,1)
  EXPECT_TRUE(s0 > static_cast<u128>(~std::uint64_t{0}));         // needs more than 64 bits
  EXPECT_TRUE(scores[0] == s0);
  EXPECT_TRUE(scores[1] == 2 * sq(0x7FFFFFFEULL) + 2 * sq(0x7FFFFFFFULL));
  EXPECT_TRUE(scores[2] == 2 + 2 * sq(0x7FFFFFFFULL));
  EXPECT_TRUE(scores[3] == 2 + 2 * sq(0x7FFFFFFEULL));
}

TEST(Aggregators, CenteredClippingHandComputed) {
  es::AggregatorParams p;
  p.clip_tau = 1.0;
  p.clip_iters = 1;
  // One outlier 10 units away from the center 0 is clipped to 1 unit: 1 / 4.
  const std::vector<q16> v = {0, 0, 0, 10 * fx::kOne};
  const std::vector<q16> center = {0};
  EXPECT_EQ(run(es::AggregatorKind::CenteredClipping, v, 4, 1, p, nullptr, &center)[0], fx::kOne / 4);
  // A (3, 4) report, norm 5: scale = round(2^30 / 5) = 214748365, steps
  // round(3 * 65536 * scale / 2^30) = 39322 and round(4 * 65536 * scale / 2^30) = 52429.
  const std::vector<q16> v2 = {3 * fx::kOne, 4 * fx::kOne};
  const std::vector<q16> c2 = {0, 0};
  EXPECT_EQ(run(es::AggregatorKind::CenteredClipping, v2, 1, 2, p, nullptr, &c2), (std::vector<q16>{39322, 52429}));
  // Inside the radius the step is the plain mean of the differences.
  p.clip_tau = 100.0;
  EXPECT_EQ(run(es::AggregatorKind::CenteredClipping, {1, 2, 4}, 3, 1, p, nullptr, &center)[0], 2);  // 7/3
  // Without a center it starts from the median (2): differences -1, 0, 2 -> +1/3 -> 2.
  EXPECT_EQ(run(es::AggregatorKind::CenteredClipping, {1, 2, 4}, 3, 1, p)[0], 2);
}

TEST(Aggregators, IntegerSquareRootIsExact) {
  using u128 = unsigned __int128;
  EXPECT_EQ(es::isqrt_u128(0), 0u);
  EXPECT_EQ(es::isqrt_u128(1), 1u);
  EXPECT_EQ(es::isqrt_u128(15), 3u);
  EXPECT_EQ(es::isqrt_u128(16), 4u);
  const std::uint64_t big = ~std::uint64_t{0};
  EXPECT_EQ(es::isqrt_u128(static_cast<u128>(big) * big), big);
  EXPECT_EQ(es::isqrt_u128(static_cast<u128>(big) * big - 1), big - 1);
  EXPECT_EQ(es::isqrt_u128(~static_cast<u128>(0)), big);
  Rng rng(3, 0);
  for (int i = 0; i < 2000; ++i) {
    const u128 x = (static_cast<u128>(rng.next_u64()) << (rng.below(64))) ^ rng.next_u64();
    const u128 r = es::isqrt_u128(x);
    EXPECT_TRUE(r * r <= x && (r + 1) * (r + 1) > x);
  }
}

TEST(Aggregators, TrimmedMeanKernelMatchesSortReference) {
  Rng rng(11, 0);
  es::Workspace work;
  const std::size_t ns[] = {1, 2, 3, 5, 31, 32, 33, 47, 64, 100, 129, 300, 1000};
  const std::size_t ds[] = {1, 2, 7, 8, 15, 16, 17, 33};
  for (std::size_t n : ns) {
    for (std::size_t d : ds) {
      if (n * d > 40000) continue;
      for (int kind = 0; kind < 6; ++kind) {
        const auto v = random_matrix(rng, n, d, kind);
        for (std::size_t f : {std::size_t{0}, std::size_t{1}, n / 10, 3 * n / 10, (n - 1) / 2}) {
          if (2 * f >= n) continue;
          const auto expected = reference_trimmed_mean(v, n, d, f);
          std::vector<q16> fast(d), portable(d);
          es::trimmed_mean(v.data(), n, d, f, fast.data(), work);
          es::trimmed_mean_portable(v.data(), n, d, f, portable.data(), work);
          ASSERT_EQ(fast, expected) << "n=" << n << " d=" << d << " f=" << f << " kind=" << kind;
          ASSERT_EQ(portable, expected) << "n=" << n << " d=" << d << " f=" << f << " kind=" << kind;
        }
      }
    }
  }
}

TEST(Aggregators, TrimmedMeanKernelMatchesOnTallMatrices) {
  // Tall inputs take the copied-tile path and the larger samples.
  Rng rng(12, 0);
  es::Workspace work;
  for (std::size_t n : {std::size_t{2100}, std::size_t{4500}, std::size_t{17000}}) {
    for (int kind : {0, 1, 3, 5}) {
      const std::size_t d = n > 10000 ? 2 : 17;
      const auto v = random_matrix(rng, n, d, kind);
      for (std::size_t f : {n / 10, 3 * n / 10, (n - 1) / 2}) {
        std::vector<q16> fast(d);
        es::trimmed_mean(v.data(), n, d, f, fast.data(), work);
        ASSERT_EQ(fast, reference_trimmed_mean(v, n, d, f)) << "n=" << n << " f=" << f << " kind=" << kind;
      }
    }
  }
}

TEST(Aggregators, TrimmedMeanKernelSurvivesMisleadingSampleRows) {
  // The SIMD kernel picks its splitters from evenly spaced rows (r = (2i + 1) n / 2s, with
  // s = 32 for n < 512, 64 for n < 2048, 128 for n < 4096). Here exactly those rows hold
  // values near the top of the range, so the splitters land far from both cuts: the
  // buckets become wide (the lane-by-lane path for n >= 512, a 32-bit radix search below)
  // and the result must still be exact.
  Rng rng(13, 0);
  es::Workspace work;
  for (std::size_t n : {std::size_t{300}, std::size_t{1000}, std::size_t{2100}}) {
    const std::size_t s = n < 512 ? 32 : n < 2048 ? 64 : 128;
    for (std::size_t d : {std::size_t{16}, std::size_t{3}}) {
      auto v = random_matrix(rng, n, d, 5);
      for (std::size_t i = 0; i < s; ++i) {
        const std::size_t r = (2 * i + 1) * n / (2 * s);
        for (std::size_t c = 0; c < d; ++c) v[r * d + c] = fx::kMax - static_cast<q16>(rng.below(64));
      }
      for (std::size_t f : {std::size_t{1}, n / 10, 3 * n / 10, (n - 1) / 2}) {
        std::vector<q16> fast(d);
        es::trimmed_mean(v.data(), n, d, f, fast.data(), work);
        ASSERT_EQ(fast, reference_trimmed_mean(v, n, d, f)) << "n=" << n << " d=" << d << " f=" << f;
      }
    }
  }
}

TEST(Aggregators, TrimmedMeanKernelHandlesTiedCutsAndWideValueRanges) {
  // Ties at the cut (few distinct values spaced 1 raw unit or 1.0 apart) and columns that
  // mix the full int32 range with a dense cluster: buckets of one value, 32-bit spans.
  Rng rng(14, 0);
  es::Workspace work;
  const std::size_t n = 700, d = 21;
  for (int variant = 0; variant < 3; ++variant) {
    std::vector<q16> v(n * d);
    for (auto& x : v) {
      switch (variant) {
        case 0:
          x = static_cast<q16>(rng.below(5));
          break;
        case 1:
          x = static_cast<q16>(rng.below(9)) * fx::kOne - 4 * fx::kOne;
          break;
        default:
          x = rng.below(4) == 0 ? static_cast<q16>(static_cast<std::uint32_t>(rng.next_u64()))
                                : static_cast<q16>(rng.below(1000));
      }
    }
    for (std::size_t f : {std::size_t{1}, n / 10, 3 * n / 10, (n - 1) / 2}) {
      std::vector<q16> fast(d);
      es::trimmed_mean(v.data(), n, d, f, fast.data(), work);
      ASSERT_EQ(fast, reference_trimmed_mean(v, n, d, f)) << "variant=" << variant << " f=" << f;
    }
  }
}

TEST(Aggregators, ColumnSumIsExact) {
  const std::vector<q16> v = {fx::kMax, 1, fx::kMax, -1, fx::kMax, 0};
  std::vector<std::int64_t> s(2);
  es::column_sum(v.data(), 3, 2, s.data());
  EXPECT_EQ(s[0], 3 * std::int64_t{fx::kMax});
  EXPECT_EQ(s[1], 0);
}

TEST(Aggregators, EveryRuleIsIndependentOfRowOrder) {
  Rng rng(5, 0);
  const std::size_t n = 41, d = 6;
  for (int kind = 0; kind < 6; ++kind) {
    const auto v = random_matrix(rng, n, d, kind == 2 ? 1 : kind);
    std::vector<q16> w(n);
    for (auto& x : w) x = static_cast<q16>(rng.below(3)) * fx::kOne / 2;
    std::vector<std::size_t> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    for (std::size_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(i + 1)]);
    const auto pv = permute_rows(v, n, d, perm);
    std::vector<q16> pw(n);
    for (std::size_t r = 0; r < n; ++r) pw[r] = w[perm[r]];
    es::AggregatorParams p;
    p.trim = 0.3;
    p.clip_tau = 0.5;
    for (auto k : {es::AggregatorKind::Mean, es::AggregatorKind::TrimmedMean, es::AggregatorKind::Median,
                   es::AggregatorKind::ReputationTrimmedMean, es::AggregatorKind::Krum, es::AggregatorKind::MultiKrum,
                   es::AggregatorKind::CenteredClipping}) {
      EXPECT_EQ(run(k, v, n, d, p, &w), run(k, pv, n, d, p, &pw)) << es::to_string(k) << " kind=" << kind;
    }
  }
}

TEST(Aggregators, ByzantineRowsMoveTheMeanButNotTheRobustRules) {
  Rng rng(9, 0);
  const std::size_t n = 100, d = 4;
  std::vector<q16> v(n * d);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t c = 0; c < d; ++c) {
      v[r * d + c] = r < 30 ? 1000 * fx::kOne : fx::from_double(1.0 + 0.01 * rng.normal());
    }
  }
  es::AggregatorParams p;
  p.trim = 0.3;
  for (auto k : {es::AggregatorKind::TrimmedMean, es::AggregatorKind::Median, es::AggregatorKind::Krum,
                 es::AggregatorKind::MultiKrum}) {
    for (q16 x : run(k, v, n, d, p)) EXPECT_NEAR(fx::to_double(x), 1.0, 0.05) << es::to_string(k);
  }
  for (q16 x : run(es::AggregatorKind::Mean, v, n, d, p)) EXPECT_GT(fx::to_double(x), 100.0);
}

TEST(Aggregators, InvalidParametersNameThemselves) {
  auto with = [](auto edit) {
    es::AggregatorParams p;
    edit(p);
    return p;
  };
  expect_invalid([&] { es::validate(with([](auto& p) { p.trim = 0.5; })); }, "trim");
  expect_invalid([&] { es::validate(with([](auto& p) { p.trim = -0.1; })); }, "trim");
  expect_invalid([&] { es::validate(with([](auto& p) { p.trim_count = -2; })); }, "trim_count");
  expect_invalid([&] { es::validate(with([](auto& p) { p.krum_f = -2; })); }, "krum_f");
  expect_invalid([&] { es::validate(with([](auto& p) { p.multi_krum_m = 0; })); }, "multi_krum_m");
  expect_invalid([&] { es::validate(with([](auto& p) { p.clip_tau = 0.0; })); }, "clip_tau");
  expect_invalid([&] { es::validate(with([](auto& p) { p.clip_iters = 0; })); }, "clip_iters");
  expect_invalid([&] { es::Aggregator a(with([](auto& p) { p.trim = 0.7; })); }, "trim");

  expect_invalid([&] { es::trim_per_side(0, {}); }, "n");
  expect_invalid([&] { es::trim_per_side(10, with([](auto& p) { p.trim_count = 5; })); }, "trim_count");
  EXPECT_EQ(es::trim_per_side(10, with([](auto& p) { p.trim = 0.3; })), 3u);
  EXPECT_EQ(es::trim_per_side(10, with([](auto& p) { p.trim_count = 4; })), 4u);
  expect_invalid([&] { es::krum_byzantine(4, with([](auto& p) { p.krum_f = 1; })); }, "krum_f");
  EXPECT_EQ(es::krum_byzantine(5, with([](auto& p) { p.krum_f = 1; })), 1u);

  const std::vector<q16> v = {1, 2, 3, 4};
  std::vector<q16> out(1);
  expect_invalid([&] { es::trimmed_mean(v.data(), 4, 1, 2, out.data()); }, "f");
  expect_invalid([&] { es::trimmed_mean(v.data(), 0, 1, 0, out.data()); }, "n");
  std::vector<q16> w = {0, 0, 70000, 0};
  expect_invalid([&] { run(es::AggregatorKind::ReputationTrimmedMean, v, 4, 1, {}, &w); }, "weights");
  expect_invalid([&] { run(es::AggregatorKind::ReputationTrimmedMean, v, 4, 1, {}); }, "weights");
  expect_invalid([&] { run(es::AggregatorKind::Krum, v, 4, 1, with([](auto& p) { p.krum_f = 1; })); }, "krum_f");
  expect_invalid(
      [&] {
        run(es::AggregatorKind::MultiKrum, v, 4, 1, with([](auto& p) {
              p.krum_f = 0;
              p.multi_krum_m = 5;
            }));
      },
      "multi_krum_m");
  expect_invalid([&] { run(es::AggregatorKind::Mean, {}, 0, 1); }, "n");
}
