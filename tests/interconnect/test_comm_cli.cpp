// `moesim comm`: closed forms through the command (uniform all-to-all on a fully connected
// system, ring all-reduce on a ring), the JSON (units, nccl-tests bus bandwidth factors), a
// run config whose other tables are not read, and bad inputs with their exact messages and
// no output file left.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
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
       "unknown table (expected topology or network) (did you mean 'topology'?)\n"},
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

}  // namespace
}  // namespace moesim
