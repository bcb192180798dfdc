// Raft benchmark driver on the cluster harness (raft/cluster.hpp), a plain
// program: benchmarks/bench_raft.py runs it and tabulates its JSON output.
//
//   raft_throughput throughput key=value...   one JSON object: commits, wall time, traffic
//   raft_throughput elections key=value...    one JSON object: time without a leader per trial
//
// Throughput keys: fsync_us (100), batch (max_entries_per_msg, 64), offered
// (proposals per simulated ms at the leader, 64; 0 = closed loop: one proposal,
// then wait until the leader commits it), sim_ms (simulated ms of load, 2000),
// check (invariant checker, 1), latency_us (fixed one-way latency, 1000), seed (1),
// kv (1: each payload is an encoded KV Put the state machine executes; 0: 8 raw
// bytes the state machine skips, like bench_raft.py's Python-API load).
// Commits are counted at the leader's commit index (stored on a majority).
//
// Elections keys: min_ms, max_ms (election timeout range [min, max)),
// heartbeat_ms (50), latency_min_us, latency_max_us (1000, 5000), trials (1000),
// seed (first seed; trial t uses seed + t), pre_vote, check_quorum (1, 1),
// check (invariant checker, 1), sync (1), cap_ms (give up on an election, 60000;
// a trial whose first election does not finish is counted in no_first_leader).
// Each trial: elect a leader, let it settle 200 ms, then crash it: with sync=1
// the instant after it sent an Append of a fresh entry to every follower (the
// paper's synchronized broadcast before the crash), with sync=0 at a uniformly
// random instant of its heartbeat period. Measured in simulated time from the
// crash: until some up node is in role Leader (down_us), and until that leader
// has committed an entry of its own term (serving_us).
//
// Build: make bench-cpp (CMake option EDGESWARM_BENCHMARKS).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "edgeswarm/core/rng.hpp"
#include "edgeswarm/raft/cluster.hpp"
#include "edgeswarm/raft/kv_store.hpp"

namespace raft = edgeswarm::raft;
using raft::SimTime;

namespace {

using Args = std::map<std::string, std::string>;

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 2; i < argc; ++i) {
    const std::string s = argv[i];
    const auto eq = s.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("argument: '" + s + "' is not key=value");
    a[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return a;
}

std::int64_t get(Args& a, const std::string& key, std::int64_t fallback) {
  const auto it = a.find(key);
  if (it == a.end()) return fallback;
  const std::int64_t v = std::stoll(it->second);
  a.erase(it);
  return v;
}

void reject_unknown(const Args& a) {
  if (!a.empty()) throw std::invalid_argument("argument: unknown key '" + a.begin()->first + "'");
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int throughput(Args a) {
  raft::ClusterConfig c;
  c.n = 5;
  c.seed = static_cast<std::uint64_t>(get(a, "seed", 1));
  c.latency_min_us = c.latency_max_us = get(a, "latency_us", 1000);
  c.fsync_us = get(a, "fsync_us", 100);
  c.max_entries_per_msg = static_cast<std::size_t>(get(a, "batch", 64));
  c.check_invariants = get(a, "check", 1) != 0;
  c.record_applied = false;  // test bookkeeping (a copy of every payload per node), not part of Raft
  const std::int64_t offered = get(a, "offered", 64);
  const bool kv = get(a, "kv", 1) != 0;
  const SimTime sim_us = get(a, "sim_ms", 2000) * 1000;
  reject_unknown(a);

  raft::Cluster cluster(c);
  const auto leader = cluster.run_until_leader(10'000'000);
  if (!leader) throw std::runtime_error("no leader elected");
  cluster.run_for(100'000);  // the leader's no-op commits
  const std::size_t l = *leader;
  const std::uint64_t term = cluster.node(l).term();
  const std::uint64_t commit0 = cluster.node(l).commit_index();
  const auto traffic0 = cluster.network().total_counters().sent;
  const SimTime start = cluster.now();

  std::uint64_t seq = 0;
  std::uint64_t proposed = 0;
  auto next_payload = [&] {
    ++seq;
    if (!kv) {
      char raw[16];
      std::snprintf(raw, sizeof raw, "v%07llu", static_cast<unsigned long long>(seq % 10'000'000));
      return std::vector<std::uint8_t>(raw, raw + 8);
    }
    return raft::encode(
        raft::KvCommand{raft::KvOp::Put, 1, seq, "k" + std::to_string(seq % 64), "v" + std::to_string(seq)});
  };

  const auto t0 = std::chrono::steady_clock::now();
  if (offered > 0) {
    // Open loop: `offered` proposals at the start of every simulated ms.
    while (cluster.now() < start + sim_us) {
      for (std::int64_t k = 0; k < offered; ++k) {
        if (!cluster.propose(next_payload())) throw std::runtime_error("leader lost during the run");
        ++proposed;
      }
      cluster.run_for(raft::kTickUs);
    }
  } else {
    // Closed loop: one proposal in flight; the next one once the leader commits it.
    const raft::Node* node = &cluster.node(l);
    while (cluster.now() < start + sim_us) {
      const auto at = cluster.propose(next_payload());
      if (!at) throw std::runtime_error("leader lost during the run");
      ++proposed;
      const std::uint64_t index = at->first;
      cluster.run_until(cluster.now() + 10'000'000, [&] { return node->commit_index() >= index; });
    }
  }
  const double wall = seconds_since(t0);
  const SimTime simulated = cluster.now() - start;

  if (cluster.leader() != l || cluster.node(l).term() != term) throw std::runtime_error("leadership changed");
  const std::uint64_t commits = cluster.node(l).commit_index() - commit0;
  const auto traffic1 = cluster.network().total_counters().sent;
  // Not timed: drain, then every node must have applied everything proposed.
  cluster.run_for(200'000);
  std::uint64_t min_applied = cluster.node(l).applied_index();
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    min_applied = std::min(min_applied, cluster.node(i).applied_index());
  }
  const bool all_applied = min_applied == commit0 + proposed;

  std::printf(
      "{\"fsync_us\": %lld, \"batch\": %zu, \"offered_per_ms\": %lld, \"check\": %d, \"kv\": %d, \"latency_us\": %lld, "
      "\"proposed\": %llu, \"commits\": %llu, \"wall_s\": %.6f, \"simulated_us\": %lld, "
      "\"messages\": %llu, \"bytes\": %llu, \"all_applied\": %s, \"violations\": %zu}\n",
      static_cast<long long>(c.fsync_us), c.max_entries_per_msg, static_cast<long long>(offered),
      c.check_invariants ? 1 : 0, kv ? 1 : 0, static_cast<long long>(c.latency_min_us),
      static_cast<unsigned long long>(proposed), static_cast<unsigned long long>(commits), wall,
      static_cast<long long>(simulated), static_cast<unsigned long long>(traffic1.messages - traffic0.messages),
      static_cast<unsigned long long>(traffic1.bytes - traffic0.bytes), all_applied ? "true" : "false",
      cluster.violations().size());
  return 0;
}

int elections(Args a) {
  raft::ClusterConfig c;
  c.n = 5;
  c.election_min_ms = static_cast<std::uint32_t>(get(a, "min_ms", 150));
  c.election_max_ms = static_cast<std::uint32_t>(get(a, "max_ms", 300));
  c.heartbeat_ms = static_cast<std::uint32_t>(get(a, "heartbeat_ms", 50));
  c.latency_min_us = get(a, "latency_min_us", 1000);
  c.latency_max_us = get(a, "latency_max_us", 5000);
  c.pre_vote = get(a, "pre_vote", 1) != 0;
  c.check_quorum = get(a, "check_quorum", 1) != 0;
  c.check_invariants = get(a, "check", 1) != 0;
  c.record_applied = false;
  const auto trials = get(a, "trials", 1000);
  const auto seed = static_cast<std::uint64_t>(get(a, "seed", 1));
  const bool sync = get(a, "sync", 1) != 0;
  const SimTime cap_us = get(a, "cap_ms", 60'000) * 1000;
  reject_unknown(a);

  std::vector<SimTime> down;     // crash -> some node in role Leader
  std::vector<SimTime> serving;  // crash -> that leader commits an entry of its own term
  std::vector<std::uint64_t> terms;
  std::size_t violations = 0;
  std::int64_t capped = 0;
  std::int64_t no_first_leader = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::int64_t t = 0; t < trials; ++t) {
    c.seed = seed + static_cast<std::uint64_t>(t);
    raft::Cluster cluster(c);
    if (!cluster.run_until_leader(cap_us)) {
      ++no_first_leader;  // symmetric timeouts can livelock the very first election too
      continue;
    }
    cluster.run_for(200'000);  // settle: no-op committed, heartbeats flowing
    const auto l = cluster.leader();
    if (!l) throw std::runtime_error("leader lost while settling");
    const std::uint64_t term = cluster.node(*l).term();
    if (sync) {
      // The paper's worst case: a synchronized broadcast just before the crash.
      // One proposal; its Append leaves for every follower once the leader's write is durable.
      const auto at = cluster.propose(raft::encode(raft::KvCommand{raft::KvOp::Put, 1, 1, "k", "v"}));
      if (!at) throw std::runtime_error("leader refused the proposal");
      const std::uint64_t index = at->first;
      cluster.run_until(cluster.now() + 1'000'000, [&] { return cluster.persisted(*l).last_index >= index; });
    } else {
      // A crash at a uniformly random instant of the heartbeat period.
      edgeswarm::core::Rng rng(c.seed, 0xE1EC7);
      cluster.run_for(static_cast<SimTime>(rng.below(static_cast<std::uint64_t>(c.heartbeat_ms) * 1000)));
    }
    cluster.crash(*l);
    const SimTime crashed = cluster.now();
    const auto next = cluster.run_until_leader(cap_us);
    if (!next) {
      ++capped;
      down.push_back(cap_us);
      serving.push_back(cap_us);
      terms.push_back(0);
    } else {
      down.push_back(cluster.now() - crashed);
      terms.push_back(cluster.node(*next).term() - term);
      const std::size_t n = *next;
      cluster.run_until(crashed + cap_us, [&] {
        if (!cluster.is_up(n) || cluster.node(n).role() != raft::Role::Leader) return true;
        const raft::Node& node = cluster.node(n);
        return node.log().term(node.commit_index()) == node.term();
      });
      serving.push_back(cluster.now() - crashed);
    }
    violations += cluster.violations().size();
  }
  const double wall = seconds_since(t0);

  std::printf(
      "{\"min_ms\": %u, \"max_ms\": %u, \"heartbeat_ms\": %u, \"latency_min_us\": %lld, \"latency_max_us\": %lld, "
      "\"pre_vote\": %s, \"check_quorum\": %s, \"sync\": %s, \"check\": %d, \"trials\": %lld, \"seed\": %llu, "
      "\"no_first_leader\": %lld, \"capped\": %lld, \"cap_us\": %lld, \"violations\": %zu, \"wall_s\": %.3f",
      c.election_min_ms, c.election_max_ms, c.heartbeat_ms, static_cast<long long>(c.latency_min_us),
      static_cast<long long>(c.latency_max_us), c.pre_vote ? "true" : "false", c.check_quorum ? "true" : "false",
      sync ? "true" : "false", c.check_invariants ? 1 : 0, static_cast<long long>(trials),
      static_cast<unsigned long long>(seed), static_cast<long long>(no_first_leader), static_cast<long long>(capped),
      static_cast<long long>(cap_us), violations, wall);
  auto list = [](const char* name, const auto& v) {
    std::printf(", \"%s\": [", name);
    for (std::size_t i = 0; i < v.size(); ++i) std::printf("%s%lld", i ? ", " : "", static_cast<long long>(v[i]));
    std::printf("]");
  };
  list("down_us", down);
  list("serving_us", serving);
  list("terms", terms);
  std::printf("}\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "throughput") return throughput(parse(argc, argv));
    if (mode == "elections") return elections(parse(argc, argv));
    std::fprintf(stderr, "usage: %s throughput|elections [key=value ...]\n", argv[0]);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "raft_throughput: %s\n", e.what());
    return 1;
  }
}
