#include "edgeswarm/ml/anomaly_likelihood.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::ml {
namespace {

// Numenta's zones: a tail probability <= 1e-5 is an alarm ("red"); a red that
// follows a red is lowered to 1e-3 ("yellow").
constexpr double kRedTail = 1e-5;
constexpr double kYellowTail = 1e-3;
// Keeps log() finite at p = 0 and puts the score's 1 at p = 1e-10.
constexpr double kTailEpsilon = 1e-10;

}  // namespace

double normal_tail(double z) { return 0.5 * std::erfc(std::fabs(z) / std::sqrt(2.0)); }

double log_tail_score(double p) {
  const double s = std::log(p + kTailEpsilon) / std::log(kTailEpsilon);
  return std::clamp(s, 0.0, 1.0);
}

void validate(const AnomalyLikelihoodParams& p) {
  core::require(p.average >= 1, "average", std::to_string(p.average), "integers >= 1");
  core::require(p.learning >= 0, "learning", std::to_string(p.learning), "integers >= 0");
  core::require(p.estimate_every >= 1, "estimate_every", std::to_string(p.estimate_every), "integers >= 1");
  core::require(p.history >= 2, "history", std::to_string(p.history), "integers >= 2");
  core::require_non_negative("mean_floor", p.mean_floor);
  core::require_positive("variance_floor", p.variance_floor);
  core::require_non_negative("warmup", p.warmup);
}

AnomalyLikelihood::AnomalyLikelihood(const AnomalyLikelihoodParams& params) : params_(params) {
  validate(params_);
  recent_.reserve(static_cast<std::size_t>(params_.average));
  means_.reserve(static_cast<std::size_t>(params_.history));
}

void AnomalyLikelihood::fit() {
  // Two passes over the stored means: exact enough and the same in any chunking.
  const auto m = static_cast<double>(means_.size());
  double sum = 0.0;
  for (double v : means_) sum += v;
  const double mean = sum / m;
  double ss = 0.0;
  for (double v : means_) ss += (v - mean) * (v - mean);
  mu_ = std::max(mean, params_.mean_floor);
  sd_ = std::sqrt(std::max(ss / m, params_.variance_floor));
  fitted_ = true;
  since_fit_ = 0;
}

Scored AnomalyLikelihood::update(double r) {
  ++stats_.seen;
  if (!std::isfinite(r)) {
    ++stats_.invalid;
    return invalid_scored();
  }
  const std::uint64_t n = stats_.learned() - 1;  // learned before r
  const auto k = static_cast<std::size_t>(params_.average);
  if (recent_.size() < k) {
    recent_.push_back(r);
  } else {
    recent_[n % k] = r;
  }
  double sum = 0.0;
  for (double v : recent_) sum += v;
  const double mean = sum / static_cast<double>(recent_.size());

  const double tail = fitted_ ? normal_tail((mean - mu_) / sd_) : 0.5;
  const bool red = tail <= kRedTail;
  const double shown = red && previous_tail_ <= kRedTail ? kYellowTail : tail;
  previous_tail_ = tail;
  Scored out;
  out.score = log_tail_score(shown);
  out.confidence = confidence_of(out.score, n, params_.warmup);

  // Learn: the short means after the learning period feed the fit.
  if (n >= static_cast<std::uint64_t>(params_.learning)) {
    const auto cap = static_cast<std::size_t>(params_.history);
    if (means_.size() < cap) {
      means_.push_back(mean);
    } else {
      means_[means_head_] = mean;
      means_head_ = (means_head_ + 1) % cap;
    }
    ++since_fit_;
    if (since_fit_ >= static_cast<std::size_t>(params_.estimate_every)) fit();
  }
  return out;
}

void AnomalyLikelihood::update_batch(const double* r, std::size_t n, double* score, double* confidence) {
  for (std::size_t i = 0; i < n; ++i) {
    const Scored s = update(r[i]);
    score[i] = s.score;
    confidence[i] = s.confidence;
  }
}

void AnomalyLikelihood::reset() {
  stats_ = {};
  recent_.clear();
  means_.clear();
  means_head_ = 0;
  since_fit_ = 0;
  fitted_ = false;
  mu_ = 0.0;
  sd_ = 1.0;
  previous_tail_ = 1.0;
}

}  // namespace edgeswarm::ml
