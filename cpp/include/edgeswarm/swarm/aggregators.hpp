#pragma once
// Byzantine-tolerant aggregation of n reports, each a D-dimensional Q16.16
// vector, into one vector. Coordinate-wise rules (mean, trimmed mean, median,
// reputation-weighted trimmed mean) and vector rules (Krum, Multi-Krum,
// centered clipping). Every rule is independent of the order of the reports:
// ties are broken by value, then by row index in sorted-value order, never by
// input position.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgeswarm/core/fixed_point.hpp"
#include "edgeswarm/swarm/workspace.hpp"

namespace edgeswarm::swarm {

using fixed::q16;

enum class AggregatorKind : std::uint8_t {
  Mean,
  TrimmedMean,
  Median,
  ReputationTrimmedMean,
  Krum,
  MultiKrum,
  CenteredClipping,
};

/// Parses "mean", "trimmed_mean", "median", "reputation_trimmed_mean", "krum",
/// "multi_krum", "centered_clipping"; throws std::invalid_argument naming
/// `aggregator` and the allowed values otherwise.
AggregatorKind parse_aggregator(const std::string& name);
/// The name parse_aggregator accepts for `kind`.
std::string to_string(AggregatorKind kind);

struct AggregatorParams {
  AggregatorKind kind = AggregatorKind::TrimmedMean;
  /// Fraction trimmed per side, in [0, 0.5); used when trim_count < 0.
  double trim = 0.2;
  /// Values trimmed per side (f); overrides `trim` when >= 0.
  int trim_count = -1;
  /// Krum / Multi-Krum: assumed number of Byzantine reports; -1 uses the trim count.
  int krum_f = -1;
  /// Multi-Krum: number of selected reports averaged; -1 means n - f.
  int multi_krum_m = -1;
  /// Centered clipping: L2 radius tau in real units (> 0) and iterations (>= 1).
  double clip_tau = 0.1;
  int clip_iters = 3;
};

/// Checks parameter ranges; throws std::invalid_argument naming the field.
void validate(const AggregatorParams& params);

/// Values trimmed per side for n reports. Throws std::invalid_argument when
/// the trim leaves nothing (2f >= n) or n == 0.
std::size_t trim_per_side(std::size_t n, const AggregatorParams& params);

/// Krum's assumed Byzantine count f for n reports (krum_f, or the trim count
/// when krum_f < 0). Throws std::invalid_argument unless n > 2f + 2.
std::size_t krum_byzantine(std::size_t n, const AggregatorParams& params);

/// Aggregator with reusable scratch space (no allocation per call once warm).
class Aggregator {
 public:
  explicit Aggregator(const AggregatorParams& params);
  const AggregatorParams& params() const { return params_; }

  /// Aggregates `values` (n rows x d columns, row-major Q16.16) into `out` (d).
  /// `weights`: one Q16.16 weight in [0, 1] per row (reputation), required by
  /// reputation_trimmed_mean and ignored by the others (nullptr allowed).
  /// `center`: previous aggregate (d) for centered clipping; nullptr starts
  /// from the coordinate-wise median.
  void aggregate(const q16* values, std::size_t n, std::size_t d, const q16* weights, const q16* center, q16* out);

 private:
  AggregatorParams params_;
  Workspace work_;  // replaces the former column_/scratch_/index_ vectors
};

/// Coordinate-wise trimmed mean kernel: drops the f smallest and f largest
/// values of every column and averages the rest (rounding rule of
/// fixed_point.hpp). Requires 2f < n. This is the fast path benchmarked
/// against NumPy.
void trimmed_mean(const q16* values, std::size_t n, std::size_t d, std::size_t f, q16* out);

}  // namespace edgeswarm::swarm
