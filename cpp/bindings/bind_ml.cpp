// Streaming anomaly detectors: one class per detector, each with a batch
// update over a NumPy array (GIL released) that continues the stream.
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <utility>

#include "bindings.hpp"
#include "edgeswarm/ml/anomaly_likelihood.hpp"
#include "edgeswarm/ml/ensemble.hpp"
#include "edgeswarm/ml/ewma_zscore.hpp"
#include "edgeswarm/ml/half_space_trees.hpp"
#include "edgeswarm/ml/likelihood_alarm.hpp"
#include "edgeswarm/ml/mahalanobis.hpp"
#include "edgeswarm/ml/neighbour_rarity.hpp"
#include "edgeswarm/ml/robust_mad.hpp"

namespace edgeswarm::bindings {
namespace {

using namespace edgeswarm::ml;
using Scores = std::pair<py::array_t<double>, py::array_t<double>>;

/// `x` as C-contiguous float64 rows of `dim` values (1-D allowed when dim is 1).
py::array_t<double, py::array::c_style> rows_of(const py::array& x, int dim) {
  if (x.dtype().kind() != 'f' && x.dtype().kind() != 'i' && x.dtype().kind() != 'u') {
    throw std::invalid_argument("x: expected a numeric array, got dtype " + std::string(py::str(x.dtype())));
  }
  auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(x);
  if (!a) throw std::invalid_argument("x: cannot be converted to float64");
  const bool ok = (a.ndim() == 1 && dim == 1) || (a.ndim() == 2 && a.shape(1) == dim);
  if (!ok) {
    std::string shape = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) shape += (i ? ", " : "") + std::to_string(a.shape(i));
    shape += a.ndim() == 1 ? ",)" : ")";
    throw std::invalid_argument("x: shape " + shape + " does not fit dim " + std::to_string(dim) + "; allowed (n, " +
                                std::to_string(dim) + ")" + (dim == 1 ? " or (n,)" : ""));
  }
  return a;
}

template <typename D>
Scores run(D& d, const py::array& x, int dim) {
  auto a = rows_of(x, dim);
  const auto n = static_cast<std::size_t>(a.shape(0));
  py::array_t<double> score(static_cast<py::ssize_t>(n)), conf(static_cast<py::ssize_t>(n));
  const double* src = a.data();
  double* s = score.mutable_data();
  double* c = conf.mutable_data();
  {
    py::gil_scoped_release release;
    d.update_batch(src, n, s, c);
  }
  return {score, conf};
}

py::dict stats_dict(const DetectorStats& s) {
  py::dict d;
  d["seen"] = s.seen;
  d["invalid"] = s.invalid;
  d["learned"] = s.learned();
  return d;
}

template <typename D>
void common(py::class_<D>& c, int (*dim_of)(const D&)) {
  c.def(
       "update_batch", [dim_of](D& d, const py::array& x) { return run(d, x, dim_of(d)); }, py::arg("x"),
       "Scores the samples of x in order (each before learning it) and returns (scores, confidence), "
       "continuing the stream; NaN or infinity: score NaN, confidence 0, not learned.")
      .def_property_readonly(
          "stats", [](const D& d) { return stats_dict(d.stats()); }, "Counters: seen, invalid, learned.")
      .def("reset", &D::reset, "Back to a fresh detector with the same options.");
}

}  // namespace

void bind_ml(py::module_& m) {
  {
    const EwmaZScoreParams def;
    py::class_<EwmaZScore> c(m, "EwmaZScore", "Univariate EWMA z-score detector.");
    c.def(py::init([](double alpha, double threshold, double warmup, double min_std) {
            return EwmaZScore(EwmaZScoreParams{alpha, threshold, warmup, min_std});
          }),
          py::kw_only(), py::arg("alpha") = def.alpha, py::arg("threshold") = def.threshold,
          py::arg("warmup") = def.warmup, py::arg("min_std") = def.min_std);
    common<EwmaZScore>(c, [](const EwmaZScore&) { return 1; });
    c.def_property_readonly("mean", &EwmaZScore::mean, "Weighted mean learned so far.")
        .def_property_readonly("variance", &EwmaZScore::variance, "Weighted variance learned so far.");
  }
  {
    const RobustMadParams def;
    py::class_<RobustMad> c(m, "RobustMad", "Univariate sliding-window median / MAD detector.");
    c.def(py::init([](int window, double threshold, double warmup, double min_scale, double range_floor) {
            return RobustMad(RobustMadParams{window, threshold, warmup, min_scale, range_floor});
          }),
          py::kw_only(), py::arg("window") = def.window, py::arg("threshold") = def.threshold,
          py::arg("warmup") = def.warmup, py::arg("min_scale") = def.min_scale,
          py::arg("range_floor") = def.range_floor);
    common<RobustMad>(c, [](const RobustMad&) { return 1; });
    c.def_property_readonly("median", &RobustMad::median, "Median of the window.")
        .def_property_readonly("mad", &RobustMad::mad, "Median absolute deviation of the window (unscaled).")
        .def_property_readonly("scale", &RobustMad::scale,
                               "Scale of the next robust z: max(1.4826 * MAD, range_floor * range, min_scale).");
  }
  {
    const HalfSpaceTreesParams def;
    py::class_<HalfSpaceTrees> c(m, "HalfSpaceTrees", "Multivariate Half-Space Trees detector.");
    c.def(
        py::init([](int dim, int n_trees, int depth, int window, double size_limit, std::uint64_t seed, double warmup,
                    double threshold) {
          return HalfSpaceTrees(HalfSpaceTreesParams{dim, n_trees, depth, window, size_limit, seed, warmup, threshold});
        }),
        py::kw_only(), py::arg("dim") = def.dim, py::arg("n_trees") = def.n_trees, py::arg("depth") = def.depth,
        py::arg("window") = def.window, py::arg("size_limit") = def.size_limit, py::arg("seed") = def.seed,
        py::arg("warmup") = def.warmup, py::arg("threshold") = def.threshold);
    common<HalfSpaceTrees>(c, [](const HalfSpaceTrees& d) { return d.params().dim; });
    c.def_property_readonly(
        "dim", [](const HalfSpaceTrees& d) { return d.params().dim; }, "Features per sample.");
  }
  {
    const MahalanobisParams def;
    py::class_<Mahalanobis> c(m, "Mahalanobis", "Multivariate Mahalanobis detector with an online covariance.");
    c.def(py::init([](int dim, double alpha, double threshold, double ridge, int refresh, double warmup, double clip) {
            return Mahalanobis(MahalanobisParams{dim, alpha, threshold, ridge, refresh, warmup, clip});
          }),
          py::kw_only(), py::arg("dim") = def.dim, py::arg("alpha") = def.alpha, py::arg("threshold") = def.threshold,
          py::arg("ridge") = def.ridge, py::arg("refresh") = def.refresh, py::arg("warmup") = def.warmup,
          py::arg("clip") = def.clip);
    common<Mahalanobis>(c, [](const Mahalanobis& d) { return d.params().dim; });
    c.def_property_readonly(
         "dim", [](const Mahalanobis& d) { return d.params().dim; }, "Features per sample.")
        .def_property_readonly(
            "mean", [](const Mahalanobis& d) { return std::vector<double>(d.mean().begin(), d.mean().end()); },
            "Weighted mean learned so far.");
  }
  {
    const EnsembleParams def;
    py::class_<Ensemble> c(m, "Ensemble",
                           "Calibrated ensemble: members' scores through their running empirical CDFs "
                           "(with a fitted upper tail), combined as 1 - min(1, m * smallest tail probability).");
    c.def(py::init([](int dim, std::uint64_t seed, int bins, double warmup, double ewma_alpha, int mad_window,
                      int hst_trees, int hst_depth, int hst_window, double mahalanobis_alpha, double tail_fit) {
            EnsembleParams p;
            p.dim = dim;
            p.seed = seed;
            p.bins = bins;
            p.warmup = warmup;
            p.tail_fit = tail_fit;
            p.ewma.alpha = ewma_alpha;
            p.mad.window = mad_window;
            p.hst.n_trees = hst_trees;
            p.hst.depth = hst_depth;
            p.hst.window = hst_window;
            p.mahalanobis.alpha = mahalanobis_alpha;
            return Ensemble(p);
          }),
          py::kw_only(), py::arg("dim") = def.dim, py::arg("seed") = def.seed, py::arg("bins") = def.bins,
          py::arg("warmup") = def.warmup, py::arg("ewma_alpha") = def.ewma.alpha,
          py::arg("mad_window") = def.mad.window, py::arg("hst_trees") = def.hst.n_trees,
          py::arg("hst_depth") = def.hst.depth, py::arg("hst_window") = def.hst.window,
          py::arg("mahalanobis_alpha") = def.mahalanobis.alpha, py::arg("tail_fit") = def.tail_fit);
    common<Ensemble>(c, [](const Ensemble& d) { return d.params().dim; });
    c.def_property_readonly(
         "dim", [](const Ensemble& d) { return d.params().dim; }, "Features per sample.")
        .def_property_readonly("members", &Ensemble::members, "Number of members (3 for dim 1, else 2).");
  }
  {
    const NeighbourRarityParams def;
    py::class_<NeighbourRarity> c(m, "NeighbourRarity",
                                  "Univariate detector on the fraction of recent values near the new one.");
    c.def(py::init([](int window, double radius, double rare_fraction, double warmup) {
            return NeighbourRarity(NeighbourRarityParams{window, radius, rare_fraction, warmup});
          }),
          py::kw_only(), py::arg("window") = def.window, py::arg("radius") = def.radius,
          py::arg("rare_fraction") = def.rare_fraction, py::arg("warmup") = def.warmup);
    common<NeighbourRarity>(c, [](const NeighbourRarity&) { return 1; });
    c.def("neighbours", &NeighbourRarity::neighbours, py::arg("x"),
          "Values of the window within x's neighbourhood (nothing is learned).");
  }
  {
    const AnomalyLikelihoodParams def;
    py::class_<AnomalyLikelihood> c(m, "AnomalyLikelihood",
                                    "Post-processor: raw anomaly scores to a log-scale likelihood of their "
                                    "recent mean.");
    c.def(py::init([](int average, int learning, int estimate_every, int history, double mean_floor,
                      double variance_floor, double warmup) {
            return AnomalyLikelihood(AnomalyLikelihoodParams{average, learning, estimate_every, history, mean_floor,
                                                             variance_floor, warmup});
          }),
          py::kw_only(), py::arg("average") = def.average, py::arg("learning") = def.learning,
          py::arg("estimate_every") = def.estimate_every, py::arg("history") = def.history,
          py::arg("mean_floor") = def.mean_floor, py::arg("variance_floor") = def.variance_floor,
          py::arg("warmup") = def.warmup);
    common<AnomalyLikelihood>(c, [](const AnomalyLikelihood&) { return 1; });
    c.def_property_readonly("fitted", &AnomalyLikelihood::fitted, "Whether a distribution has been fitted.")
        .def_property_readonly("fitted_mean", &AnomalyLikelihood::fitted_mean, "Fitted mean of the short means.")
        .def_property_readonly("fitted_std", &AnomalyLikelihood::fitted_std,
                               "Fitted standard deviation of the short means.");
  }
  {
    const LikelihoodAlarmParams def;
    py::class_<LikelihoodAlarm> c(m, "LikelihoodAlarm",
                                  "Univariate detector: base detector, anomaly likelihood, range break, hold-off.");
    c.def(py::init([](const std::string& base, int rarity_window, double rarity_radius, double rarity_fraction,
                      double ewma_alpha, int average, int learning, int estimate_every, int history, bool range_break,
                      double range_tolerance, int holdoff, double warmup) {
            LikelihoodAlarmParams p;
            if (base == "rarity") {
              p.base = AlarmBase::rarity;
            } else if (base == "ewma") {
              p.base = AlarmBase::ewma;
            } else {
              throw std::invalid_argument("base: '" + base + "' is not a base detector; allowed rarity, ewma");
            }
            p.rarity.window = rarity_window;
            p.rarity.radius = rarity_radius;
            p.rarity.rare_fraction = rarity_fraction;
            p.ewma.alpha = ewma_alpha;
            p.likelihood.average = average;
            p.likelihood.learning = learning;
            p.likelihood.estimate_every = estimate_every;
            p.likelihood.history = history;
            p.range_break = range_break;
            p.range_tolerance = range_tolerance;
            p.holdoff = holdoff;
            p.warmup = warmup;
            return LikelihoodAlarm(p);
          }),
          py::kw_only(), py::arg("base") = "rarity", py::arg("rarity_window") = def.rarity.window,
          py::arg("rarity_radius") = def.rarity.radius, py::arg("rarity_fraction") = def.rarity.rare_fraction,
          py::arg("ewma_alpha") = def.ewma.alpha, py::arg("average") = def.likelihood.average,
          py::arg("learning") = def.likelihood.learning, py::arg("estimate_every") = def.likelihood.estimate_every,
          py::arg("history") = def.likelihood.history, py::arg("range_break") = def.range_break,
          py::arg("range_tolerance") = def.range_tolerance, py::arg("holdoff") = def.holdoff,
          py::arg("warmup") = def.warmup);
    common<LikelihoodAlarm>(c, [](const LikelihoodAlarm&) { return 1; });
    c.def_property_readonly("quiet", &LikelihoodAlarm::quiet, "Valid samples still silenced by the hold-off.");
  }
}

}  // namespace edgeswarm::bindings
