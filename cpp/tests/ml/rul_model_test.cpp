#include "edgeswarm/ml/rul_model.hpp"

#include <gtest/gtest.h>

#include "../expect_invalid.hpp"
#include "edgeswarm/core/rng.hpp"

using edgeswarm::ml::RowMatrix;
using edgeswarm::ml::RulModelKind;
using edgeswarm::ml::RulModelOptions;

TEST(RulModel, RandomFeaturesComeFromThePortableRngStreams) {
  RowMatrix p;
  Eigen::VectorXd b;
  edgeswarm::ml::draw_random_features(7, 4, 3, p, b);
  edgeswarm::core::Rng normal(7, 0), uniform(7, 1);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 3; ++j) EXPECT_EQ(p(i, j), normal.normal() / 2.0);
  }
  for (int j = 0; j < 3; ++j) EXPECT_EQ(b(j), 2.0 * uniform.uniform() - 1.0);
}

TEST(RulModel, RidgeRecoversALinearTargetAndIsDeterministic) {
  edgeswarm::core::Rng rng(3, 0);
  RowMatrix f(200, 3);
  Eigen::VectorXd y(200);
  for (int i = 0; i < 200; ++i) {
    for (int j = 0; j < 3; ++j) f(i, j) = rng.normal(5.0, 2.0);
    y(i) = 40.0 + 3.0 * f(i, 0) - 2.0 * f(i, 1);
  }
  RulModelOptions o;
  o.kind = RulModelKind::kRidge;
  o.alpha = 0.0;
  const auto m = edgeswarm::ml::fit_rul_model(f, y, o);
  ASSERT_EQ(m.weights.size(), 4);
  const Eigen::VectorXd pred = edgeswarm::ml::predict_rul(m, f, 1000);
  EXPECT_LT((pred - y).cwiseAbs().maxCoeff(), 1e-9);
  // Weights are on the normalised scale: w_j = coefficient * std_j.
  EXPECT_NEAR(m.weights(0), 3.0 * m.std(0), 1e-9);
  EXPECT_NEAR(m.weights(2), 0.0, 1e-9);
  // The cap clips, and random features are the same for the same seed.
  EXPECT_LE(edgeswarm::ml::predict_rul(m, f, 30).maxCoeff(), 30.0);
  o.kind = RulModelKind::kRandomFeatures;
  o.n_features = 20;
  o.alpha = 1.0;
  const auto a = edgeswarm::ml::fit_rul_model(f, y, o);
  const auto b = edgeswarm::ml::fit_rul_model(f, y, o);
  EXPECT_EQ(a.weights, b.weights);
  o.seed = 1;
  EXPECT_NE(edgeswarm::ml::fit_rul_model(f, y, o).weights, a.weights);
}

TEST(RulModel, BadArgumentsNameTheParameter) {
  RowMatrix f = RowMatrix::Ones(5, 2);
  f(0, 0) = 2.0;
  Eigen::VectorXd y = Eigen::VectorXd::Ones(5);
  RulModelOptions o;
  o.n_features = 0;
  expect_invalid([&] { edgeswarm::ml::fit_rul_model(f, y, o); }, "n_features");
  o.n_features = 3;
  o.alpha = -1.0;
  expect_invalid([&] { edgeswarm::ml::fit_rul_model(f, y, o); }, "alpha");
  o.alpha = 1.0;
  expect_invalid([&] { edgeswarm::ml::fit_rul_model(f, Eigen::VectorXd::Ones(4), o); }, "targets");
  const auto m = edgeswarm::ml::fit_rul_model(f, y, o);
  expect_invalid([&] { edgeswarm::ml::predict_rul(m, RowMatrix::Ones(2, 3), 125); }, "mean");
  expect_invalid([&] { edgeswarm::ml::predict_rul(m, f, 0); }, "cap");
  auto broken = m;
  broken.offset.resize(1);
  expect_invalid([&] { edgeswarm::ml::predict_rul(broken, f, 125); }, "offset");
}
