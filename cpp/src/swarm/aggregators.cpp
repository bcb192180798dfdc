#include "edgeswarm/swarm/aggregators.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/swarm/centered_clipping.hpp"
#include "edgeswarm/swarm/coordinatewise.hpp"
#include "edgeswarm/swarm/krum.hpp"
#include "edgeswarm/swarm/trimmed_mean.hpp"

namespace edgeswarm::swarm {
namespace {

using core::fail;

constexpr const char* kAllowedNames =
    "mean, trimmed_mean, median, reputation_trimmed_mean, krum, multi_krum, centered_clipping";

}  // namespace

AggregatorKind parse_aggregator(const std::string& name) {
  if (name == "mean") return AggregatorKind::Mean;
  if (name == "trimmed_mean") return AggregatorKind::TrimmedMean;
  if (name == "median") return AggregatorKind::Median;
  if (name == "reputation_trimmed_mean") return AggregatorKind::ReputationTrimmedMean;
  if (name == "krum") return AggregatorKind::Krum;
  if (name == "multi_krum") return AggregatorKind::MultiKrum;
  if (name == "centered_clipping") return AggregatorKind::CenteredClipping;
  fail("aggregator: '" + name + "' is unknown; allowed " + kAllowedNames);
}

std::string to_string(AggregatorKind kind) {
  switch (kind) {
    case AggregatorKind::Mean:
      return "mean";
    case AggregatorKind::TrimmedMean:
      return "trimmed_mean";
    case AggregatorKind::Median:
      return "median";
    case AggregatorKind::ReputationTrimmedMean:
      return "reputation_trimmed_mean";
    case AggregatorKind::Krum:
      return "krum";
    case AggregatorKind::MultiKrum:
      return "multi_krum";
    case AggregatorKind::CenteredClipping:
      return "centered_clipping";
  }
  fail("aggregator: kind " + std::to_string(static_cast<int>(kind)) + " is unknown; allowed " + kAllowedNames);
}

void validate(const AggregatorParams& params) {
  (void)to_string(params.kind);
  if (!(params.trim >= 0.0 && params.trim < 0.5)) {
    fail("trim: " + core::format_value(params.trim) + " is out of range; allowed [0, 0.5)");
  }
  if (params.trim_count < -1) {
    fail("trim_count: " + std::to_string(params.trim_count) + " is out of range; allowed -1 (use trim) or >= 0");
  }
  if (params.krum_f < -1) {
    fail("krum_f: " + std::to_string(params.krum_f) + " is out of range; allowed -1 (use the trim count) or >= 0");
  }
  if (params.multi_krum_m < -1 || params.multi_krum_m == 0) {
    fail("multi_krum_m: " + std::to_string(params.multi_krum_m) + " is out of range; allowed -1 (n - f) or >= 1");
  }
  (void)clip_tau_raw(params.clip_tau);
  if (params.clip_iters < 1) {
    fail("clip_iters: " + std::to_string(params.clip_iters) + " is out of range; allowed >= 1");
  }
}

std::size_t trim_per_side(std::size_t n, const AggregatorParams& params) {
  if (n == 0) fail("n: 0 reports; at least 1 is required");
  if (params.trim_count >= 0) {
    const auto f = static_cast<std::size_t>(params.trim_count);
    if (2 * f >= n) {
      fail("trim_count: " + std::to_string(f) + " leaves no report of n = " + std::to_string(n) +
           "; allowed 2 * trim_count < n");
    }
    return f;
  }
  if (!(params.trim >= 0.0 && params.trim < 0.5)) {
    fail("trim: " + core::format_value(params.trim) + " is out of range; allowed [0, 0.5)");
  }
  const auto f = static_cast<std::size_t>(std::floor(params.trim * static_cast<double>(n)));
  if (2 * f >= n) {
    fail("trim: " + core::format_value(params.trim) + " leaves no report of n = " + std::to_string(n) +
         "; allowed floor(trim * n) < n / 2");
  }
  return f;
}

std::size_t krum_byzantine(std::size_t n, const AggregatorParams& params) {
  if (n == 0) fail("n: 0 reports; at least 1 is required");
  std::size_t f = 0;
  if (params.krum_f >= 0) {
    f = static_cast<std::size_t>(params.krum_f);
  } else if (params.trim_count >= 0) {
    f = static_cast<std::size_t>(params.trim_count);
  } else {
    f = trim_per_side(n, params);
  }
  if (n <= 2 * f + 2) {
    fail("krum_f: f = " + std::to_string(f) + (params.krum_f >= 0 ? "" : " (from the trim)") +
         " needs n > 2f + 2 = " + std::to_string(2 * f + 2) + " reports; got n = " + std::to_string(n));
  }
  return f;
}

void trimmed_mean(const q16* values, std::size_t n, std::size_t d, std::size_t f, q16* out) {
  thread_local Workspace work;  // warm scratch per thread: no allocation per call
  trimmed_mean(values, n, d, f, out, work);
}

Aggregator::Aggregator(const AggregatorParams& params) : params_(params) { validate(params_); }

void Aggregator::aggregate(const q16* values, std::size_t n, std::size_t d, const q16* weights, const q16* center,
                           q16* out) {
  if (n == 0) fail("n: 0 reports; at least 1 is required");
  if (d == 0) return;
  if (values == nullptr) fail("values: null pointer for " + std::to_string(n) + " x " + std::to_string(d));
  if (out == nullptr) fail("out: null pointer for " + std::to_string(d) + " values");
  switch (params_.kind) {
    case AggregatorKind::Mean:
      trimmed_mean(values, n, d, 0, out, work_);  // f = 0: the mean, with warm scratch
      return;
    case AggregatorKind::TrimmedMean:
      trimmed_mean(values, n, d, trim_per_side(n, params_), out, work_);
      return;
    case AggregatorKind::Median:
      median(values, n, d, out, work_);
      return;
    case AggregatorKind::ReputationTrimmedMean:
      if (weights == nullptr) fail("weights: required by reputation_trimmed_mean (one per report)");
      reputation_trimmed_mean(values, n, d, weights, trim_per_side(n, params_), out, work_);
      return;
    case AggregatorKind::Krum:
      multi_krum(values, n, d, krum_byzantine(n, params_), 1, out, work_);
      return;
    case AggregatorKind::MultiKrum: {
      const std::size_t f = krum_byzantine(n, params_);
      const std::size_t m = params_.multi_krum_m >= 0 ? static_cast<std::size_t>(params_.multi_krum_m) : n - f;
      if (m > n) {
        fail("multi_krum_m: " + std::to_string(m) + " exceeds the n = " + std::to_string(n) +
             " reports; allowed 1 <= multi_krum_m <= n");
      }
      multi_krum(values, n, d, f, m, out, work_);
      return;
    }
    case AggregatorKind::CenteredClipping:
      centered_clipping(values, n, d, center, clip_tau_raw(params_.clip_tau), params_.clip_iters, out, work_);
      return;
  }
}

}  // namespace edgeswarm::swarm
