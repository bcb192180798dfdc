#pragma once
// Q16.16 fixed point: a signed 32-bit integer with 16 fractional bits.
//
// Rounding rule (the one rule used everywhere in the engine): round to the
// nearest representable value, ties away from zero. Conversions, products,
// quotients and means all follow it. Every operation saturates to
// [kMin, kMax] instead of wrapping.

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace edgeswarm::fixed {

/// Raw Q16.16 value as stored in arrays and on the wire.
using q16 = std::int32_t;

inline constexpr int kFracBits = 16;
inline constexpr q16 kOne = q16{1} << kFracBits;
inline constexpr q16 kMax = std::numeric_limits<q16>::max();
inline constexpr q16 kMin = std::numeric_limits<q16>::min();
/// Largest and smallest real numbers a Q16.16 can hold.
inline constexpr double kMaxReal = static_cast<double>(kMax) / kOne;
inline constexpr double kMinReal = static_cast<double>(kMin) / kOne;

/// Clamps a wide integer to the Q16.16 range.
template <typename Wide>
constexpr q16 saturate(Wide v) {
  if (v > static_cast<Wide>(kMax)) return kMax;
  if (v < static_cast<Wide>(kMin)) return kMin;
  return static_cast<q16>(v);
}

/// num / den rounded to nearest, ties away from zero; den must be > 0.
template <typename Wide>
constexpr Wide div_round(Wide num, Wide den) {
  Wide q = num / den;
  Wide r = num % den;
  if (r < 0) r = -r;
  if (r >= den - r) q += (num < 0) ? Wide{-1} : Wide{1};
  return q;
}

/// Converts a real number; +-inf saturate, NaN is rejected.
inline q16 from_double(double x) {
  if (std::isnan(x)) throw std::invalid_argument("value: NaN cannot be converted to Q16.16");
  if (x >= kMaxReal) return kMax;
  if (x <= kMinReal) return kMin;
  return saturate(static_cast<std::int64_t>(std::round(x * kOne)));  // std::round: ties away
}

/// Exact conversion to double (every Q16.16 value is representable).
constexpr double to_double(q16 x) { return static_cast<double>(x) / kOne; }

constexpr q16 add(q16 a, q16 b) { return saturate(std::int64_t{a} + b); }
constexpr q16 sub(q16 a, q16 b) { return saturate(std::int64_t{a} - b); }
constexpr q16 mul(q16 a, q16 b) { return saturate(div_round<std::int64_t>(std::int64_t{a} * b, std::int64_t{kOne})); }
/// a / b; division by zero saturates towards the sign of a (0 / 0 is 0).
constexpr q16 div(q16 a, q16 b) {
  if (b == 0) return a > 0 ? kMax : (a < 0 ? kMin : 0);
  std::int64_t num = std::int64_t{a} * kOne;
  std::int64_t den = b;
  if (den < 0) {
    num = -num;
    den = -den;
  }
  return saturate(div_round<std::int64_t>(num, den));
}

/// Mean of `count` values whose exact sum is `sum`, rounded by the rule above.
template <typename Wide>
constexpr q16 mean_of_sum(Wide sum, Wide count) {
  return saturate(div_round<Wide>(sum, count));
}

/// Value type with operators, for readable scalar code; arrays hold raw q16.
struct Q16 {
  q16 raw = 0;
  static Q16 from(double x) { return Q16{from_double(x)}; }
  constexpr double to_double() const { return fixed::to_double(raw); }
  friend constexpr Q16 operator+(Q16 a, Q16 b) { return Q16{add(a.raw, b.raw)}; }
  friend constexpr Q16 operator-(Q16 a, Q16 b) { return Q16{sub(a.raw, b.raw)}; }
  friend constexpr Q16 operator*(Q16 a, Q16 b) { return Q16{mul(a.raw, b.raw)}; }
  friend constexpr Q16 operator/(Q16 a, Q16 b) { return Q16{div(a.raw, b.raw)}; }
  friend constexpr bool operator==(Q16 a, Q16 b) { return a.raw == b.raw; }
  friend constexpr bool operator<(Q16 a, Q16 b) { return a.raw < b.raw; }
};

}  // namespace edgeswarm::fixed
