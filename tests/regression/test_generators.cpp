// `moesim trace generate CONFIG OUT`: every shipped generator config in
// workloads/generators runs, writes a readable trace whose header records the generator,
// and gives byte-identical output for the same seed; overrides and command-line errors.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/regression/cli_runner.hpp"
#include "workloads/trace/gen_config.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using testing_support::fresh_dir;
using testing_support::read_text;
using testing_support::run_moesim;

const fs::path kGenerators = fs::path(MOESIM_SOURCE_DIR) / "workloads" / "generators";

std::vector<fs::path> shipped() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kGenerators)) {
    if (e.path().extension() == ".toml") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Generators, EveryShippedConfigRunsAndIsDeterministic) {
  const auto configs = shipped();
  ASSERT_GE(configs.size(), 5u);
  const fs::path dir = fresh_dir("generators");
  for (const fs::path& c : configs) {
    const std::string name = c.stem().string();
    const fs::path a = dir / (name + "_a.moetrace"), b = dir / (name + "_b.moetrace");
    auto r = run_moesim("trace generate '" + c.string() + "' '" + a.string() + "'");
    ASSERT_EQ(r.code, 0) << name << ": " << r.err;
    EXPECT_EQ(r.out.rfind("wrote " + a.string() + ": ", 0), 0u) << r.out;
    r = run_moesim("trace generate '" + c.string() + "' '" + b.string() + "' --quiet");
    ASSERT_EQ(r.code, 0) << name << ": " << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(read_text(a), read_text(b)) << name << ": not byte-identical";
    auto reader = open_trace(a.string());
    EXPECT_EQ(reader->meta().source, "synthetic");
    EXPECT_EQ(reader->meta().extra.at("generator"), "moesim-gen") << name;
    TraceStep step;
    uint64_t steps = 0;
    while (reader->next(step)) ++steps;
    EXPECT_GT(steps, 0u) << name;
    EXPECT_FALSE(fs::exists(a.string() + ".tmp"));
  }
  fs::remove_all(dir);
}

TEST(Generators, SetAndSeedOverrideTheConfig) {
  const fs::path dir = fresh_dir("generators_set");
  const std::string cfg = (kGenerators / "expert_choice.toml").string();
  auto r = run_moesim("trace generate '" + cfg + "' '" + (dir / "a.csv").string() +
                      "' --set prefill.steps=1 --set prefill.prompt_tokens=8 --seed 5");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "wrote " + (dir / "a.csv").string() + ": 1 steps, 32 tokens, 768 assignments\n");
  const std::string text = read_text(dir / "a.csv");
  EXPECT_NE(text.find("# seed=5\n"), std::string::npos);
  EXPECT_NE(text.find("# prefill.prompt_tokens=8\n"), std::string::npos);
  // The serving example has a capacity limit: the summary and the header report the drops.
  r = run_moesim("trace generate '" + (kGenerators / "serving_chunked.toml").string() + "' '" +
                 (dir / "s.moetrace").string() + "' --set serving.requests=4");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(" routes by capacity: "), std::string::npos) << r.out;
  auto reader = open_trace((dir / "s.moetrace").string());
  EXPECT_NE(r.out.find("(dropped " + reader->meta().extra.at("dropped_routes") + " routes"),
            std::string::npos);
  fs::remove_all(dir);
}

TEST(Generators, BadCommandLinesAndConfigsExitTwoWithOneExactMessage) {
  const fs::path dir = fresh_dir("generators_bad");
  std::ofstream(dir / "typo.toml")
      << "[trace]\nlayers = 2\nexperts = 8\ntop_k = 2\n"
         "[decode]\nbatch = 1\nsteps = 1\n[routing]\ntype = \"grouped\"\n"
         "n_groups = 4\ntop_group = 2\n";
  std::ofstream(dir / "nodata.toml") << "[trace]\nlayers = 2\nexperts = 8\ntop_k = 2\n"
                                        "[decode]\nbatch = 1\nsteps = 1\n[popularity]\n"
                                        "type = \"calibrated\"\n[data]\nstats_dir = \"missing\"\n"
                                        "model = \"Mixtral-8x7B\"\ndomain = \"c4\"\n";
  struct Case {
    std::string args, err;
  };
  const std::string d = dir.string();
  const Case cases[] = {
      {"trace generate",
       "moesim: error: trace generate: missing CONFIG and OUT (see 'moesim trace "
       "generate --help')\n"},
      {"trace generate " + d + "/typo.toml",
       "moesim: error: trace generate: missing OUT (see 'moesim trace generate --help')\n"},
      {"trace generate " + d + "/typo.toml " + d + "/o.csv --sett x=1",
       "moesim: error: trace generate: unknown option '--sett' (did you mean '--set'?) (see "
       "'moesim trace generate --help')\n"},
      {"trace generate " + d + "/typo.toml " + d + "/o.csv extra",
       "moesim: error: trace generate: unexpected argument 'extra' (see 'moesim trace generate "
       "--help')\n"},
      {"trace generate " + d + "/typo.toml " + d + "/o.csv --seed x",
       "moesim: error: trace generate: --seed expects a non-negative integer, got 'x' (see "
       "'moesim trace generate --help')\n"},
      {"trace generate " + d + "/typo.toml " + d + "/o.csv --set",
       "moesim: error: trace generate: --set needs a value (see 'moesim trace generate "
       "--help')\n"},
      {"trace generate " + d + "/typo.toml " + d + "/o.csv",
       "moesim: error: " + d +
           "/typo.toml:11:1: routing.top_group: unknown key for 'grouped' (did "
           "you mean 'top_groups'?)\n"},
      {"trace generate " + d + "/nodata.toml " + d + "/o.csv",
       "moesim: error: " + d + "/nodata.toml:11:13: data.stats_dir: cannot open '" + d +
           "/missing/expert_counts.csv' (No such file or directory)\n"},
      {"trace generate " + d + "/none.toml " + d + "/o.csv",
       "moesim: error: " + d + "/none.toml: cannot open config file (No such file or directory)\n"},
      {"trace generate " + (kGenerators / "deepseek_grouped.toml").string() + " " + d +
           "/o.csv --set routing.top_groups=9",
       "moesim: error: --set routing.top_groups: 9 exceeds n_groups = 8\n"},
  };
  for (const Case& c : cases) {
    const auto r = run_moesim(c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_EQ(r.err, c.err) << c.args;
    EXPECT_EQ(r.out, "") << c.args;
  }
  EXPECT_FALSE(fs::exists(dir / "o.csv"));
  const auto h = run_moesim("trace generate --help");
  EXPECT_EQ(h.code, 0);
  EXPECT_EQ(h.out.rfind("usage: moesim trace generate CONFIG OUT", 0), 0u);
  EXPECT_NE(h.out.find("CONFIG form"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Generators, RunConfigsUseAGeneratorConfigAsTheirWorkload) {
  // [workload] type = "generator", config = "<generator config>": the simulator streams
  // the generated trace; its layers and experts must match the model.
  const fs::path dir = fresh_dir("generators_run");
  const std::string src = MOESIM_SOURCE_DIR;
  std::ofstream(dir / "run.toml") << "include = [\"" << src << "/configs/hw/sn40l_like.toml\", \""
                                  << src << "/workloads/models/olmoe_1b_7b.toml\"]\n"
                                  << "[workload]\ntype = \"generator\"\nconfig = \"gen.toml\"\n";
  const std::string gen =
      "[trace]\nlayers = 16\nexperts = 64\ntop_k = 8\nmode = \"serving\"\n[serving]\n"
      "requests = 3\narrival_rate = 50.0\nmax_tokens = 48\n[serving.prompt]\ndist = \"fixed\"\n"
      "tokens = 40\n[serving.output]\ndist = \"fixed\"\ntokens = 2\n[popularity]\n"
      "type = \"calibrated\"\n[data]\nmodel = \"OLMoE-1B-7B\"\ndomain = \"c4\"\n";
  std::ofstream(dir / "gen.toml") << gen;
  std::ofstream(dir / "gen8.toml") << "[trace]\nlayers = 8\nexperts = 64\ntop_k = 8\n"
                                      "[decode]\nbatch = 1\nsteps = 1\n";
  std::ofstream(dir / "bad.toml")
      << "[trace]\nlayers = 16\nexperts = 64\ntop_k = 8\n"
         "[decode]\nbatch = 1\nsteps = 1\n[routing]\ntype = \"top_k\"\n";
  const std::string d = dir.string();
  auto r = run_moesim("validate run.toml", d);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "run.toml: ok\n");
  r = run_moesim("run run.toml --out out --quiet", d);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string stats = read_text(dir / "out" / "stats.json");
  // 3 requests x (40 prompt + 2 decode) tokens, in steps of at most 48 tokens.
  EXPECT_EQ(testing_support::json_summary(stats, "tokens"), "126");
  EXPECT_EQ(testing_support::json_summary(stats, "assignments"), "16128");  // x 16 layers x 8
  EXPECT_NE(read_text(dir / "out" / "effective_config.toml").find("type = \"generator\""),
            std::string::npos);
  const struct {
    std::string args, err;
  } cases[] = {
      {"validate run.toml --set workload.config=gen8.toml",
       "moesim: error: gen8.toml: trace has 8 MoE layers but model 'olmoe-1b-7b' has 16 (set by "
       "--set)\n"},
      {"validate run.toml --set workload.config=none.toml",
       "moesim: error: --set workload.config: cannot open generator config \"none.toml\" (No such "
       "file or directory)\n"},
      {"validate run.toml --set workload.config=bad.toml",
       "moesim: error: bad.toml:9:8: routing.type: \"top_k\" is not one of 'topk', 'top_p', "
       "'expert_choice', 'grouped' (did you mean 'topk'?)\n"},
  };
  for (const auto& c : cases) {
    r = run_moesim(c.args, d);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_EQ(r.err, c.err) << c.args;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace moesim
