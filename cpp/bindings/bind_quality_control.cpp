// Quality control: Phase I estimate, process capability, and the Phase II
// control chart with a batch update over a NumPy array (GIL released) that
// continues the stream.
#include <cstdint>
#include <string>

#include "bindings.hpp"
#include "edgeswarm/ml/quality_control.hpp"

namespace edgeswarm::bindings {
namespace {

using namespace edgeswarm::ml;

/// `x` as a C-contiguous 1-D float64 array, or ValueError naming x.
py::array_t<double, py::array::c_style> series_of(const py::array& x) {
  const char kind = x.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u') {
    throw std::invalid_argument("x: expected a numeric array, got dtype " + std::string(py::str(x.dtype())));
  }
  if (x.ndim() != 1) {
    throw std::invalid_argument("x: expected a 1-D array, got " + std::to_string(x.ndim()) + "-D");
  }
  return py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(x);
}

SigmaMethod sigma_method(const std::string& method) {
  if (method == "moving_range") return SigmaMethod::kMovingRange;
  if (method == "std") return SigmaMethod::kStdDev;
  throw std::invalid_argument("method: '" + method + "' is not one of moving_range, std");
}

py::dict stats_dict(const ControlStats& s) {
  static const char* names[kSignalCount] = {"rule1", "rule2", "rule3", "rule4", "ewma", "cusum"};
  py::dict d;
  d["seen"] = s.seen;
  d["invalid"] = s.invalid;
  d["defects"] = s.defects;
  for (int i = 0; i < kSignalCount; ++i) d[names[i]] = s.fired[i];
  return d;
}

py::dict update_batch(ControlChart& chart, const py::array& x) {
  auto a = series_of(x);
  const auto n = a.shape(0);
  py::array_t<double> ewma(n), lcl(n), ucl(n), upper(n), lower(n), confidence(n);
  py::array_t<std::uint8_t> signals(n);
  const ControlArrays out{ewma.mutable_data(),  lcl.mutable_data(),     ucl.mutable_data(),       upper.mutable_data(),
                          lower.mutable_data(), signals.mutable_data(), confidence.mutable_data()};
  const double* src = a.data();
  {
    py::gil_scoped_release release;
    chart.update_batch(src, static_cast<std::size_t>(n), out);
  }
  py::dict d;
  d["ewma"] = ewma;
  d["ewma_lcl"] = lcl;
  d["ewma_ucl"] = ucl;
  d["cusum_upper"] = upper;
  d["cusum_lower"] = lower;
  d["signals"] = signals;
  d["confidence"] = confidence;
  return d;
}

}  // namespace

void bind_quality_control(py::module_& m) {
  m.def(
      "estimate_in_control",
      [](const py::array& x, const std::string& method) {
        auto a = series_of(x);
        const SigmaMethod how = sigma_method(method);
        InControl r;
        {
          py::gil_scoped_release release;
          r = estimate_in_control(a.data(), static_cast<std::size_t>(a.shape(0)), how);
        }
        py::dict d;
        d["mean"] = r.mean;
        d["sigma"] = r.sigma;
        d["n"] = r.n;
        d["invalid"] = r.invalid;
        return d;
      },
      py::arg("x"), py::kw_only(), py::arg("method") = "moving_range",
      "Phase I: mean and sigma of the finite values of x (dict: mean, sigma, n, invalid). method "
      "'moving_range': mean moving range / d2 (individuals chart); 'std': sample standard deviation.");
  m.def(
      "process_capability",
      [](double mean, double sigma, double lsl, double usl) {
        const Capability c = process_capability(mean, sigma, lsl, usl);
        py::dict d;
        d["cp"] = c.cp;
        d["cpk"] = c.cpk;
        d["cpu"] = c.cpu;
        d["cpl"] = c.cpl;
        return d;
      },
      py::kw_only(), py::arg("mean"), py::arg("sigma"), py::arg("lsl"), py::arg("usl"),
      "Cp = (usl - lsl) / 6 sigma, Cpu, Cpl, Cpk = min(Cpu, Cpl) as a dict.");

  const ControlChartParams def;
  py::class_<ControlChart> c(m, "ControlChart",
                             "Phase II control chart: individuals chart with the Western Electric rules, EWMA with "
                             "exact limits, and tabular CUSUM in sigma units.");
  c.def(py::init([](double mean, double sigma, double ewma_lambda, double ewma_width, double cusum_k, double cusum_h,
                    int signals) {
          return ControlChart(ControlChartParams{mean, sigma, ewma_lambda, ewma_width, cusum_k, cusum_h, signals});
        }),
        py::kw_only(), py::arg("mean") = def.mean, py::arg("sigma") = def.sigma,
        py::arg("ewma_lambda") = def.ewma_lambda, py::arg("ewma_width") = def.ewma_width,
        py::arg("cusum_k") = def.cusum_k, py::arg("cusum_h") = def.cusum_h, py::arg("signals") = def.signals)
      .def("update_batch", &update_batch, py::arg("x"),
           "Monitors the samples of x in order, continuing the stream; returns a dict of arrays: ewma, ewma_lcl, "
           "ewma_ucl, cusum_upper, cusum_lower, signals (uint8 bits), confidence. NaN or infinity: NaN "
           "statistics, no signal, confidence 0, state unchanged.")
      .def_property_readonly(
          "stats", [](const ControlChart& chart) { return stats_dict(chart.stats()); },
          "Counters: seen, invalid, defects, and samples on which each signal fired.")
      .def_property_readonly("ewma", &ControlChart::ewma, "Current EWMA.")
      .def_property_readonly("cusum_upper", &ControlChart::cusum_upper, "Current C+ in sigma units.")
      .def_property_readonly("cusum_lower", &ControlChart::cusum_lower, "Current C- in sigma units.")
      .def("reset", &ControlChart::reset, "Back to a fresh chart with the same options.");
}

}  // namespace edgeswarm::bindings
