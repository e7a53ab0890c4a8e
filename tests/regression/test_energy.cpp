// The energy model through the moesim binary: every energy statistic equals the run's own
// counters (MACs, elements, bytes, DRAM commands, link bytes, simulated time) times the
// per-event energies, computed here independently from stats.json; doubling one per-event
// energy changes the total by exactly that event's share and nothing else; the defaults are
// the documented ones (docs/energy.md); and the energy account leaves the timing untouched.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/regression/cli_runner.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using namespace testing_support;  // run_moesim, read_text, fresh_dir, json_stat, ...

const std::string kDetailed = "tests/regression/configs/energy_ddr4_detailed.toml";

std::string run(const std::string& config, const std::string& sets, const std::string& tag) {
  const fs::path out = fresh_dir("energy_" + tag);
  const auto r = run_moesim("run " + config + " --quiet --out '" + out.string() + "' " + sets);
  EXPECT_EQ(r.code, 0) << r.err;
  return read_text(out / "stats.json");
}

/// `--set k=v` for each pair.
std::string sets(const std::map<std::string, double>& kv) {
  std::string out;
  for (const auto& [k, v] : kv) {
    std::ostringstream s;
    s.precision(17);
    s << v;
    out += " --set " + k + "=" + s.str();
  }
  return out;
}

double stat(const std::string& json, const std::string& name) {
  return json_stat(json, name);
}

double summary(const std::string& json, const std::string& name) {
  return std::stod(json_summary(json, name));
}

/// Every stats.json line of a stat whose name has no "energy" in it (the timing model's).
std::vector<std::string> non_energy_lines(const std::string& json) {
  std::vector<std::string> out;
  std::istringstream in(json);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("energy") == std::string::npos && line.find("power_w") == std::string::npos &&
        line.find("\"config\"") == std::string::npos)
      out.push_back(line);
  }
  return out;
}

/// Every `"NAME": {"value": V` of an energy stat.
std::map<std::string, double> energy_stats(const std::string& json) {
  std::map<std::string, double> out;
  const std::regex re("\"([a-z0-9_.]*energy[a-z0-9_.]*)\": \\{\"value\": ([-0-9.e+]+)");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), re); it != std::sregex_iterator();
       ++it) {
    out[(*it)[1]] = std::stod((*it)[2]);
  }
  return out;
}

void expect_rel(double got, double want, const std::string& what) {
  EXPECT_NEAR(got, want, 1e-12 * std::max(1.0, std::fabs(want))) << what;
}

constexpr double kPj = 1e-12;

// Per-event energies the tests set (every one different, none the default).
const std::map<std::string, double> kSramHbm = {
    {"chip.energy.mac_fp8_pj", 0.7},
    {"chip.energy.vector_element_pj", 3.3},
    {"chip.energy.compute_static_w", 5},
    {"chip.energy.vector_static_w", 2},
    {"chip.energy.dma_static_w", 1},
    {"chip.sram.energy.read_pj_per_byte", 9},
    {"chip.sram.energy.write_pj_per_byte", 11},
    {"chip.sram.energy.static_w", 3},
    {"chip.memory.hbm.energy.read_pj_per_bit", 2.5},
    {"chip.memory.hbm.energy.write_pj_per_bit", 3.5},
    {"chip.memory.hbm.energy.activation_pj_per_bit", 1.5},
    {"chip.memory.hbm.energy.static_w", 4},
    {"chip.memory.ddr.energy.static_w", 0.5},
};
const std::string kMixtral = "configs/mixtral_decode.toml --set workload.max_steps=2";

TEST(Energy, EqualsCountsTimesPerEventEnergies) {
  const std::string j = run(kMixtral, sets(kSramHbm), "counts");
  const double t = summary(j, "time_s");
  ASSERT_GT(t, 0);
  const double flops = stat(j, "chip0.compute.array.flops");
  const double elems = stat(j, "chip0.vector.elements");
  const double sr = stat(j, "chip0.sram.read_bytes"), sw = stat(j, "chip0.sram.write_bytes");
  const double hr = stat(j, "chip0.hbm.read_bytes"), hw = stat(j, "chip0.hbm.write_bytes");
  ASSERT_GT(flops, 0);
  ASSERT_GT(elems, 0);
  ASSERT_GT(hr, 0);
  ASSERT_GT(hw, 0);
  const std::map<std::string, double> want = {
      {"compute_mac_j", flops / 2 * 0.7 * kPj},
      {"compute_static_j", 5 * t},
      {"vector_element_j", elems * 3.3 * kPj},
      {"vector_static_j", 2 * t},
      {"dma_static_j", 1 * t},
      {"sram_read_j", sr * 9 * kPj},
      {"sram_write_j", sw * 11 * kPj},
      {"sram_static_j", 3 * t},
      {"hbm_read_j", hr * 8 * 2.5 * kPj},
      {"hbm_write_j", hw * 8 * 3.5 * kPj},
      {"hbm_activation_j", (hr + hw) * 8 * 1.5 * kPj},
      {"hbm_static_j", 4 * t},
      {"ddr_read_j", 0},
      {"ddr_write_j", 0},
      {"ddr_activation_j", 0},
      {"ddr_static_j", 0.5 * t},
  };
  double total = 0;
  for (const auto& [name, v] : want) {
    expect_rel(stat(j, "chip0.energy." + name), v, name);
    total += v;
  }
  const double compute = want.at("compute_mac_j") + want.at("compute_static_j");
  expect_rel(stat(j, "chip0.energy.compute_j"), compute, "compute_j");
  expect_rel(stat(j, "chip0.energy.vector_j"),
             want.at("vector_element_j") + want.at("vector_static_j"), "vector_j");
  expect_rel(stat(j, "chip0.energy.dma_j"), want.at("dma_static_j"), "dma_j");
  expect_rel(stat(j, "chip0.energy.sram_j"),
             want.at("sram_read_j") + want.at("sram_write_j") + want.at("sram_static_j"), "sram_j");
  expect_rel(stat(j, "chip0.energy.hbm_j"),
             want.at("hbm_read_j") + want.at("hbm_write_j") + want.at("hbm_activation_j") +
                 want.at("hbm_static_j"),
             "hbm_j");
  expect_rel(stat(j, "chip0.energy.total_j"), total, "chip total");
  expect_rel(stat(j, "chip0.energy.average_power_w"), total / t, "chip power");
  expect_rel(stat(j, "energy.total_j"), total, "total");
  expect_rel(summary(j, "energy_j"), total, "summary energy_j");
  const double tokens = summary(j, "tokens");
  expect_rel(summary(j, "energy_per_token_j"), total / tokens, "per token");
  expect_rel(stat(j, "energy.per_token_j"), total / tokens, "energy.per_token_j");
  expect_rel(summary(j, "average_power_w"), total / t, "average power");
}

constexpr const char* kEdgeMoeDtype = "bf16";  // its model's 2-byte weights (docs/energy.md)

TEST(Energy, EdgeMoeAttentionAndActivationUnitsAreCounted) {
  // The attention unit's flops are MACs of the chip's type, the activation unit's elements
  // cost a vector element each; both are parts of the chip's total.
  const std::string j =
      run("configs/edge_moe_m3vit.toml", " --set chip.energy.vector_element_pj=3.3", "edge_moe");
  const std::string j2 = run("configs/edge_moe_m3vit.toml",
                             " --set chip.energy.vector_element_pj=6.6 --set chip.energy.mac_" +
                                 std::string(kEdgeMoeDtype) + "_pj=3",
                             "edge_moe_doubled");
  const double flops = stat(j, "chip0.attention.flops");
  const double elems = stat(j, "chip0.activation.elements");
  ASSERT_GT(flops, 0);
  ASSERT_GT(elems, 0);
  expect_rel(stat(j, "chip0.energy.activation_element_j"), elems * 3.3 * kPj, "activation");
  expect_rel(stat(j, "chip0.energy.activation_j"), elems * 3.3 * kPj, "activation_j");
  expect_rel(stat(j, "chip0.energy.attention_mac_j"), flops / 2 * 1.5 * kPj, "attention");
  expect_rel(stat(j2, "chip0.energy.attention_mac_j"), flops / 2 * 3 * kPj, "attention x2");
  expect_rel(stat(j2, "chip0.energy.activation_element_j"), elems * 6.6 * kPj, "activation x2");
  // Doubling the vector element energy adds exactly the activation and vector shares.
  const double added = stat(j2, "chip0.energy.activation_j") -
                       stat(j, "chip0.energy.activation_j") + stat(j2, "chip0.energy.vector_j") -
                       stat(j, "chip0.energy.vector_j") + stat(j2, "chip0.energy.attention_j") -
                       stat(j, "chip0.energy.attention_j") + stat(j2, "chip0.energy.compute_j") -
                       stat(j, "chip0.energy.compute_j");
  expect_rel(stat(j2, "chip0.energy.total_j") - stat(j, "chip0.energy.total_j"), added,
             "total change");
}

TEST(Energy, DefaultsAreTheDocumentedOnes) {
  // SN40L-like: 520 MiB SRAM in 1,040 banks of 512 KiB: Horowitz's 32 KB 20 pJ and 1 MB 100 pJ
  // per 64 bit, interpolated in log2(size): 20 + 80 x 4/5 = 84 pJ per 64 bit = 10.5 pJ/B.
  // HBM (fast, named hbm): hbm3, 2.76 pJ/bit read/write + 1.21 pJ/bit activation. FP8 weights:
  // fp8 MACs, 0.6 pJ. Vector: 4.6 pJ per element. No static power.
  const std::string j = run(kMixtral, "", "defaults");
  expect_rel(stat(j, "chip0.energy.compute_mac_j"),
             stat(j, "chip0.compute.array.flops") / 2 * 0.6 * kPj, "fp8 MAC");
  expect_rel(stat(j, "chip0.energy.vector_element_j"), stat(j, "chip0.vector.elements") * 4.6 * kPj,
             "vector");
  expect_rel(stat(j, "chip0.energy.sram_read_j"), stat(j, "chip0.sram.read_bytes") * 10.5 * kPj,
             "sram");
  const double hr = stat(j, "chip0.hbm.read_bytes"), hw = stat(j, "chip0.hbm.write_bytes");
  expect_rel(stat(j, "chip0.energy.hbm_read_j"), hr * 8 * 2.76 * kPj, "hbm read");
  expect_rel(stat(j, "chip0.energy.hbm_activation_j"), (hr + hw) * 8 * 1.21 * kPj, "hbm act");
  EXPECT_EQ(stat(j, "chip0.energy.compute_static_j"), 0);
  // bf16 weights (OLMoE): bf16 MACs at FP16's 1.5 pJ; an explicit dtype wins.
  const std::string b = run("configs/olmoe_decode.toml", "--set workload.max_steps=1", "bf16");
  expect_rel(stat(b, "chip0.energy.compute_mac_j"),
             stat(b, "chip0.compute.array.flops") / 2 * 1.5 * kPj, "bf16 MAC");
  const std::string i8 = run(kMixtral, "--set chip.energy.mac_dtype=int8", "int8");
  expect_rel(stat(i8, "chip0.energy.compute_mac_j"),
             stat(i8, "chip0.compute.array.flops") / 2 * 0.3 * kPj, "int8 MAC");
  // The detailed DDR4-3200 tier: ddr4, 10.43 pJ/bit, 4.57 pJ/bit x 512 bit per activate.
  const std::string d = run(kDetailed, "", "det_defaults");
  expect_rel(stat(d, "chip0.energy.ddr_read_j"), stat(d, "chip0.ddr.read_bytes") * 8 * 10.43 * kPj,
             "ddr read");
  expect_rel(stat(d, "chip0.energy.ddr_activate_j"),
             stat(d, "chip0.ddr.activates") * 4.57 * 512 * kPj, "ddr activate");
  EXPECT_EQ(stat(d, "chip0.energy.ddr_precharge_j"), 0);
  // Edge-MoE's 4 MiB SRAM in 32 banks of 128 KiB: 20 + 80 x 2/5 = 52 pJ per 64 bit = 6.5 pJ/B.
  expect_rel(stat(d, "chip0.energy.sram_write_j"), stat(d, "chip0.sram.write_bytes") * 6.5 * kPj,
             "edge sram");
}

/// Doubling each per-event energy of `base` in turn: the total grows by exactly the share
/// `share` had, that share doubles, every other energy stat of a chip part stays, and the
/// timing model's statistics are byte-identical.
void check_doubling(const std::string& config, const std::map<std::string, double>& base,
                    const std::vector<std::pair<std::string, std::string>>& cases,
                    const std::string& tag) {
  const std::string j1 = run(config, sets(base), tag + "_base");
  const std::map<std::string, double> e1 = energy_stats(j1);
  const double total1 = stat(j1, "energy.total_j");
  for (const auto& [key, share] : cases) {
    std::map<std::string, double> doubled = base;
    ASSERT_TRUE(doubled.count(key)) << key;
    doubled[key] *= 2;
    const std::string j2 = run(config, sets(doubled), tag + "_x2");
    const double s1 = stat(j1, share);
    ASSERT_GT(s1, 0) << share;
    const double total2 = stat(j2, "energy.total_j");
    EXPECT_NEAR(total2 - total1, s1, 1e-12 * total1) << key;
    expect_rel(stat(j2, share), 2 * s1, share);
    EXPECT_TRUE(non_energy_lines(j2) == non_energy_lines(j1)) << key;
    // Parts (the leaves: not a component's or chip's sum) other than `share` are unchanged.
    for (const auto& [name, v] : energy_stats(j2)) {
      if (name == share) continue;
      const std::string leaf = name.substr(name.rfind('.') + 1);
      const bool part = name.find("chip") == 0 && leaf != "total_j" && leaf != "average_power_w" &&
                        (leaf.find("_static_j") != std::string::npos ||
                         leaf.find("_read_j") != std::string::npos ||
                         leaf.find("_write_j") != std::string::npos ||
                         leaf.find("activat") != std::string::npos ||
                         leaf.find("precharge") != std::string::npos ||
                         leaf.find("_mac_j") != std::string::npos ||
                         leaf.find("_element_j") != std::string::npos);
      if (part) {
        EXPECT_EQ(v, e1.at(name)) << key << ": " << name;
      }
    }
  }
}

TEST(Energy, DoublingAPerEventEnergyChangesExactlyItsShare) {
  check_doubling(kMixtral, kSramHbm,
                 {{"chip.energy.mac_fp8_pj", "chip0.energy.compute_mac_j"},
                  {"chip.energy.vector_element_pj", "chip0.energy.vector_element_j"},
                  {"chip.energy.compute_static_w", "chip0.energy.compute_static_j"},
                  {"chip.energy.vector_static_w", "chip0.energy.vector_static_j"},
                  {"chip.energy.dma_static_w", "chip0.energy.dma_static_j"},
                  {"chip.sram.energy.read_pj_per_byte", "chip0.energy.sram_read_j"},
                  {"chip.sram.energy.write_pj_per_byte", "chip0.energy.sram_write_j"},
                  {"chip.sram.energy.static_w", "chip0.energy.sram_static_j"},
                  {"chip.memory.hbm.energy.read_pj_per_bit", "chip0.energy.hbm_read_j"},
                  {"chip.memory.hbm.energy.write_pj_per_bit", "chip0.energy.hbm_write_j"},
                  {"chip.memory.hbm.energy.activation_pj_per_bit", "chip0.energy.hbm_activation_j"},
                  {"chip.memory.hbm.energy.static_w", "chip0.energy.hbm_static_j"}},
                 "mixtral");
}

TEST(Energy, DetailedDramChargesEveryCommand) {
  const std::map<std::string, double> base = {
      {"chip.memory.ddr.energy.read_pj_per_bit", 9},
      {"chip.memory.ddr.energy.activate_pj", 2000},
      {"chip.memory.ddr.energy.precharge_pj", 500},
  };
  const std::string j = run(kDetailed, sets(base), "det");
  const double acts = stat(j, "chip0.ddr.activates"), pres = stat(j, "chip0.ddr.precharges");
  ASSERT_GT(acts, 0);
  ASSERT_GT(pres, 0);
  expect_rel(stat(j, "chip0.energy.ddr_activate_j"), acts * 2000 * kPj, "activate");
  expect_rel(stat(j, "chip0.energy.ddr_precharge_j"), pres * 500 * kPj, "precharge");
  expect_rel(stat(j, "chip0.energy.ddr_read_j"), stat(j, "chip0.ddr.read_bytes") * 8 * 9 * kPj,
             "read");
  check_doubling(kDetailed, base,
                 {{"chip.memory.ddr.energy.activate_pj", "chip0.energy.ddr_activate_j"},
                  {"chip.memory.ddr.energy.precharge_pj", "chip0.energy.ddr_precharge_j"}},
                 "det");
}

TEST(Energy, LinksChargeEveryBitOfEveryDirection) {
  const std::string cfg = "configs/mixtral_decode_4chip_ring.toml --set workload.max_steps=1";
  const std::map<std::string, double> base = {{"system.energy.link_pj_per_bit", 2.5}};
  const std::string j = run(cfg, sets(base), "links");
  const std::regex re("\"(link[0-9]+_[0-9]+)\\.bytes\": \\{\"value\": ([0-9]+)");
  double links = 0;
  int n = 0;
  for (auto it = std::sregex_iterator(j.begin(), j.end(), re); it != std::sregex_iterator();
       ++it, ++n) {
    const double want = std::stod((*it)[2]) * 8 * 2.5 * kPj;
    expect_rel(stat(j, "energy." + (*it)[1].str() + "_j"), want, (*it)[1]);
    links += want;
  }
  EXPECT_EQ(n, 8);  // a bidirectional ring of 4
  ASSERT_GT(links, 0);
  expect_rel(stat(j, "energy.links_j"), links, "links");
  double chips = 0;
  for (int c = 0; c < 4; ++c) chips += stat(j, "chip" + std::to_string(c) + ".energy.total_j");
  expect_rel(stat(j, "energy.total_j"), chips + links, "total");
  expect_rel(summary(j, "energy_j"), chips + links, "summary");
  check_doubling(cfg, base, {{"system.energy.link_pj_per_bit", "energy.links_j"}}, "links");
}

TEST(Energy, SummaryTablePrintsIt) {
  const fs::path out = fresh_dir("energy_table");
  const auto r = run_moesim("run " + kMixtral + " --out '" + out.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\n  energy +[0-9.]+ J \\([0-9.]+ mJ per token, "
                                                  "[0-9.]+ W average\\)\n")))
      << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex("\n    chip0.energy +compute [0-9.]+ mJ, vector [0-9.]+ uJ, dma 0 J, "
                        "sram [0-9.]+ J, hbm [0-9.]+ J, ddr 0 J\n")))
      << r.out;
}

}  // namespace
}  // namespace moesim
