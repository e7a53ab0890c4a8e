// Kernels, fusion and launch ([mapping.fusion]) through the moesim binary: launch cost,
// spills only in the spill tier's traffic, the bounds a fused kernel obeys, determinism, and
// every config message of [mapping.fusion].

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "tests/regression/cli_runner.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using namespace testing_support;  // run_moesim, read_text, fresh_dir, json_stat, ...

const char* kFused = "configs/llama2_7b_decode_sn40l_fused.toml";

std::string run(const std::string& config, const std::string& extra, const std::string& tag) {
  const fs::path out = fresh_dir("fusion_" + tag);
  const auto r = run_moesim("run " + config + " --quiet --out '" + out.string() + "' " + extra);
  EXPECT_EQ(r.code, 0) << r.err;
  return read_text(out / "stats.json");
}

double time_of(const std::string& json) {
  return std::stod(json_summary(json, "time_s"));
}

TEST(Fusion, LaunchLatencyAddsOncePerKernel) {
  // Kernels run one at a time and each waits its launch latency: the run takes exactly
  // kernels x latency longer (nothing else changes).
  const std::string a = run(kFused, "--set mapping.fusion.hardware_launch_latency=0ns", "launch0");
  const std::string b =
      run(kFused, "--set mapping.fusion.hardware_launch_latency=10us", "launch10");
  const double kernels = json_stat(b, "chip0.kernels.kernels");
  EXPECT_EQ(kernels, json_stat(a, "chip0.kernels.kernels"));
  EXPECT_EQ(kernels, 4 * 32);  // 4 steps x 32 layers, one kernel each
  EXPECT_NEAR(json_stat(b, "chip0.kernels.launch_time"), kernels * 10e-6, 1e-12);
  EXPECT_EQ(json_stat(a, "chip0.kernels.launch_time"), 0);
  EXPECT_NEAR(time_of(b) - time_of(a), kernels * 10e-6, 1e-9);
  // The defaults: 100 ns in hardware, 5 us from the host.
  const std::string hw = run(kFused, "", "launch_hw");
  EXPECT_NEAR(json_stat(hw, "chip0.kernels.launch_time"), kernels * 100e-9, 1e-12);
  const std::string host = run(kFused, "--set mapping.fusion.launch=host", "launch_host");
  EXPECT_NEAR(json_stat(host, "chip0.kernels.launch_time"), kernels * 5e-6, 1e-12);
}

TEST(Fusion, UnfusedRunsOneKernelPerComputeOpAndIsSlower) {
  const std::string fused = run(kFused, "", "fused");
  const std::string unfused =
      run(kFused, "--set mapping.fusion.kernels=none --set mapping.fusion.launch=host", "unfused");
  EXPECT_EQ(json_stat(unfused, "chip0.kernels.fused_kernels"), 0);
  EXPECT_EQ(json_stat(fused, "chip0.kernels.fused_kernels"), 4 * 32);
  // Every GEMM and vector op is one kernel (compute.ops + vector.ops counts them).
  EXPECT_EQ(json_stat(unfused, "chip0.kernels.kernels"),
            json_stat(unfused, "chip0.compute.ops") + json_stat(unfused, "chip0.vector.ops"));
  EXPECT_GT(time_of(unfused), time_of(fused));
  // The same work either way.
  EXPECT_EQ(json_stat(fused, "chip0.compute.array.flops"),
            json_stat(unfused, "chip0.compute.array.flops"));
  EXPECT_EQ(json_stat(fused, "chip0.hbm.read_bytes"), json_stat(unfused, "chip0.hbm.read_bytes"));
}

TEST(Fusion, AFusedKernelObeysItsStageAndTheChipsBounds) {
  for (const char* cfg : {kFused, "configs/mistral_7b_prefill_sn40l_fused.toml"}) {
    const std::string j = run(cfg, "--set mapping.fusion.hardware_launch_latency=0ns", "bounds");
    const double kernel = json_stat(j, "chip0.kernels.kernel_time");
    const double pipe = json_stat(j, "chip0.kernels.pipeline_time");
    const double slowest = json_stat(j, "chip0.kernels.slowest_stage_time");
    EXPECT_GE(pipe, slowest) << cfg;
    EXPECT_GE(kernel * (1 + 1e-9), pipe) << cfg;
    EXPECT_NEAR(pipe - slowest, json_stat(j, "chip0.kernels.fill_drain_time"), 1e-9 * pipe);
    // The chip's compute and bandwidth bounds.
    const double flops = json_stat(j, "chip0.compute.array.flops");
    const double peak = json_stat(j, "chip0.compute.array.peak_flops");
    EXPECT_GE(kernel * (1 + 1e-9), flops / peak) << cfg;
    const double hbm = json_stat(j, "chip0.hbm.read_bytes") + json_stat(j, "chip0.hbm.write_bytes");
    EXPECT_GE(kernel * (1 + 1e-9), hbm / 1.6e12) << cfg;
    EXPECT_GT(json_stat(j, "chip0.kernels.stage_utilisation"), 0) << cfg;
    EXPECT_LE(json_stat(j, "chip0.kernels.stage_utilisation"), 1) << cfg;
  }
}

TEST(Fusion, SpilledBytesAppearInTheSpillTiersTrafficAndNowhereElse) {
  // Unfused prefill: a budget of 0 B spills every intermediate read by a later kernel.
  const std::string base = "--set mapping.fusion.kernels=none --set mapping.fusion.launch=host ";
  const char* cfg = "configs/mistral_7b_prefill_sn40l_fused.toml";
  const std::string fits = run(cfg, base + "--set mapping.fusion.sram_budget=1GiB", "fits");
  const std::string spills = run(cfg, base + "--set mapping.fusion.sram_budget=1B", "spills");
  EXPECT_EQ(json_stat(fits, "chip0.kernels.spills"), 0);
  EXPECT_EQ(json_stat(fits, "chip0.kernels.spill_store_bytes"), 0);
  const double stored = json_stat(spills, "chip0.kernels.spill_store_bytes");
  const double loaded = json_stat(spills, "chip0.kernels.spill_load_bytes");
  EXPECT_GT(json_stat(spills, "chip0.kernels.spills"), 0);
  EXPECT_GT(stored, 0);
  EXPECT_GE(loaded, stored);
  // HBM (the KV cache tier, the default spill tier) carries exactly the spilled bytes more.
  EXPECT_EQ(json_stat(spills, "chip0.hbm.write_bytes") - json_stat(fits, "chip0.hbm.write_bytes"),
            stored);
  EXPECT_EQ(json_stat(spills, "chip0.hbm.read_bytes") - json_stat(fits, "chip0.hbm.read_bytes"),
            loaded);
  // Nowhere else: the DDR tier, the KV cache and weight counts, the compute are unchanged.
  for (const char* s :
       {"chip0.ddr.read_bytes", "chip0.ddr.write_bytes", "workload.kv_read_bytes",
        "workload.kv_write_bytes", "workload.weight_bytes", "chip0.compute.array.flops"}) {
    EXPECT_EQ(json_stat(spills, s), json_stat(fits, s)) << s;
  }
  EXPECT_GT(time_of(spills), time_of(fits));
  // Fused, the decoder layer's intermediates stay on chip whatever the budget, except what
  // crosses from one layer's kernel to the next.
  const std::string fused = run(cfg, "--set mapping.fusion.sram_budget=1B", "fused_spills");
  EXPECT_LT(json_stat(fused, "chip0.kernels.spill_store_bytes"), stored / 10);
}

TEST(Fusion, ByteIdenticalAcrossRuns) {
  for (const char* cfg : {kFused, "configs/llama2_7b_decode_sn40l_node_tp8.toml"}) {
    EXPECT_EQ(run(cfg, "", "det_a"), run(cfg, "", "det_b")) << cfg;
  }
}

TEST(Fusion, BadFusionConfigsExitTwoWithALocatedMessage) {
  const fs::path dir = fresh_dir("fusion_bad");
  const std::string inc = "include = [\"" +
                          (kSource / "configs" / "llama2_7b_decode_sn40l_fused.toml").string() +
                          "\"]\n";
  const std::pair<std::string, std::string> cases[] = {
      {"[mapping.fusion]\nkernels = \"attention_block,atention\"\n",
       "moesim: error: bad.toml:3:11: mapping.fusion.kernels: unknown segment 'atention' in group "
       "'atention' (segments: attn_norm, attention, ffn_norm, gating, experts, shared_experts, "
       "combine, dense_ffn; presets: attention_block, expert_ffn, decoder_layer) (did you mean "
       "'attention'?)\n"},
      {"[mapping.fusion]\nkernels = \"attn_norm+gating\"\n",
       "moesim: error: bad.toml:3:11: mapping.fusion.kernels: group 'attn_norm+gating': its "
       "segments are not consecutive in a decoder layer (MoE layer: attn_norm, attention, "
       "ffn_norm, gating, experts, shared_experts, combine; dense layer: attn_norm, attention, "
       "ffn_norm, dense_ffn)\n"},
      {"[mapping.fusion]\nkernels = \"decoder_layer,experts\"\n",
       "moesim: error: bad.toml:3:11: mapping.fusion.kernels: segment 'experts' is in two groups "
       "('decoder_layer' and 'experts')\n"},
      {"[mapping.fusion]\nsram_budget = \"lots\"\n",
       "moesim: error: bad.toml:3:15: mapping.fusion.sram_budget: expected \"auto\" or a size "
       "such as \"64KiB\" or \"2GB\", got 'lots'\n"},
      {"[mapping.fusion]\nspill_tier = \"hmb\"\n",
       "moesim: error: bad.toml:3:14: mapping.fusion.spill_tier: 'hmb' is not a memory tier "
       "(tiers: hbm, ddr) (did you mean 'hbm'?)\n"},
  };
  for (const auto& [body, err] : cases) {
    std::ofstream(dir / "bad.toml") << inc << body;
    const auto r = run_moesim("run bad.toml --quiet --out out", dir.string());
    EXPECT_EQ(r.code, 2) << body;
    EXPECT_EQ(r.err, err) << body;
    EXPECT_FALSE(fs::exists(dir / "out" / "stats.json")) << body;
  }
  // A fused kernel with more GEMM stages than arrays to divide among them.
  std::ofstream(dir / "bad.toml") << inc << "[chip.compute]\narrays = 4\n";
  auto r = run_moesim("run bad.toml --quiet --out out", dir.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "moesim: error: " + (kSource / "configs").string() +
                       "/llama2_7b_decode_sn40l_fused.toml:12:11: mapping.fusion.kernels: a "
                       "fused attn_norm kernel of layer 0 has 11 GEMM stages, more than the 4 "
                       "arrays of chip.compute to divide among them (fuse fewer ops)\n");
  EXPECT_FALSE(fs::exists(dir / "out" / "stats.json"));
  // Kernels run in one stream: no micro-batch overlap with them.
  std::ofstream(dir / "bad.toml")
      << "include = [\"" << (kSource / "configs" / "llama2_7b_decode_sn40l_node_tp8.toml").string()
      << "\"]\n[mapping.parallel]\noverlap = \"micro_batch\"\n";
  r = run_moesim("run bad.toml --quiet --out out", dir.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("mapping.fusion: kernels run one at a time in one stream; micro-batch "
                       "overlap (mapping.parallel.overlap = \"micro_batch\") is not modelled "
                       "with them\n"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace moesim
