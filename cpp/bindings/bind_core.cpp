// Q16.16 conversions and the portable RNG, exposed for tests and notebooks.
#include <cmath>
#include <vector>

#include "bindings.hpp"
#include "edgeswarm/core/fixed_point.hpp"
#include "edgeswarm/core/rng.hpp"

namespace edgeswarm::bindings {

void bind_core(py::module_& m) {
  m.attr("Q16_ONE") = fixed::kOne;
  m.attr("Q16_MAX") = fixed::kMax;
  m.attr("Q16_MIN") = fixed::kMin;
  m.attr("Q16_MAX_REAL") = fixed::kMaxReal;
  m.attr("Q16_MIN_REAL") = fixed::kMinReal;

  m.def(
      "to_q16",
      [](py::array_t<double, py::array::c_style | py::array::forcecast> x) {
        py::array_t<std::int32_t> out(x.request().shape);
        const double* src = x.data();
        std::int32_t* dst = out.mutable_data();
        const auto n = static_cast<std::size_t>(x.size());
        for (std::size_t i = 0; i < n; ++i) {
          if (std::isnan(src[i])) {
            throw std::invalid_argument("x: NaN at flat index " + std::to_string(i) + " cannot be converted to Q16.16");
          }
          dst[i] = fixed::from_double(src[i]);
        }
        return out;
      },
      py::arg("x"),
      "Converts real numbers to raw Q16.16 (int32): round to nearest, ties away from zero; "
      "saturates at the range limits; NaN raises ValueError.");

  m.def(
      "from_q16",
      [](const py::array& raw) {
        auto a = require_int32(raw, "raw", static_cast<int>(raw.ndim()));
        py::array_t<double> out(a.request().shape);
        const std::int32_t* src = a.data();
        double* dst = out.mutable_data();
        for (py::ssize_t i = 0; i < a.size(); ++i) dst[i] = fixed::to_double(src[i]);
        return out;
      },
      py::arg("raw"), "Converts raw Q16.16 (int32) to float64, exactly.");

  m.def("q16_mul", &fixed::mul, py::arg("a"), py::arg("b"), "Saturating Q16.16 product of two raw values.");
  m.def("q16_div", &fixed::div, py::arg("a"), py::arg("b"),
        "Saturating Q16.16 quotient of two raw values (division by zero saturates by the sign of a).");
  m.def("q16_add", &fixed::add, py::arg("a"), py::arg("b"), "Saturating Q16.16 sum of two raw values.");
  m.def("q16_sub", &fixed::sub, py::arg("a"), py::arg("b"), "Saturating Q16.16 difference of two raw values.");

  m.def(
      "stream_id", [](std::uint64_t a, std::uint64_t b, std::uint64_t c) { return core::stream_id(a, b, c); },
      py::arg("a"), py::arg("b") = 0, py::arg("c") = 0,
      "Combines identifiers into one 64-bit stream id (order matters): the engine's one derivation of "
      "independent streams and seeds (core::stream_id, SplitMix64 steps).");

  m.def(
      "rng_normal",
      [](std::uint64_t seed, std::uint64_t stream, std::size_t count) {
        py::array_t<double> out(static_cast<py::ssize_t>(count));
        core::Rng rng(seed, stream);
        double* dst = out.mutable_data();
        for (std::size_t i = 0; i < count; ++i) dst[i] = rng.normal();
        return out;
      },
      py::arg("seed"), py::arg("stream"), py::arg("count"),
      "`count` standard normal draws from stream `stream` of the portable RNG seeded by `seed`.");
  m.def(
      "rng_uniform",
      [](std::uint64_t seed, std::uint64_t stream, std::size_t count) {
        py::array_t<double> out(static_cast<py::ssize_t>(count));
        core::Rng rng(seed, stream);
        double* dst = out.mutable_data();
        for (std::size_t i = 0; i < count; ++i) dst[i] = rng.uniform();
        return out;
      },
      py::arg("seed"), py::arg("stream"), py::arg("count"),
      "`count` uniform [0, 1) draws from stream `stream` of the portable RNG seeded by `seed`.");
}

}  // namespace edgeswarm::bindings
