#include "edgeswarm/swarm/attacks.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/core/rng.hpp"

namespace edgeswarm::swarm {
namespace {

using core::fail;
using core::require_finite;
using core::require_positive;

constexpr const char* kNames[] = {"bias", "sign_flip", "gaussian", "alie", "ipm", "mimic", "intermittent"};
static_assert(sizeof(kNames) / sizeof(kNames[0]) == kAttackKinds.size());

/// Standard normal CDF, evaluated where erfc is accurate in relative terms for x <= 0.
double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

/// The per-coordinate honest statistic `name`, or invalid_argument when the attack needs it and it is absent.
const double* require_stat(const double* values, std::size_t d, const char* name, AttackKind kind, bool sd) {
  if (values == nullptr) fail(std::string(name) + ": missing; required by the " + to_string(kind) + " attack");
  for (std::size_t c = 0; c < d; ++c) {
    if (std::isnan(values[c])) fail(std::string(name) + ": NaN at coordinate " + std::to_string(c));
    if (sd && values[c] < 0.0) {
      fail(std::string(name) + ": " + core::format_value(values[c]) + " at coordinate " + std::to_string(c) +
           " is negative; allowed >= 0");
    }
  }
  return values;
}

/// Every row r = base + sd * N(0, 1) drawn from node_ids[r]'s attack stream.
void write_noisy(const double* base, double constant, double sd, std::size_t d, std::uint64_t seed, std::uint64_t epoch,
                 const std::uint32_t* node_ids, std::size_t k, q16* reports) {
  for (std::size_t r = 0; r < k; ++r) {
    core::Rng rng = core::Rng::for_node(seed, node_ids[r], epoch, core::Purpose::Attack);
    q16* row = reports + r * d;
    for (std::size_t c = 0; c < d; ++c) {
      const double centre = base != nullptr ? base[c] : constant;
      row[c] = fixed::from_double(centre + sd * rng.normal());
    }
  }
}

/// Copies one computed report into all k rows.
void broadcast(const std::vector<q16>& report, std::size_t k, q16* reports) {
  for (std::size_t r = 0; r < k; ++r) std::copy(report.begin(), report.end(), reports + r * report.size());
}

}  // namespace

AttackKind parse_attack(const std::string& name) {
  for (std::size_t i = 0; i < kAttackKinds.size(); ++i) {
    if (name == kNames[i]) return kAttackKinds[i];
  }
  std::string allowed;
  for (const char* known : kNames) allowed += (allowed.empty() ? "" : ", ") + std::string(known);
  fail("attack: '" + name + "' is unknown; allowed " + allowed);
}

std::string to_string(AttackKind kind) {
  const auto index = static_cast<std::size_t>(kind);
  if (index >= kAttackKinds.size()) fail("attack: kind " + std::to_string(index) + " is unknown");
  return kNames[index];
}

void validate(const AttackParams& params) {
  to_string(params.kind);
  // Reports are Q16.16: a bias beyond its range would silently saturate.
  core::require(std::isfinite(params.bias) && params.bias >= fixed::kMinReal && params.bias <= fixed::kMaxReal, "bias",
                params.bias,
                "a finite value in [" + core::format_value(fixed::kMinReal) + ", " +
                    core::format_value(fixed::kMaxReal) + "] (the Q16.16 range)");
  if (!(params.jitter >= 0.0) || !std::isfinite(params.jitter)) {
    fail("jitter: " + core::format_value(params.jitter) + " is out of range; allowed a finite value >= 0");
  }
  require_positive("scale", params.scale);
  require_positive("sigma", params.sigma);
  require_finite("alie_z", params.alie_z, "a finite value (< 0 derives z from the report counts)");
  require_positive("ipm_epsilon", params.ipm_epsilon);
  if (params.on_epochs < 1) fail("on_epochs: " + std::to_string(params.on_epochs) + " is out of range; allowed >= 1");
  if (params.off_epochs < 0) {
    fail("off_epochs: " + std::to_string(params.off_epochs) + " is out of range; allowed >= 0");
  }
}

bool attack_active(const AttackParams& params, std::uint64_t epoch) {
  validate(params);
  if (params.kind != AttackKind::Intermittent) return true;
  const auto period = static_cast<std::uint64_t>(params.on_epochs) + static_cast<std::uint64_t>(params.off_epochs);
  return epoch % period < static_cast<std::uint64_t>(params.on_epochs);
}

double normal_quantile(double p) {
  if (!(p > 0.0 && p < 1.0)) fail("p: " + core::format_value(p) + " is out of range; allowed (0, 1)");
  // Solve in the lower tail, where erfc keeps full relative precision; 1 - p
  // is exact for p >= 0.5.
  if (p > 0.5) return -normal_quantile(1.0 - p);
  if (p == 0.5) return 0.0;
  double lo = -40.0, hi = 0.0;  // normal_cdf(-40) underflows to 0 < p
  for (int i = 0; i < 2000; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;  // adjacent doubles: converged
    if (normal_cdf(mid) < p) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return std::fabs(normal_cdf(lo) - p) < std::fabs(normal_cdf(hi) - p) ? lo : hi;
}

double alie_z(std::size_t n, std::size_t m) {
  if (n == 0) fail("n: 0 is out of range; allowed >= 1");
  if (m > n) fail("m: " + std::to_string(m) + " is out of range; allowed [0, n = " + std::to_string(n) + "]");
  // n - s = n - floor(n/2 + 1) + m >= 0, exact in unsigned arithmetic.
  const std::size_t n_minus_s = n - (n / 2 + 1) + m;
  const double half = 0.5 / static_cast<double>(n);
  const double p = static_cast<double>(n_minus_s) / static_cast<double>(n);
  return normal_quantile(std::clamp(p, half, 1.0 - half));
}

void apply_attack(const AttackParams& params, const HonestView& honest, std::size_t d, std::uint64_t seed,
                  std::uint64_t epoch, const std::uint32_t* node_ids, std::size_t k, q16* reports) {
  validate(params);
  if (k == 0 || d == 0) return;
  if (reports == nullptr) fail("reports: missing (null) for k = " + std::to_string(k) + " rows");
  const AttackKind kind = params.kind;
  const bool random = kind == AttackKind::Bias || kind == AttackKind::Gaussian || kind == AttackKind::Intermittent;
  if (random && node_ids == nullptr) fail("node_ids: missing; required by the " + to_string(kind) + " attack");

  switch (kind) {
    case AttackKind::Intermittent:
      if (!attack_active(params, epoch)) return;  // honest phase: rows stay as they are
      [[fallthrough]];
    case AttackKind::Bias:
      write_noisy(nullptr, params.bias, params.jitter, d, seed, epoch, node_ids, k, reports);
      return;
    case AttackKind::SignFlip:
      for (std::size_t i = 0; i < k * d; ++i) {
        reports[i] = fixed::from_double(-(params.scale * fixed::to_double(reports[i])));
      }
      return;
    case AttackKind::Gaussian: {
      const double* mean = require_stat(honest.mean, d, "honest_mean", kind, false);
      write_noisy(mean, 0.0, params.sigma, d, seed, epoch, node_ids, k, reports);
      return;
    }
    case AttackKind::Alie: {
      const double* mean = require_stat(honest.mean, d, "honest_mean", kind, false);
      const double* sd = require_stat(honest.sd, d, "honest_sd", kind, true);
      double z = params.alie_z;
      if (z < 0.0) {
        if (honest.n_total == 0) fail("n_total: 0 is out of range; allowed >= 1 to derive alie_z");
        if (honest.n_byzantine > honest.n_total) {
          fail("n_byzantine: " + std::to_string(honest.n_byzantine) +
               " is out of range; allowed [0, n_total = " + std::to_string(honest.n_total) + "]");
        }
        z = alie_z(honest.n_total, honest.n_byzantine);
      }
      std::vector<q16> report(d);
      for (std::size_t c = 0; c < d; ++c) report[c] = fixed::from_double(mean[c] - z * sd[c]);
      broadcast(report, k, reports);
      return;
    }
    case AttackKind::Ipm: {
      const double* mean = require_stat(honest.mean, d, "honest_mean", kind, false);
      std::vector<q16> report(d);
      for (std::size_t c = 0; c < d; ++c) report[c] = fixed::from_double(-params.ipm_epsilon * mean[c]);
      broadcast(report, k, reports);
      return;
    }
    case AttackKind::Mimic: {
      if (honest.mimic == nullptr) fail("mimic: missing; required by the mimic attack");
      broadcast(std::vector<q16>(honest.mimic, honest.mimic + d), k, reports);
      return;
    }
  }
}

}  // namespace edgeswarm::swarm
