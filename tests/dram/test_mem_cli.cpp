// `moesim mem`: a good run per model type (JSON fields present, numbers plausible against the
// preset's peak), a trace run, determinism, and bad inputs with their exact messages.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/regression/cli_runner.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using testing_support::fresh_dir;
using testing_support::read_text;
using testing_support::run_moesim;

/// The number after `"name": ` in our JSON (fixed layout), or NaN when absent/null.
double json_number(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\": ";
  const size_t at = json.find(key);
  if (at == std::string::npos) return std::nan("");
  const std::string v = json.substr(at + key.size(), 32);
  if (v.rfind("null", 0) == 0) return std::nan("");
  return std::stod(v);
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream f(p);
  f << text;
}

TEST(MemCli, HelpAndMainHelpMentionMem) {
  auto r = run_moesim("mem --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("usage: moesim mem CONFIG"), std::string::npos);
  r = run_moesim("--help");
  EXPECT_NE(r.out.find("mem CONFIG"), std::string::npos);
}

TEST(MemCli, DetailedSequentialRunWritesPlausibleJson) {
  const fs::path dir = fresh_dir("mem_seq");
  const auto r = run_moesim(
      "mem configs/mem/hbm3_detailed.toml --pattern seq --requests 100000 "
      "--json " +
      (dir / "r.json").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  for (const char* s : {"bandwidth", "GB/s", "% of peak", "latency", "ns", "row hits", "refresh"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  const std::string j = read_text(dir / "r.json");
  EXPECT_FALSE(fs::exists(dir / "r.json.tmp"));
  EXPECT_NE(j.find("\"schema_version\": 1"), std::string::npos);
  EXPECT_NE(j.find("\"preset\": \"HBM3\""), std::string::npos);
  EXPECT_NE(j.find("\"pattern\": \"sequential\""), std::string::npos);
  const double peak = json_number(j, "peak_bytes_per_s");
  EXPECT_DOUBLE_EQ(peak, 819.2e9);
  EXPECT_EQ(json_number(j, "requests"), 100000);
  EXPECT_EQ(json_number(j, "bytes"), 100000 * 64);
  const double bw = json_number(j, "bandwidth_bytes_per_s");
  EXPECT_GT(bw, 0.8 * peak);  // streaming reads: about 90 % of peak
  EXPECT_LE(bw, peak);
  EXPECT_NEAR(json_number(j, "bandwidth_fraction_of_peak"), bw / peak, 1e-12);
  const double mean = json_number(j, "mean_latency_s");
  const double p50 = json_number(j, "p50_latency_s");
  const double p99 = json_number(j, "p99_latency_s");
  EXPECT_GT(mean, 15e-9);  // at least tRCD + CL on a row miss
  EXPECT_LT(mean, 1e-6);
  EXPECT_LE(p50, p99);
  EXPECT_GT(json_number(j, "row_hit_rate"), 0.8);
  const double refresh = json_number(j, "refresh_overhead");
  EXPECT_GT(refresh, 0.0);
  EXPECT_LT(refresh, 0.15);  // tRFC / tREFI = 9 %
}

TEST(MemCli, RandomIsSlowerThanSequentialAndDeterministic) {
  const fs::path dir = fresh_dir("mem_rand");
  const std::string base = "mem configs/mem/ddr4_detailed.toml --pattern random --requests 5000 ";
  ASSERT_EQ(run_moesim(base + "--json " + (dir / "a.json").string()).code, 0);
  ASSERT_EQ(run_moesim(base + "--json " + (dir / "b.json").string()).code, 0);
  const std::string a = read_text(dir / "a.json");
  EXPECT_EQ(a, read_text(dir / "b.json"));
  const double frac = json_number(a, "bandwidth_fraction_of_peak");
  EXPECT_GT(frac, 0.3);  // ACT-rate bound: 47 % of peak
  EXPECT_LT(frac, 0.5);
  EXPECT_EQ(json_number(a, "row_hit_rate"), 0);
}

TEST(MemCli, FastModelRunHasNoRowStats) {
  const fs::path dir = fresh_dir("mem_fast");
  write(dir / "fast.toml",
        "[memory]\ntype = \"fast\"\ncapacity = \"16GiB\"\nbandwidth = \"819.2GB/s\"\n"
        "efficiency = 0.9\nlatency = \"40ns\"\n");
  const auto r = run_moesim("mem " + (dir / "fast.toml").string() +
                            " --pattern random --requests 10000 --window 1024 --json " +
                            (dir / "r.json").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string j = read_text(dir / "r.json");
  // Processor sharing with pipelined latency: a closed-loop host with W requests of 64 B
  // outstanding gets min(0.9 x peak, W x 64 / (40 ns + 64 B / (0.9 x peak))): here the
  // bandwidth (65.5 kB in flight against 29.5 kB for 40 ns at 737 GB/s).
  const double w = 1024 * 64.0, bw = 0.9 * 819.2e9;
  EXPECT_GT(w / (40e-9 + 64 / bw), bw);
  EXPECT_NEAR(json_number(j, "bandwidth_bytes_per_s"), bw, 0.01 * bw);
  EXPECT_NE(j.find("\"row_hit_rate\": null"), std::string::npos);
  EXPECT_NE(j.find("\"preset\": null"), std::string::npos);
  EXPECT_NE(r.out.find("n/a"), std::string::npos);
}

TEST(MemCli, BankedSramBanksAndInterleave) {
  // configs/mem/sram_banked.toml: 16 banks x 64 B, 16 ports of one 64-byte access a cycle.
  const fs::path dir = fresh_dir("mem_sram");
  auto run = [&](const std::string& cfg, const std::string& args, const std::string& json) {
    const auto r =
        run_moesim("mem " + cfg + " " + args + " --requests 20000 --json " + (dir / json).string());
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("bank conflicts"), std::string::npos) << r.out;
    return read_text(dir / json);
  };
  const std::string seq = run("configs/mem/sram_banked.toml", "--pattern seq", "seq.json");
  EXPECT_NE(seq.find("\"type\": \"banked_sram\""), std::string::npos);
  EXPECT_DOUBLE_EQ(json_number(seq, "peak_bytes_per_s"), 16 * 64 * 1e9);
  // 16 requests a cycle on 16 different banks: 1250 cycles plus the 2-cycle latency.
  EXPECT_NEAR(json_number(seq, "bandwidth_fraction_of_peak"), 1250.0 / 1252, 1e-9);
  EXPECT_EQ(json_number(seq, "bank_conflicts"), 0);
  EXPECT_TRUE(std::isnan(json_number(seq, "row_hit_rate")));
  // A stride of banks x bank_width puts every request in bank 0: one a cycle, 1/16 of peak.
  const std::string one =
      run("configs/mem/sram_banked.toml", "--pattern strided --stride 1024", "one.json");
  EXPECT_NEAR(json_number(one, "bandwidth_fraction_of_peak"), 20000.0 / 16 / 20002, 1e-9);
  EXPECT_EQ(json_number(one, "conflict_stall_cycles"), 19999);
  // XOR interleaving spreads that stride over every bank again.
  std::string xr = read_text(fs::path(MOESIM_SOURCE_DIR) / "configs" / "mem" / "sram_banked.toml");
  const std::string word = "interleave = \"word\"";
  ASSERT_NE(xr.find(word), std::string::npos);
  xr.replace(xr.find(word), word.size(), "interleave = \"xor\"");
  write(dir / "xor.toml", xr);
  const std::string spread =
      run((dir / "xor.toml").string(), "--pattern strided --stride 1024", "xor.json");
  EXPECT_GT(json_number(spread, "bandwidth_fraction_of_peak"), 0.99);
}

TEST(MemCli, TraceRun) {
  const fs::path dir = fresh_dir("mem_trace");
  write(dir / "t.trace", "# cycle address op\n0 0x0 R\n0 64 R\n10 0x1000 W\n\n200 128 r # c\n");
  const auto r = run_moesim("mem configs/mem/hbm3_detailed.toml --trace " +
                            (dir / "t.trace").string() + " --json " + (dir / "r.json").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string j = read_text(dir / "r.json");
  EXPECT_EQ(json_number(j, "requests"), 4);
  EXPECT_NE(j.find("\"trace\": "), std::string::npos);
  // The last request issues at cycle 200 (125 ns) and needs at least tRCD + CL after it.
  EXPECT_GT(json_number(j, "simulated_s"), 125e-9 + 15e-9);
}

TEST(MemCli, StacksMultiplyPeakAndBandwidth) {
  const fs::path dir = fresh_dir("mem_stacks");
  write(dir / "x3.toml",
        "[memory]\ntype = \"dram\"\npreset = \"HBM3\"\nstacks = 3\n"
        "capacity = \"48GiB\"\n");
  const auto r = run_moesim("mem " + (dir / "x3.toml").string() +
                            " --pattern seq --requests 60000 --json " + (dir / "r.json").string());
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string j = read_text(dir / "r.json");
  EXPECT_DOUBLE_EQ(json_number(j, "peak_bytes_per_s"), 3 * 819.2e9);
  EXPECT_EQ(json_number(j, "stacks"), 3);
  EXPECT_EQ(json_number(j, "window"), 3 * 32 * 32);
  EXPECT_GT(json_number(j, "bandwidth_fraction_of_peak"), 0.8);
}

struct BadCase {
  std::string args;
  std::string err;
};

/// The value of statistic `name` in a stats.json (`"name": {"value": V, ...}`), or NaN.
double stat_value(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\": {\"value\": ";
  const size_t at = json.find(key);
  if (at == std::string::npos) return std::nan("");
  return std::stod(json.substr(at + key.size(), 32));
}

// The approximate stream skip on a whole Mixtral-8x7B decode step with detailed HBM3, against
// the same step with the skip off, simulated once (318 s of CPU) and recorded here:
//   moesim run configs/bench/mixtral_decode_detailed.toml --set workload.max_steps=1
// gave time_s = 0.03644634875 and chip0.hbm.requests = 693157888.
TEST(StreamSkipFullSystem, MixtralDecodeStepIsCloseToTheFullSimulation) {
  const fs::path dir = fresh_dir("skip_mixtral");
  const auto r =
      run_moesim("run configs/bench/mixtral_decode_detailed.toml --quiet --out " + dir.string() +
                 " --set workload.max_steps=1 --set chip.memory.hbm.stream_skip=approximate");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string j = read_text(dir / "stats.json");
  const double off_s = 0.03644634875;
  // The skip-off run itself moves by 0.47 % when the chip clock moves by 0.006 %
  // (hw_models/memory/README.md, "Approximate stream skip").
  EXPECT_NEAR(json_number(j, "time_s"), off_s, 0.015 * off_s);
  EXPECT_EQ(stat_value(j, "chip0.hbm.requests"), 693157888.0);
  EXPECT_GT(stat_value(j, "chip0.hbm.stream_skip.fraction"), 0.95);
  EXPECT_GE(stat_value(j, "chip0.hbm.stream_skip.measured"), 1.0);
}

TEST(MemCli, BadInputsExitTwoWithOneExactMessage) {
  const fs::path dir = fresh_dir("mem_bad");
  write(dir / "typo.toml",
        "[memory]\ntype = \"dram\"\npreset = \"HBM3\"\ncapacity = \"16GiB\"\n"
        "queue_depht = 8\n");
  write(dir / "preset.toml", "[memory]\ntype = \"dram\"\npreset = \"HBM5\"\ncapacity = \"1GiB\"\n");
  write(dir / "nomem.toml", "clock = \"1GHz\"\n");
  write(dir / "map.toml",
        "[memory]\ntype = \"dram\"\npreset = \"DDR4-3200\"\ncapacity = "
        "\"1GiB\"\naddress_mapping = \"ro_ba_xx_ch\"\n");
  write(dir / "bad.trace", "0 0x0 R\n5 0x40 X\n");
  write(dir / "late.trace", "0 0x0 R\n18446744073709551615 0x40 R\n");
  const std::string hbm = "configs/mem/hbm3_detailed.toml";
  const std::string d = dir.string();
  const BadCase cases[] = {
      {"mem", "moesim: error: mem: missing CONFIG (see 'moesim mem --help')\n"},
      {"mem " + hbm,
       "moesim: error: mem: expects --pattern or --trace (see 'moesim mem --help')\n"},
      {"mem " + hbm + " --pattern seq",
       "moesim: error: mem: --pattern needs --requests (see 'moesim mem --help')\n"},
      {"mem " + hbm + " --pattern zigzag --requests 5",
       "moesim: error: mem: --pattern expects seq, strided or random, got 'zigzag' (see 'moesim "
       "mem --help')\n"},
      {"mem " + hbm + " --pattern seq --requests -3",
       "moesim: error: mem: --requests expects a non-negative integer, got '-3' (see 'moesim mem "
       "--help')\n"},
      {"mem " + hbm + " --pattern seq --requests 0",
       "moesim: error: mem: --requests must be at least 1 (see 'moesim mem --help')\n"},
      {"mem " + hbm + " --pattern seq --requests 5 --read-ratio 1.5",
       "moesim: error: mem: --read-ratio expects a number in [0, 1], got '1.5' (see 'moesim mem "
       "--help')\n"},
      {"mem " + hbm + " --pattern seq --requests 5 --stride 128",
       "moesim: error: mem: --stride applies to --pattern strided only (see 'moesim mem "
       "--help')\n"},
      {"mem " + hbm + " --pattern seq --requests 5 --reqests 3",
       "moesim: error: mem: unknown option '--reqests' (did you mean '--requests'?) (see 'moesim "
       "mem --help')\n"},
      {"mem " + hbm + " --trace x.trace --pattern seq",
       "moesim: error: mem: --trace cannot be combined with --pattern, --requests, --read-ratio, "
       "--stride or --seed (see 'moesim mem --help')\n"},
      {"mem " + hbm + " --pattern seq --requests 5 --window",
       "moesim: error: mem: --window needs a value (see 'moesim mem --help')\n"},
      {"mem " + hbm + " --trace " + d + "/missing.trace",
       "moesim: error: " + d + "/missing.trace: cannot open memory trace\n"},
      {"mem " + hbm + " --trace " + d + "/bad.trace",
       "moesim: error: " + d +
           "/bad.trace:2: bad operation 'X' (R or W) (expected '<cycle> "
           "<address> R|W', got '5 0x40 X')\n"},
      // Past 2^63 ps: it reported 9223372 s (detailed DRAM: never ended).
      {"mem " + hbm + " --trace " + d + "/late.trace",
       "moesim: error: simulated time would pass 9223372 s (2^63 ps), the representable range, "
       "in the request trace (request cycle 18446744073709551615) at t = 0 s (a bandwidth, "
       "clock or latency far out of range?)\n"},
      {"mem configs/mem/hbm3_fast.toml --trace " + d + "/late.trace",
       "moesim: error: simulated time would pass 9223372 s (2^63 ps), the representable range, "
       "in the request trace (request cycle 18446744073709551615) at t = 0 s (a bandwidth, "
       "clock or latency far out of range?)\n"},
      {"mem " + d + "/typo.toml --pattern seq --requests 5",
       "moesim: error: " + d +
           "/typo.toml:5:1: memory.queue_depht: unknown key for 'dram' (did "
           "you mean 'queue_depth'?)\n"},
      {"mem " + d + "/nomem.toml --pattern seq --requests 5",
       "moesim: error: " + d +
           "/nomem.toml: no [memory] table (expected e.g. [memory] type = "
           "\"dram\")\n"},
      {"mem " + d + "/map.toml --pattern seq --requests 5",
       "moesim: error: " + d +
           "/map.toml:5:19: memory.address_mapping: invalid DRAM address mapping 'ro_ba_xx_ch': "
           "unknown field 'xx' "
           "(expected the fields ro, ba, bg, ch, co and optionally pc, most significant first, "
           "separated by '_', e.g. 'ro_ba_bg_ch_co')\n"},
  };
  for (const BadCase& c : cases) {
    const auto r = run_moesim(c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_EQ(r.err, c.err) << c.args;
    EXPECT_EQ(r.out, "") << c.args;
  }
  const auto r = run_moesim("mem " + d + "/preset.toml --pattern seq --requests 5");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("memory.preset"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("HBM5"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace moesim
