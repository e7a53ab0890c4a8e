// `moesim run --timeline`: the file is Trace Event JSON, its slices lie inside the run and
// never overlap on a track, and each track's busy time is its unit's, memory's or link's
// busy_time (scripts/timeline_check.py checks all that); windows, the default cap, failed
// runs and bad option values.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/regression/cli_runner.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using testing_support::CliResult;
using testing_support::fresh_dir;
using testing_support::read_text;
using testing_support::run_moesim;

const fs::path kSource = MOESIM_SOURCE_DIR;

/// Runs scripts/timeline_check.py on `timeline` against `stats` (extra: "--partial").
CliResult check(const fs::path& timeline, const fs::path& stats, const std::string& extra = "") {
  const fs::path out = timeline.string() + ".check";
  const std::string cmd =
      "/usr/bin/python3 '" + (kSource / "scripts" / "timeline_check.py").string() + "' '" +
      timeline.string() + "' '" + stats.string() + "' " + extra + " >'" + out.string() + "' 2>&1";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out);
  return r;
}

void run_and_check(const std::string& config, const std::string& name,
                   const std::string& extra = "") {
  const fs::path dir = fresh_dir("timeline_" + name);
  const fs::path tl = dir / "timeline.json";
  const CliResult r = run_moesim("run " + config + " --quiet --out '" + dir.string() +
                                 "' --timeline '" + tl.string() + "' --timeline-steps 0: " + extra);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  ASSERT_TRUE(fs::exists(tl));
  EXPECT_FALSE(fs::exists(tl.string() + ".tmp"));
  const CliResult c = check(tl, dir / "stats.json");
  EXPECT_EQ(c.code, 0) << c.out;
  EXPECT_EQ(c.out.rfind("ok: ", 0), 0u) << c.out;
  // Several busy times compared (not a file without tracks).
  EXPECT_EQ(c.out.find(" 0 busy times checked"), std::string::npos) << c.out;
  fs::remove_all(dir);
}

TEST(Timeline, OneChipMatchesStats) {
  run_and_check("configs/mixtral_decode.toml", "one_chip");
}

TEST(Timeline, RingOfFourChipsFastLinksMatchesStats) {
  run_and_check("configs/mixtral_decode_4chip_ring.toml", "ring_fast");
}

TEST(Timeline, RingOfFourChipsDetailedLinksMatchesStats) {
  run_and_check("configs/mixtral_decode_4chip_ring.toml", "ring_detailed",
                "--set system.network.type=detailed");
}

TEST(Timeline, SwitchedEightChipsMatchesStats) {
  run_and_check("configs/deepseek_v3_decode_ep8_switch.toml", "switch");
}

TEST(Timeline, BankedSramAndExpertCacheMatchStats) {
  run_and_check("configs/mixtral_decode_banked_sram.toml", "banked");
  run_and_check("configs/olmoe_decode_hbm_cache.toml", "cache");
}

TEST(Timeline, FusedKernelsAndEdgeMoeUnitsMatchStats) {
  // Fused kernels: the stages' busy time is one slice per kernel on the compute and vector
  // tracks. Edge-MoE: its attention and activation units have tracks of their own.
  run_and_check("configs/llama2_7b_decode_sn40l_fused.toml", "fused");
  run_and_check("configs/edge_moe_m3vit.toml", "edge_moe");
}

TEST(Timeline, DetailedDramMatchesStats) {
  // The cycle-level HBM model (configs/bench/mixtral_decode_detailed.toml's chip) on a model
  // small enough to simulate every 64-byte request quickly.
  const fs::path dir = fresh_dir("timeline_dram_cfg");
  std::ofstream cfg(dir / "dram.toml");
  cfg << "include = [\"" << (kSource / "workloads" / "models" / "mixtral_8x7b.toml").string()
      << "\"]\n"
      << R"([model]
weight_bytes = 1
layers = 2
hidden = 256
heads = 4
kv_heads = 2
head_dim = 64
expert_ffn = 512
[chip]
frequency = "1.6GHz"
[chip.compute]
type = "systolic"
rows = 6
cols = 32
arrays = 1040
dataflow = "weight_stationary"
[chip.vector]
type = "simd"
lanes = 8192
[chip.sram]
type = "sram"
capacity = "520MiB"
banks = 1040
bytes_per_cycle = 64
[chip.memory.hbm]
type = "dram"
preset = "HBM3"
stacks = 2
capacity = "64GiB"
[chip.dma]
type = "dma"
channels = 4
[mapping]
weights = "hbm"
kv_cache = "hbm"
weight_buffer = "64KiB"
weight_buffers = 2
[workload]
type = "synthetic"
phase = "decode"
batch = 4
context = 64
steps = 2
distribution = "uniform"
)";
  cfg.close();
  run_and_check("'" + (dir / "dram.toml").string() + "'", "dram");
  fs::remove_all(dir);
}

TEST(Timeline, RecordingChangesNoStatistic) {
  const fs::path dir = fresh_dir("timeline_same");
  ASSERT_EQ(run_moesim("run configs/mixtral_decode_4chip_ring.toml --quiet --out '" +
                       (dir / "a").string() + "'")
                .code,
            0);
  ASSERT_EQ(run_moesim("run configs/mixtral_decode_4chip_ring.toml --quiet --out '" +
                       (dir / "b").string() + "' --timeline '" + (dir / "t.json").string() +
                       "' --timeline-steps 2:5")
                .code,
            0);
  const std::string a = read_text(dir / "a" / "stats.json");
  std::string b = read_text(dir / "b" / "stats.json");
  // wall time aside (it is not in stats.json), the files are byte-identical.
  EXPECT_EQ(a, b);
  EXPECT_EQ(read_text(dir / "a" / "expert_load.csv"), read_text(dir / "b" / "expert_load.csv"));
  fs::remove_all(dir);
}

TEST(Timeline, WindowRecordsOnlyItsSteps) {
  const fs::path dir = fresh_dir("timeline_window");
  const fs::path tl = dir / "t.json";
  const CliResult r = run_moesim("run configs/mixtral_decode.toml --quiet --out '" + dir.string() +
                                 "' --timeline '" + tl.string() + "' --timeline-steps 3:5");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string text = read_text(tl);
  EXPECT_NE(text.find("\"name\":\"step 3\""), std::string::npos);
  EXPECT_NE(text.find("\"name\":\"step 4\""), std::string::npos);
  EXPECT_EQ(text.find("\"name\":\"step 2\""), std::string::npos);
  EXPECT_EQ(text.find("\"name\":\"step 5\""), std::string::npos);
  EXPECT_NE(text.find("\"steps_first\":3,\"steps_recorded\":2"), std::string::npos);
  const CliResult c = check(tl, dir / "stats.json", "--partial");
  EXPECT_EQ(c.code, 0) << c.out;
  fs::remove_all(dir);
}

TEST(Timeline, DefaultCapRecordsTheFirstStepsAndSaysSo) {
  const fs::path dir = fresh_dir("timeline_cap");
  const fs::path tl = dir / "t.json";
  const CliResult r = run_moesim(
      "run configs/bench/mixtral_decode_b64.toml --quiet --set workload.steps=103 "
      "--set model.layers=2 --out '" +
      dir.string() + "' --timeline '" + tl.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err,
            "moesim: timeline: recorded steps 0 to 99 of 103 (the default cap of 100 "
            "steps); --timeline-steps A:B records others (" +
                tl.string() + ")\n");
  const std::string text = read_text(tl);
  EXPECT_NE(text.find("\"steps_first\":0,\"steps_recorded\":100"), std::string::npos);
  EXPECT_EQ(text.find("\"name\":\"step 100\""), std::string::npos);
  EXPECT_EQ(check(tl, dir / "stats.json", "--partial").code, 0);
  fs::remove_all(dir);
}

TEST(Timeline, WindowPastTheRunGivesAnEmptyValidFileAndANote) {
  const fs::path dir = fresh_dir("timeline_past");
  const fs::path tl = dir / "t.json";
  const CliResult r = run_moesim("run configs/mixtral_decode.toml --quiet --out '" + dir.string() +
                                 "' --timeline '" + tl.string() + "' --timeline-steps 100:");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "moesim: timeline: the run has 16 steps, none of them from step 100 on: " +
                       tl.string() + " holds no step\n");
  EXPECT_EQ(check(tl, dir / "stats.json", "--partial").code, 0);
  fs::remove_all(dir);
}

TEST(Timeline, FailedRunLeavesNoTimeline) {
  const fs::path dir = fresh_dir("timeline_failed");
  // The shipped trace, cut after a few steps by a malformed record.
  std::ifstream in(kSource / "workloads" / "traces" / "mixtral_decode_b16.csv");
  std::ofstream trace(dir / "bad.csv");
  std::string line;
  for (int i = 0; i < 2000 && std::getline(in, line); ++i) trace << line << "\n";
  trace << "this,is,not,a,record\n";
  trace.close();
  std::ofstream cfg(dir / "bad.toml");
  cfg << "include = [\"" << (kSource / "configs" / "hw" / "sn40l_like.toml").string() << "\", \""
      << (kSource / "workloads" / "models" / "mixtral_8x7b.toml").string() << "\"]\n"
      << "[model]\nweight_bytes = 1\n[workload]\ntype = \"trace\"\npath = \""
      << (dir / "bad.csv").string() << "\"\n";
  cfg.close();
  const fs::path tl = dir / "t.json";
  {
    std::ofstream stale(tl);
    stale << "{\"traceEvents\":[]}\n";  // an earlier run's file must go too
  }
  const CliResult r = run_moesim("run '" + (dir / "bad.toml").string() + "' --quiet --out '" +
                                 (dir / "out").string() + "' --timeline '" + tl.string() + "'");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("bad.csv"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tl));
  EXPECT_FALSE(fs::exists(tl.string() + ".tmp"));
  fs::remove_all(dir);
}

TEST(Timeline, BadOptionValuesExitTwoWithOneMessage) {
  const fs::path dir = fresh_dir("timeline_bad");
  const std::string run = "run configs/mixtral_decode.toml --quiet --out '" + dir.string() + "' ";
  struct Case {
    std::string args;
    std::string message;
  };
  const std::string steps_form =
      "--timeline-steps expects A:B (steps A to B-1, counted from 0; A: or :B leave one end "
      "open), got ";
  const std::string tl = (dir / "t.json").string();
  const Case cases[] = {
      {"--timeline ''", "run: --timeline expects a file name, got '' (see 'moesim run --help')"},
      {"--timeline", "run: --timeline needs a value (see 'moesim run --help')"},
      {"--timeline '" + dir.string() + "'",
       "run: --timeline " + dir.string() +
           ": is a directory, expected a file name (see 'moesim run --help')"},
      {"--timeline /nonexistent_moesim_dir/t.json",
       "--timeline /nonexistent_moesim_dir/t.json: cannot write (No such file or directory)"},
      {"--timeline-steps 0:4",
       "run: --timeline-steps needs --timeline FILE (see 'moesim run --help')"},
      {"--timeline " + tl + " --timeline-steps 5", steps_form + "'5'"},
      {"--timeline " + tl + " --timeline-steps a:b", steps_form + "'a:b'"},
      {"--timeline " + tl + " --timeline-steps :", steps_form + "':'"},
      {"--timeline " + tl + " --timeline-steps 1:2:3", steps_form + "'1:2:3'"},
      {"--timeline " + tl + " --timeline-steps -1:3", steps_form + "'-1:3'"},
      {"--timeline " + tl + " --timeline-steps 4:4",
       "--timeline-steps 4:4: the window is empty (B must be greater than A)"},
      {"--timeline " + tl + " --timeline-steps 5:2",
       "--timeline-steps 5:2: the window is empty (B must be greater than A)"},
  };
  for (const Case& c : cases) {
    const CliResult r = run_moesim(run + c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_EQ(r.err, "moesim: error: " + c.message + "\n") << c.args;
    EXPECT_FALSE(fs::exists(dir / "stats.json")) << c.args;
    EXPECT_FALSE(fs::exists(tl)) << c.args;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace moesim
