// C++ micro-benchmarks (Google Benchmark): the trimmed-mean kernel beside its
// portable path and one streaming pass, and one swarm epoch. Build and run:
//   cmake -S . -B build/bench -DEDGESWARM_BENCHMARKS=ON -DBUILD_TESTING=OFF
//   cmake --build build/bench -j 2 && build/bench/engine_bench
#include <benchmark/benchmark.h>

#include <vector>

#include "edgeswarm/core/rng.hpp"
#include "edgeswarm/swarm/swarm.hpp"
#include "edgeswarm/swarm/trimmed_mean.hpp"
#include "edgeswarm/swarm/workspace.hpp"

namespace es = edgeswarm;

namespace {

std::vector<es::fixed::q16> matrix(std::size_t n, std::size_t d) {
  es::core::Rng rng(1);
  std::vector<es::fixed::q16> v(n * d);
  for (auto& x : v) x = es::fixed::from_double(rng.normal(20.0, 2.0));
  return v;
}

template <bool Portable>
void BM_TrimmedMean(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto d = static_cast<std::size_t>(state.range(1));
  const auto values = matrix(n, d);
  std::vector<es::fixed::q16> out(d);
  es::swarm::Workspace work;
  for (auto _ : state) {
    if (Portable) {
      es::swarm::trimmed_mean_portable(values.data(), n, d, 3 * n / 10, out.data(), work);
    } else {
      es::swarm::trimmed_mean(values.data(), n, d, 3 * n / 10, out.data(), work);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n * d));
}

void BM_ColumnSum(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto d = static_cast<std::size_t>(state.range(1));
  const auto values = matrix(n, d);
  std::vector<std::int64_t> out(d);
  for (auto _ : state) {
    es::swarm::column_sum(values.data(), n, d, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n * d));
}

void BM_Epoch(benchmark::State& state) {
  es::swarm::SwarmConfig config;
  config.n_nodes = static_cast<std::size_t>(state.range(0));
  config.dim = static_cast<std::size_t>(state.range(1));
  config.aggregator.trim = 0.3;
  config.seed = 1;
  es::swarm::Swarm swarm(config);
  swarm.inject_byzantine(config.n_nodes / 10, es::swarm::AttackParams{});
  swarm.step();
  for (auto _ : state) benchmark::DoNotOptimize(swarm.step().drift);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * config.n_nodes));
}

}  // namespace

BENCHMARK(BM_TrimmedMean<false>)->Args({1000, 1000})->Args({10000, 100})->Args({10000, 1});
BENCHMARK(BM_TrimmedMean<true>)->Args({1000, 1000})->Args({10000, 100})->Args({10000, 1});
BENCHMARK(BM_ColumnSum)->Args({1000, 1000})->Args({10000, 100});
BENCHMARK(BM_Epoch)->Args({100'000, 1})->Args({1'000'000, 1})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
