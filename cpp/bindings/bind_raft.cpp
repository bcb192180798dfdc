// The Raft cluster harness: a simulated cluster with faults, clients and the
// invariant checker. Node numbers are 0..n-1 here (Raft ids 1..n inside).
#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/raft/cluster.hpp"

namespace edgeswarm::bindings {
namespace {

using raft::Cluster;
using raft::ClusterConfig;

raft::KvOp parse_op(const std::string& kind) {
  for (raft::KvOp op :
       {raft::KvOp::Put, raft::KvOp::Get, raft::KvOp::Append, raft::KvOp::Delete, raft::KvOp::Emergency}) {
    if (kind == raft::to_string(op)) return op;
  }
  core::fail("kind: '" + kind + "' is not one of put, get, append, delete, emergency");
}

py::object optional_node(raft::NodeId id) {
  if (id == raft::kNoNode) return py::none();
  return py::int_(id - 1);
}

py::dict history_dict(const raft::HistoryEntry& h) {
  py::dict d;
  d["client"] = h.client;
  d["kind"] = raft::to_string(h.kind);
  d["key"] = h.key;
  d["value"] = h.value ? py::object(py::str(*h.value)) : py::none();
  d["call"] = h.call;
  d["ret"] = h.ret ? py::object(py::int_(*h.ret)) : py::none();
  d["status"] = raft::to_string(h.status);
  d["output"] = h.output ? py::object(py::str(*h.output)) : py::none();
  return d;
}

std::uint64_t term_of(const Cluster& c, std::size_t i) {
  return c.is_up(i) ? c.node(i).term() : c.storage(i).hard_state().term;
}

}  // namespace

void bind_raft(py::module_& m) {
  m.attr("RAFT_ROLES") =
      py::make_tuple(raft::to_string(raft::Role::Follower), raft::to_string(raft::Role::PreCandidate),
                     raft::to_string(raft::Role::Candidate), raft::to_string(raft::Role::Leader), "down");

  py::class_<Cluster>(m, "RaftCluster", "Simulated Raft cluster (use edgeswarm.RaftCluster).")
      .def(py::init([](std::size_t n, std::uint64_t seed, std::uint32_t election_min_ms, std::uint32_t election_max_ms,
                       std::uint32_t heartbeat_ms, std::int64_t latency_min_us, std::int64_t latency_max_us,
                       double loss, double duplicate, double reorder, std::int64_t reorder_max_us,
                       std::int64_t fsync_us, std::uint64_t snapshot_every, bool pre_vote, bool check_quorum,
                       std::size_t max_entries_per_msg, std::size_t max_inflight_msgs, std::int64_t client_retry_us,
                       std::int64_t client_timeout_us, bool check_invariants, bool record_applied) {
             ClusterConfig c;
             c.n = n;
             c.seed = seed;
             c.election_min_ms = election_min_ms;
             c.election_max_ms = election_max_ms;
             c.heartbeat_ms = heartbeat_ms;
             c.latency_min_us = latency_min_us;
             c.latency_max_us = latency_max_us;
             c.loss = loss;
             c.duplicate = duplicate;
             c.reorder = reorder;
             c.reorder_max_us = reorder_max_us;
             c.fsync_us = fsync_us;
             c.snapshot_every = snapshot_every;
             c.pre_vote = pre_vote;
             c.check_quorum = check_quorum;
             c.max_entries_per_msg = max_entries_per_msg;
             c.max_inflight_msgs = max_inflight_msgs;
             c.client_retry_us = client_retry_us;
             c.client_timeout_us = client_timeout_us;
             c.check_invariants = check_invariants;
             c.record_applied = record_applied;
             return std::make_unique<Cluster>(c);
           }),
           py::kw_only(), py::arg("n") = 5, py::arg("seed") = 1, py::arg("election_min_ms") = 150,
           py::arg("election_max_ms") = 300, py::arg("heartbeat_ms") = 50, py::arg("latency_min_us") = 1000,
           py::arg("latency_max_us") = 5000, py::arg("loss") = 0.0, py::arg("duplicate") = 0.0,
           py::arg("reorder") = 0.0, py::arg("reorder_max_us") = 10000, py::arg("fsync_us") = 100,
           py::arg("snapshot_every") = 1000, py::arg("pre_vote") = true, py::arg("check_quorum") = true,
           py::arg("max_entries_per_msg") = 64, py::arg("max_inflight_msgs") = 256, py::arg("client_retry_us") = 100000,
           py::arg("client_timeout_us") = 5000000, py::arg("check_invariants") = true, py::arg("record_applied") = true)
      .def_property_readonly("size", &Cluster::size)
      .def_property_readonly("now", &Cluster::now, "Simulated time in microseconds.")
      .def(
          "run_until",
          [](Cluster& c, std::int64_t until_us) {
            py::gil_scoped_release release;
            c.run_until(until_us);
          },
          py::arg("until_us"), "Runs until simulated time `until_us`.")
      .def(
          "run_until_leader",
          [](Cluster& c, std::int64_t timeout_us) {
            std::optional<std::size_t> l;
            {
              py::gil_scoped_release release;
              l = c.run_until_leader(timeout_us);
            }
            return l;
          },
          py::arg("timeout_us"), "Runs until a node leads (at most timeout_us); returns it or None.")
      .def("leader", &Cluster::leader, "The running leader with the highest term, or None.")
      .def(
          "propose",
          [](Cluster& c, const py::bytes& data) {
            const std::string s = data;
            return c.propose(std::vector<std::uint8_t>(s.begin(), s.end()));
          },
          py::arg("data"), "Proposes `data` at the leader: (index, term), or None without a leader.")
      .def(
          "propose_at",
          [](Cluster& c, std::size_t node, const py::bytes& data) {
            const std::string s = data;
            return c.propose_at(node, std::vector<std::uint8_t>(s.begin(), s.end()));
          },
          py::arg("node"), py::arg("data"),
          "Proposes `data` at node `node`: (index, term), or None unless it is up and leads.")
      .def("crash", &Cluster::crash, py::arg("node"))
      .def("restart", &Cluster::restart, py::arg("node"))
      .def("partition", &Cluster::partition, py::arg("groups"))
      .def("heal", &Cluster::heal)
      .def("cut", &Cluster::cut, py::arg("from_node"), py::arg("to_node"))
      .def(
          "set_link_rules",
          [](Cluster& c, std::int64_t latency_min_us, std::int64_t latency_max_us, double loss, double duplicate,
             double reorder, std::int64_t reorder_max_us) {
            ClusterConfig probe = c.config();
            probe.latency_min_us = latency_min_us;
            probe.latency_max_us = latency_max_us;
            probe.loss = loss;
            probe.duplicate = duplicate;
            probe.reorder = reorder;
            probe.reorder_max_us = reorder_max_us;
            raft::validate(probe);
            net::LinkRules r;
            r.latency = net::LatencyModel::uniform(latency_min_us, latency_max_us);
            r.loss = loss;
            r.duplicate = duplicate;
            r.reorder = reorder;
            r.reorder_delay = net::LatencyModel::uniform(0, reorder_max_us);
            c.set_link_rules(r);
          },
          py::kw_only(), py::arg("latency_min_us"), py::arg("latency_max_us"), py::arg("loss"), py::arg("duplicate"),
          py::arg("reorder"), py::arg("reorder_max_us"), "Replaces the rules of every link.")
      .def("is_up", &Cluster::is_up, py::arg("node"))
      .def(
          "role",
          [](const Cluster& c, std::size_t i) { return c.is_up(i) ? raft::to_string(c.node(i).role()) : "down"; },
          py::arg("node"), "follower, pre_candidate, candidate, leader, or down.")
      .def("term", &term_of, py::arg("node"), "Current term (the persisted one while down).")
      .def(
          "commit_index",
          [](const Cluster& c, std::size_t i) {
            return c.is_up(i) ? c.node(i).commit_index() : c.storage(i).hard_state().commit;
          },
          py::arg("node"), "Commit index (the persisted one while down).")
      .def(
          "applied_index", [](const Cluster& c, std::size_t i) { return c.node(i).applied_index(); }, py::arg("node"))
      .def(
          "known_leader", [](const Cluster& c, std::size_t i) { return optional_node(c.node(i).leader()); },
          py::arg("node"), "The leader node i knows of, or None.")
      .def(
          "applied",
          [](const Cluster& c, std::size_t i) {
            py::list out;
            for (const auto& [index, data] : c.applied(i)) {
              out.append(py::make_tuple(index, py::bytes(reinterpret_cast<const char*>(data.data()), data.size())));
            }
            return out;
          },
          py::arg("node"), "(index, payload) of each non-empty normal entry the node applied.")
      .def(
          "persisted",
          [](const Cluster& c, std::size_t i) {
            const raft::PersistedState p = c.persisted(i);
            py::dict d;
            d["term"] = p.hard_state.term;
            d["vote"] = optional_node(p.hard_state.vote);
            d["commit"] = p.hard_state.commit;
            d["snapshot_index"] = p.snapshot_index;
            d["snapshot_term"] = p.snapshot_term;
            d["log_length"] = p.last_index;
            d["entries"] = p.entries;
            return d;
          },
          py::arg("node"), "What node's disk holds: hard state, snapshot point and log length.")
      .def(
          "kv_data", [](const Cluster& c, std::size_t i) { return c.kv(i).data(); }, py::arg("node"),
          "Node's key-value data.")
      .def(
          "emergencies",
          [](const Cluster& c, std::size_t i) {
            py::list out;
            for (const raft::EmergencyRecord& e : c.kv(i).emergencies()) {
              out.append(py::make_tuple(e.index, e.client, e.key, e.value));
            }
            return out;
          },
          py::arg("node"), "Node's emergency log: (index, client, key, value) in commit order.")
      .def(
          "traffic",
          [](const Cluster& c, std::optional<std::size_t> node) {
            if (node) {
              if (*node >= c.size()) {
                core::fail("node: " + std::to_string(*node) + " is out of range; allowed [0, " +
                           std::to_string(c.size()) + ")");
              }
              const net::Traffic& t = c.network().node_counters(*node).sent;
              return std::make_pair(t.messages, t.bytes);
            }
            const net::Traffic t = c.network().total_counters().sent;
            return std::make_pair(t.messages, t.bytes);
          },
          py::arg("node") = py::none(), "(messages, bytes) sent, by one node or all.")
      .def(
          "message_counts",
          [](const Cluster& c, std::optional<std::size_t> node) {
            if (node && *node >= c.size()) {
              core::fail("node: " + std::to_string(*node) + " is out of range; allowed [0, " +
                         std::to_string(c.size()) + ")");
            }
            py::dict out;
            for (std::size_t t = 0; t < raft::kMessageTypes; ++t) {
              std::uint64_t total = 0;
              for (std::size_t i = 0; i < c.size(); ++i) {
                if (!node || *node == i) total += c.messages_by_type(i)[t];
              }
              out[py::str(raft::to_string(static_cast<raft::MessageType>(t)))] = total;
            }
            return out;
          },
          py::arg("node") = py::none(), "Messages sent (by one node or all), by type name.")
      .def(
          "violations",
          [](const Cluster& c) {
            py::list out;
            for (const raft::Violation& v : c.violations()) {
              py::dict d;
              d["kind"] = raft::to_string(v.kind);
              d["node"] = v.node;
              d["term"] = v.term;
              d["index"] = v.index;
              d["time"] = v.time;
              d["detail"] = v.detail;
              out.append(d);
            }
            return out;
          },
          "Safety violations found by the invariant checker (empty when all is well).")
      .def_property_readonly("checks", [](const Cluster& c) { return c.checker().checks(); })
      .def("add_client", &Cluster::add_client, "A new client; returns its id.")
      .def(
          "submit",
          [](Cluster& c, std::uint64_t client, const std::string& kind, std::string key, std::string value) {
            return c.submit(client, parse_op(kind), std::move(key), std::move(value));
          },
          py::arg("client"), py::arg("kind"), py::arg("key"), py::arg("value") = "",
          "Starts an operation; returns its position in history().")
      .def("pending", &Cluster::pending, py::arg("client"))
      .def(
          "wait",
          [](Cluster& c, std::uint64_t client) {
            const raft::HistoryEntry* h;
            {
              py::gil_scoped_release release;
              h = &c.wait(client);
            }
            return history_dict(*h);
          },
          py::arg("client"), "Runs until the client's operation ends; returns its history record.")
      .def(
          "history",
          [](const Cluster& c) {
            py::list out;
            for (const raft::HistoryEntry& h : c.history()) out.append(history_dict(h));
            return out;
          },
          "Every client operation so far (pending ones have status unknown).");
}

}  // namespace edgeswarm::bindings
