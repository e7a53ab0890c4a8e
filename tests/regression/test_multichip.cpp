// Multi-chip systems through the moesim binary: one chip unchanged by a [system] table,
// determinism with several chips and both network models, sensitivity to link bandwidth,
// tensor parallelism, and every config message of the multi-chip mapping.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/regression/cli_runner.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using namespace testing_support;  // run_moesim, read_text, fresh_dir, json_stat, ...

/// Runs `config` (relative to the source tree) with `extra` args; returns stats.json.
std::string run(const std::string& config, const std::string& extra, const std::string& tag) {
  const fs::path out = fresh_dir("multichip_" + tag);
  const auto r = run_moesim("run " + config + " --quiet --out '" + out.string() + "' " + extra);
  EXPECT_EQ(r.code, 0) << r.err;
  return read_text(out / "stats.json");
}

/// stats.json without its "config" line (the file name differs between two configs).
std::string without_name(std::string json) {
  const size_t at = json.find("  \"config\": ");
  if (at != std::string::npos) json.erase(at, json.find('\n', at) + 1 - at);
  return json;
}

TEST(MultiChip, OneChipSystemTableChangesNothing) {
  const fs::path dir = fresh_dir("one_chip_system");
  std::ofstream(dir / "one.toml") << "include = [\"" << kSource.string()
                                  << "/configs/mixtral_decode.toml\"]\n[system]\nchips = 1\n";
  const fs::path out = dir / "out";
  const auto r =
      run_moesim("run '" + (dir / "one.toml").string() + "' --quiet --out '" + out.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string golden =
      read_text(kSource / "tests" / "regression" / "golden" / "mixtral_decode.stats.json");
  EXPECT_EQ(without_name(read_text(out / "stats.json")), without_name(golden));
}

const char* kRingConfig = "configs/mixtral_decode_4chip_ring.toml";

TEST(MultiChip, ByteIdenticalAcrossRunsWithBothNetworkModels) {
  for (const char* net : {"fast", "detailed"}) {
    const std::string set = std::string("--set system.network.type=") + net;
    const std::string a = run("configs/mixtral_decode_4chip_ring.toml", set, "det_a");
    const std::string b = run("configs/mixtral_decode_4chip_ring.toml", set, "det_b");
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a, b) << net;
  }
}

TEST(MultiChip, EveryChipAndLinkHasItsStats) {
  const std::string j = run("configs/mixtral_decode_4chip_ring.toml", "", "names");
  for (int c = 0; c < 4; ++c) {
    const std::string chip = "chip" + std::to_string(c);
    EXPECT_GT(json_stat(j, chip + ".compute.ops"), 0) << chip;
    EXPECT_GT(json_stat(j, chip + ".comm.ops"), 0) << chip;
    EXPECT_GT(json_stat(j, chip + ".comm.dispatch_bytes"), 0) << chip;
  }
  // A bidirectional ring: both directions of each neighbour pair are resources.
  EXPECT_GT(json_stat(j, "link0_1.bytes"), 0);
  EXPECT_GT(json_stat(j, "link1_0.bytes"), 0);
  EXPECT_GT(json_stat(j, "link3_0.bytes"), 0);
  // The ring algorithm relays: the chips send more than the routing implies. Direct sends
  // exactly that.
  auto sent = [](const std::string& json) {
    double b = 0;
    for (int c = 0; c < 4; ++c) {
      b += json_stat(json, "chip" + std::to_string(c) + ".comm.dispatch_bytes");
    }
    return b;
  };
  EXPECT_GT(sent(j), json_stat(j, "system.dispatch_bytes"));
  const std::string d = run("configs/mixtral_decode_4chip_ring.toml",
                            "--set mapping.parallel.dispatch_algorithm=direct", "names_direct");
  EXPECT_EQ(sent(d), json_stat(d, "system.dispatch_bytes"));
  EXPECT_EQ(json_stat(d, "system.dispatch_bytes"), json_stat(j, "system.dispatch_bytes"));
  EXPECT_EQ(json_stat(j, "system.dispatch_bytes"), json_stat(j, "system.combine_bytes"));
  EXPECT_GE(json_stat(j, "system.routed_imbalance"), 1.0);
}

TEST(MultiChip, DoublingLinkBandwidthShortensACommunicationBoundStep) {
  const std::string cfg = "configs/deepseek_v3_decode_4x8_two_level.toml";
  const double slow = json_stat(run(cfg, "", "bw1"), "workload.max_step_time");
  const double fast = json_stat(run(cfg, "--set system.topology.inter_bandwidth=100GB/s", "bw2"),
                                "workload.max_step_time");
  EXPECT_LT(fast, 0.95 * slow) << "the all-to-all over 50 GB/s NICs is on the critical path";
}

TEST(MultiChip, DoublingLinkBandwidthBarelyMovesAMemoryBoundStep) {
  // Mixtral on 4 chips streams 25 GB of weights per chip per step from HBM; its dispatch is
  // a few MB: twice the link bandwidth changes the step by far less than 0.1%.
  const std::string cfg = "configs/mixtral_decode_4chip_ring.toml";
  const std::string a = run(cfg, "", "mem1");
  const std::string b = run(cfg, "--set system.topology.bandwidth=200GB/s", "mem2");
  const double ta = std::stod(json_summary(a, "time_s"));
  const double tb = std::stod(json_summary(b, "time_s"));
  EXPECT_LE(tb, ta);
  EXPECT_LT((ta - tb) / ta, 1e-3);
  EXPECT_EQ(json_summary(a, "bottleneck_kind"), "memory bandwidth");
}

TEST(MultiChip, AnExpertParallelGroupWithNoTokenRuns) {
  // 2 requests on 4 chips in expert-parallel pairs: chips 2 and 3 get no token, so their
  // group's dispatch and combine have no message and finish the moment they start (inside
  // the sequencer's first issue). Each chip must still join each collective once.
  const fs::path dir = fresh_dir("idle_group");
  std::ofstream(dir / "idle.toml")
      << "include = [\"" << kSource.string() << "/configs/hw/sn40l_like.toml\", \""
      << kSource.string() << "/workloads/models/mixtral_8x7b.toml\"]\n"
      << "[system]\nchips = 4\n[system.topology]\ntype = \"ring\"\nbandwidth = \"100GB/s\"\n"
      << "latency = \"1us\"\n[system.network]\ntype = \"fast\"\n"
      << "[mapping.parallel]\nexpert_parallel = 2\n"
      << "[workload]\ntype = \"synthetic\"\nphase = \"decode\"\nbatch = 2\ncontext = 128\n"
      << "steps = 2\ndistribution = \"uniform\"\n";
  const fs::path out = dir / "out";
  const auto r =
      run_moesim("run '" + (dir / "idle.toml").string() + "' --quiet --out '" + out.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string j = read_text(out / "stats.json");
  EXPECT_EQ(json_stat(j, "workload.steps"), 2);
  EXPECT_EQ(json_stat(j, "chip2.comm.dispatch_bytes"), 0);
  EXPECT_EQ(json_stat(j, "chip0.comm.ops"), json_stat(j, "chip2.comm.ops"));
}

TEST(MultiChip, TensorParallelismAddsAllReducesAndSplitsAttention) {
  const std::string cfg = "configs/mixtral_decode_4chip_ring.toml";
  const std::string ep = run(cfg, "", "tp1");
  const std::string tp = run(cfg, "--set mapping.parallel.tensor_parallel=4", "tp4");
  EXPECT_EQ(json_stat(ep, "system.all_reduce_bytes"), 0);
  EXPECT_GT(json_stat(tp, "system.all_reduce_bytes"), 0);
  EXPECT_GT(json_stat(tp, "system.all_gather_bytes"), 0);
  // Same tokens and assignments; attention weights are split four ways, not replicated.
  EXPECT_EQ(json_stat(ep, "workload.tokens"), json_stat(tp, "workload.tokens"));
  EXPECT_LT(json_stat(tp, "workload.weight_bytes"), json_stat(ep, "workload.weight_bytes"));
}

TEST(MultiChip, MicroBatchOverlapHidesCollectivesBehindCompute) {
  // A prefill over 4 nodes: dispatch and combine cross 50 GB/s NICs while the experts run.
  // Two micro-batches move the same bytes; one's collectives overlap the other's compute.
  const std::string cfg =
      "configs/deepseek_v3_decode_4x8_two_level.toml --set workload.phase=prefill "
      "--set workload.prompt_tokens=64 --set workload.batch=32 --set workload.steps=1";
  const std::string none = run(cfg, "", "ov_none");
  const std::string mb = run(cfg, "--set mapping.parallel.overlap=micro_batch", "ov_mb");
  EXPECT_EQ(json_stat(none, "system.dispatch_bytes"), json_stat(mb, "system.dispatch_bytes"));
  EXPECT_EQ(json_stat(none, "system.combine_bytes"), json_stat(mb, "system.combine_bytes"));
  EXPECT_EQ(json_stat(mb, "system.collectives"), 2 * json_stat(none, "system.collectives"));
  EXPECT_LT(std::stod(json_summary(mb, "time_s")), 0.9 * std::stod(json_summary(none, "time_s")));
}

TEST(MultiChip, PlacementTableIsRead) {
  const fs::path dir = fresh_dir("placement_ok");
  // Mixtral: 8 experts over 4 chips; all on chips 0 and 1 (every layer).
  {
    std::ofstream f(dir / "p.csv");
    f << "expert,layer,chip,note\n";
    for (int e = 0; e < 8; ++e) f << e << ",*," << e % 2 << ",x\n";
  }
  const std::string j =
      run("configs/mixtral_decode_4chip_ring.toml",
          "--set mapping.placement.type=table --set mapping.placement.path='" +
              (dir / "p.csv").string() + "' --set mapping.parallel.dispatch_algorithm=direct",
          "table");
  EXPECT_EQ(json_stat(j, "chip2.compute.ops"), json_stat(j, "chip3.compute.ops"));
  EXPECT_GT(json_stat(j, "chip0.compute.ops"), json_stat(j, "chip2.compute.ops"));
  // Two of four chips run no expert: the busiest runs at least twice the mean.
  EXPECT_GE(json_stat(j, "system.routed_imbalance"), 2.0);
  EXPECT_EQ(json_stat(j, "chip2.comm.combine_bytes"), 0) << "chip2 holds no expert (direct)";
}

// Expert caches on a tensor-parallel group (tensor-parallel experts): every chip caches its own
// 1/8 slice of each expert model, sees the same accesses and loads its slice from its own
// DDR. Against one chip running the whole model with 8 times the cache capacity (the same
// number of experts fit), the access sequence and so the hits and misses are the same, and
// each chip loads exactly 1/8 of the one chip's bytes.
TEST(MultiChipCache, TensorParallelChipsCacheTheirSliceOfEveryExpert) {
  const std::string shape =
      "--set workload.requests=24 --set workload.output_tokens=2 --set workload.batch=2 "
      "--set model.experts=100 ";                         // 100 whole models fit one socket's DDR
  const uint64_t slice = 3ull * 4096 * (548368 / 8) * 2;  // one expert model's 1/8, bytes
  const std::string tp8 = run(
      "configs/coe_sn40l_node_tp8.toml",
      shape + "--set mapping.cache.hbm.capacity=" + std::to_string(4 * slice) + "B", "cache_tp8");
  const std::string one = run("configs/coe_sn40l_node_tp8.toml",
                              shape +
                                  "--set system.chips=1 --set mapping.parallel.tensor_parallel=1 "
                                  "--set mapping.cache.hbm.capacity=" +
                                  std::to_string(4 * 8 * slice) + "B",
                              "cache_one");
  const double misses = json_stat(one, "chip0.tiers.hbm.misses");
  const double loaded = json_stat(one, "chip0.tiers.ddr_to_hbm_bytes");
  ASSERT_GT(misses, 4) << "the cache must evict at this size";
  EXPECT_GT(json_stat(one, "chip0.tiers.hbm.evictions"), 0);
  EXPECT_EQ(loaded, misses * 8 * slice);
  for (int c = 0; c < 8; ++c) {
    const std::string chip = "chip" + std::to_string(c);
    EXPECT_EQ(json_stat(tp8, chip + ".tiers.hbm.accesses"),
              json_stat(one, "chip0.tiers.hbm.accesses"))
        << chip;
    EXPECT_EQ(json_stat(tp8, chip + ".tiers.hbm.hits"), json_stat(one, "chip0.tiers.hbm.hits"))
        << chip;
    EXPECT_EQ(json_stat(tp8, chip + ".tiers.hbm.misses"), misses) << chip;
    EXPECT_EQ(json_stat(tp8, chip + ".tiers.hbm.evictions"),
              json_stat(one, "chip0.tiers.hbm.evictions"))
        << chip;
    EXPECT_EQ(json_stat(tp8, chip + ".tiers.ddr_to_hbm_bytes") * 8, loaded) << chip;
    // The loaded bytes are the DDR tier's reads (the weights' home holds nothing else read
    // here) and are written into this chip's HBM.
    EXPECT_EQ(json_stat(tp8, chip + ".ddr.read_bytes"),
              json_stat(tp8, chip + ".tiers.ddr_to_hbm_bytes"))
        << chip;
    EXPECT_GE(json_stat(tp8, chip + ".hbm.write_bytes"),
              json_stat(tp8, chip + ".tiers.ddr_to_hbm_bytes"))
        << chip;
    EXPECT_EQ(json_stat(tp8, chip + ".tiers.ddr_to_sram_bytes"), 0) << chip;
  }
  // The slices' outputs are summed over the group: one all-reduce per layer and step more
  // than attention alone, no dispatch or combine.
  EXPECT_EQ(json_stat(tp8, "system.dispatch_bytes"), 0);
  EXPECT_EQ(json_stat(tp8, "system.combine_bytes"), 0);
  EXPECT_GT(json_stat(tp8, "system.all_reduce_bytes"), 0);
  EXPECT_EQ(json_stat(tp8, "system.collectives"), 2 * json_stat(tp8, "workload.steps"));
  // Each chip computes 1/8 of the one chip's flops (the router GEMM, replicated, is ~1e-4).
  EXPECT_NEAR(json_stat(tp8, "chip3.compute.array.flops") * 8,
              json_stat(one, "chip0.compute.array.flops"),
              1e-3 * json_stat(one, "chip0.compute.array.flops"));
}

// Experts spread over chips (expert parallelism): each chip caches the experts placed on it
// and looks up only those, so every expert run is one access on its own chip, and a chip
// whose cache holds all its experts misses each (layer, expert) once.
TEST(MultiChipCache, ExpertParallelChipsCacheTheExpertsPlacedOnThem) {
  const std::string j = run(kRingConfig,
                            "--set mapping.weights=ddr --set mapping.cache.hbm.policy=lru "
                            "--set workload.max_steps=4",
                            "cache_ep");
  const double expert = 3.0 * 4096 * 14336 * 2;  // Mixtral-8x7B expert, bytes
  double accesses = 0;
  for (int c = 0; c < 4; ++c) {
    const std::string chip = "chip" + std::to_string(c);
    const double misses = json_stat(j, chip + ".tiers.hbm.misses");
    accesses += json_stat(j, chip + ".tiers.hbm.accesses");
    EXPECT_GT(misses, 0) << chip;
    EXPECT_LE(misses, 32 * 2) << chip << ": 2 experts of each of 32 layers are placed here";
    EXPECT_EQ(json_stat(j, chip + ".tiers.hbm.evictions"), 0) << chip;
    EXPECT_EQ(json_stat(j, chip + ".tiers.ddr_to_hbm_bytes"), misses * expert) << chip;
    EXPECT_GT(json_stat(j, chip + ".tiers.hbm.hits"), 0) << chip;
  }
  EXPECT_EQ(accesses, json_stat(j, "workload.experts_run"));
}

struct BadCase {
  const char* name;
  const char* config;
  const char* set;
  const char* table;  // placement table contents, or null
  const char* message;
};

class BadMultiChip : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadMultiChip, ExitsTwoWithOneLocatedMessage) {
  const BadCase& c = GetParam();
  const fs::path dir = fresh_dir(std::string("bad_") + c.name);
  std::string set = c.set;
  std::string msg = c.message;
  if (c.table) {
    std::ofstream(dir / "t.csv") << c.table;
    set += " --set mapping.placement.type=table --set mapping.placement.path='" +
           (dir / "t.csv").string() + "'";
    msg = (dir / "t.csv").string() + msg;
  }
  const auto r = run_moesim("run " + std::string(c.config) + " --quiet --out '" +
                            (dir / "out").string() + "' " + set);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "moesim: error: " + msg + "\n");
  EXPECT_FALSE(fs::exists(dir / "out" / "stats.json"));
}

const char* kRing = "configs/mixtral_decode_4chip_ring.toml";
const char* kDs = "configs/deepseek_v3_decode_ep8_switch.toml";
const char* kCoe = "configs/coe_sn40l_node_tp8.toml";

INSTANTIATE_TEST_SUITE_P(
    Cases, BadMultiChip,
    ::testing::Values(
        BadCase{"tp_chips", kDs, "--set mapping.parallel.tensor_parallel=3", nullptr,
                "--set mapping.parallel.tensor_parallel: 3 does not divide the system's 8 chips"},
        BadCase{"tp_heads", kRing,
                "--set system.chips=6 --set mapping.parallel.expert_parallel=2 "
                "--set mapping.parallel.tensor_parallel=6",
                nullptr,
                "--set mapping.parallel.tensor_parallel: 6 does not divide model "
                "'mixtral-8x7b''s 32 heads and 8 KV heads"},
        BadCase{"ep_chips", kDs, "--set mapping.parallel.expert_parallel=3", nullptr,
                "--set mapping.parallel.expert_parallel: 3 does not divide the system's 8 chips"},
        BadCase{"ep_experts", kRing,
                "--set system.chips=16 --set mapping.parallel.expert_parallel=16", nullptr,
                "--set mapping.parallel.expert_parallel: 16 does not divide model "
                "'mixtral-8x7b''s 8 experts"},
        BadCase{"overlap_one_chip", "configs/mixtral_decode.toml",
                "--set mapping.parallel.overlap=micro_batch", nullptr,
                "--set mapping.parallel.overlap: micro-batch overlap hides collectives between "
                "chips: it needs a [system] of several chips"},
        BadCase{"cache_belady_ep", kRing,
                "--set mapping.weights=ddr --set mapping.cache.hbm.policy=belady", nullptr,
                "--set mapping.cache.hbm.policy: 'belady' ranks experts by the whole trace's "
                "accesses, not one chip's: with experts spread over 4 chips it needs "
                "mapping.parallel.expert_tensor_parallel = true (every chip sees every access)"},
        BadCase{"cache_prefetch_ep", kRing,
                "--set mapping.weights=ddr --set mapping.cache.hbm.policy=lru "
                "--set mapping.cache.hbm.prefetch=affinity",
                nullptr,
                "--set mapping.cache.hbm.prefetch: affinity prefetch predicts from the whole "
                "step's routing, not one chip's experts: with experts spread over 4 chips it "
                "needs mapping.parallel.expert_tensor_parallel = true"},
        BadCase{"cache_rebalance", kRing,
                "--set mapping.weights=ddr --set mapping.cache.hbm.policy=lru "
                "--set mapping.placement.type=greedy --set mapping.placement.rebalance_every=2",
                nullptr,
                "--set mapping.placement.rebalance_every: rebalancing moves experts between "
                "chips, which the expert caches ([mapping.cache]) do not follow"},
        BadCase{"etp_ep", kCoe, "--set mapping.parallel.expert_parallel=8", nullptr,
                "--set mapping.parallel.expert_parallel: 8 with expert_tensor_parallel = true: "
                "every chip of a tensor-parallel group holds a slice of every expert, so "
                "experts are not spread (set 1 or leave it out)"},
        BadCase{"etp_ffn", kCoe,
                "--set model.shared_experts=1 --set model.shared_ffn=100 "
                "--set mapping.parallel.tensor_parallel=8",
                nullptr,
                "--set mapping.parallel.tensor_parallel: 8 does not divide both model "
                "'coe-150x-llama2-7b''s expert FFN size 548368 and its shared expert FFN size "
                "100 (expert_tensor_parallel = true slices them)"},
        BadCase{"etp_placement", kCoe, "--set mapping.placement.type=round_robin", nullptr,
                "--set mapping.placement: experts are not placed with "
                "mapping.parallel.expert_tensor_parallel = true (every chip of a "
                "tensor-parallel group holds a slice of every expert)"},
        BadCase{"network_type", kDs, "--set system.network.type=nope", nullptr,
                "--set system.network.type: \"nope\" is not one of 'detailed', 'fast'"},
        BadCase{"unknown_expert", kRing, "", "layer,expert,chip\n*,8,0\n",
                ":2: expert 8 does not exist (the model has 8 experts)"},
        BadCase{"bad_chip", kRing, "", "layer,expert,chip\n0,1,4\n",
                ":2: chip 4 does not exist (an expert-parallel group has 4 chips)"},
        BadCase{"bad_layer", kRing, "", "layer,expert,chip\n32,1,0\n",
                ":2: layer 32 does not exist (32 MoE layers)"},
        BadCase{"twice", kRing, "", "layer,expert,chip\n*,1,0\n3,1,2\n",
                ":3: expert 1 of MoE layer 3 is placed twice (also on line 2)"},
        BadCase{"missing", kRing, "", "layer,expert,chip\n*,0,0\n",
                ": expert 1 of MoE layer 0 has no chip (every expert of every layer needs one)"},
        BadCase{"no_header", kRing, "", "0,1,2\n",
                ":1: expected a header naming the columns layer, expert and chip"},
        BadCase{"fields", kRing, "", "layer,expert,chip\n0,1\n", ":2: 2 fields, the header has 3"},
        BadCase{"not_int", kRing, "", "layer,expert,chip\n0,x,1\n",
                ":2: expert 'x' is not a non-negative integer"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace moesim
