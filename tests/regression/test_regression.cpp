// Whole-program tests through the moesim binary: golden statistics for every shipped
// config, determinism, physical bounds, and the sensitivities the model must show.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <vector>

#include "tests/regression/cli_runner.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using namespace testing_support;  // run_moesim, read_text, fresh_dir, json_stat, ...

std::vector<std::string> shipped_configs() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kSource / "configs")) {
    if (e.path().extension() == ".toml") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// Runs configs/<name>.toml (plus extra args) and returns stats.json.
std::string run_config(const std::string& name, const std::string& extra = "",
                       const std::string& tag = "") {
  const fs::path out = fresh_dir(name + tag);
  const auto r =
      run_moesim("run configs/" + name + ".toml --quiet --out '" + out.string() + "' " + extra);
  EXPECT_EQ(r.code, 0) << r.err;
  return read_text(out / "stats.json");
}

class ShippedConfig : public ::testing::TestWithParam<std::string> {};

TEST_P(ShippedConfig, MatchesGoldenStats) {
  const std::string name = GetParam();
  const fs::path golden = kSource / "tests" / "regression" / "golden" / (name + ".stats.json");
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing: run scripts/update_goldens.sh";
  const std::string json = run_config(name);
  EXPECT_EQ(json, read_text(golden))
      << "stats of configs/" << name << ".toml changed; if intended, run "
      << "scripts/update_goldens.sh and explain the change in the commit";
}

TEST_P(ShippedConfig, NeverBeatsTheComputeOrBandwidthBound) {
  const std::string json = run_config(GetParam(), "", "_bounds");
  const double time_s = std::stod(json_summary(json, "time_s"));
  EXPECT_GT(time_s, 0);
  // workload.flops sums every chip's; so does the peak of a multi-chip system.
  const double flops = json_stat(json, "workload.flops");
  double peak = 0;
  const std::regex chip_peak("\"chip[0-9]+\\.compute\\.array\\.peak_flops\": \\{\"value\": ([0-9.e+]+)");
  for (std::sregex_iterator it(json.begin(), json.end(), chip_peak), end; it != end; ++it) {
    peak += std::stod((*it)[1]);
  }
  EXPECT_GT(peak, 0);
  EXPECT_GE(time_s, flops / peak);
  // Every memory: bytes moved / peak bandwidth.
  const std::regex tier("\"chip0\\.([a-z0-9_]+)\\.peak_bandwidth\"");
  int tiers = 0;
  for (std::sregex_iterator it(json.begin(), json.end(), tier), end; it != end; ++it) {
    const std::string t = (*it)[1];
    const double bytes = json_stat(json, "chip0." + t + ".read_bytes") +
                         json_stat(json, "chip0." + t + ".write_bytes");
    EXPECT_GE(time_s, bytes / json_stat(json, "chip0." + t + ".peak_bandwidth")) << t;
    ++tiers;
  }
  EXPECT_GE(tiers, 2);
}

INSTANTIATE_TEST_SUITE_P(Configs, ShippedConfig, ::testing::ValuesIn(shipped_configs()),
                         [](const auto& info) { return info.param; });

TEST(Determinism, SameInputsAndSeedGiveByteIdenticalStats) {
  const std::string a = run_config("olmoe_decode", "--seed 7", "_a");
  const std::string b = run_config("olmoe_decode", "--seed 7", "_b");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  const std::string c = run_config("olmoe_decode", "--seed 8", "_c");
  EXPECT_NE(a, c) << "a different seed should route differently";
}

TEST(Sensitivity, DecodeIsMemoryBoundAndDoublingHbmBandwidthShortensIt) {
  const std::string base = run_config("mixtral_decode", "", "_base");
  EXPECT_EQ(json_summary(base, "bottleneck"), "chip0.hbm");
  const std::string fast =
      run_config("mixtral_decode", "--set chip.memory.hbm.bandwidth=3.2TB/s", "_2x");
  const double t0 = std::stod(json_summary(base, "time_s"));
  const double t1 = std::stod(json_summary(fast, "time_s"));
  EXPECT_LT(t1, 0.75 * t0);
  EXPECT_GT(t1, 0.45 * t0);
}

TEST(Sensitivity, PrefillIsComputeBoundAndDoublingTheArrayShortensIt) {
  const std::string base = run_config("mixtral_prefill", "", "_base");
  EXPECT_EQ(json_summary(base, "bottleneck"), "chip0.compute");
  const std::string big = run_config("mixtral_prefill", "--set chip.compute.arrays=2080", "_2x");
  const double t0 = std::stod(json_summary(base, "time_s"));
  const double t1 = std::stod(json_summary(big, "time_s"));
  EXPECT_LT(t1, 0.75 * t0);
}

TEST(Sensitivity, BankedSramMatchesFluidSramUntilItsPortsNarrow) {
  // Full-width ports: the banked SRAM gives the fluid one's simulated time (the SRAM is not the
  // bottleneck). Ports of 16 accesses (1.6 TB/s each at 1.6 GHz) make every weight tile's GEMM
  // read as slow as its HBM load, so decode slows down.
  const std::string fluid = run_config("mixtral_decode", "--set workload.max_steps=2", "_fluid");
  const std::string banked =
      run_config("mixtral_decode_banked_sram", "--set workload.max_steps=2", "_banked");
  const std::string narrow =
      run_config("mixtral_decode_banked_sram",
                 "--set workload.max_steps=2 --set chip.sram.port_accesses=16", "_narrow");
  const double t0 = std::stod(json_summary(fluid, "time_s"));
  const double t1 = std::stod(json_summary(banked, "time_s"));
  const double t2 = std::stod(json_summary(narrow, "time_s"));
  EXPECT_NEAR(t1, t0, 1e-6 * t0);
  EXPECT_GT(t2, 1.2 * t0);
  EXPECT_GT(json_stat(banked, "chip0.sram.bank_conflicts"), 0);
  // Every byte moved in 64-byte accesses; only a transfer's last access may be partial.
  const double bytes =
      json_stat(banked, "chip0.sram.read_bytes") + json_stat(banked, "chip0.sram.write_bytes");
  const double transfers =
      json_stat(banked, "chip0.sram.reads") + json_stat(banked, "chip0.sram.writes");
  const double access_bytes = json_stat(banked, "chip0.sram.accesses") * 64;
  EXPECT_GE(access_bytes, bytes);
  EXPECT_LT(access_bytes, bytes + 64 * transfers);
}

}  // namespace
}  // namespace moesim
