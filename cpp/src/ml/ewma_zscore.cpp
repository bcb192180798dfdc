#include "edgeswarm/ml/ewma_zscore.hpp"

#include <algorithm>
#include <cmath>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::ml {

void validate(const EwmaZScoreParams& p) {
  core::require(p.alpha > 0.0 && p.alpha <= 1.0, "alpha", p.alpha, "(0, 1]");
  core::require_positive("threshold", p.threshold);
  core::require_non_negative("warmup", p.warmup);
  core::require_positive("min_std", p.min_std);
}

EwmaZScore::EwmaZScore(const EwmaZScoreParams& params) : params_(params) { validate(params_); }

Scored EwmaZScore::update(double x) {
  ++stats_.seen;
  if (!std::isfinite(x)) {
    ++stats_.invalid;
    return invalid_scored();
  }
  const std::uint64_t n = stats_.seen - stats_.invalid - 1;  // learned before x
  const double d = x - mean_;
  Scored out;
  if (n > 0) {
    const double floor2 = params_.min_std * params_.min_std;
    const double v = std::max(var_, floor2);
    // z^2 / (z^2 + t^2) without a square root or a division by a tiny variance.
    const double d2 = d * d;
    out.score = ratio(d2, params_.threshold * params_.threshold * v);
    out.confidence = confidence_of(out.score, n, params_.warmup);
  }
  // Equal weights 1/(n+1) until they fall to alpha: the exact running mean and
  // population variance first, exponential forgetting after.
  const double a = std::max(params_.alpha, 1.0 / static_cast<double>(n + 1));
  mean_ += a * d;
  var_ = (1.0 - a) * (var_ + a * d * d);
  return out;
}

void EwmaZScore::update_batch(const double* x, std::size_t n, double* score, double* confidence) {
  // The arithmetic of update(), with the state in locals: the outputs cannot
  // alias them, so nothing is stored or reloaded per sample. Bit-identical.
  const double t2 = params_.threshold * params_.threshold;
  const double floor2 = params_.min_std * params_.min_std;
  const double alpha = params_.alpha, warmup = params_.warmup;
  std::uint64_t seen = stats_.seen, invalid = stats_.invalid;
  double mean = mean_, var = var_;
  bool settled = false;
  for (std::size_t i = 0; i < n; ++i) {
    const double xi = x[i];
    ++seen;
    if (!std::isfinite(xi)) {
      ++invalid;
      score[i] = kInvalidScore;
      confidence[i] = 0.0;
      continue;
    }
    const std::uint64_t learned = seen - invalid - 1;
    const double d = xi - mean;
    double s = 0.0, c = 0.0;
    if (learned > 0) {
      s = ratio(d * d, t2 * std::max(var, floor2));
      c = confidence_of(s, learned, warmup);
    }
    score[i] = s;
    confidence[i] = c;
    // 1/(n+1) only falls: once it is <= alpha, a is alpha for good, so skip the division.
    double a = alpha;
    if (!settled) {
      const double q = 1.0 / static_cast<double>(learned + 1);
      settled = q <= alpha;
      a = std::max(alpha, q);
    }
    mean += a * d;
    var = (1.0 - a) * (var + a * d * d);
  }
  stats_.seen = seen;
  stats_.invalid = invalid;
  mean_ = mean;
  var_ = var;
}

void EwmaZScore::reset() {
  stats_ = {};
  mean_ = 0.0;
  var_ = 0.0;
}

}  // namespace edgeswarm::ml
