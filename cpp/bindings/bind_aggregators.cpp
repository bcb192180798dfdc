// Byzantine-tolerant aggregators: one batched call per (n x d) matrix of raw
// Q16.16 reports, with the GIL released around the C++ work.
#include <string>

#include "bindings.hpp"
#include "edgeswarm/swarm/aggregators.hpp"
#include "edgeswarm/swarm/trimmed_mean.hpp"

namespace edgeswarm::bindings {
namespace {

using swarm::q16;
using Int32Array = py::array_t<std::int32_t, py::array::c_style>;

/// The (n, d) report matrix with n >= 1, or ValueError naming `values`.
Int32Array require_reports(const py::array& values) {
  auto a = require_int32(values, "values", 2);
  if (a.shape(0) == 0) {
    throw std::invalid_argument("values: 0 rows; at least 1 report is required");
  }
  return a;
}

/// A 1-D int32 array of exactly `size` entries, or ValueError naming `name`.
Int32Array require_vector(const py::array& a, const char* name, py::ssize_t size, const char* what) {
  auto v = require_int32(a, name, 1);
  if (v.shape(0) != size) {
    throw std::invalid_argument(std::string(name) + ": length " + std::to_string(v.shape(0)) + " does not match the " +
                                std::to_string(size) + " " + what + " of values");
  }
  return v;
}

std::size_t require_count(long long f, std::size_t n) {
  if (f < 0) {
    throw std::invalid_argument("f: " + std::to_string(f) +
                                " is out of range; allowed 0 <= f and 2f < n = " + std::to_string(n));
  }
  return static_cast<std::size_t>(f);
}

}  // namespace

void bind_aggregators(py::module_& m) {
  m.def(
      "aggregate",
      [](const py::array& values, const std::string& aggregator, double trim, int trim_count, const py::object& weights,
         const py::object& center, int krum_f, int multi_krum_m, double clip_tau, int clip_iters) {
        auto v = require_reports(values);
        const auto n = static_cast<std::size_t>(v.shape(0));
        const auto d = static_cast<std::size_t>(v.shape(1));
        swarm::AggregatorParams params;
        params.kind = swarm::parse_aggregator(aggregator);
        params.trim = trim;
        params.trim_count = trim_count;
        params.krum_f = krum_f;
        params.multi_krum_m = multi_krum_m;
        params.clip_tau = clip_tau;
        params.clip_iters = clip_iters;
        swarm::Aggregator agg(params);
        Int32Array w, c;
        if (!weights.is_none()) w = require_vector(weights, "weights", v.shape(0), "rows");
        if (!center.is_none()) c = require_vector(center, "center", v.shape(1), "columns");
        Int32Array out(static_cast<py::ssize_t>(d));
        const q16* wp = weights.is_none() ? nullptr : w.data();
        const q16* cp = center.is_none() ? nullptr : c.data();
        const q16* vp = v.data();
        q16* op = out.mutable_data();
        {
          py::gil_scoped_release release;
          agg.aggregate(vp, n, d, wp, cp, op);
        }
        return out;
      },
      py::arg("values"), py::kw_only(), py::arg("aggregator"), py::arg("trim") = 0.2, py::arg("trim_count") = -1,
      py::arg("weights") = py::none(), py::arg("center") = py::none(), py::arg("krum_f") = -1,
      py::arg("multi_krum_m") = -1, py::arg("clip_tau") = 0.1, py::arg("clip_iters") = 3,
      R"doc(Aggregates n reports of d raw Q16.16 values (int32 array (n, d)) into one int32 array (d,).

aggregator: mean, trimmed_mean, median, reputation_trimmed_mean, krum, multi_krum or
centered_clipping. Every rule is exact integer arithmetic with the project rounding
rule (nearest, ties away from zero) and gives the same result for any row order.
trim / trim_count: values dropped per side (trim_count >= 0 overrides floor(trim * n)).
weights: int32 (n,) Q16.16 reputations in [0, 65536], required by reputation_trimmed_mean.
center: int32 (d,) start of centered clipping (default: the coordinate-wise median).
krum_f: Byzantine reports assumed by Krum (-1: the trim count); needs n > 2 krum_f + 2.
multi_krum_m: reports averaged by multi_krum (-1: n - krum_f).
clip_tau, clip_iters: clipping radius in real units and iteration count.
Raises ValueError naming the parameter on bad input.)doc");

  m.def(
      "trimmed_mean",
      [](const py::array& values, long long f) {
        auto v = require_reports(values);
        const auto n = static_cast<std::size_t>(v.shape(0));
        const auto d = static_cast<std::size_t>(v.shape(1));
        const std::size_t fc = require_count(f, n);
        Int32Array out(static_cast<py::ssize_t>(d));
        const q16* vp = v.data();
        q16* op = out.mutable_data();
        {
          py::gil_scoped_release release;
          swarm::trimmed_mean(vp, n, d, fc, op);
        }
        return out;
      },
      py::arg("values"), py::arg("f"),
      "Coordinate-wise trimmed mean of an int32 (n, d) raw Q16.16 array: drops the f smallest and f largest "
      "values of each column and averages the rest with the rounding rule; needs 2f < n. The fast path "
      "(AVX-512 when the CPU has it, single-threaded).");

  m.def(
      "trimmed_mean_portable",
      [](const py::array& values, long long f) {
        auto v = require_reports(values);
        const auto n = static_cast<std::size_t>(v.shape(0));
        const auto d = static_cast<std::size_t>(v.shape(1));
        const std::size_t fc = require_count(f, n);
        Int32Array out(static_cast<py::ssize_t>(d));
        const q16* vp = v.data();
        q16* op = out.mutable_data();
        {
          py::gil_scoped_release release;
          swarm::Workspace work;
          swarm::trimmed_mean_portable(vp, n, d, fc, op, work);
        }
        return out;
      },
      py::arg("values"), py::arg("f"),
      "trimmed_mean computed by the portable std::nth_element path (no SIMD); same result, for checks and "
      "benchmarks.");

  m.def("trimmed_mean_uses_simd", &swarm::trimmed_mean_uses_simd,
        "True when trimmed_mean runs the AVX-512 kernel on this CPU.");

  m.def(
      "column_sum",
      [](const py::array& values) {
        auto v = require_int32(values, "values", 2);
        const auto n = static_cast<std::size_t>(v.shape(0));
        const auto d = static_cast<std::size_t>(v.shape(1));
        py::array_t<std::int64_t> out(static_cast<py::ssize_t>(d));
        const q16* vp = v.data();
        std::int64_t* op = out.mutable_data();
        {
          py::gil_scoped_release release;
          swarm::column_sum(vp, n, d, op);
        }
        return out;
      },
      py::arg("values"),
      "Exact int64 column sums of an int32 (n, d) array: one streaming pass, the baseline of the trimmed "
      "mean benchmark.");
}

}  // namespace edgeswarm::bindings
