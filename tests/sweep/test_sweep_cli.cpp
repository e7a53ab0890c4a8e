// `moesim sweep` end to end: errors in specs that need the base config, failing and timed-out
// points, kill + resume, a torn last line, the directory lock, --list-points, and the example
// specs in configs/sweeps/.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cli_runner.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using testing_support::fresh_dir;
using testing_support::read_text;
using testing_support::run_moesim;

const std::string kBase = std::string(MOESIM_SOURCE_DIR) + "/configs/mixtral_decode.toml";

/// Writes a spec into `dir` with base = the Mixtral decode config and one decode step.
fs::path write_spec(const fs::path& dir, const std::string& body,
                    const std::string& name = "s.toml") {
  const fs::path p = dir / name;
  std::ofstream f(p);
  f << "[sweep]\nbase = \"" << kBase << "\"\n[set]\nworkload.max_steps = 1\n" << body;
  return p;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    out.push_back(text.substr(pos, nl - pos));
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return out;
}

/// A row without its wall time (which varies from run to run).
std::string without_wall(const std::string& row) {
  const size_t at = row.find("\"wall_s\":");
  if (at == std::string::npos) return row;
  const size_t end = row.find(',', at);
  return row.substr(0, at) + row.substr(end + 1);
}

/// The rows of results.jsonl without wall times, sorted by id.
std::vector<std::string> rows_of(const fs::path& dir) {
  std::vector<std::string> rows;
  for (const std::string& l : lines_of(read_text(dir / "results.jsonl"))) {
    rows.push_back(without_wall(l));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::string error_of(const std::string& args) {
  const auto r = run_moesim(args);
  EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
  return r.err;
}

const std::string kAxis =
    "[axis.bw]\nkey = \"chip.memory.hbm.bandwidth\"\nvalues = [\"1TB/s\", \"2TB/s\"]\n";

TEST(SweepCli, ErrorsNeedingTheBaseConfig) {
  const fs::path d = fresh_dir("sweep_errors");
  const std::string s = (d / "s.toml").string();
  write_spec(d, "[axis.bw]\nkey = \"chip.memory.hbm.bandwith\"\nvalues = [\"1TB/s\"]\n");
  EXPECT_EQ(error_of("sweep " + s),
            "moesim: error: " + s +
                ":6:7: axis.bw.key: 'chip.memory.hbm.bandwith' is not a key of " + kBase +
                " (did you mean 'chip.memory.hbm.bandwidth'?)\n");
  {
    std::ofstream f(s);
    f << "[sweep]\nbase = \"" << kBase << "\"\n[set]\nworkload.max_step = 1\n" << kAxis;
  }
  EXPECT_EQ(error_of("sweep " + s), "moesim: error: " + s +
                                        ":4:21: set.workload.max_step: 'workload.max_step' is not "
                                        "a key of " +
                                        kBase + " (did you mean 'workload.max_steps'?)\n");
  write_spec(d, "[constraints]\nfits = \"chip.sram.capacty >= model.expert_bytes\"\n" + kAxis);
  EXPECT_EQ(error_of("sweep " + s), "moesim: error: " + s +
                                        ":6:9: constraints.fits: unknown name 'chip.sram.capacty' "
                                        "(did you mean 'chip.sram.capacity'?)\n");
  write_spec(d, "[constraints]\nfits = \"chip.sram.capacity >= \"\n" + kAxis);
  EXPECT_EQ(error_of("sweep " + s),
            "moesim: error: " + s + ":6:31: constraints.fits: unexpected end of expression\n");
  write_spec(d, "[constraints]\nfits = \"chip.sram.type < 3\"\n" + kAxis);
  EXPECT_EQ(error_of("sweep " + s),
            "moesim: error: " + s + ":6:24: constraints.fits: '<' needs numbers, got a string\n");
  {
    std::ofstream f(s);
    f << "[sweep]\nbase = \"nowhere.toml\"\n" << kAxis;
  }
  EXPECT_EQ(error_of("sweep " + s), "moesim: error: " + s +
                                        ":2:8: sweep.base: no such config file '" +
                                        (d / "nowhere.toml").string() + "'\n");
  {
    std::ofstream f(s);
    f << "[sweep]\nbase = \"" << kBase << "\"\n[set]\nmapping.weight_buffers = 0\n" << kAxis;
  }
  EXPECT_EQ(error_of("sweep " + s),
            "moesim: error: " + s +
                ":4:26: set.mapping.weight_buffers: 0 is out of range (expected 1 to 64)\n");
  {
    std::ofstream f(s);
    f << "[sweep]\nbase = \"" << kBase << "\"\n[set]\nchip.sram.capacity = \"64MiB\"\n" << kAxis;
  }
  EXPECT_EQ(error_of("sweep " + s),
            "moesim: error: " + s + ":4:22: set: makes the base config invalid (" +
                std::string(MOESIM_SOURCE_DIR) +
                "/configs/hw/sn40l_like.toml:55:17: mapping.weight_buffer: 268435456 B (256.0 MiB) "
                "does not fit in chip.sram.capacity = 67108864 B (64.0 MiB))\n");
  EXPECT_EQ(error_of("sweep " + (d / "absent.toml").string()),
            "moesim: error: " + (d / "absent.toml").string() +
                ": cannot open sweep spec (No such file or directory)\n");
}

TEST(SweepCli, UsageErrors) {
  const fs::path d = fresh_dir("sweep_usage");
  const std::string s = write_spec(d, kAxis).string();
  EXPECT_EQ(error_of("sweep"),
            "moesim: error: sweep: missing SWEEP.toml (see 'moesim sweep --help')\n");
  EXPECT_EQ(error_of("sweep " + s + " -j 0"),
            "moesim: error: sweep: -j expects 1 to 1024 (see 'moesim sweep --help')\n");
  EXPECT_EQ(error_of("sweep " + s + " --jobs x"),
            "moesim: error: sweep: --jobs expects a non-negative integer, got 'x' (see 'moesim "
            "sweep --help')\n");
  EXPECT_EQ(error_of("sweep " + s + " --slice 2/2"),
            "moesim: error: sweep: --slice expects K/N (0 <= K < N), got '2/2' (see 'moesim sweep "
            "--help')\n");
  EXPECT_EQ(error_of("sweep " + s + " --slice 3"),
            "moesim: error: sweep: --slice expects K/N (0 <= K < N), got '3' (see 'moesim sweep "
            "--help')\n");
  EXPECT_EQ(error_of("sweep " + s + " --timeout 5"),
            "moesim: error: sweep: --timeout expects a time such as \"30s\", got '5' (see 'moesim "
            "sweep --help')\n");
  EXPECT_EQ(error_of("sweep " + s + " --resum"),
            "moesim: error: sweep: unknown option '--resum' (did you mean '--resume'?) (see "
            "'moesim sweep --help')\n");
  EXPECT_EQ(error_of("sweep " + s + " other.toml"),
            "moesim: error: sweep: unexpected argument 'other.toml' (see 'moesim sweep --help')\n");
  EXPECT_EQ(error_of("sweep " + s + " --out"),
            "moesim: error: sweep: --out needs a value (see 'moesim sweep --help')\n");
  EXPECT_EQ(error_of("sweep " + s + " --out /dev/null/x"),
            "moesim: error: /dev/null/x: cannot create output directory (Not a directory)\n");
  const auto help = run_moesim("sweep --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("usage: moesim sweep SWEEP.toml"), std::string::npos);
}

TEST(SweepCli, FailingAndTimedOutPointsAreIsolated) {
  const fs::path d = fresh_dir("sweep_fail");
  const std::string trace =
      std::string(MOESIM_SOURCE_DIR) + "/workloads/traces/mixtral_decode_b16.csv";
  const std::string s =
      write_spec(d,
                 "[metrics]\nhbm_util = \"chip0.hbm.bandwidth_utilisation\"\n"
                 "[constraints]\nsram_holds_expert = \"chip.sram.capacity >= model.expert_bytes\"\n"
                 "[axis.trace]\nkey = \"workload.path\"\nvalues = [\"" +
                     trace + "\", \"" + (d / "missing.csv").string() +
                     "\"]\n[axis.sram]\nkey = \"chip.sram.capacity\"\nvalues = [\"520MiB\", "
                     "\"160MiB\"]\n[set.mapping]\nweight_buffer = \"32MiB\"\n")
          .string();
  const auto r = run_moesim("sweep " + s + " -j 2 --out " + (d / "out").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = lines_of(read_text(d / "out" / "results.csv"));
  ASSERT_EQ(rows.size(), 5u);
  std::vector<std::string> sorted(rows.begin() + 1, rows.end());
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted[0].substr(0, 31), "p0000,0,ok," + trace.substr(0, 20));
  EXPECT_EQ(sorted[1].substr(0, 17), "p0001,1,skipped,/");
  EXPECT_NE(sorted[1].find(",constraint 'sram_holds_expert' does not hold (chip.sram.capacity >= "
                           "model.expert_bytes),"),
            std::string::npos)
      << sorted[1];
  EXPECT_EQ(sorted[2].substr(0, 15), "p0002,2,failed,");
  EXPECT_NE(sorted[2].find(",\"moesim: error: --set workload.path: cannot open trace \"\""),
            std::string::npos)
      << sorted[2];
  EXPECT_EQ(sorted[2].substr(sorted[2].size() - 13), ",points/p0002");
  EXPECT_EQ(sorted[3].substr(0, 16), "p0003,3,skipped,");
  EXPECT_TRUE(fs::exists(d / "out" / "points" / "p0000" / "stats.json"));
  EXPECT_TRUE(fs::exists(d / "out" / "points" / "p0002" / "stderr.log"));
  EXPECT_FALSE(fs::exists(d / "out" / "points" / "p0001"));

  // A wall-time limit no process can meet: every run point times out, the sweep goes on.
  const auto t = run_moesim("sweep " + s + " --timeout 1ms --out " + (d / "t").string());
  ASSERT_EQ(t.code, 0) << t.err;
  const std::string jsonl = read_text(d / "t" / "results.jsonl");
  EXPECT_NE(jsonl.find("\"id\":\"p0000\",\"index\":0,\"status\":\"timeout\""), std::string::npos);
  EXPECT_NE(jsonl.find("\"error\":\"timed out after 1ms (killed)\",\"out\":\"points/p0000\""),
            std::string::npos);
  EXPECT_NE(jsonl.find("\"id\":\"p0002\",\"index\":2,\"status\":\"timeout\""), std::string::npos);
  EXPECT_NE(read_text(d / "t" / "sweep.toml").find("[run]\ntimeout = \"1ms\"\n"),
            std::string::npos);
}

TEST(SweepCli, ForkedPointsGiveTheSameRowsAsExecutedOnes) {
  const fs::path d = fresh_dir("sweep_fork");
  const std::string s =
      write_spec(d, "[axis.trace]\nkey = \"workload.path\"\nvalues = [\"" +
                        std::string(MOESIM_SOURCE_DIR) +
                        "/workloads/traces/mixtral_decode_b16.csv\", \"" +
                        (d / "missing.csv").string() +
                        "\"]\n[axis.bw]\nkey = \"chip.memory.hbm.bandwidth\"\nvalues = [\"1TB/s\", "
                        "\"2TB/s\"]\n")
          .string();
  const auto a = run_moesim("sweep " + s + " -j 2 --quiet --out " + (d / "exec").string());
  const auto b = run_moesim("sweep " + s + " -j 2 --quiet --fork --out " + (d / "fork").string());
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(b.code, 0) << b.err;
  const auto rows = rows_of(d / "fork");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows, rows_of(d / "exec"));
  EXPECT_NE(rows[0].find("\"status\":\"ok\""), std::string::npos);
  EXPECT_NE(rows[3].find("\"status\":\"failed\""), std::string::npos);
  EXPECT_EQ(read_text(d / "fork" / "points" / "p0001" / "stats.json"),
            read_text(d / "exec" / "points" / "p0001" / "stats.json"));
}

TEST(SweepCli, KilledSweepResumesWithoutLossOrDuplicates) {
  const fs::path d = fresh_dir("sweep_kill");
  const std::string s =
      write_spec(d,
                 "[axis.bw]\nkey = \"chip.memory.hbm.bandwidth\"\nfrom = "
                 "\"1TB/s\"\nto = \"4TB/s\"\nsteps = 8\n"
                 "[axis.bufs]\nkey = \"mapping.weight_buffers\"\nvalues = [2, 3, 4]\n")
          .string();
  const fs::path out = d / "out";
  // Start the sweep in a child, SIGKILL it once some rows are written.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    ::execl(MOESIM_BIN, MOESIM_BIN, "sweep", s.c_str(), "--out", out.c_str(), "-j", "2",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  size_t rows_at_kill = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    rows_at_kill = lines_of(read_text(out / "results.jsonl")).size();
    if (rows_at_kill >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the sweep ended before it could be killed";
  ASSERT_GE(rows_at_kill, 3u);
  const size_t rows_after_kill = lines_of(read_text(out / "results.jsonl")).size();
  ASSERT_LT(rows_after_kill, 24u);

  // Tear the last line as a crash inside write() would.
  {
    std::ofstream f(out / "results.jsonl", std::ios::app);
    f << "{\"id\":\"p0023\",\"index\":23,\"sta";
  }
  const auto r = run_moesim("sweep " + s + " --out " + out.string() + " -j 2 --resume");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("dropped a torn last line"), std::string::npos) << r.err;
  const auto rows = rows_of(out);
  ASSERT_EQ(rows.size(), 24u);
  std::set<std::string> ids;
  for (const std::string& row : rows) ids.insert(row.substr(7, 5));
  EXPECT_EQ(ids.size(), 24u);
  // Same rows as an uninterrupted sweep, and results.csv holds the same points.
  const auto clean = run_moesim("sweep " + s + " --out " + (d / "clean").string() + " -j 2");
  ASSERT_EQ(clean.code, 0) << clean.err;
  EXPECT_EQ(rows, rows_of(d / "clean"));
  EXPECT_EQ(lines_of(read_text(out / "results.csv")).size(), 25u);
  EXPECT_EQ(read_text(out / "sweep.toml"), read_text(d / "clean" / "sweep.toml"));

  // Resuming a finished sweep runs nothing; without --resume the directory is refused.
  const auto again = run_moesim("sweep " + s + " --out " + out.string() + " --resume");
  EXPECT_EQ(again.code, 0);
  EXPECT_EQ(rows_of(out).size(), 24u);
  EXPECT_EQ(error_of("sweep " + s + " --out " + out.string()),
            "moesim: error: " + out.string() +
                ": holds the results of an earlier sweep (add --resume to continue it, or choose "
                "another --out)\n");
}

TEST(SweepCli, ResumeRefusesAnotherSpecAndLockedDirectory) {
  const fs::path d = fresh_dir("sweep_other");
  const std::string s = write_spec(d, kAxis).string();
  const fs::path out = d / "out";
  ASSERT_EQ(run_moesim("sweep " + s + " --quiet --out " + out.string()).code, 0);
  const std::string hash_line = lines_of(read_text(out / "sweep.toml"))[1];
  const std::string s2 =
      write_spec(
          d, "[axis.bw]\nkey = \"chip.memory.hbm.bandwidth\"\nvalues = [\"1TB/s\", \"3TB/s\"]\n",
          "s2.toml")
          .string();
  const std::string err = error_of("sweep " + s2 + " --resume --out " + out.string());
  EXPECT_EQ(err.substr(0, 15 + (out / "sweep.toml").string().size() + 25),
            "moesim: error: " + (out / "sweep.toml").string() + ": the results in " +
                out.string().substr(0, 8));
  EXPECT_NE(err.find("come from another sweep spec (spec_hash " + hash_line.substr(14)),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("resume with the spec that made them, or choose another --out\n"),
            std::string::npos);

  const int fd = ::open((out / ".lock").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(
      error_of("sweep " + s + " --resume --out " + out.string()),
      "moesim: error: " + out.string() + ": another moesim sweep is running in this directory\n");
  ::close(fd);
}

TEST(SweepCli, ListPoints) {
  const fs::path d = fresh_dir("sweep_list");
  const std::string s = write_spec(d, "[constraints]\nbig = \"bw > 1.5TB/s\"\n" + kAxis).string();
  const auto r = run_moesim("sweep " + s + " --list-points");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].substr(0, 44),
            "{\"sweep\":\"s\",\"spec_hash\":\"" + lines[0].substr(26, 16) + "\",");
  EXPECT_NE(lines[0].find(",\"axes\":[\"bw\"],\"summary\":[\"cycles\",\"clock_hz\","),
            std::string::npos);
  EXPECT_EQ(lines[1],
            "{\"id\":\"p0000\",\"index\":0,\"params\":{\"bw\":\"1TB/s\"},\"overrides\":["
            "\"workload.max_steps=1\",\"chip.memory.hbm.bandwidth=\\\"1TB/s\\\"\"],\"status\":"
            "\"skipped\",\"error\":\"constraint 'big' does not hold (bw > 1.5TB/s)\"}");
  EXPECT_EQ(lines[2],
            "{\"id\":\"p0001\",\"index\":1,\"params\":{\"bw\":\"2TB/s\"},\"overrides\":["
            "\"workload.max_steps=1\",\"chip.memory.hbm.bandwidth=\\\"2TB/s\\\"\"],\"status\":"
            "\"pending\",\"error\":\"\"}");
}

/// The number after `"name":` in a JSON row (a metric or summary value).
double number_in(const std::string& row, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  const size_t at = row.find(key);
  if (at == std::string::npos) throw std::runtime_error("no " + name + " in " + row);
  return std::stod(row.substr(at + key.size()));
}

// Every example spec in configs/sweeps/ loads and lists its points; the points skipped (an
// invalid config or a false constraint) are exactly as many as the example means to skip.
TEST(SweepExamples, EveryShippedSpecListsItsPoints) {
  struct Expected {
    size_t points;
    size_t skipped;  // mixtral_hbm_x_sram: its 128 MiB and 256 MiB SRAM points, by design
  };
  const std::map<std::string, Expected> expected = {
      {"mixtral_hbm_x_sram.toml", {20, 8}},
      {"mixtral_prefill_arrays_x_hbm.toml", {24, 0}},
      {"olmoe_cache_policy_x_size.toml", {36, 0}},
      {"deepseek_placement_x_replicas_x_chips.toml", {18, 0}},
      {"edge_moe_ablation.toml", {32, 0}},
      {"edge_moe_attention_p.toml", {12, 0}},
  };
  std::set<std::string> seen;
  for (const auto& e : fs::directory_iterator(fs::path(MOESIM_SOURCE_DIR) / "configs/sweeps")) {
    if (e.path().extension() != ".toml") continue;
    const std::string name = e.path().filename().string();
    seen.insert(name);
    ASSERT_EQ(expected.count(name), 1u) << name << " has no expected point count here";
    const auto r = run_moesim("sweep " + e.path().string() + " --list-points");
    ASSERT_EQ(r.code, 0) << name << ": " << r.err;
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), expected.at(name).points + 1) << name;
    EXPECT_NE(lines[0].find(",\"points\":" + std::to_string(expected.at(name).points) + ","),
              std::string::npos)
        << lines[0];
    size_t skipped = 0;
    for (size_t i = 1; i < lines.size(); ++i) {
      if (lines[i].find("\"status\":\"pending\"") != std::string::npos) continue;
      ++skipped;
      EXPECT_NE(lines[i].find("\"status\":\"skipped\""), std::string::npos)
          << name << ": " << lines[i];
    }
    EXPECT_EQ(skipped, expected.at(name).skipped) << name;
  }
  EXPECT_EQ(seen.size(), expected.size());
}

// The expert-cache example runs: one slice of it (the four policies at 6 GiB = 512 of the
// 1,024 experts) gives ok points where Belady's MIN, the optimum, hits at least as often as
// every other policy, and every policy hits.
TEST(SweepExamples, CachePolicyExampleRunsAndBeladyBoundsTheOthers) {
  const fs::path d = fresh_dir("sweep_cache_example");
  const auto r = run_moesim(
      "sweep configs/sweeps/olmoe_cache_policy_x_size.toml --slice 7/9 -j 2 "
      "--quiet --out " +
      (d / "out").string());
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<std::string, double> hit_rate;
  for (const std::string& row : lines_of(read_text(d / "out/slices/7-of-9/results.jsonl"))) {
    ASSERT_NE(row.find("\"status\":\"ok\""), std::string::npos) << row;
    ASSERT_NE(row.find("\"capacity\":\"6GiB\""), std::string::npos) << row;
    const size_t at = row.find("\"policy\":\"") + 10;
    hit_rate[row.substr(at, row.find('"', at) - at)] = number_in(row, "hit_rate");
  }
  ASSERT_EQ(hit_rate.size(), 4u);
  for (const auto& [policy, rate] : hit_rate) {
    EXPECT_GT(rate, 0.0) << policy;
    EXPECT_GE(hit_rate.at("belady"), rate) << policy;
  }
  EXPECT_GT(hit_rate.at("belady"), hit_rate.at("lru"));
}

}  // namespace
}  // namespace moesim
