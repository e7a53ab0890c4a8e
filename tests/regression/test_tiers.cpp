// Tiered memory and expert residency through the moesim binary: Belady bounds the online
// policies on a Zipf trace, bytes are conserved between the cache statistics and the DMA
// traffic, and Composition-of-Experts model switching is as much faster than a host-PCIe
// reload as the bandwidths say.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/regression/cli_runner.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using namespace testing_support;  // run_moesim, read_text, fresh_dir, json_stat, ...

std::string run(const std::string& config, const std::string& extra, const std::string& tag) {
  const fs::path out = fresh_dir("tiers_" + tag);
  const auto r =
      run_moesim("run configs/" + config + ".toml --quiet --out '" + out.string() + "' " + extra);
  EXPECT_EQ(r.code, 0) << r.err;
  return read_text(out / "stats.json");
}

/// OLMoE decode with its experts homed in DDR and a 3 GiB HBM cache of `policy`.
std::string olmoe_cached(const std::string& policy, const std::string& extra = "") {
  return run("olmoe_decode",
             "--set mapping.weights=ddr --set mapping.cache.hbm.policy=" + policy +
                 " --set 'mapping.cache.hbm.capacity=\"3GiB\"' --set workload.steps=16 " + extra,
             "olmoe_" + policy);
}

// OLMoE expert: 3 matrices x hidden 2048 x FFN 1024 x 2 B.
constexpr double kOlmoeExpertBytes = 3.0 * 2048 * 1024 * 2;

TEST(Residency, BeladyHitsAtLeastAsOftenAsEveryOnlinePolicyOnAZipfTrace) {
  const std::string belady = olmoe_cached("belady");
  const double best = json_stat(belady, "chip0.tiers.hbm.hits");
  EXPECT_GT(best, 0);
  for (const char* p : {"lru", "lfu", "static"}) {
    const std::string j = olmoe_cached(p);
    EXPECT_EQ(json_stat(j, "chip0.tiers.hbm.accesses"),
              json_stat(belady, "chip0.tiers.hbm.accesses"))
        << p << ": same trace, same accesses";
    EXPECT_GE(best, json_stat(j, "chip0.tiers.hbm.hits")) << p;
  }
  EXPECT_GT(best, json_stat(olmoe_cached("lru"), "chip0.tiers.hbm.hits"))
      << "the decode loop over layers is LRU's worst case";
  EXPECT_DOUBLE_EQ(std::stod(json_summary(belady, "expert_hit_rate")),
                   best / json_stat(belady, "chip0.tiers.hbm.accesses"));
}

TEST(Residency, BytesIntoTheCacheAreFillsAndPrefetchesAndMissesStreamFromBelow) {
  for (const char* p : {"lru", "belady", "static"}) {
    const std::string j =
        olmoe_cached(p, "--set mapping.cache.hbm.prefetch=" +
                            std::string(std::string(p) == "static" ? "none" : "affinity"));
    const double fills = json_stat(j, "chip0.tiers.hbm.fills");
    const double pre = json_stat(j, "chip0.tiers.hbm.prefetch_bytes");
    EXPECT_EQ(json_stat(j, "chip0.tiers.ddr_to_hbm_bytes"), fills * kOlmoeExpertBytes + pre) << p;
    EXPECT_EQ(json_stat(j, "chip0.dma.copy_bytes"), json_stat(j, "chip0.tiers.ddr_to_hbm_bytes"));
    // Misses not copied in stream straight from DDR; nothing else reads DDR.
    EXPECT_EQ(json_stat(j, "chip0.tiers.ddr_to_sram_bytes"),
              json_stat(j, "chip0.tiers.hbm.bypasses") * kOlmoeExpertBytes)
        << p;
    EXPECT_EQ(json_stat(j, "chip0.tiers.hbm.hits") + json_stat(j, "chip0.tiers.hbm.misses"),
              json_stat(j, "chip0.tiers.hbm.accesses"));
    EXPECT_EQ(json_stat(j, "chip0.tiers.hbm.accesses"), json_stat(j, "workload.experts_run"));
    EXPECT_EQ(json_stat(j, "chip0.tiers.hbm.misses"),
              json_stat(j, "chip0.tiers.hbm.fills") + json_stat(j, "chip0.tiers.hbm.bypasses"));
    EXPECT_EQ(json_stat(j, "chip0.ddr.read_bytes"),
              json_stat(j, "chip0.tiers.ddr_to_hbm_bytes") +
                  json_stat(j, "chip0.tiers.ddr_to_sram_bytes"));
    if (std::string(p) != "static") {
      EXPECT_GT(pre, 0) << p;
      EXPECT_GT(json_stat(j, "chip0.tiers.hbm.prefetch_predicted"), 0) << p;
      EXPECT_LE(json_stat(j, "chip0.tiers.hbm.prefetch_wasted_bytes") +
                    json_stat(j, "chip0.tiers.hbm.prefetch_unused_bytes"),
                pre)
          << p;
    }
  }
}

TEST(Residency, StaticPinsFromACountsFile) {
  const fs::path dir = fresh_dir("tiers_counts");
  std::ofstream(dir / "counts.csv") << "layer,expert,count\n0,3,10\n15,63,4\n2,5,1\n0,3,1\n";
  const std::string j = olmoe_cached(
      "static", "--set 'mapping.cache.hbm.counts=\"" + (dir / "counts.csv").string() + "\"'");
  EXPECT_EQ(json_stat(j, "chip0.tiers.hbm.pinned"), 3);
  EXPECT_LE(json_stat(j, "chip0.tiers.hbm.fills"), 3);
}

TEST(Residency, StaticCountsAFirstPassOverATraceFile) {
  // The shipped Mixtral trace (16 steps): the first pass reopens the file.
  const std::string j = run("mixtral_decode",
                            "--set mapping.weights=ddr --set mapping.cache.hbm.policy=static "
                            "--set 'mapping.cache.hbm.capacity=\"20GB\"'",
                            "mixtral_static");
  const double pinned = json_stat(j, "chip0.tiers.hbm.pinned");
  EXPECT_GT(pinned, 0);
  EXPECT_EQ(json_stat(j, "chip0.tiers.hbm.fills"), pinned) << "every pinned expert is used";
  EXPECT_GT(json_stat(j, "chip0.tiers.hbm.hits"), 0);
}

TEST(Residency, NoCacheMeansEverythingStreamsFromTheWeightsTier) {
  const std::string j = run("deepseek_v3_decode", "", "ds_plain");
  EXPECT_EQ(json_stat(j, "chip0.tiers.ddr_to_sram_bytes"), json_stat(j, "workload.weight_bytes"));
  EXPECT_EQ(json_stat(j, "chip0.dma.copy_bytes"), 0);
  EXPECT_GT(json_stat(j, "chip0.tiers.weight_stall_time"), 0);
}

// Composition of Experts: a switch copies one expert model's shard (S bytes) from its home
// tier into HBM while the request waits: S / B_home plus a latency, when the HBM side (1.6
// TB/s) is not the slower one. So the PCIe baseline's switch is slower by B_ddr / B_host.
TEST(CompositionOfExperts, SwitchingFromDdrBeatsPcieReloadByTheBandwidthRatio) {
  const std::string sn = run("coe_sn40l", "", "coe");
  const std::string pcie32 = run("coe_dgx_pcie", "", "coe_pcie32");
  const std::string pcie64 =
      run("coe_dgx_pcie", "--set chip.memory.host.bandwidth=8GB/s", "coe_pcie64");
  const double copies = json_stat(sn, "chip0.tiers.copies");
  ASSERT_GT(copies, 0);
  EXPECT_GT(json_stat(sn, "chip0.tiers.hbm.evictions"), 0) << "LRU must evict at this size";
  const double shard = json_stat(sn, "chip0.dma.copy_bytes") / copies;
  const double b_ddr = json_stat(sn, "chip0.ddr.peak_bandwidth");
  const double t_sn = json_stat(sn, "chip0.tiers.mean_copy_time");
  // Within 2 % of the bandwidth bound (latency 150 ns and sharing HBM add a little).
  EXPECT_GE(t_sn, shard / b_ddr);
  EXPECT_LE(t_sn, 1.02 * shard / b_ddr);
  for (const std::string* j : {&pcie32, &pcie64}) {
    EXPECT_EQ(json_stat(*j, "chip0.tiers.copies"), copies) << "same requests, same misses";
    const double b_host = json_stat(*j, "chip0.host.peak_bandwidth");
    const double ratio = json_stat(*j, "chip0.tiers.mean_copy_time") / t_sn;
    const double predicted = b_ddr / b_host;
    EXPECT_GT(ratio, 0.95 * predicted);
    EXPECT_LT(ratio, 1.05 * predicted);
  }
}

}  // namespace
}  // namespace moesim
