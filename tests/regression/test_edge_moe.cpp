// The Edge-MoE design switches through the moesim binary on configs/edge_moe_m3vit.toml
// (M3ViT-small on a ZCU102): attention reordering, online softmax, ping-pong weights, GELU
// units and patch reordering, each checked against its formula.

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <tuple>
#include <vector>

#include "tests/regression/cli_runner.hpp"

namespace moesim {
namespace {

using testing_support::fresh_dir;
using testing_support::json_stat;
using testing_support::read_text;
using testing_support::run_moesim;

constexpr const char* kConfig = "configs/edge_moe_m3vit.toml";

/// Runs the Edge-MoE config with `sets` and returns its stats.json text.
std::string run(const std::string& name, const std::string& sets) {
  const auto dir = fresh_dir("edge_" + name);
  const auto r =
      run_moesim(std::string("run ") + kConfig + " --quiet --out " + dir.string() + " " + sets);
  EXPECT_EQ(r.code, 0) << r.err;
  return read_text(dir / "stats.json");
}

// M3ViT-small (workloads/models/m3vit_small.toml): 129 tokens per image, 3 heads of 64, 12
// layers, 4 images, activations 4 B.
constexpr uint64_t kTokens = 129, kHeads = 3, kHeadDim = 64, kLayers = 12, kImages = 4,
                   kActBytes = 4;

TEST(EdgeMoe, AttentionTrafficIsIndependentOfPWithReorderingAndNotWithout) {
  const uint64_t kv_once = kImages * kLayers * kHeads * 2 * kTokens * kHeadDim * kActBytes;
  const uint64_t q = kImages * kLayers * kHeads * kTokens * kHeadDim * kActBytes;
  for (uint64_t p : {1, 2, 4, 8, 16, 129}) {
    const std::string ps = " --set chip.attention.parallel_rows=" + std::to_string(p);
    const std::string re = run("reordered_p" + std::to_string(p), ps);
    const std::string nv =
        run("naive_p" + std::to_string(p), ps + " --set chip.attention.type=naive");
    EXPECT_EQ(json_stat(re, "chip0.attention.kv_read_bytes"), static_cast<double>(kv_once)) << p;
    EXPECT_EQ(json_stat(re, "chip0.attention.q_read_bytes"), static_cast<double>(q)) << p;
    const uint64_t groups = (kTokens + p - 1) / p;
    EXPECT_EQ(json_stat(nv, "chip0.attention.kv_read_bytes"), static_cast<double>(groups * kv_once))
        << p;
    // Same engines, same cycles: only the traffic differs.
    EXPECT_EQ(json_stat(nv, "chip0.attention.busy_cycles"),
              json_stat(re, "chip0.attention.busy_cycles"));
    // DDR reads: the weights (the same whatever P) plus Q, K and V.
    EXPECT_EQ(json_stat(re, "chip0.ddr.read_bytes"),
              json_stat(re, "workload.weight_bytes") + static_cast<double>(q + kv_once));
  }
}

TEST(EdgeMoe, PatchReorderingLoadsEachUsedExpertOncePerImage) {
  // A skewed trace of 4 images: token i of image s at MoE layer l goes to experts
  // (7i + l + s) mod 5 and 5 + i mod 3, so only experts 0..7 ever run.
  const auto dir = fresh_dir("edge_patch");
  std::ostringstream csv;
  csv << "# moesim-trace 1\n# model=m3vit-small\n# layers=6\n# experts=16\n# top_k=2\n"
      << "step,request,position,layer,experts,weights\n";
  std::set<std::tuple<uint64_t, uint64_t, uint64_t>> used;
  uint64_t routes = 0;
  for (uint64_t st = 0; st < kImages; ++st)
    for (uint64_t l = 0; l < 6; ++l)
      for (uint64_t i = 0; i < kTokens; ++i) {
        const uint64_t a = (7 * i + l + st) % 5, b = 5 + i % 3;
        csv << st << ",0," << i << "," << l << "," << a << ";" << b << ",0.5;0.5\n";
        used.insert({st, l, a});
        used.insert({st, l, b});
        routes += 2;
      }
  { std::ofstream(dir / "trace.csv") << csv.str(); }
  const std::string src = testing_support::kSource.string();
  std::ofstream(dir / "run.toml") << "include = [\"" << src
                                  << "/configs/hw/edge_moe_zcu102.toml\", \"" << src
                                  << "/workloads/models/m3vit_small.toml\"]\n"
                                  << "[workload]\ntype = \"trace\"\npath = \"trace.csv\"\n";
  auto run_dir = [&](const std::string& name, const std::string& sets) {
    const auto out = dir / name;
    const auto r = run_moesim("run run.toml --quiet --out " + out.string() + sets, dir.string());
    EXPECT_EQ(r.code, 0) << r.err;
    return read_text(out / "stats.json");
  };
  const uint64_t distinct = used.size();
  ASSERT_LT(distinct, kImages * 6 * 16);  // 6 MoE layers of 16 experts: some unused
  // Expert bytes: 2 matrices of 192 x 384 at 2 B; the rest (attention, dense FFNs, routers)
  // per image: 12 x 4 x 192^2 x 2 + 6 x 2 x 192 x 768 x 2 + 6 x 192 x 16 x 2.
  const double expert = 2.0 * 192 * 384 * 2;
  const double rest =
      kImages * (12.0 * 4 * 192 * 192 * 2 + 6.0 * 2 * 192 * 768 * 2 + 6.0 * 192 * 16 * 2);
  const std::string per_expert = run_dir("per_expert", "");
  const std::string per_token = run_dir("per_token", " --set mapping.expert_order=per_token");
  EXPECT_EQ(json_stat(per_expert, "workload.experts_run"), static_cast<double>(distinct));
  EXPECT_EQ(json_stat(per_expert, "workload.weight_bytes"), rest + distinct * expert);
  EXPECT_EQ(json_stat(per_token, "workload.experts_run"), static_cast<double>(routes));
  EXPECT_EQ(json_stat(per_token, "workload.weight_bytes"), rest + routes * expert);
  EXPECT_EQ(
      json_stat(per_token, "chip0.ddr.read_bytes") - json_stat(per_expert, "chip0.ddr.read_bytes"),
      (routes - distinct) * expert);
  // The same expert FFN work either way.
  EXPECT_EQ(json_stat(per_token, "workload.flops"), json_stat(per_expert, "workload.flops"));
  EXPECT_GT(std::stod(testing_support::json_summary(per_token, "time_s")),
            std::stod(testing_support::json_summary(per_expert, "time_s")));
}

TEST(EdgeMoe, PingPongIsNeverSlowerThanSingleBufferedNorFasterThanTheComputeBound) {
  const std::string single = run("single", "--set chip.compute.ping_pong=false");
  const std::string pp = run("pingpong", "--set chip.compute.ping_pong=true");
  const double s = json_stat(single, "chip0.compute.array.busy_cycles");
  const double p = json_stat(pp, "chip0.compute.array.busy_cycles");
  EXPECT_LT(p, s);
  // Compute bound: the array's MACs at 256 per cycle.
  EXPECT_GE(p, json_stat(pp, "chip0.compute.array.flops") / 2.0 / 256.0);
  EXPECT_EQ(json_stat(pp, "chip0.compute.array.flops"),
            json_stat(single, "chip0.compute.array.flops"));
}

TEST(EdgeMoe, OnlineSoftmaxReadsTwoThirdsOfThreePassAndTakesFewerCycles) {
  const std::string online = run("online", "--set chip.attention.softmax=online");
  const std::string three = run("three", "--set chip.attention.softmax=three_pass");
  EXPECT_EQ(3 * json_stat(online, "chip0.attention.score_reads"),
            2 * json_stat(three, "chip0.attention.score_reads"));
  // three-pass adds L cycles (one sum pass over the stored scores) per group of P rows.
  const double groups = json_stat(online, "chip0.attention.groups");
  EXPECT_EQ(json_stat(three, "chip0.attention.busy_cycles") -
                json_stat(online, "chip0.attention.busy_cycles"),
            groups * kTokens);
}

TEST(EdgeMoe, GeluUnitsFollowTheirContracts) {
  const std::string lut = run("gelu_lut", "--set chip.activation.type=gelu_lut");
  const std::string exact =
      run("gelu_exact", "--set chip.activation.type=gelu_exact --set chip.activation.latency=40");
  const double ops = json_stat(lut, "chip0.activation.ops");
  const double elems = json_stat(lut, "chip0.activation.elements");
  const double lanes = 16, lut_latency = 4;
  // Every activation op of M3ViT has a multiple of 16 elements: cycles = E / lanes + latency.
  EXPECT_EQ(json_stat(lut, "chip0.activation.busy_cycles"), elems / lanes + ops * lut_latency);
  EXPECT_EQ(json_stat(exact, "chip0.activation.busy_cycles"), elems / lanes + ops * 40);
  EXPECT_EQ(json_stat(lut, "chip0.activation.table_bytes"), lanes * 177 * 4);
  EXPECT_EQ(json_stat(exact, "chip0.activation.table_bytes"), 0);
}

}  // namespace
}  // namespace moesim
