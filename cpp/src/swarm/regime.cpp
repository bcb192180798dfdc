#include "edgeswarm/swarm/regime.hpp"

#include <cmath>
#include <locale>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::swarm {
namespace {}  // namespace

std::string to_string(Regime regime) {
  switch (regime) {
    case Regime::Calm:
      return "Calm";
    case Regime::PreStorm:
      return "PreStorm";
    case Regime::Storm:
      return "Storm";
  }
  return "Regime(" + std::to_string(static_cast<int>(regime)) + ")";
}

double residual_entropy(const double* residuals, std::size_t m, double residual_range, int bins) {
  if (!(residual_range > 0.0) || !std::isfinite(residual_range)) {
    core::fail_range("residual_range", core::format_value(residual_range), "finite values > 0");
  }
  if (bins < 2) core::fail_range("bins", std::to_string(bins), "integers >= 2");
  if (m > 0 && residuals == nullptr) throw std::invalid_argument("residuals: null pointer with m > 0");

  std::vector<std::uint64_t> counts(static_cast<std::size_t>(bins), 0);
  std::uint64_t in_range = 0;
  std::uint64_t saturated = 0;
  const double scale = static_cast<double>(bins) / residual_range;
  for (std::size_t i = 0; i < m; ++i) {
    const double r = residuals[i];
    if (std::isnan(r)) continue;
    const double x = std::fabs(r) * scale;
    // A comparison first, so that huge and infinite residuals are counted as
    // saturated without an out-of-range float-to-int conversion.
    if (x < static_cast<double>(bins)) {
      ++counts[static_cast<std::size_t>(x)];
      ++in_range;
    } else {
      ++saturated;
    }
  }
  const std::uint64_t total = in_range + saturated;
  if (total == 0) return 0.0;

  // A saturated residual could be anywhere: its mass goes evenly to every bin.
  const double spread = static_cast<double>(saturated) / static_cast<double>(bins);
  const double inv_total = 1.0 / static_cast<double>(total);
  double h = 0.0;
  for (std::uint64_t c : counts) {
    const double p = (static_cast<double>(c) + spread) * inv_total;
    if (p > 0.0) h -= p * std::log(p);
  }
  h /= std::log(static_cast<double>(bins));
  // Rounding can push a perfectly even histogram a hair past 1.
  if (h < 0.0) h = 0.0;
  if (h > 1.0) h = 1.0;
  return h;
}

void validate(const RegimeParams& p) {
  if (!(p.calm_threshold >= 0.0 && p.calm_threshold < 1.0)) {
    core::fail_range("calm_threshold", core::format_value(p.calm_threshold), "[0, 1) and below storm_threshold");
  }
  if (!(p.storm_threshold > 0.0 && p.storm_threshold <= 1.0)) {
    core::fail_range("storm_threshold", core::format_value(p.storm_threshold), "(0, 1] and above calm_threshold");
  }
  if (!(p.calm_threshold < p.storm_threshold)) {
    core::fail_range("calm_threshold", core::format_value(p.calm_threshold),
                     "[0, storm_threshold) with storm_threshold = " + core::format_value(p.storm_threshold));
  }
  if (!(p.derivative_threshold > 0.0) || !std::isfinite(p.derivative_threshold)) {
    core::fail_range("derivative_threshold", core::format_value(p.derivative_threshold), "finite values > 0");
  }
  if (p.hysteresis < 1) core::fail_range("hysteresis", std::to_string(p.hysteresis), "integers >= 1");
  if (!(p.smoothing > 0.0 && p.smoothing <= 1.0))
    core::fail_range("smoothing", core::format_value(p.smoothing), "(0, 1]");
}

RegimeDetector::RegimeDetector(const RegimeParams& params) : params_(params) { validate(params_); }

Regime RegimeDetector::update(double h) {
  // Non-finite entropy carries no information (e.g. an epoch with no honest
  // residuals upstream); it must not poison the smoothed value.
  if (!std::isfinite(h)) return regime_;

  if (!has_smoothed_) {
    smoothed_ = h;
    derivative_ = 0.0;
    has_smoothed_ = true;
  } else {
    const double next = params_.smoothing * h + (1.0 - params_.smoothing) * smoothed_;
    derivative_ = next - smoothed_;
    smoothed_ = next;
  }

  Regime candidate = Regime::Calm;
  if (h >= params_.storm_threshold) {
    candidate = Regime::Storm;
  } else if (h >= params_.calm_threshold || derivative_ >= params_.derivative_threshold) {
    candidate = Regime::PreStorm;
  }

  if (candidate == regime_) {
    candidate_ = regime_;
    confirmations_ = 0;
  } else {
    if (candidate == candidate_) {
      ++confirmations_;
    } else {
      candidate_ = candidate;
      confirmations_ = 1;
    }
    if (confirmations_ >= params_.hysteresis) {
      regime_ = candidate;
      confirmations_ = 0;
    }
  }
  return regime_;
}

void RegimeDetector::reset() {
  regime_ = Regime::Calm;
  candidate_ = Regime::Calm;
  confirmations_ = 0;
  has_smoothed_ = false;
  smoothed_ = 0.0;
  derivative_ = 0.0;
}

}  // namespace edgeswarm::swarm
