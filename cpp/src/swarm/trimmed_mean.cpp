// Coordinate-wise trimmed mean. Two paths give bit-identical results:
//
// * portable: per block of 16 columns, transpose into scratch and select with
//   std::nth_element;
// * AVX-512 (chosen at run time): per tile of 16 lanes (16 columns of the
//   row-major matrix, or 16 slices of one contiguous column when d is small)
//   1. sort a sample of rows per lane with a vertical bitonic network and take
//      7 splitters around each of the two cut ranks (f and n - f);
//   2. a counting pass: how many values lie below each splitter, which tells
//      the bucket (between two splitters) that holds each cut;
//   3. a second counting pass with 7 splitters per cut evenly spaced in value
//      inside that bucket narrows it further;
//   4. one more pass sums the values between the outer bucket bounds, counts
//      the values equal to each bucket floor and collects the (few) others
//      inside the two buckets;
//   5. an exact selection in each bucket (a vertical bitonic sort of the
//      collected values) gives the sums of the values to drop.
//   The splitters only decide speed, never the result.
// The kept sum is then divided with the project rounding rule.

#include "edgeswarm/swarm/trimmed_mean.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "edgeswarm/swarm/aggregators.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define EDGESWARM_X86_SIMD 1
// GCC 12 reports false "uninitialized" warnings inside its own AVX-512
// headers (GCC bug 105593, fixed in GCC 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

namespace edgeswarm::swarm {
namespace {

using fixed::q16;
constexpr q16 kQMin = std::numeric_limits<q16>::min();
constexpr q16 kQMax = std::numeric_limits<q16>::max();

void check_args(const q16* values, std::size_t n, std::size_t d, std::size_t f, const q16* out) {
  if (n == 0) throw std::invalid_argument("n: 0 reports; at least 1 is required");
  if (2 * f >= n) {
    throw std::invalid_argument("f: " + std::to_string(f) + " leaves no report of n = " + std::to_string(n) +
                                "; allowed 2f < n");
  }
  if (d > 0 && values == nullptr) throw std::invalid_argument("values: null pointer");
  if (d > 0 && out == nullptr) throw std::invalid_argument("out: null pointer");
}

std::int64_t sum_range(const q16* a, std::size_t m) {
  std::int64_t s = 0;
  for (std::size_t i = 0; i < m; ++i) s += a[i];
  return s;
}

/// Sum of the k smallest of a[0..m) (reorders a).
std::int64_t sum_smallest(q16* a, std::size_t m, std::size_t k) {
  if (k == 0) return 0;
  if (k < m) std::nth_element(a, a + k, a + m);
  return sum_range(a, k);
}

/// Sum of the k largest of a[0..m) (reorders a).
std::int64_t sum_largest(q16* a, std::size_t m, std::size_t k) {
  if (k == 0) return 0;
  if (k < m) std::nth_element(a, a + (m - k), a + m);
  return sum_range(a + (m - k), k);
}

/// Sum of the k smallest of {eq copies of base} + list, where every list value exceeds base.
std::int64_t drop_smallest(q16 base, std::int64_t eq, q16* list, std::size_t m, std::int64_t k) {
  if (k <= eq) return k * base;
  return eq * base + sum_smallest(list, m, static_cast<std::size_t>(k - eq));
}

/// Sum of the k largest of {eq copies of base} + list, where every list value exceeds base.
std::int64_t drop_largest(q16 base, std::int64_t eq, q16* list, std::size_t m, std::int64_t k) {
  (void)eq;
  if (k <= static_cast<std::int64_t>(m)) return sum_largest(list, m, static_cast<std::size_t>(k));
  return sum_range(list, m) + (k - static_cast<std::int64_t>(m)) * base;
}

#if defined(EDGESWARM_X86_SIMD)
__attribute__((target_clones("avx512f", "default")))
#endif
void column_sum_impl(const q16* values, std::size_t n, std::size_t d, std::int64_t* out) {
  for (std::size_t c = 0; c < d; ++c) out[c] = 0;
  if (d == 1) {
    std::int64_t s = 0;
    for (std::size_t r = 0; r < n; ++r) s += values[r];
    out[0] = s;
    return;
  }
  for (std::size_t r = 0; r < n; ++r) {
    const q16* row = values + r * d;
    for (std::size_t c = 0; c < d; ++c) out[c] += row[c];
  }
}

void mean_from_sums(const std::int64_t* sums, std::size_t d, std::int64_t count, q16* out) {
  for (std::size_t c = 0; c < d; ++c) out[c] = fixed::mean_of_sum<std::int64_t>(sums[c], count);
}

void trimmed_mean_f0(const q16* values, std::size_t n, std::size_t d, q16* out, Workspace& work) {
  std::int64_t* sums = reserve_scratch(work.wide, d);
  column_sum_impl(values, n, d, sums);
  mean_from_sums(sums, d, static_cast<std::int64_t>(n), out);
}

void portable_columns(const q16* values, std::size_t n, std::size_t d, std::size_t f, std::size_t c0,
                      std::size_t c1, q16* out, Workspace& work) {
  constexpr std::size_t kBlock = 16;
  q16* buf = reserve_scratch(work.values, n * kBlock);
  const auto keep = static_cast<std::int64_t>(n - 2 * f);
  for (std::size_t b0 = c0; b0 < c1; b0 += kBlock) {
    const std::size_t w = std::min(kBlock, c1 - b0);
    for (std::size_t r = 0; r < n; ++r) {
      const q16* row = values + r * d + b0;
      for (std::size_t j = 0; j < w; ++j) buf[j * n + r] = row[j];
    }
    for (std::size_t j = 0; j < w; ++j) {
      q16* col = buf + j * n;
      std::nth_element(col, col + f, col + n);
      std::nth_element(col + f, col + (n - f), col + n);
      out[b0 + j] = fixed::mean_of_sum<std::int64_t>(sum_range(col + f, n - 2 * f), keep);
    }
  }
}

#if defined(EDGESWARM_X86_SIMD)

#define EDGESWARM_AVX512 __attribute__((target("avx512f")))

constexpr int kLanes = 16;
constexpr int kSplit = 7;  // splitters per cut; 2 x (7 + 7) vectors fit the 32 registers
constexpr std::size_t kMinRows = 32;
constexpr std::size_t kPrefetchRows = 24;
constexpr int kMaxSample = 512;
constexpr std::size_t kCopyRows = 2048;
constexpr std::size_t kMinHorizontalRows = 2048;

struct TileScratch {
  q16* cand = nullptr;  // collected bucket values
  q16* lane = nullptr;  // lane of each collected value
  q16* low = nullptr;   // lower bucket values, lane by lane (rows of 16)
  q16* high = nullptr;  // upper bucket values, lane by lane
};

int sample_size(std::size_t rows) {
  if (rows < 128) return 16;
  if (rows < 512) return 32;
  if (rows < 2048) return 64;
  if (rows < 4096) return 128;
  if (rows < 16384) return 256;
  return kMaxSample;
}

/// Sample ranks of the splitters around the cut with `below` of `total` values under it.
void splitter_ranks(std::size_t total, std::size_t below, int s, int* ranks) {
  const double q = static_cast<double>(below) / static_cast<double>(total);
  const double p = q * s;
  const double half = 2.5 * std::sqrt(s * q * (1.0 - q)) + 1.0;
  for (int k = 0; k < kSplit; ++k) {
    const double t = p - half + 2.0 * half * k / (kSplit - 1);
    ranks[k] = std::clamp(static_cast<int>(std::floor(t)), 0, s - 1);
  }
}

int pow2_at_least(int m) {
  int p = 1;
  while (p < m) p <<= 1;
  return m == 0 ? 0 : p;
}

/// Sorts each of the 16 lanes across `s` rows (a power of two) of 16 values
/// at `v`: a bitonic network applied to whole rows.
EDGESWARM_AVX512 void bitonic_sort_rows(q16* v, int s) {
  for (int k = 2; k <= s; k <<= 1) {
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int i = 0; i < s; ++i) {
        const int l = i ^ j;
        if (l <= i) continue;
        const __m512i a = _mm512_loadu_si512(v + i * kLanes), b = _mm512_loadu_si512(v + l * kLanes);
        const __m512i lo = _mm512_min_epi32(a, b), hi = _mm512_max_epi32(a, b);
        const bool up = (i & k) == 0;
        _mm512_storeu_si512(v + i * kLanes, up ? lo : hi);
        _mm512_storeu_si512(v + l * kLanes, up ? hi : lo);
      }
    }
  }
}

/// Per-lane plan after the counting pass (see the file comment).
struct Plan {
  alignas(64) q16 r_lo[kLanes];  // values in [r_lo, r_hi] are summed
  alignas(64) q16 r_hi[kLanes];
  alignas(64) q16 a_lo[kLanes];  // (a_lo, a_hi] collected, a_lo counted
  alignas(64) q16 a_hi[kLanes];
  alignas(64) q16 b_lo[kLanes];  // (b_lo, b_hi] collected, b_lo counted
  alignas(64) q16 b_hi[kLanes];
  std::int64_t k1[kLanes];  // values to drop from the bottom of bucket A
  std::int64_t k2[kLanes];  // values to drop from the top of bucket B (of A when merged)
  bool merged[kLanes];
};

/// Number of splitters (ascending, with exact counts below) whose count is <= below.
int lower_index(const std::int32_t* counts, int k, std::int64_t below) {
  int j = 0;
  for (int i = 1; i <= k; ++i) {
    if (counts[i - 1] <= below) j = i;
  }
  return j;
}

/// Smallest j in 1..k with counts[j - 1] >= need, or k + 1.
int upper_index(const std::int32_t* counts, int k, std::int64_t need) {
  int j = k + 1;
  for (int i = k; i >= 1; --i) {
    if (counts[i - 1] >= need) j = i;
  }
  return j;
}

void plan_column(const std::int32_t* cs, const q16* s_val, int ks, const std::int32_t* ct, const q16* t_val,
                 int kt, std::int64_t n_col, std::int64_t f_lo, std::int64_t f_hi, Plan& p, int lane) {
  const int j = lower_index(cs, ks, f_lo);
  const q16 r_lo = j == 0 ? kQMin : s_val[j - 1];
  const std::int64_t below = j == 0 ? 0 : cs[j - 1];
  q16 a_hi = j == ks ? kQMax : static_cast<q16>(s_val[j] - 1);
  const int jp = upper_index(ct, kt, n_col - f_hi);
  const q16 r_hi = jp == kt + 1 ? kQMax : static_cast<q16>(t_val[jp - 1] - 1);
  const std::int64_t above = jp == kt + 1 ? 0 : n_col - ct[jp - 1];
  q16 b_lo = jp == 1 ? kQMin : t_val[jp - 2];
  a_hi = std::min(a_hi, r_hi);
  b_lo = std::max(b_lo, r_lo);
  p.r_lo[lane] = r_lo;
  p.r_hi[lane] = r_hi;
  p.k1[lane] = f_lo - below;
  p.k2[lane] = f_hi - above;
  p.a_lo[lane] = r_lo;
  p.merged[lane] = std::int64_t{b_lo} <= std::int64_t{a_hi} + 1;
  if (p.merged[lane]) {
    p.a_hi[lane] = r_hi;
    p.b_lo[lane] = kQMax;  // empty: nothing is above kQMax
    p.b_hi[lane] = kQMin;
  } else {
    p.a_hi[lane] = a_hi;
    p.b_lo[lane] = b_lo;
    p.b_hi[lane] = r_hi;
  }
}

void plan_empty_lane(Plan& p, int lane) {
  p.r_lo[lane] = kQMax;
  p.r_hi[lane] = kQMin;
  p.a_lo[lane] = kQMax;
  p.a_hi[lane] = kQMin;
  p.b_lo[lane] = kQMax;
  p.b_hi[lane] = kQMin;
  p.k1[lane] = p.k2[lane] = 0;
  p.merged[lane] = true;
}

/// Kept sum of one column from its pass-3 statistics and collected values.
std::int64_t finish_column(const Plan& p, int lane, std::int64_t sum_r, std::int64_t eq_a, std::int64_t eq_b,
                           q16* list, std::size_t m) {
  if (p.merged[lane]) {
    const std::int64_t low = drop_smallest(p.a_lo[lane], eq_a, list, m, p.k1[lane]);
    const std::int64_t high = drop_largest(p.a_lo[lane], eq_a, list, m, p.k2[lane]);
    return sum_r - low - high;
  }
  const q16 a_hi = p.a_hi[lane];
  q16* mid = std::partition(list, list + m, [a_hi](q16 x) { return x <= a_hi; });
  const auto ma = static_cast<std::size_t>(mid - list);
  const std::int64_t low = drop_smallest(p.a_lo[lane], eq_a, list, ma, p.k1[lane]);
  const std::int64_t high = drop_largest(p.b_lo[lane], eq_b, mid, m - ma, p.k2[lane]);
  return sum_r - low - high;
}

/// Pass 2: per lane, how many values lie below each splitter. The counters
/// are named locals (not arrays) so that they stay in registers.
EDGESWARM_AVX512 void count_below(const q16* base, std::size_t stride, std::size_t rows, __mmask16 load_mask,
                                  const __m512i* sl, const __m512i* sh, __m512i* cl, __m512i* ch) {
  static_assert(kSplit == 7, "count_below is unrolled for 7 splitters per cut");
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i s0 = sl[0], s1 = sl[1], s2 = sl[2], s3 = sl[3], s4 = sl[4], s5 = sl[5], s6 = sl[6];
  const __m512i t0 = sh[0], t1 = sh[1], t2 = sh[2], t3 = sh[3], t4 = sh[4], t5 = sh[5], t6 = sh[6];
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0;
  __m512i b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0;
  // Rows of a wide matrix lie on different pages, where hardware prefetchers
  // stop: prefetch by hand.
  const std::size_t ahead = stride > kLanes ? kPrefetchRows : 0;
  const q16* ptr = base;
  for (std::size_t r = 0; r < rows; ++r, ptr += stride) {
    if (r + ahead < rows) _mm_prefetch(reinterpret_cast<const char*>(ptr + ahead * stride), _MM_HINT_T0);
    const __m512i x = _mm512_maskz_loadu_epi32(load_mask, ptr);
#define EDGESWARM_COUNT(acc, split) acc = _mm512_mask_add_epi32(acc, _mm512_cmplt_epi32_mask(x, split), acc, one)
    EDGESWARM_COUNT(a0, s0);
    EDGESWARM_COUNT(a1, s1);
    EDGESWARM_COUNT(a2, s2);
    EDGESWARM_COUNT(a3, s3);
    EDGESWARM_COUNT(a4, s4);
    EDGESWARM_COUNT(a5, s5);
    EDGESWARM_COUNT(a6, s6);
    EDGESWARM_COUNT(b0, t0);
    EDGESWARM_COUNT(b1, t1);
    EDGESWARM_COUNT(b2, t2);
    EDGESWARM_COUNT(b3, t3);
    EDGESWARM_COUNT(b4, t4);
    EDGESWARM_COUNT(b5, t5);
    EDGESWARM_COUNT(b6, t6);
#undef EDGESWARM_COUNT
  }
  cl[0] = a0, cl[1] = a1, cl[2] = a2, cl[3] = a3, cl[4] = a4, cl[5] = a5, cl[6] = a6;
  ch[0] = b0, ch[1] = b1, ch[2] = b2, ch[3] = b3, ch[4] = b4, ch[5] = b5, ch[6] = b6;
}

/// One tile of 16 lanes: `rows` rows of 16 values at `base`, `stride` apart.
/// Vertical tiles map lane l to column l (lanes >= `columns` are ignored);
/// horizontal tiles hold one column (all lanes) of n_col values.
EDGESWARM_AVX512 void trimmed_tile(const q16* base, std::size_t stride, std::size_t rows, __mmask16 load_mask,
                                   int columns, bool horizontal, std::int64_t f_lo, std::int64_t f_hi,
                                   const TileScratch& ts, std::int64_t* kept) {
  const auto n_col = static_cast<std::int64_t>(horizontal ? rows * kLanes : rows);
  const int s = sample_size(static_cast<std::size_t>(n_col));
  alignas(64) q16 sample[kMaxSample * kLanes];
  if (horizontal) {
    alignas(64) q16 tmp[kMaxSample];
    for (int i = 0; i < s; ++i) {
      const std::size_t pos = ((2 * static_cast<std::size_t>(i) + 1) * static_cast<std::size_t>(n_col)) / (2 * s);
      tmp[i] = base[pos];
    }
    std::sort(tmp, tmp + s);
    for (int i = 0; i < s; ++i) _mm512_store_si512(sample + i * kLanes, _mm512_set1_epi32(tmp[i]));
  } else {
    for (int i = 0; i < s; ++i) {
      const std::size_t r = ((2 * static_cast<std::size_t>(i) + 1) * rows) / (2 * s);
      _mm512_store_si512(sample + i * kLanes, _mm512_maskz_loadu_epi32(load_mask, base + r * stride));
    }
    bitonic_sort_rows(sample, s);
  }
  int rank_lo[kSplit], rank_hi[kSplit];
  splitter_ranks(static_cast<std::size_t>(n_col), static_cast<std::size_t>(f_lo), s, rank_lo);
  splitter_ranks(static_cast<std::size_t>(n_col), static_cast<std::size_t>(n_col - f_hi), s, rank_hi);
  __m512i sl[kSplit], sh[kSplit], cl[kSplit], ch[kSplit];
  for (int k = 0; k < kSplit; ++k) {
    sl[k] = _mm512_load_si512(sample + rank_lo[k] * kLanes);
    sh[k] = _mm512_load_si512(sample + rank_hi[k] * kLanes);
  }
  const __m512i one = _mm512_set1_epi32(1);
  count_below(base, stride, rows, load_mask, sl, sh, cl, ch);
  alignas(64) std::int32_t cnt_s[kSplit][kLanes], cnt_t[kSplit][kLanes];
  alignas(64) q16 val_s[kSplit][kLanes], val_t[kSplit][kLanes];
  for (int k = 0; k < kSplit; ++k) {
    _mm512_store_si512(cnt_s[k], cl[k]);
    _mm512_store_si512(cnt_t[k], ch[k]);
    _mm512_store_si512(val_s[k], sl[k]);
    _mm512_store_si512(val_t[k], sh[k]);
  }
  // Refinement: 7 more splitters per cut, evenly spaced in value inside the
  // bucket that holds the cut, and a second counting pass.
  const int planned = horizontal ? 1 : columns;
  if (horizontal) {  // one column: the lanes add up
    for (int k = 0; k < kSplit; ++k) {
      cnt_s[k][0] = _mm512_reduce_add_epi32(cl[k]);
      cnt_t[k][0] = _mm512_reduce_add_epi32(ch[k]);
    }
  }
  alignas(64) q16 fine_s[kSplit][kLanes], fine_t[kSplit][kLanes];
  for (int l = 0; l < kLanes; ++l) {
    const int lane = l < planned ? l : 0;
    std::int32_t cs[kSplit], ct[kSplit];
    for (int k = 0; k < kSplit; ++k) {
      cs[k] = cnt_s[k][lane];
      ct[k] = cnt_t[k][lane];
    }
    const std::int64_t smin = sample[lane], smax = sample[(s - 1) * kLanes + lane];
    const int j = lower_index(cs, kSplit, f_lo);
    const std::int64_t lo_s = j == 0 ? std::min<std::int64_t>(smin, val_s[0][lane]) : val_s[j - 1][lane];
    const std::int64_t hi_s = j == kSplit ? std::max<std::int64_t>(smax, val_s[kSplit - 1][lane]) : val_s[j][lane];
    const int jp = upper_index(ct, kSplit, n_col - f_hi);
    const std::int64_t lo_t = jp == 1 ? std::min<std::int64_t>(smin, val_t[0][lane]) : val_t[jp - 2][lane];
    const std::int64_t hi_t = jp == kSplit + 1 ? std::max<std::int64_t>(smax, val_t[kSplit - 1][lane])
                                               : val_t[jp - 1][lane];
    for (int k = 0; k < kSplit; ++k) {
      fine_s[k][l] = static_cast<q16>(lo_s + (hi_s - lo_s) * (k + 1) / (kSplit + 1));
      fine_t[k][l] = static_cast<q16>(lo_t + (hi_t - lo_t) * (k + 1) / (kSplit + 1));
    }
  }
  __m512i fl[kSplit], fh[kSplit], gl[kSplit], gh[kSplit];
  for (int k = 0; k < kSplit; ++k) {
    fl[k] = _mm512_load_si512(fine_s[k]);
    fh[k] = _mm512_load_si512(fine_t[k]);
  }
  count_below(base, stride, rows, load_mask, fl, fh, gl, gh);
  alignas(64) std::int32_t fcnt_s[kSplit][kLanes], fcnt_t[kSplit][kLanes];
  for (int k = 0; k < kSplit; ++k) {
    _mm512_store_si512(fcnt_s[k], gl[k]);
    _mm512_store_si512(fcnt_t[k], gh[k]);
    if (horizontal) {
      fcnt_s[k][0] = _mm512_reduce_add_epi32(gl[k]);
      fcnt_t[k][0] = _mm512_reduce_add_epi32(gh[k]);
    }
  }
  Plan plan;
  for (int l = 0; l < planned; ++l) {
    // Merge coarse and fine splitters of each cut in value order.
    constexpr int kAll = 2 * kSplit;
    std::int32_t cs[kAll], ct[kAll];
    q16 sv[kAll], tv[kAll];
    auto merge = [&](const std::int32_t (*cnt)[kLanes], const q16 (*val)[kLanes],
                     const std::int32_t (*fcnt)[kLanes], const q16 (*fval)[kLanes], std::int32_t* out_c,
                     q16* out_v) {
      std::int32_t coarse_c[kSplit], fine_c[kSplit];
      for (int k = 0; k < kSplit; ++k) {
        coarse_c[k] = cnt[k][l];
        fine_c[k] = fcnt[k][l];
      }
      int a = 0, b = 0, o = 0;
      while (a < kSplit || b < kSplit) {
        const bool take_coarse = b == kSplit || (a < kSplit && val[a][l] <= fval[b][l]);
        if (take_coarse) {
          out_c[o] = coarse_c[a];
          out_v[o++] = val[a++][l];
        } else {
          out_c[o] = fine_c[b];
          out_v[o++] = fval[b++][l];
        }
      }
    };
    merge(cnt_s, val_s, fcnt_s, fine_s, cs, sv);
    merge(cnt_t, val_t, fcnt_t, fine_t, ct, tv);
    plan_column(cs, sv, kAll, ct, tv, kAll, n_col, f_lo, f_hi, plan, l);
  }
  for (int l = planned; l < kLanes; ++l) plan_empty_lane(plan, l);
  if (horizontal) {
    for (int l = 1; l < kLanes; ++l) {
      plan.r_lo[l] = plan.r_lo[0];
      plan.r_hi[l] = plan.r_hi[0];
      plan.a_lo[l] = plan.a_lo[0];
      plan.a_hi[l] = plan.a_hi[0];
      plan.b_lo[l] = plan.b_lo[0];
      plan.b_hi[l] = plan.b_hi[0];
    }
  }

  // Pass 3: sum of [r_lo, r_hi], counts at the bucket floors, bucket values.
  const __m512i r_lo = _mm512_load_si512(plan.r_lo), r_hi = _mm512_load_si512(plan.r_hi);
  const __m512i a_lo = _mm512_load_si512(plan.a_lo), a_hi = _mm512_load_si512(plan.a_hi);
  const __m512i b_lo = _mm512_load_si512(plan.b_lo), b_hi = _mm512_load_si512(plan.b_hi);
  const __m512i lane_id = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  __m512i sum_lo = _mm512_setzero_si512(), sum_hi = _mm512_setzero_si512();
  __m512i eq_a = _mm512_setzero_si512(), eq_b = _mm512_setzero_si512();
  __m512i n_a = _mm512_setzero_si512(), n_b = _mm512_setzero_si512();
  std::size_t pos = 0;
  q16* const cand = ts.cand;  // locals: stores through them cannot alias `ts`
  q16* const cand_lane = ts.lane;
  const q16* ptr = base;
  for (std::size_t r = 0; r < rows; ++r, ptr += stride) {
    const __m512i x = _mm512_maskz_loadu_epi32(load_mask, ptr);
    const __mmask16 in_r = _mm512_mask_cmple_epi32_mask(_mm512_cmpge_epi32_mask(x, r_lo), x, r_hi);
    const __m512i x_lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(x));
    const __m512i x_hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(x, 1));
    sum_lo = _mm512_mask_add_epi64(sum_lo, static_cast<__mmask8>(in_r), sum_lo, x_lo);
    sum_hi = _mm512_mask_add_epi64(sum_hi, static_cast<__mmask8>(in_r >> 8), sum_hi, x_hi);
    eq_a = _mm512_mask_add_epi32(eq_a, _mm512_cmpeq_epi32_mask(x, a_lo), eq_a, one);
    eq_b = _mm512_mask_add_epi32(eq_b, _mm512_cmpeq_epi32_mask(x, b_lo), eq_b, one);
    const __mmask16 in_a = _mm512_mask_cmple_epi32_mask(_mm512_cmpgt_epi32_mask(x, a_lo), x, a_hi);
    const __mmask16 in_b = _mm512_mask_cmple_epi32_mask(_mm512_cmpgt_epi32_mask(x, b_lo), x, b_hi);
    const __mmask16 take = static_cast<__mmask16>(in_a | in_b);
    _mm512_storeu_si512(cand + pos, _mm512_maskz_compress_epi32(take, x));
    if (!horizontal) {
      _mm512_storeu_si512(cand_lane + pos, _mm512_maskz_compress_epi32(take, lane_id));
      n_a = _mm512_mask_add_epi32(n_a, in_a, n_a, one);
      n_b = _mm512_mask_add_epi32(n_b, in_b, n_b, one);
    }
    pos += static_cast<std::size_t>(__builtin_popcount(take));
  }

  if (horizontal) {
    const std::int64_t sum_r = _mm512_reduce_add_epi64(_mm512_add_epi64(sum_lo, sum_hi));
    kept[0] = finish_column(plan, 0, sum_r, _mm512_reduce_add_epi32(eq_a), _mm512_reduce_add_epi32(eq_b),
                            ts.cand, pos);
    return;
  }
  alignas(64) std::int64_t sums[kLanes];
  alignas(64) std::int32_t eqa[kLanes], eqb[kLanes], na[kLanes], nb[kLanes];
  _mm512_store_si512(sums, sum_lo);
  _mm512_store_si512(sums + 8, sum_hi);
  _mm512_store_si512(eqa, eq_a);
  _mm512_store_si512(eqb, eq_b);
  _mm512_store_si512(na, n_a);
  _mm512_store_si512(nb, n_b);
  // Bucket values go lane by lane into two row-major matrices padded with
  // kQMax, sorted by the vertical network: row i holds the i-th smallest.
  const int rows_a = pow2_at_least(*std::max_element(na, na + kLanes));
  const int rows_b = pow2_at_least(*std::max_element(nb, nb + kLanes));
  const __m512i pad = _mm512_set1_epi32(kQMax);
  for (int i = 0; i < rows_a; ++i) _mm512_storeu_si512(ts.low + i * kLanes, pad);
  for (int i = 0; i < rows_b; ++i) _mm512_storeu_si512(ts.high + i * kLanes, pad);
  int fill_a[kLanes] = {}, fill_b[kLanes] = {};
  for (std::size_t i = 0; i < pos; ++i) {
    const int l = ts.lane[i];
    const q16 v = ts.cand[i];
    if (v <= plan.a_hi[l]) {
      ts.low[fill_a[l]++ * kLanes + l] = v;
    } else {
      ts.high[fill_b[l]++ * kLanes + l] = v;
    }
  }
  bitonic_sort_rows(ts.low, rows_a);
  bitonic_sort_rows(ts.high, rows_b);
  for (int l = 0; l < columns; ++l) {
    const q16 base_a = plan.a_lo[l];
    std::int64_t low = 0;
    if (plan.k1[l] <= eqa[l]) {
      low = plan.k1[l] * base_a;
    } else {
      low = std::int64_t{eqa[l]} * base_a;
      for (std::int64_t i = 0; i < plan.k1[l] - eqa[l]; ++i) low += ts.low[i * kLanes + l];
    }
    const q16* list = plan.merged[l] ? ts.low : ts.high;
    const std::int64_t m = plan.merged[l] ? na[l] : nb[l];
    const q16 base_h = plan.merged[l] ? base_a : plan.b_lo[l];
    const std::int64_t take = std::min(plan.k2[l], m);
    std::int64_t high = (plan.k2[l] - take) * base_h;
    for (std::int64_t i = m - take; i < m; ++i) high += list[i * kLanes + l];
    kept[l] = sums[l] - low - high;
  }
}

EDGESWARM_AVX512 void trimmed_mean_avx512(const q16* values, std::size_t n, std::size_t d, std::size_t f,
                                          q16* out, Workspace& work) {
  const auto keep = static_cast<std::int64_t>(n - 2 * f);
  const std::size_t padded = (n + kLanes - 1) / kLanes * kLanes;
  if (d < 8 && n < kMinHorizontalRows) {  // short narrow columns: std::nth_element is faster
    portable_columns(values, n, d, f, 0, d, out, work);
    return;
  }
  const std::size_t cap = std::max(n, padded) * kLanes + kLanes;
  TileScratch ts;
  ts.cand = reserve_scratch(work.values, cap);
  ts.lane = reserve_scratch(work.lanes, cap);
  const auto sorted_cap = static_cast<std::size_t>(pow2_at_least(static_cast<int>(n))) * kLanes;
  ts.low = reserve_scratch(work.values2, sorted_cap);
  ts.high = reserve_scratch(work.values3, sorted_cap);
  std::int64_t kept[kLanes];
  const auto fi = static_cast<std::int64_t>(f);

  // Vertical tiles over full blocks of 16 columns, and over a tail of >= 8.
  std::size_t c = 0;
  const bool vertical = d >= 8;
  if (vertical) {
    for (; c + kLanes <= d || (c < d && d - c >= 8); c += kLanes) {
      const int w = static_cast<int>(std::min<std::size_t>(kLanes, d - c));
      const auto mask = static_cast<__mmask16>(w == kLanes ? 0xFFFF : (1u << w) - 1);
      if (n >= kCopyRows) {
        // Tall matrices: each row of the tile is on its own page, and the
        // passes below would miss the TLB on every row; copy the tile once.
        q16* tile = reserve_scratch(work.column, n * kLanes);
        const q16* src = values + c;
        for (std::size_t r = 0; r < n; ++r, src += d) {
          if (r + kPrefetchRows < n) {
            _mm_prefetch(reinterpret_cast<const char*>(src + kPrefetchRows * d), _MM_HINT_T0);
          }
          _mm512_storeu_si512(tile + r * kLanes, _mm512_maskz_loadu_epi32(mask, src));
        }
        trimmed_tile(tile, kLanes, n, 0xFFFF, w, false, fi, fi, ts, kept);
      } else {
        trimmed_tile(values + c, d, n, mask, w, false, fi, fi, ts, kept);
      }
      for (int l = 0; l < w; ++l) out[c + l] = fixed::mean_of_sum<std::int64_t>(kept[l], keep);
    }
  }
  // Remaining columns one by one, each copied into a padded contiguous
  // buffer; for short columns std::nth_element is faster than the passes.
  if (c < d && n < kMinHorizontalRows) {
    portable_columns(values, n, d, f, c, d, out, work);
    return;
  }
  if (c < d) {
    q16* col = reserve_scratch(work.column, padded);
    const auto pad = static_cast<std::int64_t>(padded - n);
    for (; c < d; ++c) {
      for (std::size_t r = 0; r < n; ++r) col[r] = values[r * d + c];
      for (std::size_t r = n; r < padded; ++r) col[r] = kQMax;
      trimmed_tile(col, kLanes, padded / kLanes, 0xFFFF, 1, true, fi, fi + pad, ts, kept);
      out[c] = fixed::mean_of_sum<std::int64_t>(kept[0], keep);
    }
  }
}

#endif  // EDGESWARM_X86_SIMD

}  // namespace

bool trimmed_mean_uses_simd() {
#if defined(EDGESWARM_X86_SIMD)
  static const bool ok = __builtin_cpu_supports("avx512f");
  return ok;
#else
  return false;
#endif
}

void column_sum(const q16* values, std::size_t n, std::size_t d, std::int64_t* out) {
  if (d > 0 && n > 0 && values == nullptr) throw std::invalid_argument("values: null pointer");
  if (d > 0 && out == nullptr) throw std::invalid_argument("out: null pointer");
  column_sum_impl(values, n, d, out);
}

void trimmed_mean_portable(const q16* values, std::size_t n, std::size_t d, std::size_t f, q16* out,
                           Workspace& work) {
  check_args(values, n, d, f, out);
  if (d == 0) return;
  if (f == 0) {
    trimmed_mean_f0(values, n, d, out, work);
    return;
  }
  portable_columns(values, n, d, f, 0, d, out, work);
}

void trimmed_mean(const q16* values, std::size_t n, std::size_t d, std::size_t f, q16* out, Workspace& work) {
  check_args(values, n, d, f, out);
  if (d == 0) return;
  if (f == 0) {
    trimmed_mean_f0(values, n, d, out, work);
    return;
  }
#if defined(EDGESWARM_X86_SIMD)
  if (n >= kMinRows && trimmed_mean_uses_simd()) {
    trimmed_mean_avx512(values, n, d, f, out, work);
    return;
  }
#endif
  portable_columns(values, n, d, f, 0, d, out, work);
}

}  // namespace edgeswarm::swarm
