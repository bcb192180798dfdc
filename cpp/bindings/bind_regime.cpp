// Residual entropy and the Calm / PreStorm / Storm regime detector.
#include <cstdint>
#include <string>

#include "bindings.hpp"
#include "edgeswarm/swarm/regime.hpp"

namespace edgeswarm::bindings {
namespace {

using swarm::Regime;
using swarm::RegimeDetector;
using swarm::RegimeParams;

/// A C-contiguous float64 array (any float dtype up to 64 bits is cast
/// losslessly), or ValueError naming `name`.
py::array_t<double, py::array::c_style> require_float64(const py::array& a, const char* name) {
  if (a.dtype().kind() != 'f' || a.dtype().itemsize() > 8) {
    throw std::invalid_argument(std::string(name) + ": expected dtype float64, got " + std::string(py::str(a.dtype())));
  }
  return py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
}

py::dict params_dict(const RegimeParams& p) {
  py::dict d;
  d["calm_threshold"] = p.calm_threshold;
  d["storm_threshold"] = p.storm_threshold;
  d["derivative_threshold"] = p.derivative_threshold;
  d["hysteresis"] = p.hysteresis;
  d["smoothing"] = p.smoothing;
  return d;
}

}  // namespace

void bind_regime(py::module_& m) {
  m.attr("REGIMES") = py::make_tuple(swarm::to_string(Regime::Calm), swarm::to_string(Regime::PreStorm),
                                     swarm::to_string(Regime::Storm));

  m.def(
      "residual_entropy",
      [](const py::array& residuals, double residual_range, int bins) {
        auto r = require_float64(residuals, "residuals");
        return swarm::residual_entropy(r.data(), static_cast<std::size_t>(r.size()), residual_range, bins);
      },
      py::arg("residuals"), py::kw_only(), py::arg("residual_range"), py::arg("bins") = 16,
      "Normalised Shannon entropy in [0, 1] of the histogram of |residuals| / residual_range over `bins` "
      "equal bins of [0, residual_range). Residuals at or beyond the range are saturated: their mass is "
      "spread evenly over the bins (maximal disorder), so all-saturated gives 1. NaN is skipped; no values "
      "give 0. The array may have any shape; all its values are used.");

  const RegimeParams defaults;
  py::class_<RegimeDetector>(m, "RegimeDetector",
                             "Streaming Calm / PreStorm / Storm classifier of the entropy H with hysteresis. "
                             "Regime codes: 0 Calm, 1 PreStorm, 2 Storm (names in REGIMES).")
      .def(py::init([](double calm_threshold, double storm_threshold, double derivative_threshold, int hysteresis,
                       double smoothing) {
             RegimeParams p;
             p.calm_threshold = calm_threshold;
             p.storm_threshold = storm_threshold;
             p.derivative_threshold = derivative_threshold;
             p.hysteresis = hysteresis;
             p.smoothing = smoothing;
             return RegimeDetector(p);
           }),
           py::kw_only(), py::arg("calm_threshold") = defaults.calm_threshold,
           py::arg("storm_threshold") = defaults.storm_threshold,
           py::arg("derivative_threshold") = defaults.derivative_threshold, py::arg("hysteresis") = defaults.hysteresis,
           py::arg("smoothing") = defaults.smoothing,
           "Starts in Calm; ValueError naming the option when one is out of range.")
      .def(
          "update", [](RegimeDetector& d, double h) { return static_cast<int>(d.update(h)); }, py::arg("h"),
          "Feeds one entropy value (NaN and infinity are ignored) and returns the regime code.")
      .def(
          "run",
          [](RegimeDetector& d, const py::array& h) {
            auto in = require_float64(h, "h");
            if (in.ndim() != 1) {
              throw std::invalid_argument("h: expected a 1-D array, got " + std::to_string(in.ndim()) + "-D");
            }
            const auto n = in.size();
            py::array_t<std::uint8_t> out(n);
            const double* src = in.data();
            std::uint8_t* dst = out.mutable_data();
            for (py::ssize_t t = 0; t < n; ++t) dst[t] = static_cast<std::uint8_t>(d.update(src[t]));
            return out;
          },
          py::arg("h"), "Feeds a 1-D array of entropy values in order; returns the regime code after each (uint8).")
      .def("reset", &RegimeDetector::reset, "Back to the initial state (Calm, no smoothed value).")
      .def_property_readonly(
          "regime", [](const RegimeDetector& d) { return static_cast<int>(d.regime()); }, "Regime code in force.")
      .def_property_readonly("smoothed", &RegimeDetector::smoothed, "EWMA of the entropy values fed so far.")
      .def_property_readonly("derivative", &RegimeDetector::derivative,
                             "Last change of the smoothed entropy (per epoch).")
      .def_property_readonly(
          "params", [](const RegimeDetector& d) { return params_dict(d.params()); },
          "The options it was built with, as a dict.")
      .def("__repr__", [](const RegimeDetector& d) {
        return "RegimeDetector(regime=" + swarm::to_string(d.regime()) +
               ", smoothed=" + std::string(py::str(py::float_(d.smoothed()))) + ")";
      });
}

}  // namespace edgeswarm::bindings
