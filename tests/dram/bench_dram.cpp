// Simulation speed of the cycle-level DRAM model: 64-byte requests simulated per wall second.
// Run: build-dram/tests_dram/bench_dram  (or <build>/tests/dram/bench_dram in the full tree)
#include <benchmark/benchmark.h>

#include "hw_models/memory/dram/dram_calibration.hpp"

namespace {

void run(benchmark::State& state, const char* preset, moesim::DramPattern p,
         bool period_skip = false) {
  const moesim::DramSpec& spec = moesim::dram_preset(preset);
  moesim::DramPatternSpec pat;
  pat.pattern = p;
  pat.period_skip = period_skip;
  pat.requests = static_cast<uint64_t>(state.range(0));
  pat.seed = 1;
  moesim::DramRunResult r;
  for (auto _ : state) {
    r = moesim::run_dram_pattern(spec, moesim::DramConfig{}, pat);
    benchmark::DoNotOptimize(r.cycles);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * pat.requests));
  state.counters["sim_GBps"] = r.bytes_per_s / 1e9;
  state.counters["row_hit"] = r.row_hit_rate;
  state.counters["sim_cycles"] = static_cast<double>(r.cycles);
  state.counters["skipped"] = static_cast<double>(r.skipped_requests) / r.requests;
}

void BM_HBM3_Sequential(benchmark::State& s) {
  run(s, "HBM3", moesim::DramPattern::kSequential);
}
// The exact period skip (DramPatternSpec::period_skip): identical results.
void BM_HBM3_Sequential_PeriodSkip(benchmark::State& s) {
  run(s, "HBM3", moesim::DramPattern::kSequential, true);
}
void BM_HBM3_Random(benchmark::State& s) {
  run(s, "HBM3", moesim::DramPattern::kRandom);
}
void BM_DDR4_Sequential(benchmark::State& s) {
  run(s, "DDR4-3200", moesim::DramPattern::kSequential);
}
void BM_DDR4_Random(benchmark::State& s) {
  run(s, "DDR4-3200", moesim::DramPattern::kRandom);
}

}  // namespace

BENCHMARK(BM_HBM3_Sequential)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HBM3_Sequential)->Arg(10'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HBM3_Sequential_PeriodSkip)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HBM3_Random)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DDR4_Sequential)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DDR4_Random)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
