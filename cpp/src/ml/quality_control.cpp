#include "edgeswarm/ml/quality_control.hpp"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <limits>
#include <string>

#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/ml/detector.hpp"

namespace edgeswarm::ml {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// E|x_t - x_{t-1}| = d2 sigma for independent normal samples (span 2).
const double kD2 = 2.0 / std::sqrt(std::acos(-1.0));

}  // namespace

InControl estimate_in_control(const double* x, std::size_t n, SigmaMethod method) {
  InControl out;
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isfinite(x[i])) {
      sum += x[i];
      ++out.n;
    } else {
      ++out.invalid;
    }
  }
  core::require(out.n >= 2, "x", std::to_string(out.n) + " finite values", "a calibration window of >= 2");
  out.mean = sum / static_cast<double>(out.n);
  double spread = 0.0;
  if (method == SigmaMethod::kMovingRange) {
    bool have_prev = false;
    double prev = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(x[i])) continue;
      if (have_prev) spread += std::fabs(x[i] - prev);
      prev = x[i];
      have_prev = true;
    }
    out.sigma = spread / static_cast<double>(out.n - 1) / kD2;
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(x[i])) continue;
      const double d = x[i] - out.mean;
      spread += d * d;
    }
    out.sigma = std::sqrt(spread / static_cast<double>(out.n - 1));
  }
  core::require(out.sigma > 0.0 && std::isfinite(out.sigma) && std::isfinite(out.mean), "x",
                "sigma estimate " + core::format_value(out.sigma) + " (mean " + core::format_value(out.mean) + ")",
                "calibration data with a finite mean and a finite sigma > 0");
  return out;
}

Capability process_capability(double mean, double sigma, double lsl, double usl) {
  core::require_finite("lsl", lsl, "finite values");
  core::require_finite("usl", usl, "finite values");
  core::require(lsl < usl, "usl", usl, "values > lsl (" + core::format_value(lsl) + ")");
  core::require_finite("mean", mean, "finite values");
  core::require_positive("sigma", sigma);
  Capability c;
  c.cp = (usl - lsl) / (6.0 * sigma);
  c.cpu = (usl - mean) / (3.0 * sigma);
  c.cpl = (mean - lsl) / (3.0 * sigma);
  c.cpk = std::min(c.cpu, c.cpl);
  return c;
}

void validate(const ControlChartParams& p) {
  core::require_finite("mean", p.mean, "finite values");
  core::require_positive("sigma", p.sigma);
  core::require(p.ewma_lambda > 0.0 && p.ewma_lambda <= 1.0, "ewma_lambda", p.ewma_lambda, "(0, 1]");
  core::require_positive("ewma_width", p.ewma_width);
  core::require_non_negative("cusum_k", p.cusum_k);
  core::require_positive("cusum_h", p.cusum_h);
  core::require(p.signals >= 1 && p.signals <= kAllSignals, "signals", p.signals, "a bit mask in [1, 63]");
}

ControlChart::ControlChart(const ControlChartParams& params) : params_(params) {
  validate(params_);
  reset();
}

void ControlChart::reset() {
  stats_ = {};
  ewma_ = params_.mean;
  decay2_ = 1.0;
  cusum_upper_ = 0.0;
  cusum_lower_ = 0.0;
  above_ = {};
  below_ = {};
}

std::uint8_t ControlChart::western_electric(double z) {
  for (int zone = 0; zone < 3; ++zone) {
    above_[zone] = static_cast<std::uint8_t>(above_[zone] << 1 | (z > zone ? 1 : 0));
    below_[zone] = static_cast<std::uint8_t>(below_[zone] << 1 | (z < -zone ? 1 : 0));
  }
  // A pattern: the newest sample is in the zone and at least `need` of the last `window` are.
  auto pattern = [](std::uint8_t history, unsigned window, std::size_t need) {
    return (history & 1) && std::bitset<8>(history & ((1u << window) - 1)).count() >= need;
  };
  std::uint8_t fired = 0;
  if (std::fabs(z) > 3.0) fired |= kRule1;
  if (pattern(above_[2], 3, 2) || pattern(below_[2], 3, 2)) fired |= kRule2;
  if (pattern(above_[1], 5, 4) || pattern(below_[1], 5, 4)) fired |= kRule3;
  if (above_[0] == 0xFF || below_[0] == 0xFF) fired |= kRule4;
  return fired;
}

ControlPoint ControlChart::update(double x) {
  ++stats_.seen;
  if (!std::isfinite(x)) {
    ++stats_.invalid;
    return {kNaN, kNaN, kNaN, kNaN, kNaN, 0, 0.0};
  }
  const ControlChartParams& p = params_;
  const double z = (x - p.mean) / p.sigma;
  ControlPoint out;

  // EWMA with its exact limits at t = valid samples so far, this one included.
  const double keep = 1.0 - p.ewma_lambda;
  ewma_ = p.ewma_lambda * x + keep * ewma_;
  decay2_ *= keep * keep;
  // Below 2^-60, 1 - decay2 is exactly 1: stop there, or the product would stick at the
  // smallest subnormal (0.64 ulp rounds up to 1 ulp) and every later multiply be slow.
  if (decay2_ < 0x1p-60) decay2_ = 0.0;
  const double half_width = p.ewma_width * p.sigma * std::sqrt(p.ewma_lambda / (2.0 - p.ewma_lambda) * (1.0 - decay2_));
  out.ewma = ewma_;
  out.ewma_lcl = p.mean - half_width;
  out.ewma_ucl = p.mean + half_width;

  cusum_upper_ = std::max(0.0, cusum_upper_ + z - p.cusum_k);
  cusum_lower_ = std::max(0.0, cusum_lower_ - z - p.cusum_k);
  out.cusum_upper = cusum_upper_;
  out.cusum_lower = cusum_lower_;

  std::uint8_t fired = western_electric(z);
  if (out.ewma > out.ewma_ucl || out.ewma < out.ewma_lcl) fired |= kEwma;
  if (cusum_upper_ > p.cusum_h || cusum_lower_ > p.cusum_h) fired |= kCusum;
  out.signals = static_cast<std::uint8_t>(fired & p.signals);

  // Confidence: each signalling chart is a witness with belief r^2 / (1 + r^2).
  double all_wrong = 1.0;
  if (out.signals & kWesternElectricRules) all_wrong *= 1.0 - std::max(ratio(z * z, 9.0), 0.5);
  if (out.signals & kEwma) {
    const double d = out.ewma - p.mean;
    all_wrong *= 1.0 - ratio(d * d, half_width * half_width);
  }
  if (out.signals & kCusum) {
    const double c = std::max(cusum_upper_, cusum_lower_);
    all_wrong *= 1.0 - ratio(c * c, p.cusum_h * p.cusum_h);
  }
  out.confidence = out.signals ? 1.0 - all_wrong : 0.0;

  if (out.signals) {
    ++stats_.defects;
    for (int i = 0; i < kSignalCount; ++i) {
      if ((out.signals >> i) & 1) ++stats_.fired[i];
    }
  }
  return out;
}

void ControlChart::update_batch(const double* x, std::size_t n, const ControlArrays& out) {
  for (std::size_t i = 0; i < n; ++i) {
    const ControlPoint c = update(x[i]);
    out.ewma[i] = c.ewma;
    out.ewma_lcl[i] = c.ewma_lcl;
    out.ewma_ucl[i] = c.ewma_ucl;
    out.cusum_upper[i] = c.cusum_upper;
    out.cusum_lower[i] = c.cusum_lower;
    out.signals[i] = c.signals;
    out.confidence[i] = c.confidence;
  }
}

}  // namespace edgeswarm::ml
