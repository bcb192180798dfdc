#pragma once
// Mahalanobis distance from an online (exponentially weighted) mean and
// covariance, with the inverse covariance kept by Sherman-Morrison rank-one
// updates and refreshed exactly every `refresh` samples.
//
// Bounded influence: once the equal-weight phase is over, a row farther than
// `clip` times the decision boundary (D > clip * threshold^2) is learned as if
// it lay on that radius in its own direction (its deviation shrunk, as in a
// Huber M-estimator), so one spike cannot inflate the covariance that must
// judge the next one. Only an isolated excursion is shrunk: a row beyond the
// radius right after another one is a change that persists, and is learned in
// full, so the detector follows a level shift one row later than without the
// cap (shrinking every such row would let the covariance grow by only about
// 1 + alpha * clip * threshold^2 * dim per row, which after a flat stretch
// takes dozens of rows of alarms).

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cstddef>

#include "edgeswarm/ml/detector.hpp"

namespace edgeswarm::ml {

/// Options of Mahalanobis.
struct MahalanobisParams {
  int dim = 2;             ///< features per sample, >= 1
  double alpha = 0.01;     ///< forgetting rate in (0, 1]; the first 1/alpha samples get equal weights
  double threshold = 3.0;  ///< root-mean-square per-feature z at which the score is 0.5
  double ridge = 1e-3;     ///< added to the covariance diagonal, relative to the mean variance, >= 0
  int refresh = 256;       ///< samples between exact re-inversions, >= 1
  double warmup = 50.0;    ///< samples at which maturity reaches one half
  double clip = 1.0;       ///< cap on an isolated row's learned D, in units of threshold^2, > 0; inf: no cap
};

/// Throws std::invalid_argument naming the first bad option.
void validate(const MahalanobisParams& p);

/// Multivariate streaming detector: with D = d^2 / dim (d the Mahalanobis
/// distance), the score is D / (D + threshold^2).
class Mahalanobis {
 public:
  /// A fresh detector; throws std::invalid_argument on bad options.
  explicit Mahalanobis(const MahalanobisParams& params = {});

  /// Scores the row x[0..dim), then learns it.
  Scored update(const double* x);
  /// update() over n rows of x (row-major n x dim).
  void update_batch(const double* x, std::size_t n, double* score, double* confidence);
  /// Back to a fresh detector.
  void reset();

  /// The options.
  const MahalanobisParams& params() const { return params_; }
  /// The counters.
  const DetectorStats& stats() const { return stats_; }
  /// Weighted mean.
  const Eigen::VectorXd& mean() const { return mean_; }
  /// Weighted covariance (without the ridge).
  const Eigen::MatrixXd& covariance() const { return cov_; }

 private:
  void reinvert();

  MahalanobisParams params_;
  DetectorStats stats_;
  Eigen::VectorXd mean_, delta_, y_;
  Eigen::MatrixXd cov_, inv_, work_;
  Eigen::LDLT<Eigen::MatrixXd> ldlt_;
  int since_refresh_ = 0;
  bool last_beyond_ = false;  // the previous valid row was beyond the clip radius
};

}  // namespace edgeswarm::ml
