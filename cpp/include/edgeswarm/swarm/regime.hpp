#pragma once
// Regime detection from residual entropy: Calm / PreStorm / Storm with
// hysteresis. H_t is the normalised Shannon entropy of the histogram of
// residuals |x_i - consensus| / residual_range over a fixed number of bins;
// residuals beyond the range are saturated (the histogram cannot place them)
// and count as maximal disorder (spread evenly over the bins), so a storm too
// wide for the range reads as a storm, not as one quiet bin. Calm swarms have
// H near 0; a storm spreads residuals and raises H.

#include <cstddef>
#include <cstdint>
#include <string>

namespace edgeswarm::swarm {

enum class Regime : std::uint8_t { Calm = 0, PreStorm = 1, Storm = 2 };

/// The regime's name: "Calm", "PreStorm" or "Storm".
std::string to_string(Regime regime);

/// Normalised entropy in [0, 1] of the residual histogram, with saturated
/// residuals counted as maximal disorder.
///
/// `residuals` are m absolute residuals in real units, scaled by
/// `residual_range` (> 0) into `bins` (>= 2) equal bins over [0, range);
/// bin of r is floor(|r| / residual_range * bins). A residual at or beyond the
/// range (infinite ones included) is saturated: the histogram cannot say where
/// it lies, so, by maximum entropy, its unit of mass is spread evenly over all
/// bins. With c_b the in-range count of bin b and s the saturated count,
///   p_b = (c_b + s / bins) / (in-range count + s),  H = -sum p_b log p_b / log bins.
/// H is 0 for residuals in one bin and 1 for an even spread or when every
/// residual is saturated; adding saturated residuals never lowers H (p moves
/// towards the uniform histogram), so a storm that outgrows the range reads as
/// a storm instead of one quiet bin. NaN residuals are skipped; m == 0 (or all
/// NaN) gives 0. Throws std::invalid_argument for residual_range <= 0 or not
/// finite, bins < 2.
double residual_entropy(const double* residuals, std::size_t m, double residual_range, int bins);

struct RegimeParams {
  double calm_threshold = 0.45;        ///< H below this is calm
  double storm_threshold = 0.7;        ///< H at or above this is a storm
  double derivative_threshold = 0.05;  ///< smoothed rise per epoch that signals PreStorm
  int hysteresis = 3;                  ///< consecutive confirmations per transition (>= 1)
  double smoothing = 0.3;              ///< EWMA weight of the newest H, in (0, 1]
};

/// Checks ranges (0 <= calm < storm <= 1, derivative > 0, hysteresis >= 1,
/// smoothing in (0, 1]); throws std::invalid_argument naming the field.
void validate(const RegimeParams& params);

/// Streaming regime classifier. A candidate regime is computed from each H:
/// Storm when H >= storm_threshold; PreStorm when H >= calm_threshold or the
/// smoothed H rises by at least derivative_threshold per epoch; Calm
/// otherwise. The regime changes only after `hysteresis` consecutive epochs
/// with the same new candidate. The thresholds apply to the raw H of the
/// epoch; the derivative is that of the EWMA-smoothed H (smoothed =
/// smoothing * H + (1 - smoothing) * smoothed, initialised by the first H;
/// derivative 0 on the first H). A candidate equal to the current regime
/// resets the confirmation count.
class RegimeDetector {
 public:
  /// Starts in Calm; throws std::invalid_argument on bad params.
  explicit RegimeDetector(const RegimeParams& params = {});
  /// The parameters it was built with.
  const RegimeParams& params() const { return params_; }

  /// Feeds one entropy value (NaN is ignored) and returns the regime.
  /// Infinite values are ignored too: they would poison the smoothed H.
  Regime update(double h);
  /// Regime in force.
  Regime regime() const { return regime_; }
  /// EWMA of the entropy values fed so far (0 before the first).
  double smoothed() const { return smoothed_; }
  /// Last change of the smoothed entropy (per epoch).
  double derivative() const { return derivative_; }
  /// Back to the initial state (Calm, no smoothed value).
  void reset();

 private:
  RegimeParams params_;
  Regime regime_ = Regime::Calm;
  Regime candidate_ = Regime::Calm;
  int confirmations_ = 0;
  bool has_smoothed_ = false;
  double smoothed_ = 0.0;
  double derivative_ = 0.0;
};

}  // namespace edgeswarm::swarm
