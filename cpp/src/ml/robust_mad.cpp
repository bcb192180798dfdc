#include "edgeswarm/ml/robust_mad.hpp"

#include <algorithm>
#include <cmath>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::ml {
namespace {

// 1.4826 * MAD estimates the standard deviation of a normal distribution.
constexpr double kMadToSigma = 1.4826;

double median_of_sorted(const std::vector<double>& a) {
  const std::size_t k = a.size();
  if (k == 0) return 0.0;
  return (k % 2 == 1) ? a[k / 2] : 0.5 * (a[k / 2 - 1] + a[k / 2]);
}

// Median of |a_i - med| for sorted a: the deviations left and right of med are
// each sorted, so merging them up to the middle rank takes k / 2 steps.
double mad_of_sorted(const std::vector<double>& a, double med) {
  const std::size_t k = a.size();
  if (k == 0) return 0.0;
  std::ptrdiff_t right = std::lower_bound(a.begin(), a.end(), med) - a.begin();
  std::ptrdiff_t left = right - 1;
  const std::size_t lo_rank = (k - 1) / 2, hi_rank = k / 2;
  double lo = 0.0, hi = 0.0;
  for (std::size_t rank = 0; rank <= hi_rank; ++rank) {
    double dev;
    const bool has_left = left >= 0, has_right = right < static_cast<std::ptrdiff_t>(k);
    if (has_left && (!has_right || med - a[left] <= a[right] - med)) {
      dev = med - a[left--];
    } else {
      dev = a[right++] - med;
    }
    if (rank == lo_rank) lo = dev;
    if (rank == hi_rank) hi = dev;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

void validate(const RobustMadParams& p) {
  core::require(p.window >= 3, "window", std::to_string(p.window), "integers >= 3");
  core::require_positive("threshold", p.threshold);
  core::require_non_negative("warmup", p.warmup);
  core::require_positive("min_scale", p.min_scale);
  core::require_fraction("range_floor", p.range_floor);
}

RobustMad::RobustMad(const RobustMadParams& params) : params_(params) {
  validate(params_);
  window_ = SortedWindow(static_cast<std::size_t>(params_.window));
}

double RobustMad::median() const { return median_of_sorted(window_.sorted()); }

double RobustMad::mad() const { return mad_of_sorted(window_.sorted(), median_of_sorted(window_.sorted())); }

double RobustMad::scale() const { return scale_about(median()); }

double RobustMad::scale_about(double med) const {
  return std::max(
      {kMadToSigma * mad_of_sorted(window_.sorted(), med), params_.range_floor * (max_ - min_), params_.min_scale});
}

Scored RobustMad::update(double x) {
  ++stats_.seen;
  if (!std::isfinite(x)) {
    ++stats_.invalid;
    return invalid_scored();
  }
  Scored out;
  if (!window_.empty()) {
    const double med = median();
    const double z = (x - med) / scale_about(med);
    out.score = ratio_score(z * z, params_.threshold * params_.threshold);
    out.confidence = confidence_of(out.score, stats_.learned() - 1, params_.warmup);
  }
  min_ = stats_.learned() == 1 ? x : std::min(min_, x);
  max_ = stats_.learned() == 1 ? x : std::max(max_, x);
  window_.push(x);
  return out;
}

void RobustMad::update_batch(const double* x, std::size_t n, double* score, double* confidence) {
  for (std::size_t i = 0; i < n; ++i) {
    const Scored s = update(x[i]);
    score[i] = s.score;
    confidence[i] = s.confidence;
  }
}

void RobustMad::reset() {
  stats_ = {};
  window_.clear();
  min_ = max_ = 0.0;
}

}  // namespace edgeswarm::ml
