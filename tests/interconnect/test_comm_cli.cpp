// `moesim comm`: closed forms through the command (uniform all-to-all on a fully connected
// system, ring all-reduce on a ring), the JSON (units, nccl-tests bus bandwidth factors), a
// run config whose other tables are not read, bad inputs with their exact messages and
// no output file left; --routing (one step's dispatch or combine from a trace, its bytes
// checked against a count made here from the CSV) and the H800 comparison configs.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "tests/regression/cli_runner.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using testing_support::fresh_dir;
using testing_support::read_text;
using testing_support::run_moesim;

/// The number after `"name": {"value": ` in our JSON (fixed layout), or NaN.
double json_value(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\": {\"value\": ";
  const size_t at = json.find(key);
  if (at == std::string::npos) return std::nan("");
  return std::stod(json.substr(at + key.size(), 32));
}

const std::string kCfg = "tests/interconnect/configs/";

TEST(CommCli, HelpAndMainHelpMentionComm) {
  auto r = run_moesim("comm --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("usage: moesim comm CONFIG"), std::string::npos);
  r = run_moesim("--help");
  EXPECT_NE(r.out.find("comm CONFIG"), std::string::npos);
}

TEST(CommCli, UniformAllToAllOnFullyConnectedIsLatencyPlusSliceOverBandwidth) {
  const fs::path dir = fresh_dir("comm_a2a");
  const auto r =
      run_moesim("comm " + kCfg + "fc4.toml --collective all_to_all --bytes 4MiB --json " +
                 (dir / "r.json").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  for (const char* s : {"time", "algbw", "busbw", "GB/s", "link0_1", "link3_2", "util %"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  const std::string j = read_text(dir / "r.json");
  EXPECT_FALSE(fs::exists(dir / "r.json.tmp"));
  EXPECT_NE(j.find("\"schema_version\": 1"), std::string::npos);
  EXPECT_NE(j.find("\"unit\": \"s\""), std::string::npos);
  const double t = json_value(j, "time");
  const double want = 1e-6 + (4.0 * 1024 * 1024 / 4) / 100e9;
  EXPECT_NEAR(t, want, 1e-12);
  EXPECT_NEAR(json_value(j, "algbw"), 4.0 * 1024 * 1024 / t, 1);
  EXPECT_NEAR(json_value(j, "busbw"), json_value(j, "algbw") * 3 / 4, 1);
  EXPECT_EQ(json_value(j, "bytes_per_chip"), 4 << 20);
  EXPECT_EQ(json_value(j, "bytes"), 1 << 20);  // first link: one slice
}

TEST(CommCli, RingAllReduceOnARingMatchesClosedForm) {
  const fs::path dir = fresh_dir("comm_ar");
  const auto r = run_moesim("comm " + kCfg + "ring4.toml --collective all_reduce --bytes 4194304 " +
                            "--json " + (dir / "r.json").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string j = read_text(dir / "r.json");
  const double want = 2 * 3 * (1e-6 + (4.0 * 1024 * 1024 / 4) / 100e9);
  EXPECT_NEAR(json_value(j, "time"), want, 1e-12);
  EXPECT_NEAR(json_value(j, "busbw_factor"), 1.5, 1e-12);
  EXPECT_NE(j.find("\"algorithm\": \"ring\""), std::string::npos);
}

TEST(CommCli, EveryCollectiveRunsAndIsDeterministic) {
  const fs::path dir = fresh_dir("comm_all");
  for (const char* c :
       {"all_to_all", "all_to_all_v", "all_reduce", "all_gather", "reduce_scatter"}) {
    const std::string a = (dir / (std::string(c) + "_a.json")).string();
    const std::string b = (dir / (std::string(c) + "_b.json")).string();
    const std::string args = "comm " + kCfg + "two_level8.toml --collective " + c + " --bytes 1MB";
    ASSERT_EQ(run_moesim(args + " --json " + a).code, 0) << c;
    ASSERT_EQ(run_moesim(args + " --json " + b).code, 0) << c;
    EXPECT_EQ(read_text(a), read_text(b)) << c;
    EXPECT_GT(json_value(read_text(a), "time"), 0) << c;
  }
  const auto h = run_moesim("comm " + kCfg +
                            "two_level8.toml --collective all_to_all --bytes 1MB --algorithm "
                            "hierarchical");
  EXPECT_EQ(h.code, 0) << h.err;
  EXPECT_NE(h.out.find("algorithm hierarchical"), std::string::npos);
  const auto t =
      run_moesim("comm " + kCfg + "fc4.toml --collective all_reduce --bytes 1MB --algorithm tree");
  EXPECT_EQ(t.code, 0) << t.err;
}

TEST(CommCli, ReadsOnlyTheSystemTables) {
  const auto r = run_moesim("comm " + kCfg +
                            "run_config_with_system.toml --collective all_reduce --bytes 1MB");
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(CommCli, HgxH100ExampleRuns) {
  const auto r =
      run_moesim("comm configs/systems/hgx_h100_switch.toml --collective all_reduce --bytes 1GiB");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("8 chips, topology switch"), std::string::npos);
}

TEST(CommCli, BadInputsExitTwoWithOneMessageAndNoOutput) {
  const fs::path dir = fresh_dir("comm_bad");
  const std::string out = (dir / "r.json").string();
  const std::string ok = " --collective all_reduce --bytes 1MiB";
  const std::pair<std::string, std::string> cases[] = {
      {kCfg + "fc4.toml --collective all_to_al --bytes 1MiB",
       "moesim: error: comm: --collective expects all_to_all, all_to_all_v, all_reduce, "
       "all_gather or reduce_scatter, got 'all_to_al' (did you mean 'all_to_all'?) (see "
       "'moesim comm --help')\n"},
      {kCfg + "fc4.toml --collective all_reduce --bytes 1XB",
       "moesim: error: comm: --bytes expects a size such as \"1MiB\", \"64MB\" or a number of "
       "bytes, got '1XB' (see 'moesim comm --help')\n"},
      {kCfg + "missing.toml" + ok,
       "moesim: error: tests/interconnect/configs/missing.toml: cannot open config file (No "
       "such file or directory)\n"},
      {kCfg + "bad_link_chip.toml" + ok,
       "moesim: error: tests/interconnect/configs/bad_link_chip.toml:15:6: "
       "system.topology.links.l1.to: chip5 does not exist (the system has 2 chips)\n"},
      {kCfg + "bad_unreachable.toml" + ok,
       "moesim: error: tests/interconnect/configs/bad_unreachable.toml:4:1: system.topology: "
       "chip0 cannot reach chip2\n"},
      {kCfg + "bad_topology_type.toml" + ok,
       "moesim: error: tests/interconnect/configs/bad_topology_type.toml:5:8: "
       "system.topology.type: \"rign\" is not one of 'explicit', 'fully_connected', 'mesh', "
       "'ring', 'switch', 'torus', 'two_level' (did you mean 'ring'?)\n"},
      {kCfg + "bad_system_table.toml" + ok,
       "moesim: error: tests/interconnect/configs/bad_system_table.toml:4:1: system.topolgy: "
       "unknown table (expected topology or network or energy) (did you mean 'topology'?)\n"},
      {kCfg + "fc4.toml --collective all_gather --bytes 1MiB --algorithm tree",
       "moesim: error: comm: --algorithm tree does not apply to all_gather (expected ring) "
       "(see 'moesim comm --help')\n"},
  };
  for (const auto& [args, msg] : cases) {
    const auto r = run_moesim("comm " + args + " --json " + out);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(r.err, msg) << args;
    EXPECT_EQ(r.out, "") << args;
    EXPECT_FALSE(fs::exists(out)) << args;
  }
}

/// Bytes between chips of step `step`, MoE layer `layer`'s dispatch, counted from the
/// shipped Mixtral trace with the planner's rules as documented: request r's tokens on chip
/// r % chips (data-parallel attention, tensor_parallel 1); expert-parallel groups of `ep`
/// consecutive chips, each holding every expert in contiguous blocks of 8 / ep; one copy per
/// (token, destination chip) other than its own; 4096 x 2 bytes a copy.
uint64_t count_dispatch_bytes(uint32_t step, uint32_t layer, uint32_t chips, uint32_t ep) {
  std::istringstream in(
      read_text(std::string(MOESIM_SOURCE_DIR) + "/workloads/traces/mixtral_decode_b16.csv"));
  std::string line;
  uint64_t copies = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("step,", 0) == 0) continue;
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
    if (std::stoul(f[0]) != step || std::stoul(f[3]) != layer) continue;
    const uint32_t src = static_cast<uint32_t>(std::stoul(f[1])) % chips;
    const uint32_t base = src / ep * ep;
    std::set<uint32_t> dst;
    std::stringstream es(f[4]);
    for (std::string e; std::getline(es, e, ';');)
      if (!e.empty() && std::isdigit(static_cast<unsigned char>(e[0])))
        dst.insert(base + static_cast<uint32_t>(std::stoul(e)) / (8 / ep));
    dst.erase(src);
    copies += dst.size();
  }
  return copies * 4096 * 2;
}

const std::string kRing4 = "configs/mixtral_decode_4chip_ring.toml";

TEST(CommCli, RoutingDispatchBytesMatchTheTrace) {
  const fs::path dir = fresh_dir("comm_routing");
  for (const auto& [step, layer] : {std::pair{3u, 5u}, std::pair{0u, 0u}, std::pair{15u, 31u}}) {
    const std::string out = (dir / "r.json").string();
    const auto r = run_moesim("comm " + kRing4 + " --routing --step " + std::to_string(step) +
                              " --layer " + std::to_string(layer) + " --json " + out);
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string j = read_text(out);
    const uint64_t want = count_dispatch_bytes(step, layer, 4, 4);
    EXPECT_GT(want, 0u);
    EXPECT_EQ(json_value(j, "total_bytes"), static_cast<double>(want)) << step << " " << layer;
    EXPECT_NE(r.out.find(std::to_string(want) + " B ("), std::string::npos) << r.out;
    EXPECT_NE(j.find("\"role\": \"dispatch\""), std::string::npos);
    EXPECT_NE(j.find("\"algorithm\": \"ring\""), std::string::npos);  // the config's
    EXPECT_GT(json_value(j, "time"), 0);
    EXPECT_GE(json_value(j, "max_sent_bytes"), json_value(j, "mean_sent_bytes"));
  }
  // Step 3, layer 5 as docs/multichip_published.md shows it: 19 copies of 8192 B.
  const auto r = run_moesim("comm " + kRing4 + " --routing --step 3 --layer 5");
  EXPECT_NE(r.out.find("155648 B (152.00 KiB) between chips, 19 token rows of 8192 B"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("time          2.410 us"), std::string::npos) << r.out;
}

TEST(CommCli, RoutingTraceArgumentAndCombine) {
  const fs::path dir = fresh_dir("comm_routing_trace");
  const std::string a = (dir / "a.json").string();
  const std::string b = (dir / "b.json").string();
  const std::string c = (dir / "c.json").string();
  // The config's own trace, the same trace given explicitly, and the combine.
  ASSERT_EQ(run_moesim("comm " + kRing4 + " --routing --step 2 --layer 9 --json " + a).code, 0);
  ASSERT_EQ(run_moesim("comm " + kRing4 +
                       " --routing workloads/traces/mixtral_decode_b16.csv --step 2 --layer 9 "
                       "--json " +
                       b)
                .code,
            0);
  EXPECT_EQ(read_text(a), read_text(b));
  ASSERT_EQ(
      run_moesim("comm " + kRing4 + " --routing --step 2 --layer 9 --role combine --json " + c)
          .code,
      0);
  const std::string jc = read_text(c);
  EXPECT_NE(jc.find("\"role\": \"combine\""), std::string::npos);
  // The combine is the dispatch transposed: the same total.
  EXPECT_EQ(json_value(jc, "total_bytes"), json_value(read_text(a), "total_bytes"));
  EXPECT_EQ(json_value(jc, "total_bytes"), count_dispatch_bytes(2, 9, 4, 4));
  // --algorithm overrides the config's dispatch_algorithm.
  const auto d = run_moesim("comm " + kRing4 + " --routing --step 2 --layer 9 --algorithm direct");
  EXPECT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.out.find("algorithm direct"), std::string::npos);
}

TEST(CommCli, RoutingRunsEveryExpertParallelGroupAtOnce) {
  const fs::path dir = fresh_dir("comm_routing_groups");
  const std::string out = (dir / "r.json").string();
  const auto r = run_moesim("comm " + kCfg +
                            "mixtral_2x4_ring.toml --routing --step 2 --layer 7 --json " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 expert-parallel groups of 4 chips"), std::string::npos) << r.out;
  const std::string j = read_text(out);
  EXPECT_EQ(json_value(j, "total_bytes"), count_dispatch_bytes(2, 7, 8, 4));
}

TEST(CommCli, RoutingLayerCountsMoeLayers) {
  // DeepSeek-V3's first 3 layers are dense: MoE layer 0 is transformer layer 3.
  const auto r =
      run_moesim("comm configs/deepseek_v3_decode_ep8_switch.toml --routing --step 0 --layer 0");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("workload synthetic, step 0 (index 0, 256 tokens), MoE layer 0 (layer 3)"),
            std::string::npos)
      << r.out;
}

TEST(CommCli, RoutingBadInputsExitTwoWithOneMessageAndNoOutput) {
  const fs::path dir = fresh_dir("comm_routing_bad");
  const std::string out = (dir / "r.json").string();
  const std::string help = " (see 'moesim comm --help')\n";
  const std::pair<std::string, std::string> cases[] = {
      {kRing4 + " --routing --step 16 --layer 0",
       "moesim: error: comm: --step 16: trace \"workloads/traces/mixtral_decode_b16.csv\" has "
       "only 16 steps (--step counts from 0)" +
           help},
      {kRing4 + " --routing --step 0 --layer 32",
       "moesim: error: comm: --layer 32 is out of range: model 'mixtral-8x7b' has 32 MoE "
       "layers (--layer counts MoE layers 0..31, not transformer layers)" +
           help},
      {"configs/mixtral_decode.toml --routing --step 0 --layer 0",
       "moesim: error: comm: --routing needs a [system] of several chips "
       "(configs/mixtral_decode.toml describes one chip)" +
           help},
      {kRing4 + " --routing " + kCfg + "trace_2layers.csv --step 0 --layer 0",
       "moesim: error: tests/interconnect/configs/trace_2layers.csv: trace has 2 MoE layers but "
       "model 'mixtral-8x7b' has 32 (set by --routing)\n"},
      {kRing4 + " --routing missing.csv --step 0 --layer 0",
       "moesim: error: comm: --routing: cannot open trace \"missing.csv\" (No such file or "
       "directory)" +
           help},
      {kRing4 + " --routing --layer 0", "moesim: error: comm: --routing needs --step N" + help},
      {kRing4 + " --routing --step 0", "moesim: error: comm: --routing needs --layer L" + help},
      {kRing4 + " --routing --step x --layer 0",
       "moesim: error: comm: --step expects a non-negative integer, got 'x'" + help},
      {kRing4 + " --routing --step 0 --layer 0 --role dispath",
       "moesim: error: comm: --role expects dispatch or combine, got 'dispath' (did you mean "
       "'dispatch'?)" +
           help},
      {kRing4 + " --routing --step 0 --layer 0 --bytes 1MB",
       "moesim: error: comm: --bytes does not apply with --routing (the sizes come from the "
       "trace)" +
           help},
      {kRing4 + " --routing --step 0 --layer 0 --collective all_to_all",
       "moesim: error: comm: --collective does not apply with --routing (the collective is the "
       "step's dispatch or combine all-to-all-v; see --role)" +
           help},
      {kRing4 + " --routing --step 0 --layer 0 --algorithm tree",
       "moesim: error: comm: --algorithm tree does not apply to dispatch (expected direct, ring "
       "or hierarchical)" +
           help},
      {kRing4 + " --collective all_to_all --bytes 1MB --step 0",
       "moesim: error: comm: --step needs --routing" + help},
  };
  for (const auto& [args, msg] : cases) {
    const auto r = run_moesim("comm " + args + " --json " + out);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(r.err, msg) << args;
    EXPECT_EQ(r.out, "") << args;
    EXPECT_FALSE(fs::exists(out)) << args;
  }
}

// The H800 comparison of docs/multichip_published.md: pinned, so a change to the network
// model or the configs shows here (and the doc and config comments need updating).
TEST(CommCli, H800NodeDeepEpEquivalentIsPinned) {
  const auto r =
      run_moesim("comm configs/systems/h800_node.toml --collective all_to_all --bytes 160309525");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("time          880.496 us\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("algbw         182.1 GB/s\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("busbw         159.3 GB/s"), std::string::npos) << r.out;
  const auto t =
      run_moesim("comm configs/systems/h800_2node.toml --collective all_to_all --bytes 60343930");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("16 chips, topology two_level"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("time          615.925 us\n"), std::string::npos) << t.out;
}

}  // namespace
}  // namespace moesim
