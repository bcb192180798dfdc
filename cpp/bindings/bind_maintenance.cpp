// Predictive maintenance: RUL window features, the ridge / random-feature RUL
// model and the health index. Batch calls release the GIL.
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "edgeswarm/ml/health_index.hpp"
#include "edgeswarm/ml/rul_features.hpp"
#include "edgeswarm/ml/rul_model.hpp"

namespace edgeswarm::bindings {
namespace {

using namespace edgeswarm::ml;
using ConstRowMap = Eigen::Map<const RowMatrix>;

/// `a` as a C-contiguous float64 array of `ndim` dimensions, or ValueError naming `name`.
py::array_t<double, py::array::c_style> float_array(const py::array& a, const char* name, int ndim) {
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u') {
    throw std::invalid_argument(std::string(name) + ": expected a numeric array, got dtype " +
                                std::string(py::str(a.dtype())));
  }
  if (a.ndim() != ndim) {
    throw std::invalid_argument(std::string(name) + ": expected a " + std::to_string(ndim) + "-D array, got " +
                                std::to_string(a.ndim()) + "-D");
  }
  return py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
}

std::vector<std::int64_t> starts_of(const py::array& starts) {
  const char kind = starts.dtype().kind();
  if ((kind != 'i' && kind != 'u') || starts.ndim() != 1) {
    throw std::invalid_argument("starts: expected a 1-D integer array of engine boundaries, got " +
                                std::to_string(starts.ndim()) + "-D dtype " + std::string(py::str(starts.dtype())));
  }
  auto s = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(starts);
  return std::vector<std::int64_t>(s.data(), s.data() + s.size());
}

ConstRowMap matrix_of(const py::array_t<double, py::array::c_style>& a) {
  return ConstRowMap(a.data(), a.shape(0), a.shape(1));
}

RulModelKind kind_of(const std::string& model) {
  if (model == "ridge") return RulModelKind::kRidge;
  if (model == "random_features") return RulModelKind::kRandomFeatures;
  throw std::invalid_argument("model: '" + model + "' is not one of ridge, random_features");
}

py::array_t<double> to_numpy(const Eigen::VectorXd& v) {
  py::array_t<double> out(v.size());
  std::copy(v.data(), v.data() + v.size(), out.mutable_data());
  return out;
}

py::array_t<double> to_numpy(const RowMatrix& m) {
  py::array_t<double> out({m.rows(), m.cols()});
  std::copy(m.data(), m.data() + m.size(), out.mutable_data());
  return out;
}

/// Feature rows at each engine's last finite cycle; ValueError if an engine has none.
RowMatrix last_cycle_rows(const RulFeatures& f) {
  RowMatrix last(static_cast<Eigen::Index>(f.last_row.size()), f.values.cols());
  for (std::size_t e = 0; e < f.last_row.size(); ++e) {
    if (f.last_row[e] < 0) {
      throw std::invalid_argument("rows: engine " + std::to_string(e) +
                                  " (in unit order) has no cycle with finite readings; at least one is needed");
    }
    last.row(static_cast<Eigen::Index>(e)) = f.values.row(f.last_row[e]);
  }
  return last;
}

py::dict window_features(const py::array& x, const py::array& starts, int window) {
  const auto a = float_array(x, "x", 2);
  const auto s = starts_of(starts);
  RulFeatures f;
  {
    py::gil_scoped_release release;
    f = rul_window_features(matrix_of(a), s, window);
  }
  py::dict d;
  d["features"] = to_numpy(f.values);
  d["source_row"] = py::array_t<std::int64_t>(f.source_row.size(), f.source_row.data());
  d["remaining_cycles"] = py::array_t<std::int64_t>(f.remaining_cycles.size(), f.remaining_cycles.data());
  d["last_row"] = py::array_t<std::int64_t>(f.last_row.size(), f.last_row.data());
  d["skipped"] = f.skipped;
  return d;
}

py::dict fit(const py::array& x, const py::array& starts, int window, const std::string& model, std::uint64_t seed,
             int n_features, double alpha, int cap) {
  const auto a = float_array(x, "x", 2);
  const auto s = starts_of(starts);
  RulModelOptions options;
  options.kind = kind_of(model);
  options.seed = seed;
  options.n_features = n_features;
  options.alpha = alpha;
  if (cap < 1) throw std::invalid_argument("cap: " + std::to_string(cap) + " is out of range; allowed >= 1");
  RulModel fitted;
  std::size_t skipped = 0;
  {
    py::gil_scoped_release release;
    const RulFeatures f = rul_window_features(matrix_of(a), s, window);
    if (f.values.rows() == 0) {
      throw std::invalid_argument("x: no cycle with finite readings (" + std::to_string(f.skipped) +
                                  " skipped); at least one is needed");
    }
    Eigen::VectorXd targets(f.values.rows());
    for (Eigen::Index i = 0; i < targets.size(); ++i) {
      targets(i) = static_cast<double>(std::min<std::int64_t>(f.remaining_cycles[i], cap));
    }
    fitted = fit_rul_model(f.values, targets, options);
    skipped = f.skipped;
  }
  py::dict d;
  d["mean"] = to_numpy(fitted.mean);
  d["std"] = to_numpy(fitted.std);
  d["projection"] = to_numpy(fitted.projection);
  d["offset"] = to_numpy(fitted.offset);
  d["weights"] = to_numpy(fitted.weights);
  d["skipped"] = skipped;
  return d;
}

Eigen::VectorXd vector_of(const py::array& v, const char* name) {
  const auto a = float_array(v, name, 1);
  return Eigen::Map<const Eigen::VectorXd>(a.data(), a.shape(0));
}

py::dict predict(const py::array& x, const py::array& starts, int window, const py::array& mean, const py::array& std,
                 const py::array& projection, const py::array& offset, const py::array& weights, int cap) {
  const auto a = float_array(x, "x", 2);
  const auto s = starts_of(starts);
  RulModel model;
  model.mean = vector_of(mean, "mean");
  model.std = vector_of(std, "std");
  model.offset = vector_of(offset, "offset");
  model.weights = vector_of(weights, "weights");
  const auto p = float_array(projection, "projection", 2);
  model.projection = matrix_of(p);
  model.kind = model.projection.size() == 0 ? RulModelKind::kRidge : RulModelKind::kRandomFeatures;
  Eigen::VectorXd rul;
  std::size_t skipped = 0;
  {
    py::gil_scoped_release release;
    const RulFeatures f = rul_window_features(matrix_of(a), s, window);
    rul = predict_rul(model, last_cycle_rows(f), cap);
    skipped = f.skipped;
  }
  py::dict d;
  d["rul"] = to_numpy(rul);
  d["skipped"] = skipped;
  return d;
}

}  // namespace

void bind_maintenance(py::module_& m) {
  m.def("rul_window_features", &window_features, py::arg("x"), py::arg("starts"), py::arg("window"),
        "Window features of sensor histories `x` (n_rows, n_sensors); engine e is rows "
        "[starts[e], starts[e + 1]) in cycle order. Returns a dict: features (n_kept, 3 * n_sensors + 1: "
        "values, trailing-window means and slopes, age / 100), source_row, remaining_cycles, last_row "
        "(feature row of each engine's last finite cycle, -1 if none) and skipped (cycles with a NaN or "
        "infinite reading: no feature row, never part of a window). GIL released.");
  m.def("fit_rul_model", &fit, py::arg("x"), py::arg("starts"), py::kw_only(), py::arg("window"), py::arg("model"),
        py::arg("seed"), py::arg("n_features"), py::arg("alpha"), py::arg("cap"),
        "Fits a RUL model ('ridge' or 'random_features') on run-to-failure histories: window features, "
        "targets min(cycles left, cap), normalisation, seeded random ReLU features (portable RNG streams 0 "
        "and 1) and the ridge normal equations solved by Eigen LDLT. Returns a dict: mean, std, projection, "
        "offset, weights, skipped. GIL released.");
  m.def("predict_rul", &predict, py::arg("x"), py::arg("starts"), py::kw_only(), py::arg("window"), py::arg("mean"),
        py::arg("std"), py::arg("projection"), py::arg("offset"), py::arg("weights"), py::arg("cap"),
        "Predicted RUL at each engine's last finite cycle, clipped to [0, cap], from a fitted model's arrays "
        "(an empty projection means 'ridge'). Returns a dict: rul, skipped. GIL released.");
  m.def(
      "health_index",
      [](const py::array& rul, int cap) {
        const Eigen::VectorXd r = vector_of(rul, "rul");
        return to_numpy(ml::health_index(r, cap));
      },
      py::arg("rul"), py::arg("cap"), "Health in [0, 1]: rul / cap clipped; rul must be finite, cap >= 1.");
}

}  // namespace edgeswarm::bindings
