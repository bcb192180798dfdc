#include "edgeswarm/ml/ensemble.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::ml {
namespace {

EnsembleParams filled(EnsembleParams p) {
  p.hst.dim = p.dim;
  p.hst.seed = p.seed;
  p.mahalanobis.dim = std::max(p.dim, 1);
  return p;
}

}  // namespace

void validate(const EnsembleParams& p) {
  core::require(p.dim >= 1, "dim", std::to_string(p.dim), "integers >= 1");
  core::require(p.bins >= 16 && p.bins <= (1 << 20), "bins", std::to_string(p.bins), "integers in [16, 1048576]");
  core::require_non_negative("warmup", p.warmup);
  core::require(p.tail_fit >= 0.0 && p.tail_fit <= 0.5, "tail_fit", p.tail_fit, "[0, 0.5] (0: ranks only)");
  const EnsembleParams f = filled(p);
  validate(f.ewma);
  validate(f.mad);
  validate(f.hst);
  validate(f.mahalanobis);
}

EmpiricalCdf::EmpiricalCdf(int bins)
    : tree_(static_cast<std::size_t>(bins) + 1, 0), count_(static_cast<std::size_t>(bins), 0) {}

int EmpiricalCdf::bin_of(double s) const {
  const int bins = static_cast<int>(count_.size());
  const int b = static_cast<int>(s * bins);
  return std::clamp(b, 0, bins - 1);
}

std::uint64_t EmpiricalCdf::prefix(int bin) const {
  std::uint64_t sum = 0;
  for (int i = bin; i > 0; i -= i & -i) sum += tree_[i];
  return sum;
}

double EmpiricalCdf::cdf(double s) const {
  if (total_ == 0) return 0.5;
  const int b = bin_of(s);
  const double below = static_cast<double>(prefix(b));
  return (below + 0.5 * static_cast<double>(count_[b])) / static_cast<double>(total_);
}

double EmpiricalCdf::quantile(double f) const {
  if (total_ == 0) return 0.0;
  const int bins = static_cast<int>(count_.size());
  const double target = std::clamp(f, 0.0, 1.0) * static_cast<double>(total_);
  // Fenwick descent: the last bin whose prefix count is below the target.
  int pos = 0;
  double below = 0.0;
  int step = 1;
  while (step * 2 <= bins) step *= 2;
  for (; step > 0; step /= 2) {
    const int next = pos + step;
    if (next <= bins && below + static_cast<double>(tree_[next]) < target) {
      pos = next;
      below += static_cast<double>(tree_[next]);
    }
  }
  if (pos >= bins) return 1.0;
  const double in_bin = static_cast<double>(count_[pos]);
  const double frac = in_bin > 0.0 ? std::clamp((target - below) / in_bin, 0.0, 1.0) : 0.0;
  return (pos + frac) / bins;
}

double EmpiricalCdf::tail(double s, double fit) const {
  const double bins = static_cast<double>(count_.size());
  // In the bulk (empirical tail >= fit, i.e. below about the 1 - fit quantile) the
  // empirical tail is the answer, and the quantiles need not be computed.
  const double empirical = 1.0 - cdf(s);
  if (empirical >= fit || static_cast<double>(total_) * fit < 10.0) return empirical;
  const double q1 = quantile(1.0 - fit);
  // Log-odds; the quantiles are kept half a bin inside (0, 1) so they stay finite,
  // while s = 1 (a member's "infinitely far") gets p = 0.
  const auto logit = [bins](double v, bool keep_inside) {
    if (keep_inside) v = std::clamp(v, 0.5 / bins, 1.0 - 0.5 / bins);
    return std::log(v / (1.0 - v));
  };
  const double v1 = logit(q1, true);
  const double v2 = logit(quantile(1.0 - 0.5 * fit), true);
  // The histogram resolves no finer than one bin: that is the smallest median excess.
  const double median_excess = std::max(v2 - v1, logit(q1 + 1.0 / bins, true) - v1);
  if (!(median_excess > 0.0)) return s > q1 ? 0.0 : fit;  // q1 in the top half bin
  // At most fit: the model only takes over where the empirical tail fell below it.
  return std::min(fit, fit * std::exp2(-(logit(s, false) - v1) / median_excess));
}

void EmpiricalCdf::add(double s) {
  const int b = bin_of(s);
  ++count_[b];
  ++total_;
  const int size = static_cast<int>(count_.size());
  for (int i = b + 1; i <= size; i += i & -i) ++tree_[i];
}

void EmpiricalCdf::clear() {
  std::fill(tree_.begin(), tree_.end(), 0);
  std::fill(count_.begin(), count_.end(), 0);
  total_ = 0;
}

Ensemble::Ensemble(const EnsembleParams& params)
    : params_((validate(params), filled(params))),
      ewma_(params_.ewma),
      mad_(params_.mad),
      hst_(params_.hst),
      maha_(params_.mahalanobis),
      cdfs_(static_cast<std::size_t>(members()), EmpiricalCdf(params_.bins)) {}

Scored Ensemble::update(const double* x) {
  ++stats_.seen;
  for (int j = 0; j < params_.dim; ++j) {
    if (!std::isfinite(x[j])) {
      ++stats_.invalid;
      return invalid_scored();
    }
  }
  const std::uint64_t n = stats_.learned() - 1;
  double member[3];
  if (params_.dim == 1) {
    member[0] = ewma_.update(x[0]).score;
    member[1] = mad_.update(x[0]).score;
    member[2] = hst_.update(x).score;
  } else {
    member[0] = maha_.update(x).score;
    member[1] = hst_.update(x).score;
  }
  const int m = members();
  double min_tail = 1.0;
  for (int i = 0; i < m; ++i) {
    min_tail = std::min(min_tail, cdfs_[i].tail(member[i], params_.tail_fit));
    cdfs_[i].add(member[i]);
  }
  Scored out;
  if (n > 0) {
    out.score = 1.0 - std::min(1.0, m * min_tail);
    out.confidence = confidence_of(out.score, n, params_.warmup);
  }
  return out;
}

void Ensemble::update_batch(const double* x, std::size_t n, double* score, double* confidence) {
  const auto dim = static_cast<std::size_t>(params_.dim);
  for (std::size_t i = 0; i < n; ++i) {
    const Scored s = update(x + i * dim);
    score[i] = s.score;
    confidence[i] = s.confidence;
  }
}

void Ensemble::reset() {
  stats_ = {};
  ewma_.reset();
  mad_.reset();
  hst_.reset();
  maha_.reset();
  for (auto& c : cdfs_) c.clear();
}

}  // namespace edgeswarm::ml
