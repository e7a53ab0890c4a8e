// Importers of routing logs: grouping into steps, request and position numbering, warm-up and
// skipped passes, layer maps, and every malformed-row message (with --skip-bad-rows counts).

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/trace/trace_test_util.hpp"
#include "workloads/trace/trace.hpp"
#include "workloads/trace/trace_import.hpp"

namespace moesim::test {
namespace {

const std::string kData = std::string(MOESIM_SOURCE_DIR) + "/tests/trace/data/";

/// tests/trace/data/tiny_moe.toml: 5 layers (layer 0 dense), 8 experts, top-2.
ImportOptions tiny(ImportFormat f) {
  ImportOptions o;
  o.format = f;
  o.model = "tiny-moe";
  o.experts = 8;
  o.top_k = 2;
  o.is_moe = {false, true, true, true, true};
  return o;
}

struct Imported {
  TraceMeta meta;
  std::vector<TraceStep> steps;
  ImportReport report;
};

Imported import(const std::string& path, const ImportOptions& o) {
  auto r = open_import(path, o);
  Imported out;
  out.meta = r->meta();
  out.steps = read_all(*r);
  out.report = r->report();
  return out;
}

std::vector<std::pair<uint32_t, uint32_t>> tokens(const TraceStep& s) {
  std::vector<std::pair<uint32_t, uint32_t>> v;
  for (const auto& t : s.tokens) v.emplace_back(t.request, t.position);
  return v;
}

using Pairs = std::vector<std::pair<uint32_t, uint32_t>>;

TEST(Import, OlmoeRowsBecomeOneStepPerDecodeToken) {
  const Imported im = import(kData + "olmoe_small.jsonl", tiny(ImportFormat::kOlmoeJsonl));
  EXPECT_EQ(im.meta.source, "import:olmoe-jsonl");
  EXPECT_EQ(im.meta.model, "tiny-moe");
  EXPECT_EQ(im.meta.layers, 4u);
  ASSERT_EQ(im.steps.size(), 5u);
  const Pairs want[5] = {{{0, 0}}, {{0, 1}}, {{0, 2}}, {{1, 0}}, {{1, 1}}};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(im.steps[i].index, i);
    EXPECT_EQ(tokens(im.steps[i]), want[i]) << i;
  }
  EXPECT_EQ(im.steps[0].experts, (std::vector<int32_t>{7, 0, 3, 5, 3, 1, 6, 2}));
  EXPECT_EQ(im.steps[0].weights[0], 0.8f);
  EXPECT_EQ(im.report.route_rows, 20u);
  EXPECT_EQ(im.report.steps, 5u);
  EXPECT_EQ(im.report.assignments, 40u);
}

TEST(Import, EngineLogDropsTheWarmUpAndNumbersPositionsPerRequest) {
  const Imported im = import(kData + "engine_small.jsonl", tiny(ImportFormat::kEngineJsonl));
  ASSERT_EQ(im.steps.size(), 3u);
  // Prefill of r1 (3 tokens) and r2 (2), then decode of both, then of r2 alone.
  EXPECT_EQ(tokens(im.steps[0]), (Pairs{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}}));
  EXPECT_EQ(tokens(im.steps[1]), (Pairs{{0, 3}, {1, 2}}));
  EXPECT_EQ(tokens(im.steps[2]), (Pairs{{1, 3}}));
  EXPECT_EQ(im.report.metadata_rows, 1u);
  EXPECT_EQ(im.report.other_rows, 1u);
  EXPECT_EQ(im.report.passes, 4u);
  EXPECT_EQ(im.report.warmup_passes, 1u);
  EXPECT_EQ(im.report.warmup_rows, 64u);
  EXPECT_EQ(im.report.route_rows, 96u);
  EXPECT_EQ(im.meta.extra.at("log.engine"), "patched-server");
  EXPECT_EQ(im.meta.extra.at("log.tp"), "1");
  EXPECT_EQ(im.meta.extra.at("warmup_detect"), "min_tokens=16");
}

TEST(Import, WarmUpDetectionCanBeOffOrReplacedBySkipPasses) {
  ImportOptions o = tiny(ImportFormat::kEngineJsonl);
  o.detect_warmup = false;
  const Imported all = import(kData + "engine_small.jsonl", o);
  ASSERT_EQ(all.steps.size(), 4u);
  EXPECT_EQ(all.steps[0].num_tokens(), 16u);
  EXPECT_EQ(all.report.warmup_passes, 0u);
  // The dummy request took request id 0: the real ones follow.
  EXPECT_EQ(tokens(all.steps[1])[0], (std::pair<uint32_t, uint32_t>{1, 0}));

  o.skip_passes = 1;
  const Imported skipped = import(kData + "engine_small.jsonl", o);
  ASSERT_EQ(skipped.steps.size(), 3u);
  EXPECT_EQ(skipped.report.skipped_passes, 1u);
  EXPECT_EQ(skipped.report.skipped_pass_rows, 64u);
  EXPECT_EQ(tokens(skipped.steps[0])[0], (std::pair<uint32_t, uint32_t>{0, 0}));

  // A higher threshold than the warm-up pass's 16 tokens keeps it.
  ImportOptions high = tiny(ImportFormat::kEngineJsonl);
  high.warmup_min_tokens = 17;
  EXPECT_EQ(import(kData + "engine_small.jsonl", high).steps.size(), 4u);
}

class ImportLog : public TraceTest {
 protected:
  std::string log(const std::string& text) {
    const std::string p = path("log.jsonl");
    write_file(p, text);
    return p;
  }
  static std::string eng(const std::string& req, int tok, int layer,
                         const std::string& ids = "[1,2]", const std::string& w = "[0.5,0.25]") {
    return "{\"type\":\"route\",\"req_id\":\"" + req + "\",\"token_idx\":" + std::to_string(tok) +
           ",\"layer\":" + std::to_string(layer) + ",\"topk_ids\":" + ids +
           ",\"topk_weights\":" + w + "}\n";
  }
  static std::string olmoe(int problem, int tok, int layer, const std::string& ids = "[1,2]",
                           const std::string& w = "[0.5,0.5]") {
    return "{\"dataset\":\"d\",\"problem_id\":" + std::to_string(problem) +
           ",\"layer\":" + std::to_string(layer) + ",\"experts\":" + ids +
           ",\"gating_probs\":" + w + ",\"token_idx\":" + std::to_string(tok) + "}\n";
  }
  /// All four layers of one engine token.
  static std::string eng_pass(const std::vector<std::string>& reqs) {
    std::string s;
    for (int l = 0; l < 4; ++l) {
      for (size_t t = 0; t < reqs.size(); ++t) s += eng(reqs[t], static_cast<int>(t), l);
    }
    return s;
  }
  static std::string olmoe_token(int problem, int tok) {
    std::string s;
    for (int l = 0; l < 4; ++l) s += olmoe(problem, tok, l);
    return s;
  }
  std::string error(const std::string& text, ImportFormat f) {
    const std::string p = log(text);
    return input_error([&] { import(p, tiny(f)); });
  }
};

TEST_F(ImportLog, EnginePassesSplitWhereLayerAndTokenStopAscending) {
  // Batch-1 decode: each pass is (layer 0..3, token 0); then a pass of two tokens.
  const std::string p =
      log(eng_pass({"a"}) + eng_pass({"a"}) + eng_pass({"b", "a"}) + eng_pass({"b"}));
  const Imported im = import(p, tiny(ImportFormat::kEngineJsonl));
  ASSERT_EQ(im.steps.size(), 4u);
  EXPECT_EQ(tokens(im.steps[0]), (Pairs{{0, 0}}));
  EXPECT_EQ(tokens(im.steps[1]), (Pairs{{0, 1}}));
  EXPECT_EQ(tokens(im.steps[2]), (Pairs{{1, 0}, {0, 2}}));
  EXPECT_EQ(tokens(im.steps[3]), (Pairs{{1, 1}}));
}

TEST_F(ImportLog, TransformerLayerMap) {
  std::string text;
  for (int l = 1; l <= 4; ++l) text += eng("a", 0, l, "[" + std::to_string(l) + "]", "[1]");
  ImportOptions o = tiny(ImportFormat::kEngineJsonl);
  o.layer_map = LayerMap::kTransformer;
  const Imported im = import(log(text), o);
  ASSERT_EQ(im.steps.size(), 1u);
  EXPECT_EQ(im.steps[0].experts, (std::vector<int32_t>{1, 2, 3, 4}));
  EXPECT_EQ(im.meta.extra.at("layer_map"), "transformer");

  const std::string p = log(eng("a", 0, 0));
  EXPECT_EQ(input_error([&] { import(p, o); }),
            p + ":1: layer 0 is not an MoE layer of model 'tiny-moe'");
  const std::string q = log(eng("a", 0, 5));
  EXPECT_EQ(input_error([&] { import(q, o); }),
            q + ":1: layer 5 out of range (model 'tiny-moe' has 5 layers)");
}

TEST_F(ImportLog, MalformedRowsNameFileAndLine) {
  const auto E = ImportFormat::kEngineJsonl;
  const auto O = ImportFormat::kOlmoeJsonl;
  std::string p = path("log.jsonl");
  EXPECT_EQ(error(eng("a", 0, 4), E),
            p + ":1: layer 4 out of range (model 'tiny-moe' has 4 MoE layers; see --layer-map)");
  EXPECT_EQ(error(eng("a", 0, 0, "[8,1]"), E),
            p + ":1: expert 8 out of range (model 'tiny-moe' has 8 experts)");
  EXPECT_EQ(error(eng("a", 0, 0, "[-1,1]"), E),
            p + ":1: expert -1 is not an expert id (expected 0..7)");
  EXPECT_EQ(error(eng("a", 0, 0, "[1,1]"), E), p + ":1: expert 1 appears twice");
  EXPECT_EQ(error(eng("a", 0, 0, "[1,2]", "[0.5]"), E),
            p + ":1: 'topk_weights' has 1 values but 'topk_ids' has 2");
  EXPECT_EQ(error(eng("a", 0, 0, "[1,2]", "[0.5,-0.1]"), E), p + ":1: weight -0.1 is negative");
  EXPECT_EQ(error(eng("a", 0, 0, "[1,2]", "[0.5,NaN]"), E), p + ":1: weight NaN is not finite");
  EXPECT_EQ(error(eng("a", 0, 0, "[1,2]", "[0.5,null]"), E), p + ":1: weight null is not a number");
  EXPECT_EQ(
      error("{\"type\":\"route\",\"req_id\":\"a\",\"token_idx\":0,\"layer\":0,\"topk_ids\":[1]}\n",
            E),
      p + ":1: missing key 'topk_weights'");
  EXPECT_EQ(error(eng_pass({"a"}) + "{\"type\":\"route\",\n", E),
            p + ":5: bad JSON at column 17: expected a key in double quotes");
  EXPECT_EQ(error(eng("a", 0, 0) + eng("b", 0, 1), E),
            p + ":2: token_idx 0 belongs to request 'a' in this pass, not 'b'");
  EXPECT_EQ(error(eng("a", 0, 0) + eng("a", 0, 1) + eng("a", 0, 2), E),
            p + ":3: pass 0: token_idx 0 (request 'a') has no row for layer 3");
  EXPECT_EQ(error(olmoe(0, 0, 0, "[1]", "[0.5,0.5]"), O),
            p + ":1: 'gating_probs' has 2 values but 'experts' has 1");
  EXPECT_EQ(
      error("{\"dataset\":1,\"problem_id\":0,\"layer\":0,\"experts\":[1],\"gating_probs\":[1],"
            "\"token_idx\":0}\n",
            O),
      p + ":1: key 'dataset': expected a string, got 1");
  EXPECT_EQ(error(olmoe(0, 0, 0) + olmoe(0, 0, 0), O),
            p + ":2: duplicate row for token_idx 0 (request 0) at layer 0 (first at line 1)");
  EXPECT_EQ(error(olmoe_token(0, 1) + olmoe_token(0, 0), O),
            p + ":5: token_idx 0 of problem 0 after token_idx 1 (the rows of a token must be "
                "contiguous and token_idx ascend)");
  EXPECT_EQ(error(olmoe(0, 0, 0) + olmoe(0, 0, 1) + olmoe(0, 1, 0), O),
            p + ":3: token 0 of problem 0: token_idx 0 (request 0) has no row for layer 2");
}

TEST_F(ImportLog, MoreTypeErrors) {
  const auto E = ImportFormat::kEngineJsonl;
  const std::string p = path("log.jsonl");
  EXPECT_EQ(error("{\"type\":\"route\",\"req_id\":[1],\"token_idx\":0,\"layer\":0,"
                  "\"topk_ids\":[1],\"topk_weights\":[1]}\n",
                  E),
            p + ":1: key 'req_id': expected a string or a number, got [1]");
  EXPECT_EQ(error(eng("a", 0, 0, "1", "[1]"), E),
            p + ":1: key 'topk_ids': expected an array, got 1");
  EXPECT_EQ(error(eng("a", 0, 0, "[1]", "1"), E),
            p + ":1: key 'topk_weights': expected an array, got 1");
  EXPECT_EQ(error(eng("a", 0, 0, "[1]", "[1e39]"), E),
            p + ":1: weight 1e39 is out of range for a 32-bit float");
  EXPECT_EQ(error(eng("a", -1, 0), E),
            p + ":1: key 'token_idx': expected an unsigned integer, got -1");
  // A numeric req_id is a request like a string one.
  const std::string q =
      log("{\"type\":\"route\",\"req_id\":7,\"token_idx\":0,\"layer\":0,"
          "\"topk_ids\":[1],\"topk_weights\":[1]}\n");
  ImportOptions one = tiny(E);
  one.is_moe = {true};
  EXPECT_EQ(import(q, one).steps.size(), 1u);
  // A model name the trace writers would refuse.
  ImportOptions bad = tiny(E);
  bad.model = " tiny";
  EXPECT_EQ(input_error([&] { open_import(q, bad); }),
            q + ": cannot import: metadata 'model' begins or ends with a blank");
}

TEST_F(ImportLog, SkipBadRowsCountsAndKeepsTheRest) {
  // Line 5 is bad JSON, line 6 an expert out of range; the pass of token 1 misses layer 3.
  const std::string text = olmoe_token(0, 0) + "{oops\n" + olmoe(0, 1, 0, "[9,1]") +
                           olmoe(0, 1, 1) + olmoe(0, 1, 2) + olmoe_token(0, 2);
  ImportOptions o = tiny(ImportFormat::kOlmoeJsonl);
  o.skip_bad_rows = true;
  const std::string p = log(text);
  const Imported im = import(p, o);
  ASSERT_EQ(im.steps.size(), 2u);
  EXPECT_EQ(tokens(im.steps[1]), (Pairs{{0, 2}}));
  EXPECT_EQ(im.report.bad_rows, 2u);
  EXPECT_EQ(im.report.first_bad_row,
            p + ":5: bad JSON at column 2: expected a key in double quotes");
  EXPECT_EQ(im.report.incomplete_passes, 1u);
  EXPECT_EQ(im.report.incomplete_rows, 2u);
  EXPECT_EQ(im.report.route_rows, 12u);
  const std::string text_report = import_report_text(im.report);
  EXPECT_NE(text_report.find("bad rows skipped          2 (first: " + p + ":5:"), std::string::npos)
      << text_report;
}

TEST(Import, FormatNames) {
  ImportFormat f;
  EXPECT_TRUE(parse_import_format("engine-jsonl", f));
  EXPECT_EQ(f, ImportFormat::kEngineJsonl);
  EXPECT_STREQ(import_format_name(f), "engine-jsonl");
  EXPECT_TRUE(parse_import_format("olmoe-jsonl", f));
  EXPECT_FALSE(parse_import_format("olmoe", f));
}

}  // namespace
}  // namespace moesim::test
