#pragma once
// What every streaming anomaly detector shares: the (score, confidence) pair,
// the counters, and the one definition of confidence.
//
// Every detector is causal: update(x) scores x against the state learned from
// the samples before it, then learns x. A sample with NaN or infinity (in any
// coordinate) is counted as invalid and skipped: its score is NaN, its
// confidence 0, and the state does not change.
//
// Confidence in [0, 1] = maturity * |2 * score - 1|, where maturity =
// n / (n + warmup) grows with the number n of valid samples learned before the
// one scored, and |2 * score - 1| is the distance of the score from the
// decision boundary 0.5. A fresh detector says 0 with confidence 0.

#include <cmath>
#include <cstdint>
#include <limits>

namespace edgeswarm::ml {

/// Anomaly score in [0, 1] (0.5 is the decision boundary) and confidence in [0, 1].
struct Scored {
  double score = 0.0;
  double confidence = 0.0;
};

/// Counters of one detector's stream.
struct DetectorStats {
  std::uint64_t seen = 0;     ///< samples given, valid or not
  std::uint64_t invalid = 0;  ///< samples skipped for NaN or infinity
  /// Valid samples learned.
  std::uint64_t learned() const { return seen - invalid; }
};

/// The score given to an invalid sample.
inline constexpr double kInvalidScore = std::numeric_limits<double>::quiet_NaN();

/// The result for an invalid sample: NaN score, zero confidence.
inline Scored invalid_scored() { return {kInvalidScore, 0.0}; }

/// n / (n + warmup): how much the detector has seen.
inline double maturity(std::uint64_t n, double warmup) {
  const double dn = static_cast<double>(n);
  return dn / (dn + warmup);
}

/// Confidence of `score` after n learned samples (see the file comment).
inline double confidence_of(double score, std::uint64_t n, double warmup) {
  return maturity(n, warmup) * std::fabs(2.0 * score - 1.0);
}

/// a / (a + b) for a, b >= 0, with an infinite a giving 1 (overflowing squares of huge
/// finite inputs must not turn into NaN).
inline double ratio(double a, double b) { return a < std::numeric_limits<double>::infinity() ? a / (a + b) : 1.0; }

/// Maps a squared standardised distance z2 to [0, 1]: z2 / (z2 + threshold^2), so
/// a distance of `threshold` standard deviations scores exactly 0.5.
inline double ratio_score(double z2, double threshold2) { return ratio(z2, threshold2); }

}  // namespace edgeswarm::ml
