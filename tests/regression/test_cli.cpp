// The command line: help, version, list, exit codes, exact error messages, and the bad
// config corpus in tests/config/bad (each file names the message it must produce).

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "tests/regression/cli_runner.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using testing_support::fresh_dir;
using testing_support::read_text;
using testing_support::run_moesim;

const fs::path kSource = MOESIM_SOURCE_DIR;
const fs::path kBad = kSource / "tests" / "config" / "bad";

TEST(Cli, VersionAndHelp) {
  auto r = run_moesim("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "moesim " MOESIM_VERSION "\n");
  for (const char* cmd :
       {"--help", "run --help", "validate --help", "list --help", "trace --help"}) {
    r = run_moesim(cmd);
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("usage: moesim"), std::string::npos) << cmd;
  }
}

TEST(Cli, ListShowsEveryRegisteredModelWithParameters) {
  const auto r = run_moesim("list");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s : {"systolic:", "simd:", "dma:", "fast:", "sram:", "rows", "bandwidth",
                        "weight_buffer", "softmax_cost", "mixtral_8x7b.toml", "sn40l_like.toml",
                        "mixtral_decode.toml", "default \"100ns\""}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
  // The multi-chip registries and sections, each with its keys.
  for (const char* s : {"Topologies ([system.topology]",
                        "  ring: ",
                        "  fully_connected: ",
                        "  switch: ",
                        "  mesh: ",
                        "  torus: ",
                        "  two_level: ",
                        "  explicit: ",
                        "node_chips",
                        "intra_bandwidth",
                        "switch_latency",
                        "bidirectional",
                        "Networks ([system.network]",
                        "  fast: ",
                        "  detailed: ",
                        "chunk",
                        "packet_payload",
                        "buffer_packets",
                        "Placement policies ([mapping.placement]",
                        "  round_robin: ",
                        "  contiguous: ",
                        "  table: ",
                        "  [system] ",
                        "  [system.topology.links.NAME]",
                        "duplex",
                        "  [mapping.parallel] ",
                        "tensor_parallel",
                        "expert_parallel",
                        "dedup_dispatch",
                        "dispatch_algorithm",
                        "all_reduce_algorithm",
                        "deepseek_v3_decode_4x8_two_level.toml"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
}

struct CliCase {
  const char* args;
  const char* err;
};

TEST(Cli, BadCommandLinesExitTwoWithOneExactMessage) {
  const CliCase cases[] = {
      {"frobnicate", "moesim: error: unknown command 'frobnicate' (see 'moesim --help')\n"},
      {"rn configs/mixtral_decode.toml",
       "moesim: error: unknown command 'rn' (did you mean 'run'?) (see 'moesim --help')\n"},
      {"run", "moesim: error: run: missing CONFIG (see 'moesim run --help')\n"},
      {"run configs/mixtral_decode.toml --outt x",
       "moesim: error: run: unknown option '--outt' (did you mean '--out'?) (see 'moesim run "
       "--help')\n"},
      {"run configs/mixtral_decode.toml --seed abc",
       "moesim: error: run: --seed expects a non-negative integer, got 'abc' (see 'moesim run "
       "--help')\n"},
      {"run configs/mixtral_decode.toml --out",
       "moesim: error: run: --out needs a value (see 'moesim run --help')\n"},
      {"validate a.toml b.toml",
       "moesim: error: validate: unexpected argument 'b.toml' (see 'moesim validate --help')\n"},
      {"validate configs/no_such.toml",
       "moesim: error: configs/no_such.toml: cannot open config file (No such file or "
       "directory)\n"},
      {"list extra",
       "moesim: error: list: unexpected argument 'extra' (see 'moesim list --help')\n"},
      {"trace generat x",
       "moesim: error: trace: unknown subcommand 'generat' (did you mean "
       "'generate'?) (see 'moesim trace --help')\n"},
      {"trace generate --layers 2 out.csv",
       "moesim: error: trace generate: --layers, --experts, --top-k, --steps and --batch are "
       "required (see 'moesim trace generate --help')\n"},
  };
  for (const CliCase& c : cases) {
    const auto r = run_moesim(c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_EQ(r.err, c.err) << c.args;
    EXPECT_EQ(r.out, "") << c.args;
  }
}

// A name longer than the file system allows (255 bytes per component) made std::filesystem
// throw out of the path checks: an internal error, exit 1 (found by fuzz_config).
TEST(Cli, FileNamesTooLongForTheFileSystemAreInputErrors) {
  const std::string n(300, 'x');
  struct Case {
    std::string args, err;
  } cases[] = {
      {"run configs/mixtral_decode.toml --quiet --out " + n + "_out --timeline " + n + ".json",
       "moesim: error: run: --timeline " + n +
           ".json: File name too long (see 'moesim run --help')\n"},
      {"report " + n, "moesim: error: report: " + n +
                          ": no such directory (expected the output directory of 'moesim run')\n"},
      {"validate configs/mixtral_decode.toml --set workload.path=" + n,
       "moesim: error: --set workload.path: cannot open trace \"" + n +
           "\" (No such file or directory)\n"},
  };
  for (const Case& c : cases) {
    const auto r = run_moesim(c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_EQ(r.err, c.err) << c.args;
    EXPECT_EQ(r.out, "") << c.args;
  }
}

TEST(Cli, SetOverridesReachTheEffectiveConfig) {
  const fs::path out = fresh_dir("set");
  const auto r = run_moesim("run configs/olmoe_decode.toml --quiet --out '" + out.string() +
                            "' --set chip.memory.hbm.bandwidth=3.2TB/s --set workload.steps=2");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string eff = read_text(out / "effective_config.toml");
  EXPECT_NE(eff.find("3.2TB/s"), std::string::npos) << eff;
  EXPECT_NE(eff.find("steps = 2"), std::string::npos) << eff;
  // Defaults are resolved and written too.
  EXPECT_NE(eff.find("weight_buffers = 2"), std::string::npos) << eff;
  EXPECT_NE(eff.find("efficiency"), std::string::npos) << eff;
  EXPECT_TRUE(fs::exists(out / "stats.csv"));
  const std::string csv = read_text(out / "stats.csv");
  EXPECT_EQ(csv.rfind("name,value,unit\n", 0), 0u);
  EXPECT_NE(csv.find("chip0.hbm.read_bytes,"), std::string::npos);
}

// Task-level gating (issue 12): M3ViT's two tasks, the mix of [workload] task_mix, and the
// per-task stats, which single-task runs do not have.
TEST(Cli, MultiTaskRunsReportEachTask) {
  const fs::path out = fresh_dir("tasks");
  const auto r = run_moesim("run configs/edge_moe_m3vit.toml --quiet --out '" + out.string() +
                            "' --set 'workload.distribution=\"zipf\"' --set "
                            "'workload.task_mix=\"3,1\"'");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string csv = read_text(out / "stats.csv");
  // 4 images of 129 tokens: three of task 0, one of task 1; 6 MoE layers, top-2.
  for (const char* line :
       {"\nworkload.task0.requests,3,requests\n", "\nworkload.task0.tokens,387,tokens\n",
        "\nworkload.task0.assignments,4644,assignments\n", "\nworkload.task1.requests,1,requests\n",
        "\nworkload.task1.tokens,129,tokens\n",
        "\nworkload.task1.assignments,1548,assignments\n"}) {
    EXPECT_NE(csv.find(line), std::string::npos) << line << csv;
  }
  const fs::path one = fresh_dir("one_task");
  const auto s = run_moesim("run configs/mixtral_prefill.toml --quiet --out '" + one.string() +
                            "' --set workload.steps=1");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(read_text(one / "stats.csv").find("workload.task"), std::string::npos);
}

TEST(Cli, DefaultOutputDirectoryIsOutSlashConfigName) {
  const fs::path work = fresh_dir("default_out");
  fs::create_directories(work / "configs");
  fs::copy_file(kSource / "configs" / "olmoe_decode.toml", work / "configs" / "olmoe_decode.toml");
  // The copy includes presets relative to its own folder: point them at the source tree.
  std::string text = read_text(work / "configs" / "olmoe_decode.toml");
  const std::string from = "include = [\"hw/";
  text.replace(text.find(from), from.size(),
               "include = [\"" + (kSource / "configs" / "hw").string() + "/");
  const std::string from2 = "\"../workloads";
  text.replace(text.find(from2), from2.size(), "\"" + (kSource / "workloads").string());
  std::ofstream(work / "configs" / "olmoe_decode.toml") << text;
  const auto r =
      run_moesim("run configs/olmoe_decode.toml --quiet --set workload.steps=1", work.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(work / "out" / "olmoe_decode" / "stats.json"));
}

TEST(Cli, RunPrintsASummaryTable) {
  const fs::path out = fresh_dir("summary");
  const auto r = run_moesim("run configs/mixtral_decode.toml --out '" + out.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s : {"simulated time", "tokens/s", "bottleneck", "chip0.hbm", "chip0.compute",
                        "% busy", "read ", "assignments/s"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  }
}

TEST(Cli, ABadTraceRecordMidRunExitsTwoAndLeavesNoStats) {
  const fs::path dir = fresh_dir("bad_trace");
  // Take the shipped default trace and corrupt one record near its end.
  std::string trace = read_text(kSource / "workloads" / "traces" / "mixtral_decode_b16.csv");
  const size_t last_line = trace.rfind('\n', trace.size() - 2);
  const size_t field = trace.rfind(',', trace.size() - 2);
  ASSERT_GT(field, last_line);
  trace = trace.substr(0, field + 1) + "nan\n";
  std::ofstream(dir / "bad.csv") << trace;
  std::ofstream(dir / "bad.toml") << "include = [\""
                                  << (kSource / "configs" / "mixtral_decode.toml").string()
                                  << "\"]\n"
                                  << "[workload]\npath = \"bad.csv\"\n";
  fs::create_directories(dir / "out");
  std::ofstream(dir / "out" / "stats.json") << "{\"stale\": true}\n";
  const auto r = run_moesim("run bad.toml --quiet --out out", dir.string());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("moesim: error: bad.csv:", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(dir / "out" / "stats.json"));
  EXPECT_FALSE(fs::exists(dir / "out" / "stats.json.tmp"));
}

TEST(Cli, SimulatedTimePastTheRangeStopsWithExitTwo) {
  const fs::path dir = fresh_dir("time_range");
  const std::string cfg = (kSource / "configs" / "mixtral_decode.toml").string();
  const std::string tail = " (a bandwidth, clock or latency far out of range?)\n";
  const std::string head =
      "moesim: error: simulated time would pass 9223372 s (2^63 ps), the representable range, ";
  const std::pair<const char*, std::string> cases[] = {
      // A float-to-integer overflow gave a zero delay here: the run looped forever.
      {"chip.memory.hbm.bandwidth=1B/s", head + "in chip0.hbm at t = 0 s" + tail},
      // These passed 2^64 ps and never ended.
      {"chip.memory.hbm.bandwidth=20KB/s", head + "in chip0.hbm at t = 9.21539e+06 s" + tail},
      {"chip.frequency=1Hz", head + "in chip0.sram at t = 9.22307e+06 s" + tail},
  };
  for (const auto& [set, err] : cases) {
    const auto r = run_moesim("run " + cfg + " --quiet --out out --set " + set, dir.string());
    EXPECT_EQ(r.code, 2) << set;
    EXPECT_EQ(r.err, err) << set;
    EXPECT_EQ(r.out, "") << set;
    EXPECT_FALSE(fs::exists(dir / "out" / "stats.json")) << set;
  }
}

TEST(Cli, ATraceWhoseKvCacheOutgrowsItsTierStopsWithExitTwo) {
  const fs::path dir = fresh_dir("kv_trace");
  // The shipped trace with every position moved 400 M tokens on: 6.4 G tokens of KV cache.
  std::ifstream in(kSource / "workloads" / "traces" / "mixtral_decode_b16.csv");
  std::ofstream out(dir / "big.csv");
  std::string line;
  bool header = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || !header) {
      header = header || (!line.empty() && line[0] != '#');
      out << line << "\n";
      continue;
    }
    const size_t a = line.find(',', line.find(',') + 1);
    const size_t b = line.find(',', a + 1);
    const uint64_t pos = std::stoull(line.substr(a + 1, b - a - 1)) + 400000000;
    out << line.substr(0, a + 1) << pos << line.substr(b) << "\n";
  }
  out.close();
  std::ofstream(dir / "big.toml") << "include = [\""
                                  << (kSource / "configs" / "mixtral_decode.toml").string()
                                  << "\"]\n[workload]\npath = \"big.csv\"\n";
  const auto r = run_moesim("run big.toml --quiet --out out", dir.string());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err,
            "moesim: error: big.csv: step 0: the KV cache of its 16 requests: 6400016400 tokens "
            "of KV cache need 838862949580800 B (762.9 TiB), more than "
            "chip.memory.hbm.capacity = 68719476736 B (64.0 GiB) less 46440382464 B (43.3 GiB) "
            "of weights\n");
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(fs::exists(dir / "out" / "stats.json"));
}

TEST(Cli, AConfigThatFailsToLoadRemovesEarlierResults) {
  const fs::path dir = fresh_dir("stale_results");
  fs::create_directories(dir / "out");
  for (const char* f : {"stats.json", "stats.csv", "effective_config.toml"}) {
    std::ofstream(dir / "out" / f) << "stale\n";
  }
  std::ofstream(dir / "bad.toml") << "[chip\n";
  const auto r = run_moesim("run bad.toml --quiet --out out", dir.string());
  EXPECT_EQ(r.code, 2) << r.err;
  for (const char* f : {"stats.json", "stats.csv", "effective_config.toml"}) {
    EXPECT_FALSE(fs::exists(dir / "out" / f)) << f;
  }
  // The default directory (out/<config name>) too.
  fs::create_directories(dir / "out" / "bad");
  std::ofstream(dir / "out" / "bad" / "stats.json") << "stale\n";
  EXPECT_EQ(run_moesim("run bad.toml --quiet", dir.string()).code, 2);
  EXPECT_FALSE(fs::exists(dir / "out" / "bad" / "stats.json"));
}

TEST(Cli, AnUnwritableWaveFileIsAnErrorBeforeTheRun) {
  // Checked before the run (and before the RTL-less build's own error).
  const std::pair<const char*, const char*> cases[] = {
      {"/nonexistent_moesim_dir/x.vcd",
       "moesim: error: rtl-verify: cannot write --wave file '/nonexistent_moesim_dir/x.vcd' (No "
       "such file or directory)\n"},
      {"/proc/x.vcd",
       "moesim: error: rtl-verify: cannot write --wave file '/proc/x.vcd' (No such file or "
       "directory)\n"},
      {"/tmp", "moesim: error: rtl-verify: --wave '/tmp' is a directory\n"},
  };
  for (const auto& [path, err] : cases) {
    const auto r = run_moesim(std::string("rtl-verify topk_gate --cases 1 --wave ") + path);
    EXPECT_EQ(r.code, 2) << path;
    EXPECT_EQ(r.err, err) << path;
    EXPECT_EQ(r.out, "") << path;
  }
}

TEST(Cli, AnEmptyOutIsAUsageError) {
  const auto r = run_moesim("run " + (kSource / "configs" / "mixtral_decode.toml").string() +
                            " --quiet --out ''");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "moesim: error: run: --out expects a directory, got '' (see 'moesim run --help')\n");
  EXPECT_EQ(r.out, "");
}

// ---- the bad-config corpus -------------------------------------------------------------

std::vector<std::string> corpus() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kBad)) {
    if (e.path().extension() == ".toml") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(BadConfigCorpus, HasAtLeastTwentyCases) {
  EXPECT_GE(corpus().size(), 20u);
}

class BadConfig : public ::testing::TestWithParam<std::string> {};

TEST_P(BadConfig, ValidateExitsTwoWithTheExactMessage) {
  const std::string file = GetParam();
  const std::string text = read_text(kBad / file);
  const std::string tag = "# expect: ";
  const size_t at = text.find(tag);
  ASSERT_NE(at, std::string::npos) << file << " has no '# expect: ' line";
  const std::string expected = text.substr(at + tag.size(), text.find('\n', at) - at - tag.size());
  // An optional "# args: ..." line adds command-line arguments (for --set cases).
  std::string args;
  const size_t a = text.find("# args: ");
  if (a != std::string::npos) args = " " + text.substr(a + 8, text.find('\n', a) - a - 8);
  const auto r = run_moesim("validate " + file + args, kBad.string());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err, "moesim: error: " + expected + "\n");
  EXPECT_EQ(r.out, "");
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadConfig, ::testing::ValuesIn(corpus()), [](const auto& info) {
  std::string n = info.param.substr(0, info.param.size() - 5);
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
});

TEST(GoodConfigs, EveryShippedConfigValidates) {
  for (const auto& e : fs::directory_iterator(kSource / "configs")) {
    if (e.path().extension() != ".toml") continue;
    const auto r = run_moesim("validate " + e.path().string());
    EXPECT_EQ(r.code, 0) << e.path() << ": " << r.err;
  }
}

}  // namespace
}  // namespace moesim
