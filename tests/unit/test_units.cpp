// A small chip end to end in one SystemC simulation: the units' busy cycles follow their
// cycle contracts, bytes are conserved between the plan, the DMA and the memories, and the
// run respects the compute and bandwidth bounds.

#include <gtest/gtest.h>

#include <memory>

#include <systemc>

#include "hw_models/compute/systolic_timing.hpp"
#include "sim/config/config.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/engine/simulation.hpp"

namespace moesim {
namespace {

constexpr const char* kConfig = R"(
[model]
name = "tiny"
layers = 3
hidden = 256
heads = 4
kv_heads = 2
head_dim = 64
experts = 8
top_k = 2
expert_ffn = 512
weight_bytes = 2
act_bytes = 2

[chip]
frequency = "1GHz"
[chip.compute]
type = "systolic"
rows = 16
cols = 16
arrays = 2
dataflow = "weight_stationary"
[chip.vector]
type = "simd"
lanes = 32
pipeline_latency = 4
[chip.sram]
type = "sram"
capacity = "4MiB"
banks = 16
bytes_per_cycle = 16
[chip.memory.hbm]
type = "fast"
capacity = "1GiB"
bandwidth = "100GB/s"
latency = "50ns"
[chip.dma]
type = "dma"
channels = 2
[mapping]
weights = "hbm"
kv_cache = "hbm"
weight_buffer = "256KiB"
[workload]
type = "synthetic"
phase = "decode"
batch = 8
context = 100
steps = 5
distribution = "zipf"
zipf_s = 1.0
)";

std::unique_ptr<Simulation> g_sim;
RunSpec g_spec;

double stat(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\": {\"value\": ";
  const size_t at = json.find(key);
  if (at == std::string::npos) throw std::runtime_error("no stat " + name);
  return std::stod(json.substr(at + key.size()));
}

TEST(SmallChip, ComputeBusyCyclesFollowTheSystolicContract) {
  // Re-plan the same (deterministic) trace and add up the formula for every GEMM op.
  auto trace = open_workload(g_spec);
  Planner planner(g_spec.model, g_spec.plan);
  TraceStep step;
  StepPlan plan;
  uint64_t expected = 0;
  while (trace->next(step)) {
    planner.plan(step, plan);
    for (const Op& op : plan.ops) {
      for (uint32_t i = 0; i < op.gemm_count; ++i) {
        const GemmShape& g = plan.gemms[op.gemm_begin + i];
        expected += systolic_gemm_cycles_parallel(Dataflow::kWeightStationary, 16, 16, 2, g.m, g.k,
                                                  g.n, g.repeat);
      }
    }
  }
  const std::string json = g_sim->stats_json();
  EXPECT_EQ(stat(json, "chip0.compute.array.busy_cycles"), static_cast<double>(expected));
}

TEST(SmallChip, BytesAreConservedBetweenPlanDmaAndMemories) {
  const std::string j = g_sim->stats_json();
  const double weights = stat(j, "workload.weight_bytes");
  const double kv_r = stat(j, "workload.kv_read_bytes");
  const double kv_w = stat(j, "workload.kv_write_bytes");
  EXPECT_GT(weights, 0);
  EXPECT_GT(kv_r, 0);
  EXPECT_EQ(stat(j, "chip0.hbm.read_bytes"), weights + kv_r);
  EXPECT_EQ(stat(j, "chip0.hbm.write_bytes"), kv_w);
  EXPECT_EQ(stat(j, "chip0.dma.load_bytes"), weights + kv_r);
  EXPECT_EQ(stat(j, "chip0.dma.store_bytes"), kv_w);
  EXPECT_EQ(stat(j, "chip0.sram.write_bytes"), weights + kv_r);
}

TEST(SmallChip, NeverFasterThanComputeOrBandwidthBounds) {
  const std::string j = g_sim->stats_json();
  const Summary s = g_sim->summary();
  const double flops = stat(j, "workload.flops");
  const double peak = stat(j, "chip0.compute.array.peak_flops");
  EXPECT_EQ(peak, 2.0 * 16 * 16 * 2 * 1e9);
  EXPECT_GE(s.time_s, flops / peak);
  const double hbm = stat(j, "chip0.hbm.read_bytes") + stat(j, "chip0.hbm.write_bytes");
  EXPECT_GE(s.time_s, hbm / 100e9);
  EXPECT_EQ(s.steps, 5u);
  EXPECT_EQ(s.tokens, 40u);
  EXPECT_EQ(s.assignments, 5u * 8 * 3 * 2);
}

TEST(SmallChip, UtilisationsAreFractions) {
  const std::string j = g_sim->stats_json();
  for (const char* name :
       {"chip0.compute.utilisation", "chip0.vector.utilisation", "chip0.dma.utilisation",
        "chip0.hbm.bandwidth_utilisation", "chip0.sram.bandwidth_utilisation",
        "chip0.compute.array.mac_utilisation"}) {
    const double u = stat(j, name);
    EXPECT_GE(u, 0.0) << name;
    EXPECT_LE(u, 1.0 + 1e-9) << name;
  }
  EXPECT_GT(stat(j, "chip0.compute.utilisation"), 0.0);
}

}  // namespace
}  // namespace moesim

int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  moesim::Config cfg = moesim::Config::from_string(moesim::kConfig, "small.toml");
  moesim::g_spec = moesim::build_run_spec(cfg);
  moesim::g_sim = std::make_unique<moesim::Simulation>(
      moesim::g_spec, moesim::open_workload(moesim::g_spec), false);
  moesim::g_sim->run();
  return RUN_ALL_TESTS();
}
