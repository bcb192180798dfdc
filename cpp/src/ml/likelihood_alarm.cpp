#include "edgeswarm/ml/likelihood_alarm.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::ml {

void validate(const LikelihoodAlarmParams& p) {
  core::require(p.base == AlarmBase::rarity || p.base == AlarmBase::ewma, "base",
                std::to_string(static_cast<int>(p.base)), "rarity, ewma");
  validate(p.rarity);
  validate(p.ewma);
  validate(p.likelihood);
  core::require_non_negative("range_tolerance", p.range_tolerance);
  core::require(p.holdoff >= 0, "holdoff", std::to_string(p.holdoff), "integers >= 0");
  core::require_non_negative("warmup", p.warmup);
}

LikelihoodAlarm::LikelihoodAlarm(const LikelihoodAlarmParams& params)
    : params_((validate(params), params)),
      rarity_(params_.rarity),
      ewma_(params_.ewma),
      likelihood_(params_.likelihood) {}

Scored LikelihoodAlarm::update(double x) {
  ++stats_.seen;
  if (!std::isfinite(x)) {
    ++stats_.invalid;
    return invalid_scored();
  }
  const std::uint64_t n = stats_.learned() - 1;  // learned before x
  // Only the active base learns: the other would cost time and change nothing.
  const double raw = params_.base == AlarmBase::rarity ? rarity_.update(x).score : ewma_.update(x).score;
  double s = likelihood_.update(raw).score;
  if (params_.range_break && n > 0 && hi_ > lo_) {
    const double margin = params_.range_tolerance * (hi_ - lo_);
    if (x > hi_ + margin || x < lo_ - margin) s = 1.0;
  }
  if (n == 0) {
    lo_ = hi_ = x;
  } else {
    lo_ = std::min(lo_, x);
    hi_ = std::max(hi_, x);
  }
  if (quiet_ > 0) {
    --quiet_;
    s = 0.0;
  } else if (s >= 0.5) {
    quiet_ = params_.holdoff;
  }
  return {s, confidence_of(s, n, params_.warmup)};
}

void LikelihoodAlarm::update_batch(const double* x, std::size_t n, double* score, double* confidence) {
  for (std::size_t i = 0; i < n; ++i) {
    const Scored s = update(x[i]);
    score[i] = s.score;
    confidence[i] = s.confidence;
  }
}

void LikelihoodAlarm::reset() {
  stats_ = {};
  rarity_.reset();
  ewma_.reset();
  likelihood_.reset();
  lo_ = hi_ = 0.0;
  quiet_ = 0;
}

}  // namespace edgeswarm::ml
