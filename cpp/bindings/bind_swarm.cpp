// The swarm engine: configuration, stepping, injections, per-node state.
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings.hpp"
#include "edgeswarm/swarm/swarm.hpp"
#include "edgeswarm/swarm/wire.hpp"

namespace edgeswarm::bindings {
namespace {

using swarm::EpochMetrics;
using swarm::SwarmConfig;

template <typename T>
py::array_t<T> to_array(const std::vector<T>& v) {
  py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

/// A read-only NumPy view of engine memory, kept alive by `owner`.
template <typename T>
py::array_t<T> view(const T* data, std::vector<py::ssize_t> shape, py::handle owner) {
  py::array_t<T> a(shape, data, owner);
  a.attr("setflags")(py::arg("write") = false);
  return a;
}

/// Columns of a metrics table: one NumPy array per figure, one row per epoch.
py::dict metrics_columns(const std::vector<EpochMetrics>& rows, std::size_t d) {
  const auto k = static_cast<py::ssize_t>(rows.size());
  py::array_t<std::int32_t> consensus({k, static_cast<py::ssize_t>(d)});
  py::array_t<double> honest_mean({k, static_cast<py::ssize_t>(d)});
  for (py::ssize_t r = 0; r < k; ++r) {
    for (std::size_t j = 0; j < d; ++j) {
      consensus.mutable_at(r, j) = rows[r].consensus[j];
      honest_mean.mutable_at(r, j) = rows[r].honest_mean[j];
    }
  }
  py::dict out;
  out["consensus_raw"] = consensus;
  out["honest_mean"] = honest_mean;
  auto column = [&](const char* name, auto getter) {
    using T = decltype(getter(rows[0]));
    py::array_t<T> a(k);
    for (py::ssize_t r = 0; r < k; ++r) a.mutable_at(r) = getter(rows[r]);
    out[name] = a;
  };
  if (k == 0) return out;
  column("epoch", [](const EpochMetrics& m) { return m.epoch; });
  column("time_s", [](const EpochMetrics& m) { return m.time_s; });
  column("drift", [](const EpochMetrics& m) { return m.drift; });
  column("rmse", [](const EpochMetrics& m) { return m.rmse; });
  column("xi", [](const EpochMetrics& m) { return m.xi; });
  column("entropy", [](const EpochMetrics& m) { return m.entropy; });
  column("regime", [](const EpochMetrics& m) { return static_cast<std::uint8_t>(m.regime); });
  column("awake", [](const EpochMetrics& m) { return static_cast<std::int64_t>(m.awake); });
  column("reporting", [](const EpochMetrics& m) { return static_cast<std::int64_t>(m.reporting); });
  column("invalid", [](const EpochMetrics& m) { return static_cast<std::int64_t>(m.invalid); });
  column("banned", [](const EpochMetrics& m) { return static_cast<std::int64_t>(m.banned); });
  column("byzantine", [](const EpochMetrics& m) { return static_cast<std::int64_t>(m.byzantine); });
  column("byzantine_banned", [](const EpochMetrics& m) { return static_cast<std::int64_t>(m.byzantine_banned); });
  column("honest_banned", [](const EpochMetrics& m) { return static_cast<std::int64_t>(m.honest_banned); });
  column("bytes_per_node_day", [](const EpochMetrics& m) { return m.bytes_per_node_day; });
  column("fl_bytes_per_node_day", [](const EpochMetrics& m) { return m.fl_bytes_per_node_day; });
  column("energy_mj", [](const EpochMetrics& m) { return m.energy_mj; });
  column("sleep_ratio", [](const EpochMetrics& m) { return m.sleep_ratio; });
  column("noise_intensity", [](const EpochMetrics& m) { return m.noise_intensity; });
  column("attack_active", [](const EpochMetrics& m) { return m.attack_active; });
  return out;
}

/// A Python int as a Byzantine count: one outside [0, honest nodes left] (negative, or beyond any
/// std::size_t) raises the engine's own error, so every count error reads the same.
std::size_t byzantine_count(const swarm::Swarm& s, const py::int_& count) {
  const std::size_t honest = s.honest_nodes();
  if (count < py::int_(0) || count > py::int_(honest)) {
    throw swarm::byzantine_count_error(py::str(count).cast<std::string>(), honest);
  }
  return count.cast<std::size_t>();
}

/// Runs epochs with the GIL released and returns their figures as columns.
py::dict run_epochs(swarm::Swarm& s, std::size_t epochs) {
  std::vector<EpochMetrics> rows;
  {
    py::gil_scoped_release release;
    rows = s.run(epochs);
  }
  return metrics_columns(rows, s.config().dim);
}

/// Every sender's wire message of the epoch under way, in one buffer.
py::dict outgoing_messages(const swarm::Swarm& s) {
  if (!s.in_epoch()) throw std::logic_error("outgoing_messages: no epoch under way; call begin_epoch() first");
  std::vector<std::uint32_t> nodes;
  std::string data;
  for (std::size_t i = 0; i < s.config().n_nodes; ++i) {
    if (!s.sends(i)) continue;
    const auto bytes = s.outgoing(i);
    nodes.push_back(static_cast<std::uint32_t>(i));
    data.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  py::dict out;
  out["node"] = to_array(nodes);
  out["data"] = py::bytes(data);
  return out;
}

py::dict gossip_links(const swarm::Swarm& s) {
  const std::size_t k = s.link_count();
  py::array_t<std::uint32_t> sender(static_cast<py::ssize_t>(k)), receiver(static_cast<py::ssize_t>(k));
  for (std::size_t link = 0; link < k; ++link) {
    sender.mutable_at(link) = s.link_sender(link);
    receiver.mutable_at(link) = s.link_receiver(link);
  }
  py::dict out;
  out["sender"] = sender;
  out["receiver"] = receiver;
  return out;
}

/// finish_epoch with a NumPy mask of the delivered links.
py::dict finish_epoch(swarm::Swarm& s, const py::array& delivered) {
  const char kind = delivered.dtype().kind();
  if (!((kind == 'b' || kind == 'u') && delivered.dtype().itemsize() == 1) || delivered.ndim() != 1) {
    throw std::invalid_argument("delivered: expected a 1-D bool or uint8 array, got " +
                                std::to_string(delivered.ndim()) + "-D " + std::string(py::str(delivered.dtype())));
  }
  const auto mask = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(delivered);
  const std::vector<std::uint8_t> links(mask.data(), mask.data() + mask.size());
  std::vector<EpochMetrics> rows;
  {
    py::gil_scoped_release release;
    rows.push_back(s.finish_epoch(links));
  }
  return metrics_columns(rows, s.config().dim);
}

}  // namespace

void bind_swarm(py::module_& m) {
  m.attr("HUB_ID") = swarm::kHubId;
  py::class_<SwarmConfig> config(m, "SwarmConfig",
                                 "Flat view of everything that defines a swarm run (validated by Swarm()).");
  config.def(py::init<>());
#define EDGESWARM_FIELD(name, member) \
  config.def_property(                \
      name, [](const SwarmConfig& c) { return c.member; }, [](SwarmConfig& c, decltype(c.member) v) { c.member = v; })
  EDGESWARM_FIELD("n_nodes", n_nodes);
  EDGESWARM_FIELD("dim", dim);
  EDGESWARM_FIELD("signal", signal);
  EDGESWARM_FIELD("noise_variance", noise_variance);
  EDGESWARM_FIELD("invalid_rate", invalid_rate);
  EDGESWARM_FIELD("degree", topology.degree);
  EDGESWARM_FIELD("radius", topology.radius);
  EDGESWARM_FIELD("rewire", topology.rewire);
  EDGESWARM_FIELD("trim", aggregator.trim);
  EDGESWARM_FIELD("trim_count", aggregator.trim_count);
  EDGESWARM_FIELD("krum_f", aggregator.krum_f);
  EDGESWARM_FIELD("multi_krum_m", aggregator.multi_krum_m);
  EDGESWARM_FIELD("clip_tau", aggregator.clip_tau);
  EDGESWARM_FIELD("clip_iters", aggregator.clip_iters);
  EDGESWARM_FIELD("adaptive_trim", adaptive_trim);
  EDGESWARM_FIELD("min_trim", min_trim);
  EDGESWARM_FIELD("use_reputation", use_reputation);
  EDGESWARM_FIELD("reputation_initial", reputation.initial);
  EDGESWARM_FIELD("reputation_reward", reputation.reward);
  EDGESWARM_FIELD("reputation_penalty", reputation.penalty);
  EDGESWARM_FIELD("ban_threshold", reputation.ban_threshold);
  EDGESWARM_FIELD("reputation_tolerance", reputation.tolerance);
  EDGESWARM_FIELD("reputation_min_distance", reputation.min_distance);
  EDGESWARM_FIELD("calm_threshold", regime.calm_threshold);
  EDGESWARM_FIELD("storm_threshold", regime.storm_threshold);
  EDGESWARM_FIELD("derivative_threshold", regime.derivative_threshold);
  EDGESWARM_FIELD("hysteresis", regime.hysteresis);
  EDGESWARM_FIELD("smoothing", regime.smoothing);
  EDGESWARM_FIELD("residual_range", residual_range);
  EDGESWARM_FIELD("entropy_bins", entropy_bins);
  EDGESWARM_FIELD("calm_interval_s", energy.calm_interval_s);
  EDGESWARM_FIELD("prestorm_interval_s", energy.prestorm_interval_s);
  EDGESWARM_FIELD("storm_interval_s", energy.storm_interval_s);
  EDGESWARM_FIELD("wake_burst_epochs", energy.wake_burst_epochs);
  EDGESWARM_FIELD("sentinel_fraction", energy.sentinel_fraction);
  EDGESWARM_FIELD("on_demand_fraction", energy.on_demand_fraction);
  EDGESWARM_FIELD("awake_mw", energy.awake_mw);
  EDGESWARM_FIELD("asleep_mw", energy.asleep_mw);
  EDGESWARM_FIELD("tx_uj_per_byte", energy.tx_uj_per_byte);
  EDGESWARM_FIELD("tx_uj_per_message", energy.tx_uj_per_message);
  EDGESWARM_FIELD("innovation", innovation);
  EDGESWARM_FIELD("epoch_ms", epoch_ms);
  EDGESWARM_FIELD("seed", seed);
  EDGESWARM_FIELD("threads", threads);
#undef EDGESWARM_FIELD
  config.def_property(
      "topology", [](const SwarmConfig& c) { return swarm::to_string(c.topology.kind); },
      [](SwarmConfig& c, const std::string& name) { c.topology.kind = swarm::parse_topology(name); });
  config.def_property(
      "aggregator", [](const SwarmConfig& c) { return swarm::to_string(c.aggregator.kind); },
      [](SwarmConfig& c, const std::string& name) { c.aggregator.kind = swarm::parse_aggregator(name); });
  config.def(
      "validate", [](const SwarmConfig& c) { swarm::validate(c); },
      "Raises ValueError naming the first field out of range.");

  py::class_<swarm::Swarm>(m, "Swarm", "The swarm engine (use edgeswarm.Swarm).")
      .def(py::init<const SwarmConfig&>(), py::arg("config"))
      .def(
          "step", [](swarm::Swarm& s) { return run_epochs(s, 1); },
          "Advances one epoch; returns its figures as columns of length 1.")
      .def("run", &run_epochs, py::arg("epochs"),
           "Advances `epochs` epochs; returns one column per figure, one row per epoch.")
      .def("begin_epoch", &swarm::Swarm::begin_epoch,
           "Starts an epoch (sleep plan, sensing, attacks, bandwidth); its reports wait in outgoing_messages() "
           "for finish_epoch(). RuntimeError when an epoch is already under way.")
      .def_property_readonly("in_epoch", &swarm::Swarm::in_epoch, "True between begin_epoch() and finish_epoch().")
      .def("outgoing_messages", &outgoing_messages,
           "The wire messages of the epoch under way, one per sending node: {'node': uint32 ids ascending, "
           "'data': bytes, message_bytes(dim) per node in the same order}. RuntimeError outside an epoch.")
      .def("gossip_links", &gossip_links,
           "The gossip links as columns {'sender', 'receiver'} (uint32): link k carries sender[k]'s report to "
           "receiver[k], the aggregator being HUB_ID in a centralised swarm. finish_epoch's mask follows them.")
      .def("finish_epoch", &finish_epoch, py::arg("delivered"),
           "Ends the epoch begun, aggregating for each receiver only the reports whose link is delivered "
           "(bool or uint8 mask, one entry per gossip link); returns its figures as columns of length 1. "
           "ValueError naming `delivered` on a wrong dtype or length; RuntimeError outside an epoch.")
      .def(
          "inject_byzantine",
          [](swarm::Swarm& s, const py::int_& count, const std::string& attack, double bias, double jitter,
             double scale, double sigma, double alie_z, double ipm_epsilon, int on_epochs, int off_epochs) {
            const auto params =
                attack_params(attack, bias, jitter, scale, sigma, alie_z, ipm_epsilon, on_epochs, off_epochs);
            s.inject_byzantine(byzantine_count(s, count), params);
          },
          py::arg("count"), py::kw_only(), py::arg("attack") = "bias", py::arg("bias") = 0.9, py::arg("jitter") = 0.01,
          py::arg("scale") = 1.0, py::arg("sigma") = 1.0, py::arg("alie_z") = -1.0, py::arg("ipm_epsilon") = 0.5,
          py::arg("on_epochs") = 5, py::arg("off_epochs") = 5,
          "Turns `count` random honest nodes Byzantine with the given attack. Raises ValueError naming the "
          "parameter: count outside [0, honest nodes left], an unknown attack, a bias outside the Q16.16 range, "
          "or an attack option out of its range.")
      .def("inject_noise", &swarm::Swarm::inject_noise, py::arg("intensity"), py::arg("duration_s"),
           "Adds noise of standard deviation `intensity` for `duration_s` simulated seconds (0 ends a storm). "
           "Raises ValueError naming the parameter: intensity outside [0, Q16.16 max], duration_s negative, "
           "not finite or beyond 2^62 epochs.")
      .def_property_readonly("honest_nodes", &swarm::Swarm::honest_nodes, "Nodes not (yet) Byzantine.")
      .def("set_threads", &swarm::Swarm::set_threads, py::arg("threads"))
      .def_property_readonly("epoch", &swarm::Swarm::epoch)
      .def_property_readonly("consensus_raw", [](const swarm::Swarm& s) { return to_array(s.consensus()); })
      .def_property_readonly("state_bytes_per_node", &swarm::Swarm::state_bytes_per_node)
      .def(
          "nodes",
          [](py::object self) {
            const auto& s = self.cast<const swarm::Swarm&>();
            const std::size_t n = s.config().n_nodes, d = s.config().dim;
            const auto rows = static_cast<py::ssize_t>(n), cols = static_cast<py::ssize_t>(d);
            py::dict out;
            out["byzantine"] = view(s.byzantine().data(), {rows}, self);
            out["banned"] = view(s.reputation().banned_data(), {rows}, self);
            out["reputation_raw"] = view(s.reputation().reputation_data(), {rows}, self);
            out["awake"] = view(s.awake().data(), {rows}, self);
            out["report_raw"] = view(s.reports().data(), {rows, cols}, self);
            out["model_raw"] = view(s.models().data(), {rows, cols}, self);
            out["energy_mj"] = view(s.scheduler().energy_mj().data(), {rows}, self);
            out["bytes_sent"] = view(s.bytes_sent().data(), {rows}, self);
            py::array_t<std::uint8_t> role(rows);
            py::array_t<double> sleep(rows);
            for (std::size_t i = 0; i < n; ++i) {
              role.mutable_at(i) = static_cast<std::uint8_t>(s.scheduler().role(i));
              sleep.mutable_at(i) = s.scheduler().sleep_ratio(i);
            }
            out["role"] = role;
            out["sleep_ratio"] = sleep;
            return out;
          },
          "Per-node state as columns: read-only views of the engine's arrays (they change as the swarm "
          "steps; copy to keep), plus computed role and sleep_ratio.")
      .def(
          "topology_arrays",
          [](const swarm::Swarm& s) {
            const auto& t = s.topology();
            py::dict out;
            out["kind"] = swarm::to_string(t.kind());
            out["centralised"] = t.centralised();
            out["offsets"] = to_array(t.offsets());
            out["neighbours"] = to_array(t.neighbours());
            auto pos = to_array(t.positions());
            out["positions"] = pos.reshape({static_cast<py::ssize_t>(t.size()), py::ssize_t{2}});
            return out;
          },
          "Neighbour lists (CSR) and node positions of the swarm's topology.");

  m.def("message_bytes", &swarm::message_bytes, py::arg("dim"),
        "Bytes of one gossip message: 16-byte header + 4 bytes per Q16.16 coordinate.");
  m.def("fl_bytes_per_node_day", &swarm::fl_bytes_per_node_day, py::arg("dim"), py::arg("epoch_ms"),
        "Federated-learning baseline: 2 * (16 + 4 * dim) * (86,400,000 / epoch_ms) bytes per client per day.");
  m.def(
      "encode_message",
      [](std::uint32_t node, std::uint32_t epoch, const py::array& values, std::uint16_t flags) {
        auto v = require_int32(values, "values", 1);
        swarm::WireMessage msg{node, epoch, flags, std::vector<fixed::q16>(v.data(), v.data() + v.size())};
        const auto bytes = swarm::encode(msg);
        return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      },
      py::arg("node"), py::arg("epoch"), py::arg("values"), py::arg("flags") = 0,
      "Serialises a gossip message (wire.hpp layout).");
  m.def(
      "decode_message",
      [](const py::bytes& data) {
        const std::string s = data;
        const auto msg = swarm::decode(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
        py::dict out;
        out["node"] = msg.node;
        out["epoch"] = msg.epoch;
        out["flags"] = msg.flags;
        out["values"] = to_array(msg.values);
        return out;
      },
      py::arg("data"), "Parses a gossip message; ValueError on a bad length or CRC.");
}

}  // namespace edgeswarm::bindings
