#pragma once
// Statistical process control for one sensor stream: Phase I estimates the
// in-control mean and sigma from a calibration window (or takes them as
// given); Phase II monitors new samples with three charts at once:
//
//   individuals (Shewhart) chart: z = (x - mean) / sigma, limits mean ± 3 sigma,
//     read with the Western Electric rules
//       1: one point beyond 3 sigma,
//       2: two of three consecutive points beyond 2 sigma on the same side,
//       3: four of five consecutive points beyond 1 sigma on the same side,
//       4: eight consecutive points on the same side of the center line;
//     a rule fires at the sample that completes its pattern, and that sample
//     must itself be part of the pattern (beyond the zone, on that side);
//   EWMA chart: e_t = lambda x_t + (1 - lambda) e_{t-1}, e_0 = mean, with the
//     exact time-varying limits mean ± L sigma sqrt(lambda / (2 - lambda) (1 - (1 - lambda)^(2t)));
//   tabular CUSUM in sigma units: C+_t = max(0, C+_{t-1} + z_t - k),
//     C-_t = max(0, C-_{t-1} - z_t - k), signal when either exceeds h.
//
// Beyond a limit means strictly beyond. t counts valid samples; a sample with
// NaN or infinity is counted as invalid and skipped (its outputs are NaN, no
// signal, confidence 0, no state changes), so it neither breaks nor extends a
// Western Electric pattern.
//
// Defect confidence in [0, 1]. Each chart that signals at a sample is a
// witness with belief q = r^2 / (1 + r^2), where r is the chart's statistic
// over its limit (|z| / 3, |e_t - mean| / (EWMA half-width at t),
// max(C+, C-) / h), so q is 0.5 exactly at the limit and grows with the
// distance past it; a Western Electric pattern rule (2-4) without a point
// beyond 3 sigma counts as q = 0.5. The confidence is the chance that at least
// one witness is right, 1 - prod(1 - q), over the charts that signal: 0 for a
// sample without a signal, 0.5 for one chart just past its limit, 0.75 for two,
// and towards 1 far past the limits.

#include <array>
#include <cstddef>
#include <cstdint>

namespace edgeswarm::ml {

/// One bit per signal in ControlChartParams::signals and in each sample's result.
enum Signal : std::uint8_t {
  kRule1 = 1,   ///< Western Electric 1: beyond 3 sigma
  kRule2 = 2,   ///< Western Electric 2: two of three beyond 2 sigma, same side
  kRule3 = 4,   ///< Western Electric 3: four of five beyond 1 sigma, same side
  kRule4 = 8,   ///< Western Electric 4: eight in a row on one side
  kEwma = 16,   ///< EWMA beyond its limits
  kCusum = 32,  ///< CUSUM (upper or lower) beyond h
};
/// Number of distinct signals (bits of Signal).
inline constexpr int kSignalCount = 6;
/// Every signal.
inline constexpr std::uint8_t kAllSignals = 63;
/// The four Western Electric rules.
inline constexpr std::uint8_t kWesternElectricRules = kRule1 | kRule2 | kRule3 | kRule4;

/// How Phase I estimates sigma.
enum class SigmaMethod {
  kMovingRange,  ///< mean moving range of consecutive valid samples / d2, d2 = 2 / sqrt(pi) (individuals chart)
  kStdDev,       ///< sample standard deviation (n - 1): the overall sigma of Pp / Ppk
};

/// In-control process parameters estimated from a calibration window.
struct InControl {
  double mean = 0.0;
  double sigma = 0.0;
  std::uint64_t n = 0;        ///< valid samples used
  std::uint64_t invalid = 0;  ///< samples skipped for NaN or infinity
};

/// Phase I: mean and sigma of the finite values of x[0..n); throws std::invalid_argument
/// ("x: ...") with fewer than 2 finite values or zero spread.
InControl estimate_in_control(const double* x, std::size_t n, SigmaMethod method);

/// Process capability against spec limits.
struct Capability {
  double cp = 0.0;   ///< (usl - lsl) / (6 sigma)
  double cpk = 0.0;  ///< min(cpu, cpl)
  double cpu = 0.0;  ///< (usl - mean) / (3 sigma)
  double cpl = 0.0;  ///< (mean - lsl) / (3 sigma)
};

/// Cp, Cpk (or Pp, Ppk with the overall sigma); throws std::invalid_argument naming
/// lsl, usl, mean or sigma when a limit is not finite, lsl >= usl, or sigma is not > 0.
Capability process_capability(double mean, double sigma, double lsl, double usl);

/// Options of ControlChart.
struct ControlChartParams {
  double mean = 0.0;          ///< in-control mean (center line)
  double sigma = 1.0;         ///< in-control sigma, > 0
  double ewma_lambda = 0.2;   ///< EWMA weight of the newest sample, (0, 1]
  double ewma_width = 3.0;    ///< EWMA limit width L in sigma_EWMA units, > 0
  double cusum_k = 0.5;       ///< CUSUM reference value in sigma units, >= 0
  double cusum_h = 5.0;       ///< CUSUM decision interval in sigma units, > 0
  int signals = kAllSignals;  ///< which signals are evaluated and flag defects (Signal bits), [1, 63]
};

/// Throws std::invalid_argument naming the first bad option.
void validate(const ControlChartParams& p);

/// Result of one sample.
struct ControlPoint {
  double ewma = 0.0;
  double ewma_lcl = 0.0;
  double ewma_ucl = 0.0;
  double cusum_upper = 0.0;  ///< C+ in sigma units
  double cusum_lower = 0.0;  ///< C- in sigma units
  std::uint8_t signals = 0;  ///< Signal bits that fired (only those enabled)
  double confidence = 0.0;   ///< defect confidence (file comment); 0 when no signal
  /// A defect: at least one enabled signal fired.
  bool defect() const { return signals != 0; }
};

/// Output arrays of ControlChart::update_batch, each of n entries.
struct ControlArrays {
  double* ewma;
  double* ewma_lcl;
  double* ewma_ucl;
  double* cusum_upper;
  double* cusum_lower;
  std::uint8_t* signals;
  double* confidence;
};

/// Counters of one chart's stream.
struct ControlStats {
  std::uint64_t seen = 0;                           ///< samples given, valid or not
  std::uint64_t invalid = 0;                        ///< samples skipped for NaN or infinity
  std::uint64_t defects = 0;                        ///< samples with at least one signal
  std::array<std::uint64_t, kSignalCount> fired{};  ///< samples on which each signal fired, by bit index
};

/// Phase II monitor: individuals chart with the Western Electric rules, EWMA and CUSUM.
class ControlChart {
 public:
  /// A fresh chart; throws std::invalid_argument on bad options.
  explicit ControlChart(const ControlChartParams& params = {});

  /// Monitors one sample (NaN and infinity: skipped, see the file comment).
  ControlPoint update(double x);
  /// update() over x[0..n) in order, writing entry i of every output array.
  void update_batch(const double* x, std::size_t n, const ControlArrays& out);
  /// Back to a fresh chart with the same options.
  void reset();

  /// The options.
  const ControlChartParams& params() const { return params_; }
  /// The counters.
  const ControlStats& stats() const { return stats_; }
  /// Current EWMA (the mean before any valid sample).
  double ewma() const { return ewma_; }
  /// Current C+ in sigma units.
  double cusum_upper() const { return cusum_upper_; }
  /// Current C- in sigma units.
  double cusum_lower() const { return cusum_lower_; }

 private:
  std::uint8_t western_electric(double z);  // records z in the zone histories, returns the rules fired

  ControlChartParams params_;
  ControlStats stats_;
  double ewma_ = 0.0;
  double decay2_ = 1.0;  // (1 - lambda)^(2t) after t valid samples
  double cusum_upper_ = 0.0;
  double cusum_lower_ = 0.0;
  // Zone histories of the last 8 valid samples, newest in bit 0: bit set when z > zone
  // (above_) or z < -zone (below_), for zones 0, 1 and 2 sigma.
  std::array<std::uint8_t, 3> above_{};
  std::array<std::uint8_t, 3> below_{};
};

}  // namespace edgeswarm::ml
