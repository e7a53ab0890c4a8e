// `moesim rtl-verify` and impl = "rtl" through the moesim binary: exact messages for bad
// arguments and configs, the checker's self-test (an injected mismatch must be reported with
// its inputs, outputs, cycle counts and a waveform), waveforms only when asked, and a small
// Mixtral run with the RTL blocks inside the full simulation vs the same run with the models.
// In a build without RTL: the one clear "no RTL" message of each entry point.

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "tests/regression/cli_runner.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using namespace testing_support;  // run_moesim, read_text, fresh_dir, json_stat, ...

struct CliCase {
  const char* args;
  const char* err;
};

#if MOESIM_WITH_RTL

TEST(RtlVerifyCli, HelpListsTheBakedVariants) {
  const auto r = run_moesim("rtl-verify --help");
  EXPECT_EQ(r.code, 0);
  for (const char* s : {"usage: moesim rtl-verify BLOCK", "--inject-fault CASE", "{8,2,1,1}",
                        "{256,online}", "{16,16,32}"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST(RtlVerifyCli, PassesAndReportsCountAndSpeed) {
  const fs::path dir = fresh_dir("rtl_verify_pass");
  const auto r =
      run_moesim("rtl-verify topk_gate --cases 300 --seed 3 --param N=8 --param K=2", dir.string());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("topk_gate_n8_k2: PASS, 300 cases ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" cycles/s (lanes: both)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mean 9 cycles first input to last output"), std::string::npos) << r.out;
  // No waveform unless asked.
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(RtlVerifyCli, WaveformOnlyWhenAsked) {
  const fs::path dir = fresh_dir("rtl_verify_wave");
  const auto r =
      run_moesim("rtl-verify softmax --cases 20 --param L=2 --wave run.vcd", dir.string());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  ASSERT_TRUE(fs::exists(dir / "run.vcd"));
  EXPECT_NE(read_text(dir / "run.vcd").find("$enddefinitions"), std::string::npos);
  EXPECT_NE(r.out.find("waveform: " + (dir / "run.vcd").string()), std::string::npos) << r.out;
}

TEST(RtlVerifyCli, AttentionPassesWithWaveformAndReportsItsContract) {
  const fs::path dir = fresh_dir("rtl_verify_attention");
  const auto r = run_moesim(
      "rtl-verify attention --cases 200 --seed 2 --param P=2 --param D=4 --param W=2 --wave a.vcd",
      dir.string());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("attention_p2_d4_w2: PASS, 200 cases ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("K/V slices read 2 L c (reordered) or ceil(rows/P) 2 L c (naive)"),
            std::string::npos)
      << r.out;
  ASSERT_TRUE(fs::exists(dir / "a.vcd"));
  EXPECT_NE(read_text(dir / "a.vcd").find("stat_scores"), std::string::npos);
  // The checker's self-test on this block: a corrupted reference output is reported.
  const auto f = run_moesim("rtl-verify attention --cases 30 --inject-fault 20", dir.string());
  EXPECT_EQ(f.code, 1);
  EXPECT_NE(f.out.find("MISMATCH in case 20"), std::string::npos) << f.out;
  EXPECT_TRUE(fs::exists(dir / "moesim_rtl_attention_p4_d8_w2_seed1.vcd"));
}

TEST(RtlVerifyCli, InjectedFaultIsReportedWithInputsOutputsCyclesAndWaveform) {
  const fs::path dir = fresh_dir("rtl_verify_fault");
  const auto r =
      run_moesim("rtl-verify softmax --cases 40 --param L=16 --inject-fault 25", dir.string());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  for (const char* s :
       {"MISMATCH in case 25", "systemc: output values differ from the reference model",
        "rtl: output values differ from the reference model", "inputs: scores(Q8.8)=[",
        "[reference output corrupted on purpose: inject_fault]",
        "  reference:\n    [0] p=", "  contract: 34 cycles", "  systemc: first input @cycle ",
        "  rtl: first input @cycle ", " cycles, stat +32\n",
        "replaying case 25 after a reset into ", "softmax_online_l16: FAIL, 25 cases"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  }
  const fs::path vcd = dir / "moesim_rtl_softmax_online_l16_seed1.vcd";
  ASSERT_TRUE(fs::exists(vcd)) << r.out;
  EXPECT_NE(read_text(vcd).find("$enddefinitions"), std::string::npos);
}

TEST(RtlVerifyCli, BadArgumentsExitTwoWithOneExactMessage) {
  const std::string see = " (see 'moesim rtl-verify --help')\n";
  const CliCase cases[] = {
      {"rtl-verify", "missing BLOCK (topk_gate, softmax, systolic_tile or attention)"},
      {"rtl-verify topk", "unknown block 'topk' (did you mean 'topk_gate'?)"},
      {"rtl-verify fifo",
       "unknown block 'fifo' (blocks: topk_gate, softmax, systolic_tile, attention)"},
      {"rtl-verify softmax extra", "unexpected argument 'extra'"},
      {"rtl-verify softmax --case 3", "unknown option '--case' (did you mean '--cases'?)"},
      {"rtl-verify softmax --cases", "--cases needs a value"},
      {"rtl-verify softmax --cases 0", "--cases must be at least 1"},
      {"rtl-verify softmax --seed x", "--seed expects a non-negative integer, got 'x'"},
      {"rtl-verify softmax --param L", "--param expects NAME=VALUE, got 'L'"},
      {"rtl-verify softmax --param Q=1",
       "softmax: unknown parameter 'Q' (accepted: L, MODE, stall, bubble, waves, lanes, "
       "inject_fault)"},
      {"rtl-verify topk_gate --param N=abc", "topk_gate: parameter N=abc: expected an integer"},
      {"rtl-verify softmax --param L=100", "softmax: no RTL build for softmax_online_l100"},
      {"rtl-verify softmax --param MODE=twopass", "softmax: MODE must be online or three_pass"},
      {"rtl-verify attention --param P=8", "attention: no RTL build for attention_p8_d8_w2"},
      {"rtl-verify attention --param MODE=fast",
       "attention: MODE must be reordered, naive or both"},
      {"rtl-verify attention --param MAX_L=100", "attention: MAX_L must be in 2..32"},
      {"rtl-verify topk_gate --param stall=99",
       "topk_gate: stall and bubble are percentages in 0..95"},
      {"rtl-verify systolic_tile --param MAX_M=0",
       "systolic_tile: MAX_M, MAX_KF and MAX_NF must be >= 1"},
      {"rtl-verify systolic_tile --param lanes=all",
       "systolic_tile: lanes must be both, rtl or systemc"},
      {"rtl-verify systolic_tile --param BUFFERS=3",
       "systolic_tile: BUFFERS must be 1 (single-buffered weights) or 2 (ping-pong)"},
      {"rtl-verify topk_gate --cases 10 --inject-fault 50",
       "topk_gate: inject_fault=50 is not a case of this run (cases 0..9)"},
  };
  for (const auto& c : cases) {
    const auto r = run_moesim(c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_EQ(r.err, std::string("moesim: error: rtl-verify: ") + c.err + see) << c.args;
    EXPECT_EQ(r.out, "") << c.args;
  }
}

TEST(RtlImplConfig, ShapesTheBuildCannotRunAreExactErrors) {
  const CliCase cases[] = {
      {"validate configs/mixtral_decode.toml --set chip.compute.impl=rtl",
       "moesim: error: --set chip.compute.impl: \"rtl\" needs rows x cols of a baked RTL tile "
       "(4x4, 16x16), got 6x32\n"},
      {"validate configs/rtl/mixtral_small.toml --set chip.compute.dataflow=output_stationary",
       "moesim: error: configs/rtl/mixtral_small.toml:15:8: chip.compute.impl: \"rtl\" needs "
       "dataflow = \"weight_stationary\" (the RTL tile is weight-stationary)\n"},
      {"validate configs/olmoe_decode.toml --set chip.vector.topk_impl=rtl",
       "moesim: error: --set chip.vector.topk_impl: \"rtl\" needs a model of a baked top-k gate "
       "shape (experts = 8, top_k = 2), got experts = 64, top_k = 8\n"},
      {"validate configs/mixtral_decode.toml --set chip.compute.impl=verilog",
       "moesim: error: --set chip.compute.impl: \"verilog\" is not one of 'model', 'rtl'\n"},
      {"validate configs/rtl/mixtral_small.toml --set chip.compute.ping_pong=true",
       "moesim: error: configs/rtl/mixtral_small.toml:15:8: chip.compute.impl: \"rtl\" needs "
       "rows x cols of a baked RTL tile (4x4 with ping_pong), got 16x16\n"},
  };
  for (const auto& c : cases) {
    const auto r = run_moesim(c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_EQ(r.err, c.err) << c.args;
  }
}

TEST(RtlImplConfig, AttentionCombinationsTheBlockCannotRunAreExactErrors) {
  const std::string cfg = "configs/rtl/edge_moe_m3vit_rtl.toml";
  const std::string at = "moesim: error: " + cfg + ":10:8: chip.attention.impl: \"rtl\" needs ";
  const CliCase cases[] = {
      {"--set chip.attention.parallel_rows=8",
       "parallel_rows of a baked RTL attention block (parallel_rows = 4, ceil(head_dim / "
       "dot_width) <= 4, online softmax), got parallel_rows = 8\n"},
      {"--set chip.attention.softmax=three_pass",
       "softmax = \"online\" (the RTL attention block's softmax is single-pass)\n"},
      {"--set chip.attention.dot_width=8",
       "ceil(head_dim / dot_width) <= 4 (K/V slices per key of the RTL attention block), got "
       "head_dim = 64, dot_width = 8: 8 slices\n"},
  };
  for (const auto& c : cases) {
    const auto r = run_moesim("validate " + cfg + " " + c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_EQ(r.err, at + c.err) << c.args;
    EXPECT_EQ(r.out, "") << c.args;
  }
  const auto r = run_moesim("validate configs/edge_moe_m3vit.toml --set chip.attention.impl=vhdl");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "moesim: error: --set chip.attention.impl: \"vhdl\" is not one of 'model', 'rtl'\n");
}

/// stats.json without the lines of the RTL co-simulation statistics.
std::string without_rtl_stats(const std::string& json) {
  std::istringstream in(json);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.find(".rtl.") != std::string::npos || line.find(".rtl_topk.") != std::string::npos ||
        line.find(".rtl_softmax.") != std::string::npos)
      continue;
    out += line + "\n";
  }
  return out;
}

TEST(RtlFullSystem, MixtralSmallRtlEqualsModelAndGolden) {
  const fs::path rtl_dir = fresh_dir("rtl_full_rtl"), model_dir = fresh_dir("rtl_full_model");
  auto r =
      run_moesim("run configs/rtl/mixtral_small.toml --quiet --out '" + rtl_dir.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // no mismatch warnings
  r = run_moesim("run configs/rtl/mixtral_small.toml --quiet --out '" + model_dir.string() +
                 "' --set chip.compute.impl=model --set chip.vector.topk_impl=model"
                 " --set chip.vector.softmax_impl=model");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string a = read_text(rtl_dir / "stats.json"), b = read_text(model_dir / "stats.json");
  EXPECT_EQ(json_summary(a, "cycles"), json_summary(b, "cycles"));
  // Every statistic of the model run, identical; the RTL run only adds its own.
  EXPECT_EQ(without_rtl_stats(a), b);
  EXPECT_NE(without_rtl_stats(a), a);
  // Values flowed through all three blocks and matched.
  const double tokens = json_stat(a, "workload.tokens");
  EXPECT_EQ(json_stat(a, "chip0.vector.rtl_topk.tokens_checked"), tokens * 4);  // 4 MoE layers
  EXPECT_GT(json_stat(a, "chip0.compute.array.rtl.shapes_run"), 0);
  EXPECT_GT(json_stat(a, "chip0.compute.array.rtl.cache_hits"), 0);
  EXPECT_GT(json_stat(a, "chip0.vector.rtl_softmax.vectors_run"), 0);
  for (const char* s :
       {"compute.array.rtl.value_mismatches", "compute.array.rtl.contract_mismatches",
        "vector.rtl_topk.selection_mismatches", "vector.rtl_topk.value_mismatches",
        "vector.rtl_topk.contract_mismatches", "vector.rtl_topk.tokens_skipped",
        "vector.rtl_softmax.value_mismatches", "vector.rtl_softmax.contract_mismatches"}) {
    EXPECT_EQ(json_stat(a, std::string("chip0.") + s), 0) << s;
  }
  const fs::path golden =
      kSource / "tests" / "regression" / "golden" / "rtl" / "mixtral_small.stats.json";
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing: run scripts/update_goldens.sh";
  EXPECT_EQ(a, read_text(golden)) << "stats of configs/rtl/mixtral_small.toml changed";
}

TEST(RtlFullSystem, PingPongTileTimesGemmsExactlyAsTheFormula) {
  // The ping-pong 4x4 tile (systolic_tile_pp.v) timing every GEMM of the Mixtral run: first
  // fold and interval measured on the RTL, cycles identical to the model's formula.
  const std::string sets =
      " --set chip.compute.rows=4 --set chip.compute.cols=4 --set chip.compute.ping_pong=true"
      " --set chip.vector.topk_impl=model --set chip.vector.softmax_impl=model";
  const fs::path rtl_dir = fresh_dir("rtl_pp_rtl"), model_dir = fresh_dir("rtl_pp_model");
  auto r = run_moesim("run configs/rtl/mixtral_small.toml --quiet --out '" + rtl_dir.string() +
                      "'" + sets);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  r = run_moesim("run configs/rtl/mixtral_small.toml --quiet --out '" + model_dir.string() + "'" +
                 sets + " --set chip.compute.impl=model");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string a = read_text(rtl_dir / "stats.json"), b = read_text(model_dir / "stats.json");
  EXPECT_EQ(json_summary(a, "cycles"), json_summary(b, "cycles"));
  EXPECT_EQ(without_rtl_stats(a), b);
  EXPECT_GT(json_stat(a, "chip0.compute.array.rtl.shapes_run"), 0);
  EXPECT_EQ(json_stat(a, "chip0.compute.array.rtl.value_mismatches"), 0);
  EXPECT_EQ(json_stat(a, "chip0.compute.array.rtl.contract_mismatches"), 0);
  // And ping-pong is faster than the single-buffered tile on the same run.
  const fs::path single_dir = fresh_dir("rtl_pp_single");
  r = run_moesim("run configs/rtl/mixtral_small.toml --quiet --out '" + single_dir.string() + "'" +
                 sets + " --set chip.compute.ping_pong=false");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string c = read_text(single_dir / "stats.json");
  EXPECT_LT(json_stat(a, "chip0.compute.array.busy_cycles"),
            json_stat(c, "chip0.compute.array.busy_cycles"));
}

TEST(RtlFullSystem, EdgeMoeAttentionOnRtlEqualsModel) {
  // The attention unit timed on the verilated block: measured group cycles, every op's busy
  // time from them; identical to the model's contract cycle for cycle.
  const fs::path rtl_dir = fresh_dir("rtl_attn_rtl"), model_dir = fresh_dir("rtl_attn_model");
  auto r = run_moesim("run configs/rtl/edge_moe_m3vit_rtl.toml --quiet --out '" + rtl_dir.string() +
                      "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  r = run_moesim("run configs/rtl/edge_moe_m3vit_rtl.toml --quiet --out '" + model_dir.string() +
                 "' --set chip.attention.impl=model");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string a = read_text(rtl_dir / "stats.json"), b = read_text(model_dir / "stats.json");
  EXPECT_EQ(json_summary(a, "cycles"), json_summary(b, "cycles"));
  EXPECT_EQ(without_rtl_stats(a), b);
  EXPECT_EQ(json_stat(a, "chip0.attention.rtl.shapes_run"), 1);  // L = 129, c = 4 only
  EXPECT_GT(json_stat(a, "chip0.attention.rtl.cache_hits"), 0);
  for (const char* s : {"value_mismatches", "contract_mismatches", "read_mismatches"})
    EXPECT_EQ(json_stat(a, std::string("chip0.attention.rtl.") + s), 0) << s;
  // Against the shipped model config: the same run.
  const fs::path base_dir = fresh_dir("rtl_attn_base");
  r = run_moesim("run configs/edge_moe_m3vit.toml --quiet --out '" + base_dir.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json_summary(a, "cycles"), json_summary(read_text(base_dir / "stats.json"), "cycles"));
  const fs::path golden =
      kSource / "tests" / "regression" / "golden" / "rtl" / "edge_moe_m3vit_rtl.stats.json";
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing: run scripts/update_goldens.sh";
  EXPECT_EQ(a, read_text(golden)) << "stats of configs/rtl/edge_moe_m3vit_rtl.toml changed";
}

TEST(RtlFullSystem, EdgeMoeAttentionRtlNaiveAndLongSequencesEqualModel) {
  // The naive type (K/V re-read per group: the block runs its naive loop order) and 300
  // keys, more than the block's 256 (cycles extrapolated linearly in L from measured samples
  // at 256 and 128 keys): both cycle-identical to the contract.
  const char* sets[] = {" --set chip.attention.type=naive",
                        " --set workload.prompt_tokens=300 --set workload.steps=1"};
  for (const char* set : sets) {
    const fs::path rtl_dir = fresh_dir("rtl_attn_v_rtl"), model_dir = fresh_dir("rtl_attn_v_model");
    auto r = run_moesim("run configs/rtl/edge_moe_m3vit_rtl.toml --quiet --out '" +
                        rtl_dir.string() + "'" + set);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "") << set;
    r = run_moesim("run configs/rtl/edge_moe_m3vit_rtl.toml --quiet --out '" + model_dir.string() +
                   "'" + set + " --set chip.attention.impl=model");
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string a = read_text(rtl_dir / "stats.json"),
                      b = read_text(model_dir / "stats.json");
    EXPECT_EQ(without_rtl_stats(a), b) << set;
    EXPECT_EQ(json_stat(a, "chip0.attention.rtl.extrapolated"),
              std::string(set).find("300") != std::string::npos ? 1 : 0)
        << set;
    for (const char* s : {"value_mismatches", "contract_mismatches", "read_mismatches"})
      EXPECT_EQ(json_stat(a, std::string("chip0.attention.rtl.") + s), 0) << s << set;
  }
}

#else  // a build without RTL

TEST(RtlVerifyCli, BuildWithoutRtlSaysSo) {
  const auto r = run_moesim("rtl-verify softmax");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "moesim: error: rtl-verify: this build has no RTL (configured with "
            "-DMOESIM_WITH_RTL=OFF); reconfigure with -DMOESIM_WITH_RTL=ON\n");
}

TEST(RtlImplConfig, AttentionBuildWithoutRtlSaysSo) {
  const auto r = run_moesim("validate configs/edge_moe_m3vit.toml --set chip.attention.impl=rtl");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "moesim: error: --set chip.attention.impl: \"rtl\" needs a build with RTL (this "
            "one was configured with -DMOESIM_WITH_RTL=OFF)\n");
}

TEST(RtlImplConfig, BuildWithoutRtlSaysSo) {
  const auto r =
      run_moesim("validate configs/mixtral_decode.toml --set chip.vector.softmax_impl=rtl");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "moesim: error: --set chip.vector.softmax_impl: \"rtl\" needs a build with RTL (this "
            "one was configured with -DMOESIM_WITH_RTL=OFF)\n");
}

#endif

}  // namespace
}  // namespace moesim
