// `moesim gemm` (docs/scalesim.md): one GEMM and SCALE-Sim topologies in every variation real
// files have, SCALE-Sim .cfg files, the COMPUTE_REPORT.csv it writes, and every bad input
// with its exact message.

#include <gtest/gtest.h>

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

void write(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

const char* const kReportHeader =
    "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util "
    "%,\n";

/// The JSON line of layer `id` (our writer's fixed layout: one line per layer).
std::string json_layer(const std::string& json, int id) {
  const std::string key = "{\"id\": " + std::to_string(id) + ",";
  const size_t at = json.find(key);
  if (at == std::string::npos) return "";
  return json.substr(at, json.find('\n', at) - at);
}

TEST(GemmCli, HelpAndMainHelpMentionGemm) {
  auto r = run_moesim("gemm --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("usage: moesim gemm"), std::string::npos);
  r = run_moesim("--help");
  EXPECT_NE(r.out.find("gemm TOPOLOGY"), std::string::npos);
}

TEST(GemmCli, OneGemmWritesScaleSimsRowByteForByte) {
  // SCALE-Sim v2 printed this row for M = N = K = 4 on a 4 x 4 weight-stationary array
  // (tests/unit/test_scalesim_fidelity.cpp): Total Cycles 13 = moesim's 2R + C + M - 2 = 14,
  // less one.
  const fs::path dir = fresh_dir("gemm_one");
  const auto r = run_moesim("gemm --m 4 --n 4 --k 4 --rows 4 --cols 4 --csv r.csv --json r.json",
                            dir.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(
      read_text(dir / "r.csv"),
      std::string(kReportHeader) + "0, 13, 0, 30.76923076923077, 100.0, 23.52941176470588,\n");
  const std::string j = read_text(dir / "r.json");
  EXPECT_NE(j.find("\"array\": {\"rows\": 4, \"cols\": 4, \"dataflow\": \"ws\", \"os_drain\": "
                   "null}"),
            std::string::npos);
  EXPECT_EQ(json_layer(j, 0),
            "{\"id\": 0, \"name\": \"gemm\", \"m\": 4, \"n\": 4, \"k\": 4, \"folds\": 1, "
            "\"cycles\": 14, \"scalesim_total_cycles\": 13, \"stall_cycles\": 0, \"macs\": 64, "
            "\"overall_util_pct\": 30.76923076923077, \"mapping_efficiency_pct\": 100.0, "
            "\"compute_util_pct\": 23.52941176470588}");
  EXPECT_NE(r.out.find("14 cycles, 64 MACs"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir / "r.csv.tmp"));
}

TEST(GemmCli, OutputStationaryDrainIsExposedByDefaultAndOverlappedOnRequest) {
  // M = 7, N = 5, K = 9 on 4 x 4: ceil(7/4) ceil(5/4) = 4 folds. Overlapped (SCALE-Sim): R +
  // C + K - 2 = 15 per fold, 60 cycles, Total Cycles 59 (what SCALE-Sim printed); exposed:
  // 2R + C + K - 2 = 19 per fold, 76.
  const fs::path dir = fresh_dir("gemm_os");
  auto r = run_moesim("gemm --m 7 --n 5 --k 9 --rows 4 --cols 4 --dataflow os --json e.json",
                      dir.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(read_text(dir / "e.json").find("\"cycles\": 76, \"scalesim_total_cycles\": 75"),
            std::string::npos);
  EXPECT_NE(read_text(dir / "e.json").find("\"os_drain\": \"exposed\""), std::string::npos);
  r = run_moesim(
      "gemm --m 7 --n 5 --k 9 --rows 4 --cols 4 --dataflow os --os-drain overlapped --csv o.csv",
      dir.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_text(dir / "o.csv"),
            std::string(kReportHeader) + "0, 59, 0, 33.36864406779661, 54.6875, 32.8125,\n");
}

/// Three layers, each way of writing them.
const char* const kCanonical =
    "Layer, M, N, K,\n"
    "L1, 7, 5, 9,\n"
    "L2, 100, 200, 300,\n"
    "L3, 1, 1, 1,\n";

TEST(GemmCli, TopologyVariationsGiveTheSameReport) {
  const fs::path dir = fresh_dir("gemm_variants");
  write(dir / "canonical.csv", kCanonical);
  // CRLF line ends, a byte-order mark, no trailing commas, blank lines and a row of commas
  // (spreadsheet exports), spaces and tabs, extra columns (ignored, as SCALE-Sim does), a
  // quoted layer name.
  write(dir / "spreadsheet.csv",
        "\xEF\xBB\xBFLayer name,M,N,K,notes\r\n"
        "\r\n"
        "L1 ,\t7,5 , 9,first\r\n"
        ",,,,\r\n"
        "\"L2\", 100, 200, 300, \"a, b\"\r\n"
        "L3,1,1,1\r\n");
  // No header row: nothing is lost (SCALE-Sim itself always drops the first line).
  write(dir / "headerless.csv", "L1, 7, 5, 9,\nL2, 100, 200, 300,\nL3, 1, 1, 1");
  // Old Mac line ends.
  write(dir / "cr.csv", "Layer, M, N, K,\rL1, 7, 5, 9,\rL2, 100, 200, 300,\rL3, 1, 1, 1,\r");
  std::string want;
  for (const char* f : {"canonical", "spreadsheet", "headerless", "cr"}) {
    const auto r = run_moesim(
        std::string("gemm ") + f + ".csv --rows 8 --cols 8 --csv " + f + ".out", dir.string());
    ASSERT_EQ(r.code, 0) << f << ": " << r.err;
    const std::string got = read_text(dir / (std::string(f) + ".out"));
    if (want.empty()) want = got;
    EXPECT_EQ(got, want) << f;
    EXPECT_NE(r.out.find("gemm form"), std::string::npos) << r.out;
  }
  // Three rows, and the cycles of L2 on 8 x 8: ceil(300/8) ceil(200/8) = 38 x 25 folds of
  // 2R + C + M - 2 = 122 cycles, less one.
  EXPECT_EQ(std::count(want.begin(), want.end(), '\n'), 4);
  EXPECT_NE(want.find("\n1, " + std::to_string(38 * 25 * 122 - 1) + ", 0, "), std::string::npos)
      << want;
}

TEST(GemmCli, ConvolutionTopologiesMapAsScaleSimDoes) {
  const fs::path dir = fresh_dir("gemm_conv");
  // SCALE-Sim's im2col: M = output pixels, ceil((I - F + S) / S) per direction; N = filters;
  // K = filter window x channels. A 'DP' layer is depth-wise: one layer per channel.
  write(dir / "conv.csv",
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num "
        "Filter, Strides,\n"
        "Conv1     ,15         ,15        ,3           ,3          ,3       ,10        ,2      ,\n"
        "Conv2, 9, 7, 3, 2, 4, 6, 1, 2,\n"
        "ConvDP1, 6, 6, 3, 3, 2, 1, 1,\n");
  const auto r = run_moesim("gemm conv.csv --rows 4 --cols 4 --json c.json", dir.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("conv form, header, 4 layers"), std::string::npos) << r.out;
  const std::string j = read_text(dir / "c.json");
  // Conv1: 7 x 7 outputs; K = 3 x 3 x 3.
  EXPECT_NE(json_layer(j, 0).find("\"name\": \"Conv1\", \"m\": 49, \"n\": 10, \"k\": 27"),
            std::string::npos);
  // Conv2: strides 1 (height) and 2 (width): 7 x ceil(7/2) = 7 x 4 outputs; K = 3 x 2 x 4.
  EXPECT_NE(json_layer(j, 1).find("\"name\": \"Conv2\", \"m\": 28, \"n\": 6, \"k\": 24"),
            std::string::npos);
  EXPECT_NE(json_layer(j, 2).find("\"name\": \"ConvDP1Channel_0\", \"m\": 16, \"n\": 1, \"k\": 9"),
            std::string::npos);
  EXPECT_NE(json_layer(j, 3).find("\"name\": \"ConvDP1Channel_1\""), std::string::npos);
  // Without a header the form comes from the first row (7 or more numbers: conv), and
  // --input-type forces it.
  write(dir / "bare.csv", "Conv1, 15, 15, 3, 3, 3, 10, 2,\n");
  auto b = run_moesim("gemm bare.csv --rows 4 --cols 4", dir.string());
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_NE(b.out.find("conv form, 1 layers"), std::string::npos) << b.out;
  b = run_moesim("gemm bare.csv --rows 4 --cols 4 --input-type gemm --json g.json", dir.string());
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_NE(read_text(dir / "g.json").find("\"m\": 15, \"n\": 15, \"k\": 3"), std::string::npos);
}

TEST(GemmCli, ScaleSimCfgGivesTheArrayAndFlagsOverrideIt) {
  const fs::path dir = fresh_dir("gemm_cfg");
  write(dir / "t.csv", kCanonical);
  // configparser's ways: ':' or '=', any key case, comments, unknown keys and sections,
  // indented continuation lines.
  write(dir / "odd.cfg",
        "# a SCALE-Sim config\n"
        "[general]\n"
        "run_name = odd\n"
        "  continued\n"
        "[architecture_presets]\n"
        "arrayheight = 8\n"
        "ARRAYWIDTH:8\n"
        "; the dataflow\n"
        "Dataflow=ws\n"
        "SomethingNew : 3\n"
        "Bandwidth : not read in CALC mode\n"
        "MemoryBanks: not read by SCALE-Sim v2\n"
        "[sparsity]\n"
        "SparsitySupport : false\n"
        "[run_presets]\n"
        "InterfaceBandwidth: CALC\n");
  auto r = run_moesim("gemm t.csv --cfg odd.cfg --csv cfg.csv", dir.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("8 x 8, ws"), std::string::npos) << r.out;
  r = run_moesim("gemm t.csv --rows 8 --cols 8 --dataflow ws --csv flags.csv", dir.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_text(dir / "cfg.csv"), read_text(dir / "flags.csv"));
  // The shipped example (SCALE-Sim's layout); flags win over it.
  const std::string cfg =
      (testing_support::kSource / "configs/scalesim/array_32x32_os.cfg").string();
  r = run_moesim("gemm t.csv --cfg " + cfg, dir.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("32 x 32, os (output-stationary), drain exposed"), std::string::npos)
      << r.out;
  r = run_moesim("gemm t.csv --cfg " + cfg + " --rows 4 --dataflow is", dir.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("4 x 32, is (input-stationary)"), std::string::npos) << r.out;
}

TEST(GemmCli, ShippedTopologiesRunAndAreDeterministic) {
  const fs::path dir = fresh_dir("gemm_shipped");
  for (const char* t : {"workloads/topologies/m3vit_small_two_layers.csv",
                        "workloads/topologies/resnet18_conv.csv"}) {
    const auto a = run_moesim(std::string("gemm ") + t +
                              " --cfg configs/scalesim/edge_moe_16x16_ws.cfg --quiet --json " +
                              (dir / "a.json").string());
    ASSERT_EQ(a.code, 0) << a.err;
    const auto b = run_moesim(std::string("gemm ") + t +
                              " --cfg configs/scalesim/edge_moe_16x16_ws.cfg --quiet --json " +
                              (dir / "b.json").string());
    ASSERT_EQ(b.code, 0) << b.err;
    EXPECT_EQ(read_text(dir / "a.json"), read_text(dir / "b.json"));
  }
  // M3ViT's QKV projection on Edge-MoE's 16 x 16 array: ceil(192/16) ceil(576/16) = 432
  // folds of 2R + C + M - 2 = 175 cycles.
  const auto r = run_moesim(
      "gemm workloads/topologies/m3vit_small_two_layers.csv --cfg "
      "configs/scalesim/edge_moe_16x16_ws.cfg --json " +
      (dir / "m.json").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(json_layer(read_text(dir / "m.json"), 0).find("\"folds\": 432, \"cycles\": 75600,"),
            std::string::npos);
}

struct ErrCase {
  std::string args;
  std::string err;
};

void expect_errors(const std::vector<ErrCase>& cases, const fs::path& dir) {
  for (const auto& c : cases) {
    // The outputs asked for first, so that a flag missing its value can come last.
    ASSERT_EQ(c.args.rfind("gemm ", 0), 0u);
    const auto r =
        run_moesim("gemm --csv out.csv --json out.json " + c.args.substr(5), dir.string());
    EXPECT_EQ(r.code, 2) << c.args;
    EXPECT_EQ(r.err, "moesim: error: " + c.err + "\n") << c.args;
    EXPECT_EQ(r.out, "") << c.args;
    // Nothing half-written.
    EXPECT_FALSE(fs::exists(dir / "out.csv")) << c.args;
    EXPECT_FALSE(fs::exists(dir / "out.json")) << c.args;
  }
}

TEST(GemmCli, BadCommandLinesAreExactErrors) {
  const fs::path dir = fresh_dir("gemm_bad_flags");
  write(dir / "t.csv", kCanonical);
  write(dir / "noarch.cfg", "[general]\nrun_name = x\n[architecture_presets]\nArrayWidth: 4\n");
  write(dir / "nodf.cfg", "[architecture_presets]\nArrayHeight: 4\nArrayWidth: 4\n");
  const std::string see = " (see 'moesim gemm --help')";
  expect_errors(
      {
          {"gemm t.csv --row 4", "gemm: unknown option '--row' (did you mean '--rows'?)" + see},
          {"gemm t.csv --rows", "gemm: --rows needs a value" + see},
          {"gemm t.csv --quiet=yes", "gemm: --quiet takes no value" + see},
          {"gemm t.csv --rows 0 --cols 4", "gemm: --rows must be from 1 to 4096, got 0" + see},
          {"gemm t.csv --rows 4 --cols 4097",
           "gemm: --cols must be from 1 to 4096, got 4097" + see},
          {"gemm --m 0 --n 1 --k 1 --rows 4 --cols 4",
           "gemm: --m must be from 1 to 4294967295, got 0" + see},
          {"gemm --m x --n 1 --k 1", "gemm: --m expects a non-negative integer, got 'x'" + see},
          {"gemm t.csv --rows 4 --cols 4 --dataflow xs",
           "gemm: --dataflow expects ws, os or is, got 'xs'" + see},
          {"gemm t.csv --rows 4 --cols 4 --dataflow os --os-drain hidden",
           "gemm: --os-drain expects exposed or overlapped, got 'hidden'" + see},
          {"gemm t.csv --rows 4 --cols 4 --input-type mnk",
           "gemm: --input-type expects gemm or conv, got 'mnk'" + see},
          {"gemm t.csv u.csv", "gemm: unexpected argument 'u.csv'" + see},
          {"gemm --m 4 --k 4 --rows 4 --cols 4", "gemm: --m, --k and --n go together" + see},
          {"gemm t.csv --m 4 --k 4 --n 4",
           "gemm: give either a topology file or --m, --k and --n, not both" + see},
          {"gemm --rows 4 --cols 4", "gemm: expects a topology file or --m, --k and --n" + see},
          {"gemm --m 4 --k 4 --n 4 --input-type gemm",
           "gemm: --input-type applies to a topology file only" + see},
          {"gemm t.csv --cols 4", "gemm: needs --rows (or --cfg FILE with ArrayHeight)" + see},
          {"gemm t.csv --cfg noarch.cfg",
           "noarch.cfg: no ArrayHeight in [architecture_presets] (give it, or --rows)"},
          {"gemm t.csv --cfg nodf.cfg",
           "nodf.cfg: no Dataflow in [architecture_presets] (give it, or --dataflow)"},
          {"gemm t.csv --rows 4 --cols 4 --os-drain overlapped",
           "gemm: --os-drain applies to dataflow os only (this run is ws)" + see},
          {"gemm --m 4294967295 --n 4294967295 --k 1 --rows 4 --cols 4",
           "gemm: --m x --n x --k = 4294967295 x 4294967295 x 1 is more than 2^53 MACs" + see},
          {"gemm missing.csv --rows 4 --cols 4",
           "missing.csv: cannot open topology file (No such file or directory)"},
          {"gemm t.csv --cfg missing.cfg",
           "missing.cfg: cannot open SCALE-Sim config file (No such file or directory)"},
      },
      dir);
}

TEST(GemmCli, BadTopologiesAreLocatedErrors) {
  const fs::path dir = fresh_dir("gemm_bad_topo");
  const std::vector<std::pair<std::string, std::string>> files = {
      {"Layer, M, N, K,\nL1, 7, 5,\n",
       "t.csv:2: expected at least 4 fields (Layer, M, N, K), got 3"},
      {"Layer, M, N, K,\nL1, 7, 5x, 9,\n", "t.csv:2:8: N: expected a positive integer, got '5x'"},
      {"Layer, M, N, K,\nL1, 7, 5, 0,\n", "t.csv:2:11: K: expected a positive integer, got '0'"},
      {"Layer, M, N, K,\nL1, -7, 5, 9,\n", "t.csv:2:5: M: expected a positive integer, got '-7'"},
      {"Layer, M, N, K,\nL1, 7\x01, 5, 9,\n",
       "t.csv:2:5: M: expected a positive integer, got '7\\x01'"},
      {"Layer, M, N, K,\nL1, 4294967296, 5, 9,\n",
       "t.csv:2:5: M: expected a positive integer at most 2^32 - 1, got '4294967296'"},
      {"Layer, M, N, K,\nL1, 4294967295, 4294967295, 1,\n",
       "t.csv:2: layer 'L1': M x N x K = 4294967295 x 4294967295 x 1 is more than 2^53 MACs"},
      {"Layer, M, N, K,\n\"L1, 7, 5, 9,\n", "t.csv:2:1: unterminated quoted field"},
      {"Layer, M, N, K,\n\"L1\"x, 7, 5, 9,\n",
       "t.csv:2:5: expected ',' after the quoted field, got 'x'"},
      {"Layer, M, N, K,\n\n,,,\n", "t.csv: no layers (expected rows like 'Layer1, 128, 64, 256,')"},
      {"", "t.csv: no layers (expected rows like 'Layer1, 128, 64, 256,')"},
      {"Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
       "Strides,\nC1, 8, 8, 3, 3, 3,\n",
       "t.csv:2: expected at least 8 fields (Layer name, IFMAP Height, IFMAP Width, Filter "
       "Height, Filter Width, Channels, Num Filter, Strides), got 6"},
      {"Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
       "Strides,\nC1, 2, 8, 3, 3, 3, 4, 1,\n",
       "t.csv:2:11: Filter Height 3 is larger than IFMAP Height 2"},
      {"Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
       "Strides,\nC1, 8, 2, 3, 3, 3, 4, 1,\n",
       "t.csv:2:14: Filter Width 3 is larger than IFMAP Width 2"},
      {"Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
       "Strides,\nC1, 8, 8, 3, 3, 3, 4, 1, 0,\n",
       "t.csv:2:26: Stride width: expected a positive integer, got '0'"},
  };
  for (const auto& [text, err] : files) {
    write(dir / "t.csv", text);
    expect_errors({{"gemm t.csv --rows 4 --cols 4", err}}, dir);
  }
}

TEST(GemmCli, TotalCyclesBeyond64BitsAreAnError) {
  // Each layer: M = 2^21, N = 2^32 - 1, K = 1 on a 1 x 1 weight-stationary array: (2^32 - 1)
  // folds of 2R + C + M - 2 = 2^21 + 1 cycles, just under 2^53 MACs and about 2^53 cycles;
  // the 2049th layer takes the sum past 2^64.
  const fs::path dir = fresh_dir("gemm_overflow");
  std::string text = "Layer, M, N, K,\n";
  const unsigned __int128 per_layer =
      (unsigned __int128)((uint64_t{1} << 32) - 1) * ((uint64_t{1} << 21) + 1);
  unsigned __int128 sum = 0;
  int overflow_line = 0;
  for (int i = 0; i < 2100; ++i) {
    text += "L" + std::to_string(i) + ", 2097152, 4294967295, 1,\n";
    sum += per_layer;
    if (!overflow_line && (sum >> 64) != 0) overflow_line = i + 2;  // + header, 1-based
  }
  ASSERT_GT(overflow_line, 0);
  write(dir / "big.csv", text);
  expect_errors(
      {{"gemm big.csv --rows 1 --cols 1",
        "big.csv:" + std::to_string(overflow_line) + ": the cycles of the layers up to 'L" +
            std::to_string(overflow_line - 2) + "' add up to more than 2^64"}},
      dir);
}

TEST(GemmCli, BadScaleSimCfgsAreLocatedErrors) {
  const fs::path dir = fresh_dir("gemm_bad_cfg");
  write(dir / "t.csv", kCanonical);
  const std::vector<std::pair<std::string, std::string>> files = {
      {"[general\nrun_name = x\n",
       "c.cfg:1: expected a section header like '[architecture_presets]', got '[general'"},
      {"[general]\nrun_name = x\n[general]\n",
       "c.cfg:3: section [general] again (first at line 1)"},
      {"[architecture_presets]\nArrayHeight 4\n",
       "c.cfg:2: expected 'key = value' or 'key: value', got 'ArrayHeight 4'"},
      {"[architecture_presets]\n = 4\n", "c.cfg:2: a value without a key: '= 4'"},
      {"ArrayHeight: 4\n[architecture_presets]\n",
       "c.cfg:1: 'ArrayHeight' before any section header (SCALE-Sim's keys are under [general], "
       "[architecture_presets] and [run_presets])"},
      {"[architecture_presets]\nArrayHeight: 4\narrayheight = 8\n",
       "c.cfg:3: [architecture_presets] arrayheight again (first at line 2)"},
      {"[run_presets]\nInterfaceBandwidth: AUTO\n",
       "c.cfg:2:21: [run_presets] InterfaceBandwidth: expected USER or CALC, got 'AUTO'"},
      {"[architecture_presets]\nArrayHeight:    32x\n",
       "c.cfg:2:17: [architecture_presets] ArrayHeight: expected an integer from 1 to 4096, got "
       "'32x'"},
      {"[architecture_presets]\nArrayWidth = 0\n",
       "c.cfg:2:14: [architecture_presets] ArrayWidth: expected an integer from 1 to 4096, got "
       "'0'"},
      {"[architecture_presets]\nIfmapSramSzkB: 64 ; kB\n",
       "c.cfg:2:16: [architecture_presets] IfmapSramSzkB: expected a non-negative integer, got "
       "'64 ; kB'"},
      {"[architecture_presets]\nBandwidth : 10,x\n[run_presets]\nInterfaceBandwidth: USER\n",
       "c.cfg:2:13: [architecture_presets] Bandwidth: expected non-negative integers separated "
       "by commas, got '10,x'"},
      // A continuation line joins the value (configparser); the message shows it on one line.
      {"[architecture_presets]\nArrayHeight: 32\n  x\n",
       "c.cfg:2:14: [architecture_presets] ArrayHeight: expected an integer from 1 to 4096, got "
       "'32\\nx'"},
      {"[architecture_presets]\nDataflow : OS\n",
       "c.cfg:2:12: [architecture_presets] Dataflow: expected ws, os or is, got 'OS'"},
  };
  for (const auto& [text, err] : files) {
    write(dir / "c.cfg", text);
    expect_errors({{"gemm t.csv --cfg c.cfg --rows 4 --cols 4 --dataflow ws", err}}, dir);
  }
}

TEST(GemmCli, OsDrainIsAComputeUnitKey) {
  // chip.compute.os_drain = "overlapped" on a non-output-stationary array is an error at the
  // key; on an output-stationary one it takes R cycles per fold off the compute unit.
  auto r =
      run_moesim("validate configs/mixtral_decode.toml --set chip.compute.os_drain=overlapped");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "moesim: error: --set chip.compute.os_drain: \"overlapped\" needs dataflow = "
            "\"output_stationary\" (only an output-stationary array drains its results)\n");
  const fs::path dir = fresh_dir("gemm_os_drain");
  double busy[2];
  int i = 0;
  for (const char* d : {"exposed", "overlapped"}) {
    r = run_moesim(
        std::string("run configs/mixtral_decode.toml --quiet --out ") + (dir / d).string() +
        " --set chip.compute.dataflow=output_stationary --set chip.compute.os_drain=" + d);
    ASSERT_EQ(r.code, 0) << r.err;
    busy[i++] = testing_support::json_stat(read_text(dir / d / "stats.json"),
                                           "chip0.compute.array.busy_cycles");
  }
  EXPECT_LT(busy[1], busy[0]);
  EXPECT_GT(busy[1], 0.9 * busy[0]);  // decode GEMMs: K >> R, so the drain is a few percent
}

}  // namespace
}  // namespace moesim
