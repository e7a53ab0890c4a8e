// A partial trace (imported with --layers: metadata real_layers) through `moesim run`: as
// traced, on its real layers only, or refilled; what stats.json and the summary say; the
// bad values. A trace that logs every layer runs exactly as before whatever the key says.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli_runner.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using testing_support::fresh_dir;
using testing_support::json_summary;
using testing_support::kSource;
using testing_support::read_text;
using testing_support::run_moesim;

/// The shipped Mixtral trace (32 MoE layers, top-2) as if only layers 0-7 were logged:
/// `real` as its real_layers metadata, the other layers' routes emptied (--fill none).
std::string partial_trace(const std::string& real = "0-7") {
  std::ifstream in(kSource / "workloads" / "traces" / "mixtral_decode_b16.csv");
  std::ostringstream out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# source=", 0) == 0) {
      out << line << "\n# real_layers=" << real << "\n# layer_fill=none\n";
      continue;
    }
    if (!line.empty() && line[0] >= '0' && line[0] <= '9') {
      // step,request,position,layer,experts,weights
      size_t at = 0;
      for (int c = 0; c < 3; ++c) at = line.find(',', at) + 1;
      const int layer = std::stoi(line.substr(at));
      if (layer >= 8) line = line.substr(0, line.find(',', at) + 1) + ",";
    }
    out << line << "\n";
  }
  return out.str();
}

class PartialTraceRun : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::ofstream(m_dir / "part.csv") << partial_trace();
  }
  /// Runs the Mixtral config on `trace` for 2 steps with `sets`; stats.json text.
  testing_support::CliResult run(const std::string& out, const std::string& sets,
                                 const std::string& trace = "part.csv") {
    return run_moesim("run " + (kSource / "configs" / "mixtral_decode.toml").string() + " --out " +
                          out + " --set workload.max_steps=2 --set workload.path=" + trace + " " +
                          sets,
                      m_dir.string());
  }
  std::string stats(const std::string& out) const { return read_text(m_dir / out / "stats.json"); }
  static std::string layers_line(const std::string& json) {
    const size_t at = json.find("  \"trace_layers\": ");
    if (at == std::string::npos) return "(none)";
    return json.substr(at, json.find('\n', at) - at);
  }
  fs::path m_dir;
};

TEST_F(PartialTraceRun, AsTracedByDefaultAndTheStatsSayWhichLayersWereReal) {
  const auto r = run("a", "");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string s = stats("a");
  EXPECT_EQ(layers_line(s),
            "  \"trace_layers\": {\"moe_layers\": 32, \"real_layers\": \"0-7\", \"real_count\": 8, "
            "\"unlogged_rule\": \"none\", \"rule_set_by\": \"trace import\", "
            "\"simulated_moe_layers\": 32},");
  EXPECT_NE(r.out.find("  real layers           0-7 of 32 MoE layers; the other 24: none (set by "
                       "trace import)\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(json_summary(s, "assignments"), "512");  // 2 steps x 16 tokens x 8 layers x 2
  // The same, said explicitly in the config.
  ASSERT_EQ(run("b", "--set workload.unlogged_layers=as_traced").code, 0);
  EXPECT_EQ(stats("b"), s);
}

TEST_F(PartialTraceRun, SkipSimulatesOnlyTheRealLayers) {
  const auto r = run("s", "--set workload.unlogged_layers=skip");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string s = stats("s");
  EXPECT_EQ(layers_line(s),
            "  \"trace_layers\": {\"moe_layers\": 32, \"real_layers\": \"0-7\", \"real_count\": 8, "
            "\"unlogged_rule\": \"skipped\", \"rule_set_by\": \"workload.unlogged_layers\", "
            "\"simulated_moe_layers\": 8},");
  EXPECT_NE(r.out.find("the other 24: skipped (set by workload.unlogged_layers), 8 transformer "
                       "layers simulated\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(json_summary(s, "assignments"), "512");
  // The 24 other layers' attention is not run: less time than the trace as it is.
  ASSERT_EQ(run("a", "").code, 0);
  EXPECT_LT(std::stod(json_summary(s, "time_s")), std::stod(json_summary(stats("a"), "time_s")));
}

TEST_F(PartialTraceRun, FilledLayersByARuleOfTheRun) {
  ASSERT_EQ(run("c", "--set workload.unlogged_layers=copy_nearest").code, 0);
  const std::string c = stats("c");
  EXPECT_NE(layers_line(c).find("\"unlogged_rule\": \"copy-nearest\", \"rule_set_by\": "
                                "\"workload.unlogged_layers\", \"simulated_moe_layers\": 32"),
            std::string::npos);
  EXPECT_EQ(json_summary(c, "assignments"), "2048");  // every layer routed: 2 x 16 x 32 x 2
  ASSERT_EQ(run("e", "--set workload.unlogged_layers=empty").code, 0);
  EXPECT_EQ(json_summary(stats("e"), "assignments"), "512");
  const auto r = run("k", "--set workload.unlogged_layers=calibrated");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string k = stats("k");
  EXPECT_NE(layers_line(k).find("\"unlogged_rule\": \"calibrated\""), std::string::npos);
  EXPECT_EQ(json_summary(k, "assignments"), "2048");
  EXPECT_NE(r.out.find("the other 24: calibrated (set by workload.unlogged_layers)\n"),
            std::string::npos);
  // Seeded by sim.seed: the same seed gives the same bytes.
  ASSERT_EQ(run("k2", "--set workload.unlogged_layers=calibrated").code, 0);
  EXPECT_EQ(stats("k2"), k);
}

TEST_F(PartialTraceRun, ATraceOfEveryLayerRunsAsBeforeWhateverTheKeySays) {
  const std::string full = (kSource / "workloads" / "traces" / "mixtral_decode_b16.csv").string();
  ASSERT_EQ(run("f0", "", full).code, 0);
  const std::string s = stats("f0");
  EXPECT_EQ(layers_line(s), "(none)");
  for (const char* m : {"skip", "calibrated", "copy_nearest", "empty"}) {
    ASSERT_EQ(
        run(std::string("f_") + m, std::string("--set workload.unlogged_layers=") + m, full).code,
        0);
    EXPECT_EQ(stats(std::string("f_") + m), s) << m;
  }
}

TEST_F(PartialTraceRun, BadValuesStopWithExitTwo) {
  auto r = run("x", "--set workload.unlogged_layers=skp --quiet");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "moesim: error: --set workload.unlogged_layers: \"skp\" is not one of 'as_traced', "
            "'skip', 'empty', 'copy_nearest', 'calibrated' (did you mean 'skip'?)\n");
  EXPECT_FALSE(fs::exists(m_dir / "x" / "stats.json"));
  std::ofstream(m_dir / "bad.csv") << partial_trace("0-40");
  for (const char* m : {"as_traced", "skip"}) {
    r = run("y", std::string("--quiet --set workload.unlogged_layers=") + m, "bad.csv");
    EXPECT_EQ(r.code, 2) << m;
    EXPECT_EQ(r.err,
              "moesim: error: bad.csv: metadata 'real_layers': layer 40 out of range (the trace "
              "has 32 MoE layers)\n")
        << m;
    EXPECT_FALSE(fs::exists(m_dir / "y" / "stats.json"));
  }
}

}  // namespace
}  // namespace moesim
