#include "edgeswarm/net/latency.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::net {
namespace {

const std::string kDelayRange = "[0, 2^50] microseconds";

void require_delay(const std::string& name, SimTime v) {
  core::require(v >= 0 && v <= kMaxDelayUs, name, std::to_string(v), kDelayRange);
}
void require_delay(const std::string& name, double v) {
  core::require(v >= 0.0 && v <= static_cast<double>(kMaxDelayUs), name, v, kDelayRange);
}

SimTime clamp_delay(double x) {
  if (!(x < static_cast<double>(kMaxDelayUs))) return kMaxDelayUs;
  return std::max<SimTime>(0, std::llround(x));
}

}  // namespace

LatencyModel LatencyModel::fixed(SimTime delay_us) {
  require_delay("delay_us", delay_us);
  return LatencyModel(Kind::Fixed, 0, 0, delay_us, delay_us);
}

LatencyModel LatencyModel::uniform(SimTime min_us, SimTime max_us) {
  require_delay("min_us", min_us);
  require_delay("max_us", max_us);
  core::require(max_us >= min_us, "max_us", std::to_string(max_us), ">= min_us (" + std::to_string(min_us) + ")");
  return LatencyModel(Kind::Uniform, 0, 0, min_us, max_us);
}

LatencyModel LatencyModel::normal(double mean_us, double sd_us) {
  require_delay("mean_us", mean_us);
  require_delay("sd_us", sd_us);
  return LatencyModel(Kind::Normal, mean_us, sd_us, 0, 0);
}

LatencyModel LatencyModel::pareto(SimTime scale_us, double shape, SimTime cap_us) {
  core::require(scale_us > 0 && scale_us <= kMaxDelayUs, "scale_us", std::to_string(scale_us),
                "(0, 2^50] microseconds");
  core::require_positive("shape", shape);
  core::require(cap_us >= scale_us && cap_us <= kMaxDelayUs, "cap_us", std::to_string(cap_us),
                "[scale_us (" + std::to_string(scale_us) + "), 2^50] microseconds");
  return LatencyModel(Kind::Pareto, shape, 0, scale_us, cap_us);
}

SimTime LatencyModel::sample(core::Rng& rng) const {
  switch (kind_) {
    case Kind::Fixed:
      return lo_;
    case Kind::Uniform:
      return lo_ + static_cast<SimTime>(rng.below(static_cast<std::uint64_t>(hi_ - lo_) + 1));
    case Kind::Normal: {
      double x;
      do x = rng.normal(a_, b_);
      while (x < 0.0);
      return clamp_delay(x);
    }
    case Kind::Pareto: {
      const double u = 1.0 - rng.uniform();  // (0, 1]
      const double x = static_cast<double>(lo_) * std::pow(u, -1.0 / a_);
      return std::min(hi_, clamp_delay(x));
    }
  }
  return 0;
}

}  // namespace edgeswarm::net
