// The network simulator's link models: latency distributions and link rules,
// with seeded batch draws over many messages in one call (see link_sampler.hpp).
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/net/latency.hpp"
#include "edgeswarm/net/link_rules.hpp"
#include "edgeswarm/net/link_sampler.hpp"
#include "edgeswarm/net/network.hpp"

namespace edgeswarm::bindings {
namespace {

using net::LatencyModel;
using net::LinkRules;
using net::SimTime;

const char* kind_name(LatencyModel::Kind kind) {
  switch (kind) {
    case LatencyModel::Kind::Fixed:
      return "fixed";
    case LatencyModel::Kind::Uniform:
      return "uniform";
    case LatencyModel::Kind::Normal:
      return "normal";
    case LatencyModel::Kind::Pareto:
      return "pareto";
  }
  return "fixed";
}

template <typename T>
using Column = py::array_t<T, py::array::c_style | py::array::forcecast>;

// A per-message column of `count` values, or ValueError naming `name`.
template <typename T>
Column<T> per_message(const py::object& values, const char* name, std::size_t count) {
  auto a = Column<T>::ensure(values);
  if (!a || a.ndim() != 1 || static_cast<std::size_t>(a.size()) != count) {
    const std::string got = a ? std::to_string(a.ndim()) + "-D array of " + std::to_string(a.size()) : "not an array";
    throw std::invalid_argument(std::string(name) + ": expected a 1-D array of " + std::to_string(count) +
                                " values (one per message), got " + got);
  }
  return a;
}

template <typename T>
py::array_t<T> to_array(const std::vector<T>& v) {
  py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

py::array_t<bool> to_bool_array(const std::vector<std::uint8_t>& v) {
  py::array_t<bool> out(static_cast<py::ssize_t>(v.size()));
  bool* dst = out.mutable_data();
  for (std::size_t i = 0; i < v.size(); ++i) dst[i] = v[i] != 0;
  return out;
}

py::dict draw(const LinkRules& rules, std::size_t count, std::uint64_t seed, std::uint64_t stream,
              const py::object& loss, const py::object& extra_delay_us) {
  std::optional<Column<double>> loss_of;
  std::optional<Column<std::int64_t>> extra_of;
  if (!loss.is_none()) loss_of = per_message<double>(loss, "loss", count);
  if (!extra_delay_us.is_none()) extra_of = per_message<std::int64_t>(extra_delay_us, "extra_delay_us", count);
  const double* p = loss_of ? loss_of->data() : nullptr;
  const std::int64_t* extra = extra_of ? extra_of->data() : nullptr;
  // The message (and its string) is built only for a bad value.
  for (std::size_t i = 0; i < count; ++i) {
    if (p && !(p[i] >= 0.0 && p[i] <= 1.0)) core::require_fraction("loss[" + std::to_string(i) + "]", p[i]);
    if (extra && (extra[i] < 0 || extra[i] > net::kMaxDelayUs)) {
      core::fail_range("extra_delay_us[" + std::to_string(i) + "]", std::to_string(extra[i]), "[0, 2^50] microseconds");
    }
  }

  std::vector<std::int64_t> message;
  std::vector<std::uint8_t> lost, reordered;
  std::vector<std::int64_t> delay;
  {
    py::gil_scoped_release release;
    message.reserve(count);
    lost.reserve(count);
    reordered.reserve(count);
    delay.reserve(count);
    net::LinkSampler sampler(seed, stream);
    LinkRules r = rules;
    for (std::size_t i = 0; i < count; ++i) {
      if (p) r.loss = p[i];
      const net::MessageFate fate = sampler.message(r);
      for (int k = 0; k < fate.copies; ++k) {
        const net::CopyFate& c = fate.copy[k];
        message.push_back(static_cast<std::int64_t>(i));
        lost.push_back(c.lost);
        reordered.push_back(c.reordered);
        delay.push_back(c.lost ? -1 : c.delay_us + (extra ? extra[i] : 0));
      }
    }
  }
  py::dict out;
  out["message"] = to_array(message);
  out["lost"] = to_bool_array(lost);
  out["reordered"] = to_bool_array(reordered);
  out["delay_us"] = to_array(delay);
  return out;
}

}  // namespace

void bind_net(py::module_& m) {
  m.attr("NET_MAX_NODES") = net::kMaxNodes;
  m.attr("NET_MAX_DELAY_US") = net::kMaxDelayUs;

  py::class_<LatencyModel>(m, "LatencyModel",
                           "A latency distribution over integer microseconds (use edgeswarm.net.LatencyModel).")
      .def_static("fixed", &LatencyModel::fixed, py::arg("delay_us"), "Always `delay_us`, in [0, 2^50].")
      .def_static("uniform", &LatencyModel::uniform, py::arg("min_us"), py::arg("max_us"),
                  "Uniform over min_us..max_us inclusive; 0 <= min_us <= max_us <= 2^50.")
      .def_static("normal", &LatencyModel::normal, py::arg("mean_us"), py::arg("sd_us"),
                  "Normal(mean_us, sd_us) truncated at 0 by redrawing; mean_us and sd_us in [0, 2^50].")
      .def_static("pareto", &LatencyModel::pareto, py::arg("scale_us"), py::arg("shape"), py::arg("cap_us"),
                  "Pareto type I: P(X > x) = (scale_us / x)^shape for x >= scale_us, clamped at cap_us; "
                  "scale_us in (0, 2^50], shape > 0, cap_us in [scale_us, 2^50].")
      .def_property_readonly(
          "kind", [](const LatencyModel& l) { return kind_name(l.kind()); }, "fixed, uniform, normal or pareto.")
      .def(
          "sample",
          [](const LatencyModel& l, std::size_t count, std::uint64_t seed, std::uint64_t stream) {
            py::array_t<std::int64_t> out(static_cast<py::ssize_t>(count));
            std::int64_t* dst = out.mutable_data();
            {
              py::gil_scoped_release release;
              core::Rng rng(seed, stream);
              for (std::size_t i = 0; i < count; ++i) dst[i] = l.sample(rng);
            }
            return out;
          },
          py::arg("count"), py::kw_only(), py::arg("seed"), py::arg("stream") = 0,
          "`count` delays (int64 microseconds) from stream `stream` of the portable RNG seeded by `seed`.");

  const LinkRules def;
  py::class_<LinkRules>(m, "LinkRules",
                        "How one direction of a link treats each message (use edgeswarm.net.LinkRules).")
      .def(py::init([](const std::optional<LatencyModel>& latency, double loss, double duplicate, double reorder,
                       const std::optional<LatencyModel>& reorder_delay) {
             LinkRules r;
             if (latency) r.latency = *latency;
             r.loss = loss;
             r.duplicate = duplicate;
             r.reorder = reorder;
             if (reorder_delay) r.reorder_delay = *reorder_delay;
             net::validate(r);
             return r;
           }),
           py::kw_only(), py::arg("latency") = py::none(), py::arg("loss") = def.loss,
           py::arg("duplicate") = def.duplicate, py::arg("reorder") = def.reorder,
           py::arg("reorder_delay") = py::none(),
           "Rules with loss, duplicate and reorder probabilities in [0, 1] (ValueError naming the field "
           "otherwise); latency defaults to fixed 1000 us, reorder_delay to uniform 0..10000 us.")
      .def_readonly("latency", &LinkRules::latency, "One-way delay of every copy.")
      .def_readonly("loss", &LinkRules::loss, "Probability that a copy is lost.")
      .def_readonly("duplicate", &LinkRules::duplicate, "Probability that a second copy is sent.")
      .def_readonly("reorder", &LinkRules::reorder, "Probability that a copy gets reorder_delay extra.")
      .def_readonly("reorder_delay", &LinkRules::reorder_delay, "Extra delay of a reordered copy.")
      .def("draw", &draw, py::arg("count"), py::kw_only(), py::arg("seed"), py::arg("stream") = 0,
           py::arg("loss") = py::none(), py::arg("extra_delay_us") = py::none(),
           "Fates of `count` messages sent under these rules, drawn like the network simulator draws them "
           "(streams of (seed, stream)). `loss` (float64, one per message) replaces the rules' loss per "
           "message; `extra_delay_us` (int64, one per message, in [0, 2^50]) is added to the delay of each "
           "surviving copy. Returns a dict of arrays over copies (a duplicated message has two, adjacent): "
           "message (int64 index of the message), lost (bool), reordered (bool), delay_us (int64, -1 when "
           "lost).");
}

}  // namespace edgeswarm::bindings
