// The trace commands through the real program: the bad-input corpus in tests/trace/bad (each
// file's exact message is in the table below, which works for binary files too), the
// command-line errors of `trace import` and `trace stats`, and their outputs.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/regression/cli_runner.hpp"

namespace moesim::testing_support {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = MOESIM_SOURCE_DIR;
const fs::path kBad = kSource / "tests" / "trace" / "bad";

/// How a corpus file is read.
enum class Via { kStats, kImportOlmoe, kImportOlmoeStrict, kImportEngine, kImportLogits };

struct BadCase {
  const char* file;
  Via via;
  const char* message;  ///< after "moesim: error: <file>"
};

const BadCase kCases[] = {
    {"01_csv_bad_version.csv", Via::kStats,
     ":1: unsupported version 2 (this build reads version 1)"},
    {"02_csv_expert_out_of_range.csv", Via::kStats, ":8: expert 9 out of range (experts = 8)"},
    {"03_csv_missing_layer.csv", Via::kStats,
     ":9: step 0: token (request 0, position 0) has no row for layer 1"},
    {"04_csv_nan_weight.csv", Via::kStats, ":8: weight 'nan' is not finite"},
    {"05_jsonl_bad_json.jsonl", Via::kStats, ":2: bad JSON at column 81: expected ',' or '}'"},
    {"06_jsonl_weights_length.jsonl", Via::kStats, ":2: key 'weights': expected 2 values, got 1"},
    {"07_jsonl_steps_descend.jsonl", Via::kStats,
     ":4: step 0 after step 1 (steps must ascend and the rows of a step be contiguous)"},
    {"08_jsonl_unknown_key.jsonl", Via::kStats,
     ":2: unknown key 'expert' (expected step, request, position, layer, experts, weights)"},
    {"09_binary_truncated.moetrace", Via::kStats, ": truncated: no end record"},
    {"10_binary_bad_checksum.moetrace", Via::kStats, ": record 0 (step 0): checksum mismatch"},
    {"11_binary_bad_magic.moetrace", Via::kStats, ": bad magic (not a moesim binary trace)"},
    {"12_olmoe_expert_out_of_range.jsonl", Via::kImportOlmoe,
     ":5: expert 8 out of range (model 'tiny-moe' has 8 experts)"},
    {"13_olmoe_missing_weights.jsonl", Via::kImportOlmoe, ":2: missing key 'gating_probs'"},
    {"14_olmoe_token_missing_layer.jsonl", Via::kImportOlmoeStrict,
     ":7: token 1 of problem 0: token_idx 1 (request 0) has no row for layer 3"},
    {"15_engine_negative_weight.jsonl", Via::kImportEngine, ":3: weight -0.1 is negative"},
    {"16_engine_bad_json.jsonl", Via::kImportEngine,
     ":2: bad JSON at column 109: expected ',' or '}'"},
    {"17_engine_lengths_differ.jsonl", Via::kImportEngine,
     ":1: 'topk_weights' has 2 values but 'topk_ids' has 3"},
    {"18_engine_layer_out_of_range.jsonl", Via::kImportEngine,
     ":1: layer 7 out of range (model 'tiny-moe' has 4 MoE layers; see --layer-map)"},
    {"19_engine_only_warmup.jsonl", Via::kImportEngine,
     ": no step left to write (80 routing rows read; see the options that drop passes)"},
    {"20_engine_nan_weight.jsonl", Via::kImportEngine, ":1: weight NaN is not finite"},
    {"21_logits_bad_magic.npy", Via::kImportLogits, ": array: bad magic (not a NumPy .npy array)"},
    {"22_logits_float64.npy", Via::kImportLogits,
     ": array: header: key 'descr': unsupported dtype '<f8' (expected little-endian "
     "float16/float32, or integers for request/step)"},
    {"23_jsonl_header_bad_json.jsonl", Via::kStats,
     ":1: bad JSON at column 42: expected ',' or '}'"},
    {"24_csv_task_out_of_range.csv", Via::kStats, ":10: task 2 out of range (tasks = 2)"},
    {"25_jsonl_negative_task.jsonl", Via::kStats,
     ":2: key 'task': expected an unsigned integer, got -1"},
    {"26_csv_too_many_layers.csv", Via::kStats,
     ":3: metadata 'layers' = 255555555 is too large (at most 1024, the most a model has)"},
};

TEST(BadTraceCorpus, EveryFileHasACaseAndEveryCaseAFile) {
  std::set<std::string> files, cases;
  for (const auto& e : fs::directory_iterator(kBad)) files.insert(e.path().filename().string());
  for (const BadCase& c : kCases) cases.insert(c.file);
  EXPECT_EQ(files, cases);
  EXPECT_GE(files.size(), 20u);
}

class BadTrace : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadTrace, ExitsTwoWithTheExactMessageAndNoOutput) {
  const BadCase& c = GetParam();
  const fs::path out = fresh_dir(std::string("bad_") + c.file) / "out.csv";
  std::string args;
  switch (c.via) {
    case Via::kStats:
      args = std::string("trace stats ") + c.file;
      break;
    case Via::kImportOlmoe:
    case Via::kImportOlmoeStrict:
    case Via::kImportEngine:
    case Via::kImportLogits:
      args = std::string("trace import --format ") +
             (c.via == Via::kImportEngine   ? "engine-jsonl"
              : c.via == Via::kImportLogits ? "logits-npz"
                                            : "olmoe-jsonl") +
             (c.via == Via::kImportOlmoeStrict ? " --strict" : "") +
             " --model ../data/tiny_moe.toml " + c.file + " '" + out.string() + "'";
      break;
  }
  const auto r = run_moesim(args, kBad.string());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err, std::string("moesim: error: ") + c.file + c.message + "\n");
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".tmp"));
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadTrace, ::testing::ValuesIn(kCases), [](const auto& info) {
  std::string n = info.param.file;
  n = n.substr(0, n.find('.'));
  std::replace_if(
      n.begin(), n.end(), [](char ch) { return !std::isalnum(ch); }, '_');
  return n;
});

TEST(TraceCli, ImportAndStatsUsageErrors) {
  const std::string data = "tests/trace/data/";
  const std::string imp = "trace import --format olmoe-jsonl --model " + data + "tiny_moe.toml ";
  const struct {
    std::string args;
    std::string message;
  } cases[] = {
      {"trace import --model mixtral_8x7b a b",
       "trace import: --format is required (olmoe-jsonl, engine-jsonl or logits-npz)"},
      {"trace import --format olmoe --model mixtral_8x7b a b",
       "trace import: --format expects olmoe-jsonl, engine-jsonl or logits-npz, got 'olmoe' (did "
       "you mean 'olmoe-jsonl'?)"},
      {"trace import --format olmoe-jsonl a b",
       "trace import: --model is required (a preset in workloads/models)"},
      {"trace import --format olmoe-jsonl --model mixtral a b",
       "trace import: --model: no preset 'mixtral' (did you mean 'mixtral_8x7b'?) (presets: "
       "coe_150x_llama2_7b, deepseek_moe_16b, deepseek_v3, llama2_7b, m3vit_small, mistral_7b, "
       "mixtral_8x7b, olmoe_1b_7b, qwen1_5_moe_a2_7b, qwen3_30b_a3b, switch_base_128)"},
      {imp + "--layer-map first a b",
       "trace import: --layer-map expects moe or transformer, got 'first'"},
      {imp + "--warmup-min-tokens 1 a b",
       "trace import: --warmup-min-tokens must be at least 2, got 1"},
      {imp + "--skip-passes x a b",
       "trace import: --skip-passes expects a non-negative integer, got 'x'"},
      {imp + "--skip-pases 1 a b",
       "trace import: unknown option '--skip-pases' (did you mean '--skip-passes'?)"},
      {imp + "a", "trace import: expects IN... and OUT"},
      {imp + "--format", "trace import: --format needs a value"},
      {"trace stats", "trace stats: missing TRACE"},
      {"trace stats a b", "trace stats: unexpected argument 'b'"},
      {"trace stats --jsn a", "trace stats: unknown option '--jsn' (did you mean '--json'?)"},
      {"trace stat a", "trace: unknown subcommand 'stat' (did you mean 'stats'?)"},
  };
  for (const auto& c : cases) {
    const auto r = run_moesim(c.args);
    EXPECT_EQ(r.code, 2) << c.args;
    const std::string see = c.message.rfind("trace: ", 0) == 0       ? "trace"
                            : c.message.rfind("trace stats", 0) == 0 ? "trace stats"
                                                                     : "trace import";
    EXPECT_EQ(r.err, "moesim: error: " + c.message + " (see 'moesim " + see + " --help')\n")
        << c.args;
  }
}

TEST(TraceCli, ImportWritesATraceAndReportsWhatItDropped) {
  const fs::path dir = fresh_dir("import_ok");
  const auto r = run_moesim(
      "trace import --format engine-jsonl --model tests/trace/data/tiny_moe.toml "
      "tests/trace/data/engine_small.jsonl '" +
      (dir / "e.moetrace").string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("warm-up passes dropped    1 (64 rows)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("steps written             3 (8 tokens, 64 assignments)"), std::string::npos)
      << r.out;
  // The imported trace reads back, and converts losslessly.
  const auto s = run_moesim("trace stats --json '" + (dir / "e.moetrace").string() + "'");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("\"assignments\": {\"value\": 64, \"unit\": \"assignments\"}"),
            std::string::npos)
      << s.out;
  EXPECT_NE(s.out.find("\"source\": \"import:engine-jsonl\""), std::string::npos) << s.out;
  // A preset by name, with the olmoe importer: OLMoE's 16 layers and 64 experts.
  const auto o = run_moesim(
      "trace import --strict --format olmoe-jsonl --model olmoe_1b_7b "
      "tests/trace/data/olmoe_small.jsonl '" +
      (dir / "o.csv").string() + "'");
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err,
            "moesim: error: tests/trace/data/olmoe_small.jsonl:13: token 0 of problem 0: "
            "token_idx 0 (request 0) has no row for layer 4\n");
  EXPECT_FALSE(fs::exists(dir / "o.csv"));
  // The log covers OLMoE's first 4 MoE layers: --layers says so, the rest filled by copy.
  const auto part = run_moesim(
      "trace import --format olmoe-jsonl --model olmoe_1b_7b --layers 0-3 --fill copy "
      "tests/trace/data/olmoe_small.jsonl '" +
      (dir / "o.csv").string() + "'");
  ASSERT_EQ(part.code, 0) << part.err;
  EXPECT_NE(part.out.find("steps written             5 (5 tokens, 160 assignments)"),
            std::string::npos)
      << part.out;
  const std::string text = read_text(dir / "o.csv");
  EXPECT_NE(text.find("real_layers=0-3"), std::string::npos) << text.substr(0, 400);
  EXPECT_NE(text.find("layer_fill=copy-nearest"), std::string::npos);
  // Without --layers nothing is complete: every token is dropped, which leaves no step.
  const auto none = run_moesim(
      "trace import --format olmoe-jsonl --model olmoe_1b_7b "
      "tests/trace/data/olmoe_small.jsonl '" +
      (dir / "n.csv").string() + "'");
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("no step left to write (20 routing rows read"), std::string::npos)
      << none.err;
}

TEST(TraceCli, NewModelPresetsValidateAndRun) {
  // Each preset on a small decode config: `moesim validate`, then a short run.
  const fs::path dir = fresh_dir("presets");
  for (const char* m : {"qwen1_5_moe_a2_7b", "deepseek_moe_16b", "switch_base_128"}) {
    const fs::path cfg = dir / (std::string(m) + ".toml");
    std::ofstream(cfg) << "include = [\"" << (kSource / "configs/hw/sn40l_like.toml").string()
                       << "\", \"" << (kSource / "workloads/models" / m).string()
                       << ".toml\"]\n[workload]\ntype = \"synthetic\"\nphase = \"decode\"\n"
                          "batch = 4\ncontext = 64\nsteps = 2\ndistribution = \"uniform\"\n";
    const auto v = run_moesim("validate '" + cfg.string() + "'");
    EXPECT_EQ(v.code, 0) << m << ": " << v.err;
    EXPECT_EQ(v.out, cfg.string() + ": ok\n");
    const auto r =
        run_moesim("run '" + cfg.string() + "' --quiet --out '" + (dir / m).string() + "'");
    EXPECT_EQ(r.code, 0) << m << ": " << r.err;
  }
}

TEST(TraceCli, ConvertAmongAllThreeFormsAndRunAJsonlTrace) {
  const fs::path dir = fresh_dir("convert");
  const std::string shipped = "workloads/traces/mixtral_decode_b16.csv";
  const std::string a = (dir / "a.jsonl").string(), b = (dir / "b.moetrace").string(),
                    c = (dir / "c.jsonl").string(), d = (dir / "d.csv").string();
  for (const auto& [in, out] :
       std::vector<std::pair<std::string, std::string>>{{shipped, a}, {a, b}, {b, c}, {c, d}}) {
    const auto r = run_moesim("trace convert '" + in + "' '" + out + "'");
    ASSERT_EQ(r.code, 0) << in << " -> " << out << ": " << r.err;
  }
  EXPECT_EQ(read_text(c), read_text(a));
  EXPECT_EQ(read_text(d), read_text(kSource / shipped));
  // The simulator streams the JSONL form like the others: same stats as from the CSV.
  const auto from_jsonl =
      run_moesim("run configs/mixtral_decode.toml --quiet --set workload.path='" + a + "' --out '" +
                 (dir / "j").string() + "'");
  ASSERT_EQ(from_jsonl.code, 0) << from_jsonl.err;
  const auto from_csv =
      run_moesim("run configs/mixtral_decode.toml --quiet --out '" + (dir / "c").string() + "'");
  ASSERT_EQ(from_csv.code, 0) << from_csv.err;
  for (const char* field : {"cycles", "assignments"}) {
    EXPECT_EQ(json_summary(read_text(dir / "j" / "stats.json"), field),
              json_summary(read_text(dir / "c" / "stats.json"), field))
        << field;
  }
}

TEST(TraceCli, ImportChecksTheModelFile) {
  const fs::path dir = fresh_dir("bad_model");
  std::ofstream(dir / "m.toml") << "[model]\nname = \"x\"\nlayers = 2\nhidden = 8\nheads = 1\n"
                                   "kv_heads = 1\nhead_dim = 8\nexperts = 4\ntop_k = 5\n"
                                   "expert_ffn = 8\nweight_bytes = 2\nact_bytes = 2\n";
  const auto r =
      run_moesim("trace import --format olmoe-jsonl --model m.toml in.jsonl out.csv", dir.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "moesim: error: m.toml:9:9: model.top_k: 5 is more than experts = 4\n");
}

TEST(TraceCli, HelpTextsDefineTheStatistics) {
  const auto r = run_moesim("trace stats --help");
  EXPECT_EQ(r.code, 0);
  for (const char* s : {"max/mean", "CV", "entropy", "normalised", "temporal locality",
                        "inter-layer affinity", "ties to the lower id", "k histogram"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
  const auto i = run_moesim("trace import --help");
  EXPECT_EQ(i.code, 0);
  EXPECT_NE(i.out.find("--skip-bad-rows"), std::string::npos);
}

}  // namespace
}  // namespace moesim::testing_support
