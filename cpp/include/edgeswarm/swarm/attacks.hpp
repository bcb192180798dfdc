#pragma once
// What Byzantine nodes report. Attackers are omniscient (they see the honest
// reports of the epoch), the usual worst case in the robust-aggregation
// literature. The defence (aggregators, reputation) never sees who they are.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "edgeswarm/core/fixed_point.hpp"

namespace edgeswarm::swarm {

using fixed::q16;

enum class AttackKind : std::uint8_t {
  Bias,          ///< report `bias` in every coordinate, plus small jitter
  SignFlip,      ///< report the negated honest reading (scaled by `scale`)
  Gaussian,      ///< honest mean plus N(0, sigma^2) noise per coordinate
  Alie,          ///< "a little is enough": mean - z * sd of honest reports
  Ipm,           ///< inner-product manipulation: -epsilon * honest mean
  Mimic,         ///< copy one honest node's report
  Intermittent,  ///< bias attack for `on_epochs`, honest for `off_epochs`, repeat
};

/// Every kind, in declaration order (the order of the names below).
inline constexpr std::array<AttackKind, 7> kAttackKinds = {
    AttackKind::Bias, AttackKind::SignFlip, AttackKind::Gaussian,     AttackKind::Alie,
    AttackKind::Ipm,  AttackKind::Mimic,    AttackKind::Intermittent,
};

/// Parses "bias", "sign_flip", "gaussian", "alie", "ipm", "mimic",
/// "intermittent"; throws std::invalid_argument naming `attack` otherwise.
AttackKind parse_attack(const std::string& name);
/// The name parse_attack accepts for `kind`.
std::string to_string(AttackKind kind);

struct AttackParams {
  AttackKind kind = AttackKind::Bias;
  double bias = 0.9;         ///< bias / intermittent: reported value (finite, in the Q16.16 range)
  double jitter = 0.01;      ///< bias / intermittent: sd of per-node jitter (>= 0)
  double scale = 1.0;        ///< sign_flip: multiplier of the negated reading (> 0)
  double sigma = 1.0;        ///< gaussian: noise sd (> 0)
  double alie_z = -1.0;      ///< alie: z; < 0 derives it from n and the attacker count
  double ipm_epsilon = 0.5;  ///< ipm: epsilon (> 0)
  int on_epochs = 5;         ///< intermittent: attacking epochs per cycle (>= 1)
  int off_epochs = 5;        ///< intermittent: honest epochs per cycle (>= 0)
};

/// Checks ranges; throws std::invalid_argument naming the field.
void validate(const AttackParams& params);

/// Whether the attack is active at `epoch` (always, except intermittent off phases).
bool attack_active(const AttackParams& params, std::uint64_t epoch);

/// What attackers know about the honest reports of this epoch.
struct HonestView {
  const double* mean = nullptr;  ///< per-coordinate mean (d)
  const double* sd = nullptr;    ///< per-coordinate standard deviation (d)
  const q16* mimic = nullptr;    ///< the report of the honest node being mimicked (d)
  std::size_t n_total = 0;       ///< reports in the epoch (honest + Byzantine)
  std::size_t n_byzantine = 0;   ///< Byzantine reports in the epoch
};

/// The ALIE z for n reports of which m are Byzantine (Baruch et al. 2019):
/// s = floor(n/2 + 1) - m, z = Phi^-1((n - s) / n). The probability is
/// clamped to [1 / (2n), 1 - 1 / (2n)] (half a report from either end), so a
/// Byzantine majority (s <= 0) gives a large finite z instead of infinity.
/// Throws std::invalid_argument naming `n` (0) or `m` (> n).
double alie_z(std::size_t n, std::size_t m);

/// The standard normal quantile Phi^-1(p) for 0 < p < 1 (bisection on
/// std::erfc, accurate to a few ulp); throws std::invalid_argument naming `p` otherwise.
double normal_quantile(double p);

/// Overwrites the k rows of `reports` (k x d, row-major; on entry each row is
/// that attacker's own honest reading) with the attack's reports for `epoch`.
/// Random parts come from stream (node_ids[r], epoch, Purpose::Attack) of `seed`,
/// so a row's result does not depend on its position. Reals are converted
/// with fixed::from_double (round half away from zero, saturating). Throws
/// std::invalid_argument when a field the attack needs is missing or NaN.
void apply_attack(const AttackParams& params, const HonestView& honest, std::size_t d, std::uint64_t seed,
                  std::uint64_t epoch, const std::uint32_t* node_ids, std::size_t k, q16* reports);

}  // namespace edgeswarm::swarm
