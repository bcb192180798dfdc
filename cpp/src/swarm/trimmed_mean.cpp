// Coordinate-wise trimmed mean. Two paths give bit-identical results:
//
// * portable: per block of 16 columns, transpose into scratch and select with
//   std::nth_element;
// * AVX-512 (chosen at run time): per tile of 16 lanes (16 columns of the
//   row-major matrix, or 16 slices of one contiguous column when d is small)
//   1. sort a strided sample of rows per lane (vertical bitonic network) and
//      take 15 splitters around each of the two cut ranks (f and n - f);
//   2. one counting pass per cut: each value becomes a byte key (a per-lane
//      shifted offset from the lowest splitter), so one 512-bit compare
//      counts 4 rows; this gives exactly how many values lie below each
//      splitter, hence a narrow bucket around each cut;
//   3. one pass sums the values between the two buckets, counts the values
//      below / above them and compress-stores the bucket values;
//   4. per lane, the bucket values are selected exactly: a vertical radix
//      search (one counting sweep per bit) finds the cut value inside each
//      bucket; very wide buckets (odd data) use std::nth_element per lane.
//   Pass 3 checks that the buckets hold the cut ranks and a lane that fails
//   would be recomputed with std::nth_element: the splitters and the
//   counting pass only decide speed, never the result.
// The kept sum is then divided with the project rounding rule.

#include "edgeswarm/swarm/trimmed_mean.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
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

/// Sum of a[0..m) without its `lo` smallest and `hi` largest values (reorders a; lo + hi <= m).
std::int64_t kept_sum(q16* a, std::size_t m, std::size_t lo, std::size_t hi) {
  if (lo > 0 && lo < m) std::nth_element(a, a + lo, a + m);
  if (hi > 0 && m - hi > lo) std::nth_element(a + lo, a + (m - hi), a + m);
  return sum_range(a + lo, m - lo - hi);
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

void portable_columns(const q16* values, std::size_t n, std::size_t d, std::size_t f, std::size_t c0, std::size_t c1,
                      q16* out, Workspace& work) {
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
      out[b0 + j] = fixed::mean_of_sum<std::int64_t>(kept_sum(buf + j * n, n, f, f), keep);
    }
  }
}

#if defined(EDGESWARM_X86_SIMD)

#define EDGESWARM_AVX512 __attribute__((target("avx512f,avx512bw")))

constexpr int kLanes = 16;
constexpr int kSplit = 15;  // splitters per cut in the counting pass
constexpr std::size_t kMinRows = 32;
constexpr std::size_t kPrefetchRows = 24;
constexpr int kMaxSample = 512;
constexpr std::size_t kCopyRows = 2048;
constexpr std::size_t kMinHorizontalRows = 2048;
constexpr int kMaxKey = 240;              // widest splitter span in key units (keys saturate at 255)
constexpr std::size_t kByteGroups = 255;  // 4-row groups before a byte counter can overflow
constexpr std::size_t kSumChunk = 32768;  // rows per chunk of the 32-bit split sums
constexpr int kMaxSearchRows = 512;       // larger buckets are selected lane by lane

struct TileScratch {
  q16* cand = nullptr;           // bucket values, in row order
  std::int32_t* lane = nullptr;  // lane of each value in `cand`
  q16* low = nullptr;            // lower bucket, lane by lane (rows of 16)
  q16* high = nullptr;           // upper bucket, lane by lane
  q16* copy = nullptr;           // one column, for the exact fallback
};

int sample_size(std::size_t rows) {
  if (rows < 128) return 16;
  if (rows < 512) return 32;
  if (rows < 2048) return 64;
  if (rows < 4096) return 128;
  if (rows < 16384) return 256;
  return kMaxSample;
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
      for (int i0 = 0; i0 < s; i0 += 2 * j) {
        const bool up = (i0 & k) == 0;
        for (int i = i0; i < i0 + j; ++i) {
          q16* p = v + i * kLanes;
          q16* q = p + j * kLanes;
          const __m512i a = _mm512_loadu_si512(p), b = _mm512_loadu_si512(q);
          const __m512i lo = _mm512_min_epi32(a, b), hi = _mm512_max_epi32(a, b);
          _mm512_storeu_si512(p, up ? lo : hi);
          _mm512_storeu_si512(q, up ? hi : lo);
        }
      }
    }
  }
}

/// Byte keys of one cut: per lane, x maps to min(255, (max(x, base) - base) >> shift), so that
/// key < thr[k] holds exactly when x < split[k] = base + (thr[k] << shift).
struct KeyPlan {
  alignas(64) q16 base[kLanes];
  alignas(64) std::uint32_t shift[kLanes];
  alignas(64) std::int32_t thr[kSplit][kLanes];
  std::int64_t split[kSplit][kLanes];
};

/// Splitters of one cut from the sorted sample (`s` rows of 16 lanes): 15 sample values spread
/// over +-3 standard deviations of the sample rank of the cut, which has `below` of `total` under it.
void plan_keys(const q16* sample, int s, std::size_t total, std::size_t below, KeyPlan& kp) {
  const double q = static_cast<double>(below) / static_cast<double>(total);
  const double p = q * s;
  const double half = 3.0 * std::sqrt(s * q * (1.0 - q)) + 1.0;
  int ranks[kSplit];
  for (int k = 0; k < kSplit; ++k) {
    const double t = p - half + 2.0 * half * k / (kSplit - 1);
    ranks[k] = std::clamp(static_cast<int>(std::floor(t)), 0, s - 1);
  }
  for (int l = 0; l < kLanes; ++l) {
    const std::int64_t lo = sample[ranks[0] * kLanes + l], hi = sample[ranks[kSplit - 1] * kLanes + l] + 1;
    std::uint32_t shift = 0;
    while (((hi - lo) >> shift) > kMaxKey) ++shift;
    const std::int64_t step = std::int64_t{1} << shift;
    // One step below the lowest splitter, so that its threshold is >= 1 and counts.
    const std::int64_t base = std::max<std::int64_t>(lo - step, kQMin);
    kp.base[l] = static_cast<q16>(base);
    kp.shift[l] = shift;
    for (int k = 0; k < kSplit; ++k) {
      // The top splitter sits just above its sample value: a tied cut then gets a bucket of one value.
      const std::int64_t v = sample[ranks[k] * kLanes + l] + (k == kSplit - 1 ? 1 : 0);
      const std::int64_t thr = (v - base + step - 1) >> shift;
      kp.thr[k][l] = static_cast<std::int32_t>(thr);
      kp.split[k][l] = base + (thr << shift);
    }
  }
}

/// Packs the dword keys of 4 rows into one vector of saturated bytes; byte
/// 16 * (l / 4) + 4 * row + l % 4 belongs to lane l.
EDGESWARM_AVX512 inline __m512i pack_keys(__m512i k0, __m512i k1, __m512i k2, __m512i k3) {
  return _mm512_packus_epi16(_mm512_packs_epi32(k0, k1), _mm512_packs_epi32(k2, k3));
}

EDGESWARM_AVX512 inline __m512i dword_key(__m512i x, __m512i base, __m512i shift) {
  // max - base is an unsigned 32-bit difference: saturate it before the signed packs.
  const __m512i diff = _mm512_srlv_epi32(_mm512_sub_epi32(_mm512_max_epi32(x, base), base), shift);
  return _mm512_min_epu32(diff, _mm512_set1_epi32(255));
}

/// Adds the byte counters (4 rows per lane) into per-lane totals.
EDGESWARM_AVX512 void add_byte_counts(const __m512i* counters, std::int32_t (*totals)[kLanes]) {
  for (int k = 0; k < kSplit; ++k) {
    alignas(64) std::uint8_t b[64];
    std::memcpy(b, &counters[k], 64);
    for (int l = 0; l < kLanes; ++l) {
      const int at = 16 * (l / 4) + l % 4;
      totals[k][l] += b[at] + b[at + 4] + b[at + 8] + b[at + 12];
    }
  }
}

/// Pass 2 (once per cut): per lane, how many values lie below each splitter.
/// The counters are named locals (not arrays) so that they stay in registers.
EDGESWARM_AVX512 void count_below(const q16* base, std::size_t stride, std::size_t rows, __mmask16 load_mask,
                                  const KeyPlan& kp, std::int32_t (*counts)[kLanes]) {
  static_assert(kSplit == 15, "count_below is unrolled for 15 splitters");
  const __m512i key_base = _mm512_load_si512(kp.base), key_shift = _mm512_load_si512(kp.shift);
  __m512i t[kSplit];
  for (int k = 0; k < kSplit; ++k) {
    const __m512i a = _mm512_load_si512(kp.thr[k]);
    t[k] = pack_keys(a, a, a, a);
  }
  const __m512i one = _mm512_set1_epi8(1);
  for (int k = 0; k < kSplit; ++k) {
    for (int l = 0; l < kLanes; ++l) counts[k][l] = 0;
  }
  // Rows of a wide matrix lie on different pages, where hardware prefetchers
  // stop: prefetch by hand.
  const std::size_t ahead = stride > kLanes ? kPrefetchRows : 0;
  const std::size_t groups = (rows + 3) / 4;
  const q16* ptr = base;
  for (std::size_t g0 = 0; g0 < groups; g0 += kByteGroups) {
    const std::size_t g1 = std::min(groups, g0 + kByteGroups);
    __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    __m512i c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0;
    for (std::size_t g = g0; g < g1; ++g) {
      const std::size_t r = 4 * g;
      __m512i k[4];
      for (int i = 0; i < 4; ++i) {
        if (r + i + ahead < rows) {
          _mm_prefetch(reinterpret_cast<const char*>(ptr + (i + ahead) * stride), _MM_HINT_T0);
        }
        const __m512i x = r + i < rows ? _mm512_maskz_loadu_epi32(load_mask, ptr + i * stride) : _mm512_setzero_si512();
        k[i] = dword_key(x, key_base, key_shift);
      }
      ptr += 4 * stride;
      __m512i key = pack_keys(k[0], k[1], k[2], k[3]);
      if (r + 4 > rows) {  // rows past the end get key 255, above every threshold
        std::uint64_t pad = 0;
        for (int b = 0; b < 64; ++b) {
          if (r + (b % 16) / 4 >= rows) pad |= std::uint64_t{1} << b;
        }
        key = _mm512_mask_blend_epi8(pad, key, _mm512_set1_epi8(-1));
      }
#define EDGESWARM_COUNT(j) c##j = _mm512_mask_add_epi8(c##j, _mm512_cmplt_epu8_mask(key, t[j]), c##j, one)
      EDGESWARM_COUNT(0);
      EDGESWARM_COUNT(1);
      EDGESWARM_COUNT(2);
      EDGESWARM_COUNT(3);
      EDGESWARM_COUNT(4);
      EDGESWARM_COUNT(5);
      EDGESWARM_COUNT(6);
      EDGESWARM_COUNT(7);
      EDGESWARM_COUNT(8);
      EDGESWARM_COUNT(9);
      EDGESWARM_COUNT(10);
      EDGESWARM_COUNT(11);
      EDGESWARM_COUNT(12);
      EDGESWARM_COUNT(13);
      EDGESWARM_COUNT(14);
#undef EDGESWARM_COUNT
    }
    const __m512i all[kSplit] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14};
    add_byte_counts(all, counts);
  }
}

/// Per-lane bounds of pass 3: values below lo1 and above hi2 are counted, values in
/// (hi1, lo2) summed, values in [lo1, hi1] (bucket A) and [lo2, hi2] (bucket B) collected.
/// A merged lane has one bucket [lo1, hi1] = [lo2, hi2].
struct Bounds {
  alignas(64) q16 lo1[kLanes];
  alignas(64) q16 hi1[kLanes];
  alignas(64) q16 lo2[kLanes];
  alignas(64) q16 hi2[kLanes];
  bool merged[kLanes];
};

q16 clamp_q16(std::int64_t v) { return static_cast<q16>(std::clamp<std::int64_t>(v, kQMin, kQMax)); }

/// Buckets of one lane from exact counts below the splitters of both cuts.
void plan_bounds(const std::int64_t* split_a, const std::int64_t* cnt_a, const std::int64_t* split_b,
                 const std::int64_t* cnt_b, std::int64_t n_col, std::int64_t f_lo, std::int64_t f_hi, Bounds& bd,
                 int lane) {
  // A: the bucket between the last splitter with <= f_lo values below it and the next one.
  int j = 0;
  while (j < kSplit && cnt_a[j] <= f_lo) ++j;
  const std::int64_t a_lo = j == 0 ? kQMin : split_a[j - 1];
  const std::int64_t a_hi = j == kSplit ? kQMax : split_a[j] - 1;
  // B: the first splitter with <= f_hi values at or above it, and the one before.
  int i = 0;
  while (i < kSplit && n_col - cnt_b[i] > f_hi) ++i;
  const std::int64_t b_hi = i == kSplit ? kQMax : split_b[i] - 1;
  const std::int64_t b_lo = i == 0 ? kQMin : split_b[i - 1];
  bd.merged[lane] = b_lo <= a_hi;
  if (bd.merged[lane]) {
    bd.lo1[lane] = bd.lo2[lane] = clamp_q16(std::min(a_lo, b_lo));
    bd.hi1[lane] = bd.hi2[lane] = clamp_q16(std::max(a_hi, b_hi));
  } else {
    bd.lo1[lane] = clamp_q16(a_lo);
    bd.hi1[lane] = clamp_q16(a_hi);
    bd.lo2[lane] = clamp_q16(b_lo);
    bd.hi2[lane] = clamp_q16(b_hi);
  }
}

/// Exact statistics of pass 3, per lane.
struct PassStats {
  alignas(64) std::int64_t mid_sum[kLanes];
  alignas(64) std::int32_t below[kLanes];
  alignas(64) std::int32_t above[kLanes];
  std::size_t collected = 0;  // values in `cand`
};

/// 8 int64 sums from 8 sums of high halves (signed) and 8 of low halves (unsigned).
EDGESWARM_AVX512 inline __m512i join_halves(__m256i hi, __m256i lo) {
  return _mm512_add_epi64(_mm512_slli_epi64(_mm512_cvtepi32_epi64(hi), 16), _mm512_cvtepu32_epi64(lo));
}

/// Pass 3 (see Bounds). Sums are split into high and low 16-bit halves so that the
/// masked adds stay 32-bit: each half fits for kSumChunk rows.
EDGESWARM_AVX512 void sum_and_collect(const q16* base, std::size_t stride, std::size_t rows, __mmask16 load_mask,
                                      const Bounds& bd, const TileScratch& ts, PassStats& st) {
  const __m512i lo1 = _mm512_load_si512(bd.lo1), hi1 = _mm512_load_si512(bd.hi1);
  const __m512i lo2 = _mm512_load_si512(bd.lo2), hi2 = _mm512_load_si512(bd.hi2);
  const __m512i one = _mm512_set1_epi32(1), low16 = _mm512_set1_epi32(0xFFFF);
  __m512i below = _mm512_setzero_si512(), above = below;
  __m512i sum_lo = below, sum_hi = below;  // int64 totals, lanes 0-7 and 8-15
  q16* const cand = ts.cand;               // locals: stores through them cannot alias `ts`
  std::int32_t* const cand_lane = ts.lane;
  const __m512i lane_id = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  std::size_t pos = 0;
  const q16* ptr = base;
  for (std::size_t r0 = 0; r0 < rows; r0 += kSumChunk) {
    const std::size_t r1 = std::min(rows, r0 + kSumChunk);
    __m512i part_hi = _mm512_setzero_si512(), part_lo = part_hi;
    for (std::size_t r = r0; r < r1; ++r, ptr += stride) {
      const __m512i x = _mm512_maskz_loadu_epi32(load_mask, ptr);
      const __mmask16 lt = _mm512_cmplt_epi32_mask(x, lo1);
      const __mmask16 gt = _mm512_cmpgt_epi32_mask(x, hi2);
      const __mmask16 mid = _mm512_mask_cmplt_epi32_mask(_mm512_cmpgt_epi32_mask(x, hi1), x, lo2);
      const auto take = static_cast<__mmask16>(~(lt | gt | mid));
      below = _mm512_mask_add_epi32(below, lt, below, one);
      above = _mm512_mask_add_epi32(above, gt, above, one);
      part_hi = _mm512_mask_add_epi32(part_hi, mid, part_hi, _mm512_srai_epi32(x, 16));
      part_lo = _mm512_mask_add_epi32(part_lo, mid, part_lo, _mm512_and_si512(x, low16));
      _mm512_storeu_si512(cand + pos, _mm512_maskz_compress_epi32(take, x));
      _mm512_storeu_si512(cand_lane + pos, _mm512_maskz_compress_epi32(take, lane_id));
      pos += static_cast<std::size_t>(__builtin_popcount(take));
    }
    // x = (x >> 16) * 65536 + (x & 0xFFFF), summed in int64.
    sum_lo = _mm512_add_epi64(sum_lo, join_halves(_mm512_castsi512_si256(part_hi), _mm512_castsi512_si256(part_lo)));
    sum_hi = _mm512_add_epi64(
        sum_hi, join_halves(_mm512_extracti64x4_epi64(part_hi, 1), _mm512_extracti64x4_epi64(part_lo, 1)));
  }
  _mm512_store_si512(st.mid_sum, sum_lo);
  _mm512_store_si512(st.mid_sum + 8, sum_hi);
  _mm512_store_si512(st.below, below);
  _mm512_store_si512(st.above, above);
  st.collected = pos;
}

/// Kept sum of one column of `m` values at `src`, `step` apart, computed exactly (fallback).
std::int64_t exact_column(const q16* src, std::size_t step, std::size_t m, std::int64_t f_lo, std::int64_t f_hi,
                          q16* copy) {
  for (std::size_t i = 0; i < m; ++i) copy[i] = src[i * step];
  return kept_sum(copy, m, static_cast<std::size_t>(f_lo), static_cast<std::size_t>(f_hi));
}

/// Sorted sample of one tile: `s` rows of 16 lanes, each lane ascending.
EDGESWARM_AVX512 void take_sample(const q16* base, std::size_t stride, std::size_t rows, __mmask16 load_mask,
                                  bool horizontal, std::size_t n_col, int s, q16* sample) {
  if (horizontal) {
    alignas(64) q16 tmp[kMaxSample];
    for (int i = 0; i < s; ++i) tmp[i] = base[((2 * static_cast<std::size_t>(i) + 1) * n_col) / (2 * s)];
    std::sort(tmp, tmp + s);
    for (int i = 0; i < s; ++i) _mm512_store_si512(sample + i * kLanes, _mm512_set1_epi32(tmp[i]));
    return;
  }
  for (int i = 0; i < s; ++i) {
    const std::size_t r = ((2 * static_cast<std::size_t>(i) + 1) * rows) / (2 * s);
    _mm512_store_si512(sample + i * kLanes, _mm512_maskz_loadu_epi32(load_mask, base + r * stride));
  }
  bitonic_sort_rows(sample, s);
}

/// Kept sums of one horizontal tile (one column of rows * 16 values, lanes are slices).
EDGESWARM_AVX512 std::int64_t finish_horizontal(const q16* base, std::size_t rows, const Bounds& bd,
                                                const PassStats& st, std::int64_t f_lo, std::int64_t f_hi,
                                                const TileScratch& ts) {
  std::int64_t below = 0, above = 0, mid = 0;
  for (int l = 0; l < kLanes; ++l) {
    below += st.below[l];
    above += st.above[l];
    mid += st.mid_sum[l];
  }
  const std::int64_t k1 = f_lo - below, k2 = f_hi - above;
  q16* const list = ts.cand;
  const std::size_t m = st.collected;
  const q16 a_hi = bd.hi1[0];
  const auto in_a = [a_hi](q16 x) { return x <= a_hi; };
  const std::size_t ma = bd.merged[0] ? m : static_cast<std::size_t>(std::partition(list, list + m, in_a) - list);
  const auto mb = static_cast<std::int64_t>(m - ma);
  const bool ok = bd.merged[0] ? (k1 >= 0 && k2 >= 0 && k1 + k2 <= static_cast<std::int64_t>(m))
                               : (k1 >= 0 && k1 <= static_cast<std::int64_t>(ma) && k2 >= 0 && k2 <= mb);
  if (!ok) return exact_column(base, 1, rows * kLanes, f_lo, f_hi, ts.copy);
  if (bd.merged[0]) return kept_sum(list, m, static_cast<std::size_t>(k1), static_cast<std::size_t>(k2));
  return mid + kept_sum(list, ma, static_cast<std::size_t>(k1), 0) +
         kept_sum(list + ma, m - ma, 0, static_cast<std::size_t>(k2));
}

/// Per lane l, the sum of the k[l] smallest of the values of lane l in `mat` (`rows` rows of 16;
/// every value in [lo[l], top[l]], rows past the lane's count hold top[l]).
/// A radix search on v - lo, one bit per counting sweep, finds the k-th smallest value t;
/// the sum is that of the values below t plus copies of t. With `Two`, the same for k2.
template <bool Two>
EDGESWARM_AVX512 void sum_smallest_rows(const q16* mat, int rows, const q16* lo, const q16* top, const std::int32_t* k1,
                                        const std::int32_t* k2, std::int64_t* s1, std::int64_t* s2) {
  const __m512i base = _mm512_load_si512(lo);
  const __m512i want1 = _mm512_load_si512(k1), want2 = Two ? _mm512_load_si512(k2) : want1;
  std::uint32_t span = 0;
  for (int l = 0; l < kLanes; ++l) {
    span = std::max(span, static_cast<std::uint32_t>(top[l]) - static_cast<std::uint32_t>(lo[l]));
  }
  const int bits = span == 0 ? 0 : 32 - __builtin_clz(span);
  const __m512i one = _mm512_set1_epi32(1);
  __m512i t1 = _mm512_setzero_si512(), t2 = t1;  // offsets from lo, found bit by bit
  for (int b = bits - 1; b >= 0; --b) {
    const __m512i bit = _mm512_set1_epi32(static_cast<int>(1u << b));
    const __m512i c1 = _mm512_or_si512(t1, bit), c2 = _mm512_or_si512(t2, bit);
    __m512i n1 = _mm512_setzero_si512(), n2 = n1;
    for (int i = 0; i < rows; ++i) {
      const __m512i off = _mm512_sub_epi32(_mm512_loadu_si512(mat + i * kLanes), base);
      n1 = _mm512_mask_add_epi32(n1, _mm512_cmplt_epu32_mask(off, c1), n1, one);
      if (Two) n2 = _mm512_mask_add_epi32(n2, _mm512_cmplt_epu32_mask(off, c2), n2, one);
    }
    t1 = _mm512_mask_mov_epi32(t1, _mm512_cmple_epi32_mask(n1, want1), c1);
    if (Two) t2 = _mm512_mask_mov_epi32(t2, _mm512_cmple_epi32_mask(n2, want2), c2);
  }
  __m512i n1 = _mm512_setzero_si512(), n2 = n1;
  __m512i lo1 = n1, hi1 = n1, lo2 = n1, hi2 = n1;  // int64 sums of lanes 0-7 and 8-15
  for (int i = 0; i < rows; ++i) {
    const __m512i v = _mm512_loadu_si512(mat + i * kLanes);
    const __m512i off = _mm512_sub_epi32(v, base);
    const __m512i v_lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v));
    const __m512i v_hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1));
    const __mmask16 m1 = _mm512_cmplt_epu32_mask(off, t1);
    n1 = _mm512_mask_add_epi32(n1, m1, n1, one);
    lo1 = _mm512_mask_add_epi64(lo1, static_cast<__mmask8>(m1), lo1, v_lo);
    hi1 = _mm512_mask_add_epi64(hi1, static_cast<__mmask8>(m1 >> 8), hi1, v_hi);
    if (Two) {
      const __mmask16 m2 = _mm512_cmplt_epu32_mask(off, t2);
      n2 = _mm512_mask_add_epi32(n2, m2, n2, one);
      lo2 = _mm512_mask_add_epi64(lo2, static_cast<__mmask8>(m2), lo2, v_lo);
      hi2 = _mm512_mask_add_epi64(hi2, static_cast<__mmask8>(m2 >> 8), hi2, v_hi);
    }
  }
  alignas(64) std::int32_t below[2][kLanes], off[2][kLanes];
  alignas(64) std::int64_t sum[2][kLanes];
  _mm512_store_si512(below[0], n1);
  _mm512_store_si512(off[0], t1);
  _mm512_store_si512(sum[0], lo1);
  _mm512_store_si512(sum[0] + 8, hi1);
  _mm512_store_si512(below[1], n2);
  _mm512_store_si512(off[1], t2);
  _mm512_store_si512(sum[1], lo2);
  _mm512_store_si512(sum[1] + 8, hi2);
  for (int l = 0; l < kLanes; ++l) {
    for (int w = 0; w < (Two ? 2 : 1); ++w) {
      const auto value = static_cast<std::int64_t>(static_cast<q16>(static_cast<std::uint32_t>(lo[l]) + off[w][l]));
      (w == 0 ? s1 : s2)[l] = sum[w][l] + ((w == 0 ? k1 : k2)[l] - std::int64_t{below[w][l]}) * value;
    }
  }
}

/// Adds to kept[l] the sum of ranks [from[l], to[l]) of the count[l] values of lane l in
/// `mat`, all in [lo[l], top[l]], for the active lanes; `total[l]` is their sum.
EDGESWARM_AVX512 void select_rows(q16* mat, const int* count, const bool* active, const q16* lo, const q16* top,
                                  const std::int64_t* from, const std::int64_t* to, const std::int64_t* total,
                                  int columns, q16* copy, std::int64_t* kept) {
  int rows = 0;
  bool from_zero = true, to_all = true;
  for (int l = 0; l < columns; ++l) {
    if (!active[l]) continue;
    rows = std::max(rows, count[l]);
    from_zero = from_zero && from[l] == 0;
    to_all = to_all && to[l] == count[l];
  }
  if (rows == 0) return;
  if (rows > kMaxSearchRows) {  // a wide bucket (odd data): lane by lane
    for (int l = 0; l < columns; ++l) {
      if (!active[l]) continue;
      const auto m = static_cast<std::size_t>(count[l]);
      kept[l] += exact_column(mat + l, kLanes, m, from[l], static_cast<std::int64_t>(m) - to[l], copy);
    }
    return;
  }
  alignas(64) std::int32_t cnt[kLanes] = {}, k1[kLanes] = {}, k2[kLanes] = {};
  alignas(64) q16 lo_v[kLanes] = {}, top_v[kLanes] = {};
  for (int l = 0; l < columns; ++l) {
    if (!active[l]) continue;
    cnt[l] = count[l];
    k1[l] = static_cast<std::int32_t>(from_zero ? to[l] : from[l]);
    k2[l] = static_cast<std::int32_t>(to[l]);
    lo_v[l] = lo[l];
    top_v[l] = top[l];
  }
  const __m512i cv = _mm512_load_si512(cnt), pad = _mm512_load_si512(top_v);
  for (int i = 0; i < rows; ++i) {
    _mm512_mask_storeu_epi32(mat + i * kLanes, _mm512_cmple_epi32_mask(cv, _mm512_set1_epi32(i)), pad);
  }
  std::int64_t s1[kLanes], s2[kLanes];
  // One search when the ranks start at 0 or end at the count, two otherwise.
  if (from_zero || to_all) {
    sum_smallest_rows<false>(mat, rows, lo_v, top_v, k1, k1, s1, s1);
    for (int l = 0; l < columns; ++l) {
      if (active[l]) kept[l] += from_zero ? s1[l] : total[l] - s1[l];
    }
    return;
  }
  sum_smallest_rows<true>(mat, rows, lo_v, top_v, k1, k2, s1, s2);
  for (int l = 0; l < columns; ++l) {
    if (active[l]) kept[l] += s2[l] - s1[l];
  }
}

/// One tile of 16 lanes: `rows` rows of 16 values at `base`, `stride` apart.
/// Vertical tiles map lane l to column l (lanes >= `columns` are ignored);
/// horizontal tiles hold one column (all lanes) of rows * 16 values.
EDGESWARM_AVX512 void trimmed_tile(const q16* base, std::size_t stride, std::size_t rows, __mmask16 load_mask,
                                   int columns, bool horizontal, std::int64_t f_lo, std::int64_t f_hi,
                                   const TileScratch& ts, std::int64_t* kept) {
  const std::size_t n_col = horizontal ? rows * kLanes : rows;
  const int s = sample_size(n_col);
  alignas(64) q16 sample[kMaxSample * kLanes];
  take_sample(base, stride, rows, load_mask, horizontal, n_col, s, sample);
  KeyPlan pa, pb;
  plan_keys(sample, s, n_col, static_cast<std::size_t>(f_lo), pa);
  plan_keys(sample, s, n_col, n_col - static_cast<std::size_t>(f_hi), pb);
  alignas(64) std::int32_t ca[kSplit][kLanes], cb[kSplit][kLanes];
  count_below(base, stride, rows, load_mask, pa, ca);
  count_below(base, stride, rows, load_mask, pb, cb);
  Bounds bd;
  const int planned = horizontal ? 1 : columns;
  for (int l = 0; l < planned; ++l) {
    std::int64_t sa[kSplit], sb[kSplit], na[kSplit], nb[kSplit];
    for (int k = 0; k < kSplit; ++k) {
      sa[k] = pa.split[k][l];
      sb[k] = pb.split[k][l];
      na[k] = nb[k] = 0;
      for (int m = horizontal ? 0 : l; m < (horizontal ? kLanes : l + 1); ++m) {  // one column: lanes add up
        na[k] += ca[k][m];
        nb[k] += cb[k][m];
      }
    }
    plan_bounds(sa, na, sb, nb, static_cast<std::int64_t>(n_col), f_lo, f_hi, bd, l);
  }
  for (int l = planned; l < kLanes; ++l) {
    if (horizontal) {
      bd.lo1[l] = bd.lo1[0], bd.hi1[l] = bd.hi1[0], bd.lo2[l] = bd.lo2[0], bd.hi2[l] = bd.hi2[0];
      bd.merged[l] = bd.merged[0];
    } else {  // unused lane: every value counts as below, none is collected
      bd.lo1[l] = bd.lo2[l] = kQMax;
      bd.hi1[l] = bd.hi2[l] = kQMin;
      bd.merged[l] = true;
    }
  }

  PassStats st;
  sum_and_collect(base, stride, rows, load_mask, bd, ts, st);
  if (horizontal) {
    kept[0] = finish_horizontal(base, rows, bd, st, f_lo, f_hi, ts);
    return;
  }

  // Bucket values go lane by lane into two matrices: row i of lane l holds its i-th value.
  int count_a[kLanes] = {}, count_b[kLanes] = {};
  std::int64_t total_a[kLanes] = {}, total_b[kLanes] = {};
  {
    q16* const mat[2] = {ts.low, ts.high};
    int* const fill[2] = {count_a, count_b};
    std::int64_t* const total[2] = {total_a, total_b};
    for (std::size_t i = 0; i < st.collected; ++i) {
      const int l = ts.lane[i];
      const q16 v = ts.cand[i];
      const int which = v > bd.hi1[l] ? 1 : 0;
      mat[which][fill[which][l]++ * kLanes + l] = v;
      total[which][l] += v;
    }
  }
  // Check that the buckets hold the cut ranks with pass 3's own counts (they do when pass 2
  // counted right); a lane that fails is recomputed exactly, so pass 2 never decides the result.
  bool ok[kLanes] = {}, use_b[kLanes] = {};
  std::int64_t from_a[kLanes], to_a[kLanes], from_b[kLanes], to_b[kLanes];
  for (int l = 0; l < columns; ++l) {
    const std::int64_t k1 = f_lo - st.below[l], k2 = f_hi - st.above[l];
    const std::int64_t na = count_a[l], nb = count_b[l];
    if (bd.merged[l]) {
      ok[l] = k1 >= 0 && k2 >= 0 && k1 + k2 <= na;
      from_a[l] = k1, to_a[l] = na - k2;
    } else {
      ok[l] = k1 >= 0 && k1 <= na && k2 >= 0 && k2 <= nb;
      from_a[l] = k1, to_a[l] = na;
      from_b[l] = 0, to_b[l] = nb - k2;
      use_b[l] = ok[l];
    }
    kept[l] = st.mid_sum[l];
  }
  select_rows(ts.low, count_a, ok, bd.lo1, bd.hi1, from_a, to_a, total_a, columns, ts.copy, kept);
  select_rows(ts.high, count_b, use_b, bd.lo2, bd.hi2, from_b, to_b, total_b, columns, ts.copy, kept);
  for (int l = 0; l < columns; ++l) {
    if (!ok[l]) kept[l] = exact_column(base + l, stride, rows, f_lo, f_hi, ts.copy);
  }
}

EDGESWARM_AVX512 void trimmed_mean_avx512(const q16* values, std::size_t n, std::size_t d, std::size_t f, q16* out,
                                          Workspace& work) {
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
  const auto sorted_cap = static_cast<std::size_t>(pow2_at_least(static_cast<int>(padded))) * kLanes;
  ts.low = reserve_scratch(work.values2, sorted_cap);
  ts.high = reserve_scratch(work.values3, sorted_cap);
  ts.copy = reserve_scratch(work.values4, padded);
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
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
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

void trimmed_mean_portable(const q16* values, std::size_t n, std::size_t d, std::size_t f, q16* out, Workspace& work) {
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
