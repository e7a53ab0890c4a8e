// bench_fluid: the fluid memory's cost per transfer against the transfers it shares its
// bandwidth among (W), in each of its two regimes (hw_models/memory/fluid_memory.hpp).
//
// Each benchmark keeps W transfers of 4 KiB to 1 MiB (a fixed pseudo-random sequence) moving
// through one FluidMemory: every completion starts the next, so W stay active throughout.
// "auto" is the model as configured (the list up to kHeapAbove, then the heap); "list" and
// "heap" force one regime. Reports transfers per second; run with
// `build/tests/unit/bench_fluid [--benchmark_filter=...]`.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "hw_models/memory/fluid_memory.hpp"

namespace moesim {
namespace {

constexpr double kBytesPerS = 1e12;  // 1 TB/s
constexpr double kLatencyS = 100e-9;

// A closed loop of W transfers through one memory.
struct Loop : MemoryClient {
  FluidMemory* mem = nullptr;
  size_t width = 0;
  uint64_t left = 0;  // transfers still to start
  uint64_t rng = 88172645463325252ull;
  void start(uint64_t n) {
    left = n;
    for (size_t i = 0; i < width && left > 0; ++i) issue();
  }
  void issue() {
    --left;
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    mem->transfer(4096 + rng % (1u << 20), false, this, 0);
  }
  void transfer_done(uint64_t) override {
    if (left > 0) issue();
  }
};

enum Regime { kAuto, kList, kHeap };
const int kWidths[] = {1, 4, 16, 64, 256, 1024, 4096, 16384};

StatGroup g_stats("bench");
std::vector<std::unique_ptr<FluidMemory>> g_mems;
std::vector<std::unique_ptr<Loop>> g_loops;

Loop& loop_for(int regime, int width) {
  size_t i = 0;
  while (kWidths[i] != width) ++i;
  return *g_loops[static_cast<size_t>(regime) * std::size(kWidths) + i];
}

void BM_Fluid(benchmark::State& state) {
  Loop& loop = loop_for(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  const uint64_t n = std::max<uint64_t>(20000, 20 * loop.width);
  for (auto _ : state) {
    loop.start(n);
    sc_core::sc_start();  // until the loop has drained
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
  state.SetLabel(state.range(0) == kAuto ? "auto" : state.range(0) == kList ? "list" : "heap");
}

void Args(benchmark::internal::Benchmark* b) {
  for (int r : {kAuto, kList, kHeap})
    for (int w : kWidths) b->Args({r, w});
}
BENCHMARK(BM_Fluid)->Apply(Args)->ArgNames({"regime", "transfers"})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moesim

int sc_main(int argc, char** argv) {
  using namespace moesim;
  // Every memory is made before the simulation starts (SystemC elaborates once).
  for (int r : {kAuto, kList, kHeap}) {
    for (int w : kWidths) {
      const size_t heap_above = r == kAuto   ? FluidMemory::kHeapAbove
                                : r == kList ? std::numeric_limits<size_t>::max()
                                             : 0;
      const std::string name = "mem_" + std::to_string(r) + "_" + std::to_string(w);
      g_mems.push_back(std::make_unique<FluidMemory>(name.c_str(), &g_stats, kBytesPerS,
                                                     sc_core::sc_time(kLatencyS, sc_core::SC_SEC),
                                                     uint64_t{1} << 40, heap_above));
      g_loops.push_back(std::make_unique<Loop>());
      g_loops.back()->mem = g_mems.back().get();
      g_loops.back()->width = static_cast<size_t>(w);
    }
  }
  sc_core::sc_start(sc_core::SC_ZERO_TIME);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
