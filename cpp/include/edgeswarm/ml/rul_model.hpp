#pragma once
// Remaining-useful-life regression on window features (rul_features.hpp),
// fitted in closed form by ridge regression:
//   kRidge           linear in the normalised features z;
//   kRandomFeatures  [relu(z P + b), z], with P (n_inputs x n_features) drawn
//                    N(0, 1) / sqrt(n_inputs) from stream 0 of the portable RNG
//                    (row by row) and b uniform [-1, 1) from stream 1, so the
//                    same seed gives the same model bit for bit.
// A constant column (the intercept) is appended and not shrunk. The normal
// equations (A^T A + alpha I') w = A^T y are solved by Eigen's LDLT (robust
// Cholesky with pivoting): the Gram matrix is symmetric positive semi-definite,
// and positive definite whenever alpha > 0 or A has full column rank.

#include <Eigen/Core>
#include <cstdint>

#include "edgeswarm/ml/rul_features.hpp"

namespace edgeswarm::ml {

enum class RulModelKind { kRidge, kRandomFeatures };

/// How to fit: model kind, seed (random features only), number of random features, ridge penalty.
struct RulModelOptions {
  RulModelKind kind = RulModelKind::kRandomFeatures;
  std::uint64_t seed = 0;
  int n_features = 500;
  double alpha = 10.0;
};

/// A fitted model: normalisation, random map (empty for kRidge) and ridge weights.
struct RulModel {
  RulModelKind kind = RulModelKind::kRidge;
  Eigen::VectorXd mean, std;  // per input feature; std 0 is replaced by 1
  RowMatrix projection;       // (n_inputs, n_features); 0 x 0 for kRidge
  Eigen::VectorXd offset;     // (n_features); empty for kRidge
  Eigen::VectorXd weights;    // (n_features + n_inputs + 1), the intercept last
};

/// The random projection and offsets of `seed` (the portable RNG streams 0 and 1).
void draw_random_features(std::uint64_t seed, int n_inputs, int n_features, RowMatrix& projection,
                          Eigen::VectorXd& offset);

/// Fits on `features` (n_rows, n_inputs) and finite `targets` (n_rows); n_rows >= 1.
RulModel fit_rul_model(const Eigen::Ref<const RowMatrix>& features, const Eigen::Ref<const Eigen::VectorXd>& targets,
                       const RulModelOptions& options);

/// The design matrix [map(z), 1] of `features` under `model`.
Eigen::MatrixXd rul_design(const RulModel& model, const Eigen::Ref<const RowMatrix>& features);

/// Predicted RUL of each feature row, clipped to [0, cap]; cap >= 1.
Eigen::VectorXd predict_rul(const RulModel& model, const Eigen::Ref<const RowMatrix>& features, int cap);

/// Checks that a model's arrays fit together and with `n_inputs`; ValueError naming the bad array.
void validate(const RulModel& model, Eigen::Index n_inputs);

}  // namespace edgeswarm::ml
