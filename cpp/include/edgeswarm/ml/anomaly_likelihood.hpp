#pragma once
// Anomaly likelihood: turns a stream of raw anomaly scores into how unusual
// their recent level is, on a log scale (after Ahmad et al. 2017, Numenta).
//
// The mean of the last `average` raw scores is compared with a normal
// distribution fitted to the past such means (the last `history` of them,
// refitted every `estimate_every` samples, mean and variance floored so a
// calm stretch does not make every blip extreme). With p the two-sided tail
// probability, the score is log(p + 1e-10) / log(1e-10), capped at 1: 0.5 means
// p = 1e-5. Of consecutive samples with p <= 1e-5 only the first keeps its
// score; the rest are lowered to p = 1e-3 (score 0.3), so a lasting anomaly
// rings once. Until the first fit (after learning + estimate_every samples)
// p = 0.5.

#include <cstddef>
#include <vector>

#include "edgeswarm/ml/detector.hpp"

namespace edgeswarm::ml {

/// Options of AnomalyLikelihood.
struct AnomalyLikelihoodParams {
  int average = 10;              ///< raw scores in the short mean, >= 1
  int learning = 288;            ///< first samples whose means are not fitted (the raw detector is learning), >= 0
  int estimate_every = 100;      ///< means needed for the first fit, and samples between refits, >= 1
  int history = 8640;            ///< most recent means the fit uses, >= 2
  double mean_floor = 0.03;      ///< floor of the fitted mean, >= 0
  double variance_floor = 3e-4;  ///< floor of the fitted variance, > 0
  double warmup = 388.0;         ///< samples at which maturity reaches one half
};

/// Throws std::invalid_argument naming the first bad option.
void validate(const AnomalyLikelihoodParams& p);

/// Post-processor of a raw score stream (any finite values; detectors give [0, 1]).
class AnomalyLikelihood {
 public:
  /// A fresh post-processor; throws std::invalid_argument on bad options.
  explicit AnomalyLikelihood(const AnomalyLikelihoodParams& params = {});

  /// Scores the raw score r against the fit so far, then learns it (NaN and infinity: skipped).
  Scored update(double r);
  /// update() over r[0..n) in order.
  void update_batch(const double* r, std::size_t n, double* score, double* confidence);
  /// Back to a fresh post-processor.
  void reset();

  /// The options.
  const AnomalyLikelihoodParams& params() const { return params_; }
  /// The counters.
  const DetectorStats& stats() const { return stats_; }
  /// Whether a distribution has been fitted yet.
  bool fitted() const { return fitted_; }
  /// Fitted mean of the short means (after the floor).
  double fitted_mean() const { return mu_; }
  /// Fitted standard deviation of the short means (after the floor).
  double fitted_std() const { return sd_; }

 private:
  void fit();

  AnomalyLikelihoodParams params_;
  DetectorStats stats_;
  std::vector<double> recent_;  // last `average` raw scores, ring
  std::vector<double> means_;   // last `history` short means, ring
  std::size_t means_head_ = 0;  // next means_ slot to overwrite once full
  std::size_t since_fit_ = 0;   // means added since the last fit
  bool fitted_ = false;
  double mu_ = 0.0, sd_ = 1.0;
  double previous_tail_ = 1.0;  // unfiltered tail probability of the previous sample
};

/// The two-sided normal tail probability of z standard deviations: erfc(|z| / sqrt 2) / 2.
double normal_tail(double z);

/// log(p + 1e-10) / log(1e-10) clipped to [0, 1]: 0.5 at p = 1e-5, 1 at p = 0.
double log_tail_score(double p);

}  // namespace edgeswarm::ml
