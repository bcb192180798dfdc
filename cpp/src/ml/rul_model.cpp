#include "edgeswarm/ml/rul_model.hpp"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <string>

#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/core/rng.hpp"

namespace edgeswarm::ml {
namespace {

std::string shape(Eigen::Index rows, Eigen::Index cols) {
  return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

}  // namespace

void draw_random_features(std::uint64_t seed, int n_inputs, int n_features, RowMatrix& projection,
                          Eigen::VectorXd& offset) {
  // Row-major order and these two streams are what the NumPy version drew through
  // _core.rng_normal(seed, 0, ...) and _core.rng_uniform(seed, 1, ...): same models.
  projection.resize(n_inputs, n_features);
  core::Rng normal(seed, 0);
  const double scale = std::sqrt(static_cast<double>(n_inputs));
  for (int i = 0; i < n_inputs; ++i) {
    for (int j = 0; j < n_features; ++j) projection(i, j) = normal.normal() / scale;
  }
  offset.resize(n_features);
  core::Rng uniform(seed, 1);
  for (int j = 0; j < n_features; ++j) offset(j) = 2.0 * uniform.uniform() - 1.0;
}

void validate(const RulModel& model, Eigen::Index n_inputs) {
  core::require(model.mean.size() == n_inputs, "mean", std::to_string(model.mean.size()) + " values",
                std::to_string(n_inputs) + " (one per input feature)");
  core::require(model.std.size() == n_inputs, "std", std::to_string(model.std.size()) + " values",
                std::to_string(n_inputs) + " (one per input feature)");
  for (Eigen::Index j = 0; j < n_inputs; ++j) {
    core::require(model.std(j) > 0.0 && std::isfinite(model.std(j)), "std", model.std(j), "finite values > 0");
    core::require_finite("mean", model.mean(j), "finite values");
  }
  Eigen::Index n_map = 0;
  if (model.kind == RulModelKind::kRandomFeatures) {
    core::require(model.projection.rows() == n_inputs && model.projection.cols() >= 1, "projection",
                  shape(model.projection.rows(), model.projection.cols()),
                  "(" + std::to_string(n_inputs) + ", n_features >= 1)");
    core::require(model.offset.size() == model.projection.cols(), "offset",
                  std::to_string(model.offset.size()) + " values",
                  std::to_string(model.projection.cols()) + " (one per random feature)");
    n_map = model.projection.cols();
  }
  core::require(model.weights.size() == n_map + n_inputs + 1, "weights",
                std::to_string(model.weights.size()) + " values",
                std::to_string(n_map + n_inputs + 1) + " (random features + inputs + intercept)");
}

Eigen::MatrixXd rul_design(const RulModel& model, const Eigen::Ref<const RowMatrix>& features) {
  const Eigen::Index n = features.rows();
  const Eigen::Index d = features.cols();
  Eigen::MatrixXd z(n, d);
  for (Eigen::Index j = 0; j < d; ++j) {
    for (Eigen::Index i = 0; i < n; ++i) z(i, j) = (features(i, j) - model.mean(j)) / model.std(j);
  }
  const Eigen::Index m = model.kind == RulModelKind::kRandomFeatures ? model.projection.cols() : 0;
  Eigen::MatrixXd a(n, m + d + 1);
  if (m > 0) {
    // z P as rank-one updates over the inputs in a fixed order (k = 0, 1, ...), a block of rows at a
    // time so the block stays in cache: each row's features are the same whatever the batch size or
    // thread count. (Eigen's blocked GEMM starts an OpenMP team per call, which cost more than it
    // saved for a few rows: 3 ms -> 16 ms for 100 test engines on a busy 2-core machine.)
    constexpr Eigen::Index kBlockRows = 128;
    auto h = a.leftCols(m);
    h.setZero();
    for (Eigen::Index r0 = 0; r0 < n; r0 += kBlockRows) {
      const Eigen::Index nb = std::min(kBlockRows, n - r0);
      auto block = h.middleRows(r0, nb);
      for (Eigen::Index k = 0; k < d; ++k) block.noalias() += z.col(k).segment(r0, nb) * model.projection.row(k);
      block.rowwise() += model.offset.transpose();
      block = block.cwiseMax(0.0);
    }
  }
  a.middleCols(m, d) = z;
  a.col(m + d).setOnes();
  return a;
}

RulModel fit_rul_model(const Eigen::Ref<const RowMatrix>& features, const Eigen::Ref<const Eigen::VectorXd>& targets,
                       const RulModelOptions& options) {
  const Eigen::Index n = features.rows();
  const Eigen::Index d = features.cols();
  core::require(n >= 1 && d >= 1, "features", shape(n, d), "(n_rows >= 1, n_inputs >= 1)");
  core::require(targets.size() == n, "targets", std::to_string(targets.size()) + " values",
                std::to_string(n) + " (one per feature row)");
  core::require(options.n_features >= 1, "n_features", std::to_string(options.n_features), "integers >= 1");
  core::require_non_negative("alpha", options.alpha);
  for (Eigen::Index i = 0; i < n; ++i) core::require_finite("targets", targets(i), "finite values");
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < d; ++j) core::require_finite("features", features(i, j), "finite values");
  }

  RulModel model;
  model.kind = options.kind;
  // Population mean and standard deviation per column, summed row by row.
  model.mean = Eigen::VectorXd::Zero(d);
  for (Eigen::Index i = 0; i < n; ++i) model.mean += features.row(i).transpose();
  model.mean /= static_cast<double>(n);
  model.std = Eigen::VectorXd::Zero(d);
  for (Eigen::Index i = 0; i < n; ++i) model.std += (features.row(i).transpose() - model.mean).cwiseAbs2();
  model.std = (model.std / static_cast<double>(n)).cwiseSqrt();
  for (Eigen::Index j = 0; j < d; ++j) {
    if (model.std(j) == 0.0) model.std(j) = 1.0;  // a constant feature: centred, not scaled
  }
  if (options.kind == RulModelKind::kRandomFeatures) {
    draw_random_features(options.seed, static_cast<int>(d), options.n_features, model.projection, model.offset);
  }

  const Eigen::MatrixXd a = rul_design(model, features);
  const Eigen::Index p = a.cols();
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(p, p);
  // Eigen's rank update (SYRK) is single-threaded and half the work of A^T A as a GEMM; the OpenMP
  // GEMM gave different bits with 2 threads than with 1 (its blocking depends on the thread count).
  gram.selfadjointView<Eigen::Lower>().rankUpdate(a.transpose());
  gram.diagonal().head(p - 1).array() += options.alpha;  // the intercept (last) is not shrunk
  const Eigen::VectorXd rhs = a.transpose() * targets;
  const Eigen::LDLT<Eigen::MatrixXd, Eigen::Lower> ldlt(gram);
  if (ldlt.info() != Eigen::Success) core::fail("alpha: the ridge system could not be factorised; use alpha > 0");
  model.weights = ldlt.solve(rhs);
  for (Eigen::Index j = 0; j < p; ++j) {
    if (!std::isfinite(model.weights(j))) {
      core::fail("alpha: " + core::format_value(options.alpha) +
                 " leaves the ridge system singular (non-finite weights); allowed: a larger alpha");
    }
  }
  return model;
}

Eigen::VectorXd predict_rul(const RulModel& model, const Eigen::Ref<const RowMatrix>& features, int cap) {
  core::require(cap >= 1, "cap", std::to_string(cap), "integers >= 1");
  validate(model, features.cols());
  const Eigen::MatrixXd a = rul_design(model, features);
  Eigen::VectorXd r(a.rows());
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    // One plain sum per row in column order (not Eigen's GEMV, whose order depends on the row count):
    // an engine's prediction is the same whatever else is in the batch.
    double sum = 0.0;
    for (Eigen::Index j = 0; j < a.cols(); ++j) sum += a(i, j) * model.weights(j);
    r(i) = std::clamp(sum, 0.0, static_cast<double>(cap));
  }
  return r;
}

}  // namespace edgeswarm::ml
