#include "edgeswarm/ml/mahalanobis.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::ml {

void validate(const MahalanobisParams& p) {
  core::require(p.dim >= 1, "dim", std::to_string(p.dim), "integers >= 1");
  core::require(p.alpha > 0.0 && p.alpha <= 1.0, "alpha", p.alpha, "(0, 1]");
  core::require_positive("threshold", p.threshold);
  core::require_non_negative("ridge", p.ridge);
  core::require(p.refresh >= 1, "refresh", std::to_string(p.refresh), "integers >= 1");
  core::require_non_negative("warmup", p.warmup);
  core::require(p.clip > 0.0, "clip", p.clip, "> 0 (inf: no cap)");
}

Mahalanobis::Mahalanobis(const MahalanobisParams& params) : params_(params), ldlt_(params.dim) {
  validate(params_);
  const int d = params_.dim;
  mean_ = Eigen::VectorXd::Zero(d);
  delta_ = Eigen::VectorXd::Zero(d);
  y_ = Eigen::VectorXd::Zero(d);
  cov_ = Eigen::MatrixXd::Zero(d, d);
  inv_ = Eigen::MatrixXd::Zero(d, d);
  work_ = Eigen::MatrixXd::Zero(d, d);
}

void Mahalanobis::reinvert() {
  const int d = params_.dim;
  // The ridge scales with the mean variance, so it means the same at any unit;
  // the tiny absolute term keeps a covariance of zeros invertible.
  const double mean_var = cov_.trace() / d;
  work_ = cov_;
  work_.diagonal().array() += params_.ridge * mean_var + 1e-12;
  ldlt_.compute(work_);
  inv_.setIdentity();
  ldlt_.solveInPlace(inv_);
  since_refresh_ = 0;
}

Scored Mahalanobis::update(const double* x) {
  ++stats_.seen;
  const int d = params_.dim;
  for (int j = 0; j < d; ++j) {
    if (!std::isfinite(x[j])) {
      ++stats_.invalid;
      return invalid_scored();
    }
  }
  const std::uint64_t n = stats_.learned() - 1;  // learned before x
  delta_ = Eigen::Map<const Eigen::VectorXd>(x, d) - mean_;
  Scored out;
  double d2 = 0.0;
  if (n > 0) {
    y_.noalias() = inv_ * delta_;
    d2 = std::max(0.0, delta_.dot(y_));
    out.score = ratio_score(d2 / d, params_.threshold * params_.threshold);
    out.confidence = confidence_of(out.score, n, params_.warmup);
  }
  const double a = std::max(params_.alpha, 1.0 / static_cast<double>(n + 1));
  // Winsorise an isolated row beyond the clip radius (see the header); only
  // once the weights are exponential, since the first covariances cannot judge yet.
  const double cap2 = params_.clip * params_.threshold * params_.threshold * d;
  const bool beyond = n > 0 && d2 > cap2;
  if (beyond && !last_beyond_ && a <= params_.alpha) {
    const double w = std::sqrt(cap2 / d2);
    delta_ *= w;
    y_ *= w;
    d2 = cap2;
  }
  last_beyond_ = beyond;
  mean_ += a * delta_;
  cov_ = (1.0 - a) * (cov_ + a * delta_ * delta_.transpose());
  // While the weights are still equal (a > alpha) the covariance changes too
  // much per sample for rank-one updates of a ridge-regularised inverse: invert
  // exactly. After that, Sherman-Morrison on
  //   C' = (1 - a)(C + a dd^T)  =>  C'^-1 = (C^-1 - a y y^T / (1 + a d2)) / (1 - a),
  // with y = C^-1 d and d2 = d^T y computed for the score (both shrunk with d).
  if (a > params_.alpha || n == 0 || ++since_refresh_ >= params_.refresh) {
    reinvert();
  } else {
    inv_.noalias() -= (a / (1.0 + a * d2)) * (y_ * y_.transpose());
    // Without re-symmetrising, rounding grows by 1 / (1 - a) per step in the
    // antisymmetric part and the inverse diverges within a few hundred samples.
    work_ = inv_.transpose();
    inv_ = (0.5 / (1.0 - a)) * (inv_ + work_);
  }
  return out;
}

void Mahalanobis::update_batch(const double* x, std::size_t n, double* score, double* confidence) {
  const auto dim = static_cast<std::size_t>(params_.dim);
  for (std::size_t i = 0; i < n; ++i) {
    const Scored s = update(x + i * dim);
    score[i] = s.score;
    confidence[i] = s.confidence;
  }
}

void Mahalanobis::reset() {
  stats_ = {};
  mean_.setZero();
  cov_.setZero();
  inv_.setZero();
  since_refresh_ = 0;
  last_beyond_ = false;
}

}  // namespace edgeswarm::ml
