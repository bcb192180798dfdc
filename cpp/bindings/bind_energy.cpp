// TWT-style sleep scheduling and the per-node energy ledger.
#include <Python.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "bindings.hpp"
#include "edgeswarm/swarm/energy.hpp"

namespace edgeswarm::bindings {
namespace {

using swarm::EnergyParams;
using swarm::Regime;
using swarm::Role;
using swarm::SleepScheduler;

std::string dtype_name(const py::array& a) { return std::string(py::str(a.dtype())); }

/// A Python int in [0, 2^64), or ValueError naming `name`.
std::uint64_t require_u64(const py::int_& v, const char* name) {
  const unsigned long long x = PyLong_AsUnsignedLongLong(v.ptr());
  if (PyErr_Occurred()) {
    PyErr_Clear();
    throw std::invalid_argument(std::string(name) + ": " + std::string(py::str(v)) +
                                " is out of range; allowed integers in [0, 2^64)");
  }
  return static_cast<std::uint64_t>(x);
}

Regime require_regime(int regime) {
  if (regime < 0 || regime > static_cast<int>(Regime::Storm)) {
    throw std::invalid_argument("regime: " + std::to_string(regime) +
                                " is out of range; allowed 0 (Calm), 1 (PreStorm), 2 (Storm)");
  }
  return static_cast<Regime>(regime);
}

void require_shape(const py::array& a, const char* name, std::size_t n) {
  if (a.ndim() != 1 || static_cast<std::size_t>(a.shape(0)) != n) {
    std::string shape = "(";
    for (py::ssize_t d = 0; d < a.ndim(); ++d) shape += (d ? ", " : "") + std::to_string(a.shape(d));
    shape += a.ndim() == 1 ? ",)" : ")";
    throw std::invalid_argument(std::string(name) + ": expected shape (" + std::to_string(n) + ",), got " + shape);
  }
}

py::array_t<double, py::array::c_style> require_reputation(const py::array& a, std::size_t n) {
  if (a.dtype().kind() != 'f' || a.dtype().itemsize() > 8) {
    throw std::invalid_argument("reputation: expected dtype float64, got " + dtype_name(a));
  }
  require_shape(a, "reputation", n);
  return py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
}

py::array_t<std::uint8_t, py::array::c_style> require_awake(const py::array& a, std::size_t n) {
  const char kind = a.dtype().kind();
  if (!((kind == 'u' && a.dtype().itemsize() == 1) || kind == 'b')) {
    throw std::invalid_argument("awake: expected dtype uint8 (or bool), got " + dtype_name(a));
  }
  require_shape(a, "awake", n);
  return py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(a);
}

/// Non-negative integer counts as a C-contiguous array of T. Unsigned dtypes
/// that fit are cast directly; other integer dtypes are range-checked.
template <typename T>
py::array_t<T, py::array::c_style> require_counts(const py::array& a, const char* name, std::size_t n) {
  const char kind = a.dtype().kind();
  if (kind != 'u' && kind != 'i') {
    throw std::invalid_argument(std::string(name) + ": expected an integer dtype (" +
                                std::string(py::str(py::dtype::of<T>())) + "), got " + dtype_name(a));
  }
  require_shape(a, name, n);
  if (kind == 'u' && static_cast<std::size_t>(a.dtype().itemsize()) <= sizeof(T)) {
    return py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(a);
  }
  py::array_t<T> out(static_cast<py::ssize_t>(n));
  T* dst = out.mutable_data();
  auto fail = [&](const std::string& value, std::size_t i) {
    throw std::invalid_argument(std::string(name) + ": " + value + " at node " + std::to_string(i) +
                                " is out of range; allowed [0, " + std::to_string(std::numeric_limits<T>::max()) + "]");
  };
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<T>::max());
  if (kind == 'i') {
    auto w = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t v = w.data()[i];
      if (v < 0 || static_cast<std::uint64_t>(v) > kMax) fail(std::to_string(v), i);
      dst[i] = static_cast<T>(v);
    }
  } else {
    auto w = py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>::ensure(a);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t v = w.data()[i];
      if (v > kMax) fail(std::to_string(v), i);
      dst[i] = static_cast<T>(v);
    }
  }
  return out;
}

py::dict params_dict(const EnergyParams& p) {
  py::dict d;
  d["calm_interval_s"] = p.calm_interval_s;
  d["prestorm_interval_s"] = p.prestorm_interval_s;
  d["storm_interval_s"] = p.storm_interval_s;
  d["wake_burst_epochs"] = p.wake_burst_epochs;
  d["sentinel_fraction"] = p.sentinel_fraction;
  d["on_demand_fraction"] = p.on_demand_fraction;
  d["awake_mw"] = p.awake_mw;
  d["asleep_mw"] = p.asleep_mw;
  d["tx_uj_per_byte"] = p.tx_uj_per_byte;
  d["tx_uj_per_message"] = p.tx_uj_per_message;
  return d;
}

}  // namespace

void bind_energy(py::module_& m) {
  m.attr("SLEEP_ROLES") = py::make_tuple(swarm::to_string(Role::Sentinel), swarm::to_string(Role::OnDemand),
                                         swarm::to_string(Role::Scheduled));

  const EnergyParams d;
  py::class_<SleepScheduler>(m, "SleepScheduler",
                             "Per-node TWT wake schedule (sentinel / on-demand / scheduled roles) and energy "
                             "ledger in mJ. Role codes index SLEEP_ROLES; regime codes index REGIMES.")
      .def(py::init([](const py::int_& n, const py::int_& seed, std::int64_t epoch_ms, double calm_interval_s,
                       double prestorm_interval_s, double storm_interval_s, int wake_burst_epochs,
                       double sentinel_fraction, double on_demand_fraction, double awake_mw, double asleep_mw,
                       double tx_uj_per_byte, double tx_uj_per_message) {
             EnergyParams p;
             p.calm_interval_s = calm_interval_s;
             p.prestorm_interval_s = prestorm_interval_s;
             p.storm_interval_s = storm_interval_s;
             p.wake_burst_epochs = wake_burst_epochs;
             p.sentinel_fraction = sentinel_fraction;
             p.on_demand_fraction = on_demand_fraction;
             p.awake_mw = awake_mw;
             p.asleep_mw = asleep_mw;
             p.tx_uj_per_byte = tx_uj_per_byte;
             p.tx_uj_per_message = tx_uj_per_message;
             const std::uint64_t nodes = require_u64(n, "n");
             return SleepScheduler(static_cast<std::size_t>(nodes), p, require_u64(seed, "seed"), epoch_ms);
           }),
           py::arg("n"), py::kw_only(), py::arg("seed"), py::arg("epoch_ms") = 500,
           py::arg("calm_interval_s") = d.calm_interval_s, py::arg("prestorm_interval_s") = d.prestorm_interval_s,
           py::arg("storm_interval_s") = d.storm_interval_s, py::arg("wake_burst_epochs") = d.wake_burst_epochs,
           py::arg("sentinel_fraction") = d.sentinel_fraction, py::arg("on_demand_fraction") = d.on_demand_fraction,
           py::arg("awake_mw") = d.awake_mw, py::arg("asleep_mw") = d.asleep_mw,
           py::arg("tx_uj_per_byte") = d.tx_uj_per_byte, py::arg("tx_uj_per_message") = d.tx_uj_per_message,
           "n nodes with roles drawn from `seed`; ValueError naming the option when one is out of range.")
      .def(
          "plan_epoch",
          [](SleepScheduler& s, const py::int_& epoch, int regime, bool escalated, const py::array& reputation) {
            const std::uint64_t e = require_u64(epoch, "epoch");
            const Regime r = require_regime(regime);
            auto rep = require_reputation(reputation, s.size());
            py::array_t<std::uint8_t> awake(static_cast<py::ssize_t>(s.size()));
            s.plan_epoch(e, r, escalated, rep.data(), awake.mutable_data());
            return awake;
          },
          py::arg("epoch"), py::arg("regime"), py::arg("escalated"), py::arg("reputation"),
          "Who is awake in `epoch` (uint8 (n,), 1 = awake) under regime code `regime`; `escalated` when the "
          "regime just became more urgent; `reputation` float64 (n,) in [0, 1] scales the intervals.")
      .def(
          "charge",
          [](SleepScheduler& s, const py::array& awake, const py::array& bytes_sent, const py::array& messages_sent) {
            auto a = require_awake(awake, s.size());
            auto b = require_counts<std::uint64_t>(bytes_sent, "bytes_sent", s.size());
            auto c = require_counts<std::uint32_t>(messages_sent, "messages_sent", s.size());
            s.charge(a.data(), b.data(), c.data());
          },
          py::arg("awake"), py::arg("bytes_sent"), py::arg("messages_sent"),
          "Charges one epoch: awake uint8 (n,), bytes_sent uint64 (n,), messages_sent uint32 (n,).")
      .def(
          "roles",
          [](const SleepScheduler& s) {
            py::array_t<std::uint8_t> out(static_cast<py::ssize_t>(s.size()));
            std::uint8_t* dst = out.mutable_data();
            for (std::size_t i = 0; i < s.size(); ++i) dst[i] = static_cast<std::uint8_t>(s.role(i));
            return out;
          },
          "Role code per node (uint8 (n,); names in SLEEP_ROLES).")
      .def(
          "energy_mj",
          [](const SleepScheduler& s) {
            const auto& e = s.energy_mj();
            py::array_t<double> out(static_cast<py::ssize_t>(e.size()));
            std::copy(e.begin(), e.end(), out.mutable_data());
            return out;
          },
          "Energy used so far per node in mJ (float64 (n,), a snapshot).")
      .def(
          "sleep_ratio",
          [](const SleepScheduler& s) {
            py::array_t<double> out(static_cast<py::ssize_t>(s.size()));
            double* dst = out.mutable_data();
            for (std::size_t i = 0; i < s.size(); ++i) dst[i] = s.sleep_ratio(i);
            return out;
          },
          "Fraction of charged epochs each node spent asleep (float64 (n,); 0 before any charge).")
      .def(
          "interval_epochs",
          [](const SleepScheduler& s, int regime, double reputation) {
            return s.interval_epochs(require_regime(regime), reputation);
          },
          py::arg("regime"), py::arg("reputation"),
          "TWT interval in epochs for a regime code and a reputation (clamped to [0, 1]).")
      .def_property_readonly("size", &SleepScheduler::size, "Number of nodes.")
      .def("__len__", &SleepScheduler::size)
      .def_property_readonly("epoch_ms", &SleepScheduler::epoch_ms, "Simulated milliseconds per epoch.")
      .def_property_readonly("epochs_charged", &SleepScheduler::epochs_charged, "Number of charge() calls so far.")
      .def_property_readonly(
          "params", [](const SleepScheduler& s) { return params_dict(s.params()); },
          "The options it was built with, as a dict.")
      .def("__repr__", [](const SleepScheduler& s) {
        return "SleepScheduler(n=" + std::to_string(s.size()) + ", epoch_ms=" + std::to_string(s.epoch_ms()) +
               ", epochs_charged=" + std::to_string(s.epochs_charged()) + ")";
      });
}

}  // namespace edgeswarm::bindings
