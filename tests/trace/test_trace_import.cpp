// Importers of routing logs: grouping into steps, request and position numbering, warm-up and
// skipped passes, layer maps, and every malformed-row message (with --skip-bad-rows counts).

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
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
  ImportOptions strict_e = tiny(E);
  strict_e.strict = true;
  const std::string r = log(eng("a", 0, 0) + eng("a", 0, 1) + eng("a", 0, 2));
  EXPECT_EQ(input_error([&] { import(r, strict_e); }),
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
  ImportOptions strict = tiny(O);
  strict.strict = true;
  const std::string q = log(olmoe(0, 0, 0) + olmoe(0, 0, 1) + olmoe(0, 1, 0));
  EXPECT_EQ(input_error([&] { import(q, strict); }),
            q + ":3: token 0 of problem 0: token_idx 0 (request 0) has no row for layer 2");
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
  // Line 5 is bad JSON, line 6 an expert out of range; token 1 then misses layer 0.
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
  EXPECT_EQ(im.report.incomplete_tokens, 1u);
  EXPECT_EQ(im.report.incomplete_rows, 2u);
  ASSERT_EQ(im.report.incomplete_examples.size(), 1u);
  EXPECT_EQ(im.report.incomplete_examples[0],
            "request 0 position 1 (problem 0, token_idx 1): no row for layer 0");
  EXPECT_EQ(im.report.route_rows, 12u);
  const std::string text_report = import_report_text(im.report);
  EXPECT_NE(text_report.find("bad rows skipped          2 (first: " + p + ":5:"), std::string::npos)
      << text_report;
}

// Rows are parsed by simdjson On-Demand and, when anything is unusual or wrong, again by
// jsonl::Object: unusual rows give the rows of the plain ones, and what only the fallback
// parser rejects keeps its message.
TEST_F(ImportLog, FastPathAndFallbackGiveTheSameRowsAndMessages) {
  const auto O = ImportFormat::kOlmoeJsonl;
  const auto E = ImportFormat::kEngineJsonl;
  auto same = [&](const std::string& plain, const std::string& unusual, ImportFormat f) {
    const Imported a = import(log(plain), tiny(f));
    const Imported b = import(log(unusual), tiny(f));
    ASSERT_EQ(a.steps.size(), b.steps.size()) << unusual;
    for (size_t i = 0; i < a.steps.size(); ++i) {
      EXPECT_EQ(tokens(a.steps[i]), tokens(b.steps[i])) << unusual;
      EXPECT_EQ(a.steps[i].offsets, b.steps[i].offsets) << unusual;
      EXPECT_EQ(a.steps[i].experts, b.steps[i].experts) << unusual;
      EXPECT_EQ(a.steps[i].weights, b.steps[i].weights) << unusual;
    }
  };
  std::string plain, unusual;
  for (int l = 0; l < 4; ++l) {
    plain += "{\"dataset\":\"d\",\"problem_id\":3,\"layer\":" + std::to_string(l) +
             ",\"experts\":[1,2],\"gating_probs\":[0.75,0.25],\"token_idx\":0}\n";
  }
  // An escaped key, an escaped string, ignored keys with a nested array and an object, a
  // `type` key (ignored by olmoe-jsonl), blanks.
  unusual =
      "{\"dataset\":\"\\u0064\",\"problem_id\":3,\"layer\":0,\"experts\":[1,2],"
      "\"gating_probs\":[0.75,0.25],\"token_idx\":0}\n"
      "{\"dataset\":\"d\",\"problem_id\":3,\"l\\u0061yer\":1,\"experts\":[1,2],"
      "\"gating_probs\":[0.75,0.25],\"token_idx\":0}\n"
      " { \"dataset\" : \"d\" , \"problem_id\" : 3 , \"layer\" : 2 , \"experts\" : [ 1 , 2 ] ,"
      " \"gating_probs\" : [ 0.75 , 0.25 ] , \"token_idx\" : 0 , \"probs\" : [0.1, \"x\", null, "
      "true] } \n"
      "{\"dataset\":\"d\",\"problem_id\":3,\"layer\":3,\"experts\":[1,2],\"type\":\"x\","
      "\"gating_probs\":[0.75,0.25],\"token_idx\":0,\"extra\":{\"a\":1}}\n";
  same(plain, unusual, O);
  std::string eplain, eunusual;
  for (int l = 0; l < 4; ++l) {
    eplain += eng("a", 0, l);
    eunusual += l == 2 ? "{\"req_id\":\"a\",\"token_idx\":0,\"layer\":2,\"topk_ids\":[1,2],"
                         "\"topk_weights\":[0.5,0.25],\"t\":[[1]]}\n"
                       : eng("a", 0, l);
  }
  // A row without `type`, with a key that nests too deep: bad JSON for jsonl.hpp.
  const std::string p = path("log.jsonl");
  EXPECT_EQ(error(eunusual, E),
            p + ":3: bad JSON at column 87: nested arrays and objects are not supported here");
  same(eplain,
       eplain.substr(0, eplain.size() / 2) + eng("a", 0, 2).substr(16).insert(0, "{") +
           eng("a", 0, 3),
       E);
  // Only the fallback parser reports these; the fast path must not accept them.
  EXPECT_EQ(error("{\"note\":1,\"note\":2,\"dataset\":\"d\",\"problem_id\":0,\"layer\":0,"
                  "\"experts\":[1],\"gating_probs\":[1],\"token_idx\":0}\n",
                  O),
            p + ":1: bad JSON at column 11: duplicate key 'note'");
  EXPECT_EQ(error("{\"note\":tru,\"dataset\":\"d\",\"problem_id\":0,\"layer\":0,"
                  "\"experts\":[1],\"gating_probs\":[1],\"token_idx\":0}\n",
                  O),
            p + ":1: bad JSON at column 9: expected a value");
  EXPECT_EQ(error("{\"note\":01,\"dataset\":\"d\",\"problem_id\":0,\"layer\":0,"
                  "\"experts\":[1],\"gating_probs\":[1],\"token_idx\":0}\n",
                  O),
            p + ":1: bad JSON at column 9: invalid number (leading zero)");
  EXPECT_EQ(error("{\"dataset\":\"d\",\"problem_id\":0,\"layer\":0,\"experts\":[1],"
                  "\"gating_probs\":[1],\"token_idx\":0} x\n",
                  O),
            p + ":1: bad JSON at column 89: unexpected text after the object");
  EXPECT_EQ(error("{\"dataset\":\"d\",\"problem_id\":0,\"layer\":0,\"experts\":[1],"
                  "\"gating_probs\":[1],\"token_idx\":4294967296}\n",
                  O),
            p + ":1: key 'token_idx': expected an unsigned integer, got 4294967296");
}

/// Rows of one decode request (problem) at all four layers, experts varying by token and layer.
struct OlmoeRow {
  int problem, tok, layer;
};
std::string olmoe_row(const OlmoeRow& r) {
  const int a = (r.tok * 3 + r.layer) % 8,
            b = (r.tok + r.layer * 5 + 1) % 8 == a ? (a + 1) % 8 : (r.tok + r.layer * 5 + 1) % 8;
  return "{\"dataset\":\"d\",\"problem_id\":" + std::to_string(r.problem) +
         ",\"layer\":" + std::to_string(r.layer) + ",\"experts\":[" + std::to_string(a) + "," +
         std::to_string(b) +
         "],\"gating_probs\":[0.75,0.25],\"token_idx\":" + std::to_string(r.tok) +
         ",\"extra_field\":1}\n";
}
std::string rows_text(const std::vector<OlmoeRow>& rows) {
  std::string s;
  for (const auto& r : rows) s += olmoe_row(r);
  return s;
}

class ImportOrders : public TraceTest {
 protected:
  /// Imports `text` (or several files) into a CSV and returns its bytes.
  std::string imported(const std::vector<std::string>& texts, const ImportOptions& o,
                       const std::string& name, ImportReport* report = nullptr) {
    std::vector<std::string> paths;
    for (size_t i = 0; i < texts.size(); ++i) {
      paths.push_back(path(name + std::to_string(i) + ".jsonl"));
      write_file(paths.back(), texts[i]);
    }
    auto r = open_import(paths, o);
    const std::string out = path(name + ".csv");
    auto w = create_trace_writer(out, r->meta());
    TraceStep st;
    while (r->next(st)) w->write(st);
    w->finish();
    if (report) *report = r->report();
    std::ifstream in(out, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  /// Problem p has n tokens; the rows token-major.
  static std::vector<OlmoeRow> token_major(const std::vector<int>& tokens_per_problem) {
    std::vector<OlmoeRow> v;
    for (size_t p = 0; p < tokens_per_problem.size(); ++p) {
      for (int t = 0; t < tokens_per_problem[p]; ++t) {
        for (int l = 0; l < 4; ++l) v.push_back({static_cast<int>(p), t, l});
      }
    }
    return v;
  }
};

TEST_F(ImportOrders, TokenMajorLayerMajorAndShuffledGiveTheSameBytes) {
  const ImportOptions o = tiny(ImportFormat::kOlmoeJsonl);
  std::vector<OlmoeRow> tm = token_major({5, 3, 7});
  std::vector<OlmoeRow> lm = tm;
  std::stable_sort(lm.begin(), lm.end(), [](const OlmoeRow& a, const OlmoeRow& b) {
    return a.problem != b.problem ? a.problem < b.problem : a.layer < b.layer;
  });
  std::vector<OlmoeRow> sh = tm;
  uint64_t x = 88172645463325252ull;
  for (size_t lo = 0; lo < sh.size();) {  // shuffle inside each request
    size_t hi = lo;
    while (hi < sh.size() && sh[hi].problem == sh[lo].problem) ++hi;
    for (size_t n = hi - lo; n > 1; --n) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      std::swap(sh[lo + n - 1], sh[lo + x % n]);
    }
    lo = hi;
  }
  ASSERT_NE(rows_text(sh), rows_text(tm));
  const std::string a = imported({rows_text(tm)}, o, "tm");
  EXPECT_EQ(imported({rows_text(lm)}, o, "lm"), a);
  EXPECT_EQ(imported({rows_text(sh)}, o, "sh"), a);
  EXPECT_NE(a.find("\n14,2,6,"), std::string::npos) << a;  // step 14 = problem 2, token 6
}

TEST_F(ImportOrders, IncompleteLastTokensAreDroppedAndListed) {
  std::vector<OlmoeRow> rows = token_major({3, 2});
  // Problem 0's last token stops after layer 1; problem 1's after layer 2 (layer-major).
  rows.erase(std::remove_if(rows.begin(), rows.end(),
                            [](const OlmoeRow& r) {
                              return (r.problem == 0 && r.tok == 2 && r.layer > 1) ||
                                     (r.problem == 1 && r.tok == 1 && r.layer > 2);
                            }),
             rows.end());
  ImportReport rep;
  const std::string out = imported({rows_text(rows)}, tiny(ImportFormat::kOlmoeJsonl), "inc", &rep);
  EXPECT_EQ(rep.steps, 3u);
  EXPECT_EQ(rep.incomplete_tokens, 2u);
  EXPECT_EQ(rep.incomplete_rows, 5u);
  EXPECT_EQ(rep.incomplete_examples,
            (std::vector<std::string>{
                "request 0 position 2 (problem 0, token_idx 2): no row for layer 2",
                "request 1 position 1 (problem 1, token_idx 1): no row for layer 3"}));
  EXPECT_NE(import_report_text(rep).find("incomplete tokens dropped 2 (5 rows)\n    request 0 "),
            std::string::npos);
  ImportOptions strict = tiny(ImportFormat::kOlmoeJsonl);
  strict.strict = true;
  const std::string p = path("inc0.jsonl");
  EXPECT_EQ(input_error([&] { imported({rows_text(rows)}, strict, "inc"); }),
            p + ":11: token 2 of problem 0: token_idx 2 (request 0) has no row for layer 2");
}

TEST_F(ImportOrders, PerLayerFilesMergedEqualTheSingleFileLog) {
  const ImportOptions o = tiny(ImportFormat::kOlmoeJsonl);
  const std::vector<OlmoeRow> all = token_major({4, 6, 2});
  std::vector<std::string> per_layer(4);
  for (const auto& r : all) per_layer[r.layer] += olmoe_row(r);
  ImportReport rep;
  const std::string single = imported({rows_text(all)}, o, "single");
  EXPECT_EQ(imported(per_layer, o, "merged", &rep), single);
  EXPECT_EQ(rep.files_mode, "merged per layer");
  // Out of order too: layer 3's file first.
  EXPECT_EQ(imported({per_layer[3], per_layer[1], per_layer[0], per_layer[2]}, o, "m2"), single);
  // Files of the same layers are concatenated: the log cut in two.
  const std::string text = rows_text(all);
  const size_t cut = text.rfind('\n', text.find("\"problem_id\":1")) + 1;
  EXPECT_EQ(imported({text.substr(0, cut), text.substr(cut)}, o, "cat", &rep), single);
  EXPECT_EQ(rep.files_mode, "concatenated");
  // A request that stops early in the last layers' files: its last token is incomplete.
  std::vector<std::string> short_tail = per_layer;
  short_tail[3].clear();
  for (const auto& r : all) {
    if (r.layer == 3 && !(r.problem == 2 && r.tok == 1)) short_tail[3] += olmoe_row(r);
  }
  imported(short_tail, o, "st", &rep);
  EXPECT_EQ(rep.incomplete_tokens, 1u);
}

TEST_F(ImportOrders, MismatchedFilesNameBoth) {
  const ImportOptions o = tiny(ImportFormat::kOlmoeJsonl);
  const std::vector<OlmoeRow> all = token_major({4, 6});
  std::vector<std::string> per_layer(4);
  for (const auto& r : all) {
    if (!(r.layer == 2 && r.problem == 0 && r.tok == 1)) per_layer[r.layer] += olmoe_row(r);
  }
  const std::string f0 = path("mm0.jsonl"), f2 = path("mm2.jsonl");
  EXPECT_EQ(input_error([&] { imported(per_layer, o, "mm"); }),
            f0 + ": problem 0: token_idx 1 is in " + f0 + " but not in " + f2 +
                " (per-layer files must hold the same tokens)");
  // Different passes: layer 1's file lacks problem 0.
  std::vector<std::string> other(4);
  for (const auto& r : all) {
    if (!(r.layer == 1 && r.problem == 0)) other[r.layer] += olmoe_row(r);
  }
  const std::string g1 = path("mp1.jsonl");
  EXPECT_EQ(input_error([&] { imported(other, o, "mp"); }),
            g1 + ":1: problem 1 where " + path("mp0.jsonl") +
                ":1 has problem 0 (per-layer files must hold the same passes)");
  // Neither one layer each nor the same layers.
  const std::string h = rows_text(all);
  EXPECT_EQ(input_error([&] {
              imported({h, per_layer[0]}, o, "mx");
            }),
            path("mx1.jsonl") + ": its first request logs MoE layers 0 but " + path("mx0.jsonl") +
                "'s logs 0-3 (several files must each log one distinct layer, to be merged, or "
                "all log the same layers, to be concatenated)");
}

TEST_F(ImportOrders, EnginePassesInAnyRowOrder) {
  // A prefill pass of 3 tokens (a, a, b) then a decode pass, written layer-major and
  // token-major: the same trace.
  auto eng = [](const std::string& req, int tok, int layer) {
    return "{\"type\":\"route\",\"req_id\":\"" + req + "\",\"token_idx\":" + std::to_string(tok) +
           ",\"layer\":" + std::to_string(layer) + ",\"topk_ids\":[" +
           std::to_string((tok + layer) % 8) + "],\"topk_weights\":[0.5]}\n";
  };
  const char* reqs[] = {"a", "a", "b"};
  std::string lm, tm;
  for (int l = 0; l < 4; ++l) {
    for (int t = 0; t < 3; ++t) lm += eng(reqs[t], t, l);
  }
  for (int t = 0; t < 3; ++t) {
    for (int l = 0; l < 4; ++l) tm += eng(reqs[t], t, l);
  }
  for (int l = 0; l < 4; ++l) lm += eng("b", 0, l), tm += eng("b", 0, l);
  const ImportOptions o = tiny(ImportFormat::kEngineJsonl);
  ImportReport rep;
  const std::string a = imported({lm}, o, "elm", &rep);
  EXPECT_EQ(rep.steps, 2u);
  EXPECT_EQ(imported({tm}, o, "etm"), a);
  EXPECT_NE(a.find("\n1,1,1,0,"), std::string::npos) << a;  // b's second token at position 1
}

TEST_F(ImportOrders, EnginePerLayerFilesMergeAndMismatchesNameBothFiles) {
  // A prefill pass of 3 tokens (a, a, b), then a decode pass of b; one file per layer.
  auto eng = [](const std::string& req, int tok, int layer) {
    return "{\"type\":\"route\",\"req_id\":\"" + req + "\",\"token_idx\":" + std::to_string(tok) +
           ",\"layer\":" + std::to_string(layer) + ",\"topk_ids\":[" +
           std::to_string((tok + layer) % 8) + "],\"topk_weights\":[0.5]}\n";
  };
  const char* reqs[] = {"a", "a", "b"};
  std::string single;
  std::vector<std::string> per_layer(4);
  for (int l = 0; l < 4; ++l) {
    for (int t = 0; t < 3; ++t) single += eng(reqs[t], t, l), per_layer[l] += eng(reqs[t], t, l);
  }
  for (int l = 0; l < 4; ++l) single += eng("b", 0, l), per_layer[l] += eng("b", 0, l);
  const ImportOptions o = tiny(ImportFormat::kEngineJsonl);
  ImportReport rep;
  EXPECT_EQ(imported(per_layer, o, "em", &rep), imported({single}, o, "es"));
  EXPECT_EQ(rep.files_mode, "merged per layer");
  // Layer 2's file lacks token 1 of the prefill pass.
  std::vector<std::string> lacks = per_layer;
  lacks[2] = eng("a", 0, 2) + eng("b", 2, 2) + eng("b", 0, 2);
  EXPECT_EQ(input_error([&] { imported(lacks, o, "el"); }),
            path("el0.jsonl") + ": pass 0: token_idx 1 is in " + path("el0.jsonl") +
                " but not in " + path("el2.jsonl") +
                " (per-layer files must hold the same tokens)");
  // Layer 1's file gives token 2 to request a: the same token_idx, another request.
  std::vector<std::string> other = per_layer;
  other[1] = eng("a", 0, 1) + eng("a", 1, 1) + eng("a", 2, 1) + eng("b", 0, 1);
  EXPECT_EQ(input_error([&] { imported(other, o, "er"); }),
            path("er1.jsonl") + ":3: pass 0: token_idx 2 is request 'a' here but 'b' in " +
                path("er0.jsonl") + ":3 (per-layer files must hold the same tokens)");
  ImportOptions skip = o;
  skip.skip_bad_rows = true;  // not a bad row: the files disagree
  EXPECT_EQ(input_error([&] { imported(other, skip, "er"); }),
            path("er1.jsonl") + ":3: pass 0: token_idx 2 is request 'a' here but 'b' in " +
                path("er0.jsonl") + ":3 (per-layer files must hold the same tokens)");
  // Layer 3's file ends before the decode pass.
  std::vector<std::string> ends = per_layer;
  ends[3] = eng("a", 0, 3) + eng("a", 1, 3) + eng("b", 2, 3);
  EXPECT_EQ(input_error([&] { imported(ends, o, "ee"); }),
            path("ee0.jsonl") + ":4: this pass has no counterpart in " + path("ee3.jsonl") +
                ", which has ended (per-layer files must hold the same passes)");
}

TEST_F(ImportOrders, LayersCoverPartOfTheModel) {
  ImportOptions o = tiny(ImportFormat::kOlmoeJsonl);
  o.layers = {1, 2};
  std::string text;
  for (int t = 0; t < 2; ++t) {
    for (int l = 1; l <= 2; ++l) text += olmoe_row({0, t, l});
  }
  ImportReport rep;
  std::string none = imported({text}, o, "lay", &rep);
  EXPECT_NE(none.find("# real_layers=1-2\n"), std::string::npos) << none;
  EXPECT_NE(none.find("# layer_fill=none\n"), std::string::npos);
  EXPECT_EQ(rep.assignments, 8u);
  o.fill = LayerFill::kCopyNearest;
  imported({text}, o, "lay", &rep);
  EXPECT_EQ(rep.assignments, 16u);
  const std::string p = path("bad0.jsonl");
  EXPECT_EQ(input_error([&] {
              imported({olmoe_row({0, 0, 3})}, o, "bad");
            }),
            p + ":1: MoE layer 3 is not among --layers (1-2)");
}

/// (request, position, layer) -> routes, token by token in trace order.
struct FlatRoute {
  uint32_t request, position, layer;
  std::vector<int32_t> experts;
  std::vector<float> weights;
  bool operator==(const FlatRoute& o) const {
    return request == o.request && position == o.position && layer == o.layer &&
           experts == o.experts && weights == o.weights;
  }
};
std::vector<FlatRoute> flatten(const std::vector<TraceStep>& steps) {
  std::vector<FlatRoute> v;
  for (const TraceStep& s : steps) {
    for (uint32_t t = 0; t < s.num_tokens(); ++t) {
      for (uint32_t l = 0; l < s.layers; ++l) {
        const uint32_t b = s.route_begin(l, t), e = s.route_end(l, t);
        v.push_back({s.tokens[t].request,
                     s.tokens[t].position,
                     l,
                     {s.experts.begin() + b, s.experts.begin() + e},
                     {s.weights.begin() + b, s.weights.begin() + e}});
      }
    }
  }
  return v;
}

class ImportLogits : public TraceTest {
 protected:
  void SetUp() override {
    TraceTest::SetUp();
    const std::string cmd = "/usr/bin/python3 '" + std::string(MOESIM_SOURCE_DIR) +
                            "/tests/trace/tools/make_logits.py' '" + path("") + "'";
    if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "needs /usr/bin/python3 with numpy";
  }
  static ImportOptions logits() {
    ImportOptions o = tiny(ImportFormat::kLogitsNpz);
    return o;
  }
};

TEST_F(ImportLogits, TopKEqualsTheTraceOfTheSameChoices) {
  // expected.jsonl: numpy's softmax top-2 of the same logits, as an engine log.
  ImportOptions eo = tiny(ImportFormat::kEngineJsonl);
  eo.detect_warmup = false;
  const auto want = flatten(import(path("expected.jsonl"), eo).steps);
  ASSERT_EQ(want.size(), 24u * 4);
  const Imported npz = import(path("logits.npz"), logits());
  EXPECT_EQ(npz.steps.size(), 8u);  // the step array: a prefill step, then 7 decode steps
  EXPECT_EQ(tokens(npz.steps[0]).size(), 10u);
  EXPECT_EQ(tokens(npz.steps[1]), (Pairs{{0, 6}, {1, 4}}));
  EXPECT_EQ(flatten(npz.steps), want);
  EXPECT_EQ(npz.meta.extra.at("routing"), "softmax top-2, raw probabilities");
  // Deflated members, one 3-D .npy and one .npy per layer hold the same logits.
  EXPECT_EQ(flatten(import(path("logits_z.npz"), logits()).steps), want);
  const auto one_step_each = [&](const std::vector<FlatRoute>& v) {
    std::vector<FlatRoute> out = v;
    for (auto& r : out) r.request = 0, r.position = 0;
    return out;
  };
  const Imported three = import(path("logits3d.npy"), logits());
  EXPECT_EQ(three.steps.size(), 24u);  // no step or request array: batch-1 decode
  EXPECT_EQ(one_step_each(flatten(three.steps)), one_step_each(want));
  auto r = open_import(std::vector<std::string>{path("layer_0.npy"), path("layer_1.npy"),
                                                path("layer_2.npy"), path("layer_3.npy")},
                       logits());
  EXPECT_EQ(one_step_each(flatten(read_all(*r))), one_step_each(want));
  // float16 logits.
  EXPECT_EQ(flatten(import(path("logits16.npz"), logits()).steps),
            flatten(import(path("expected16.jsonl"), eo).steps));
}

TEST_F(ImportLogits, PoliciesRenormaliseGroupTopPAndCapacity) {
  ImportOptions o = logits();
  o.routing.renormalize = true;
  for (const TraceStep& s : import(path("logits.npz"), o).steps) {
    for (size_t i = 0; i + 1 < s.offsets.size(); ++i) {
      float sum = 0;
      for (uint32_t j = s.offsets[i]; j < s.offsets[i + 1]; ++j) sum += s.weights[j];
      EXPECT_NEAR(sum, 1.0f, 1e-5f);
    }
  }
  // Group-limited: 4 groups of 2, one group allowed: both experts from one group.
  o = logits();
  o.routing.groups = 4;
  o.routing.topk_groups = 1;
  for (const TraceStep& s : import(path("logits.npz"), o).steps) {
    for (size_t i = 0; i + 1 < s.offsets.size(); ++i) {
      ASSERT_EQ(s.offsets[i + 1] - s.offsets[i], 2u);
      EXPECT_EQ(s.experts[s.offsets[i]] / 2, s.experts[s.offsets[i] + 1] / 2);
    }
  }
  // Top-p: k varies, never above top-k = 3.
  o = logits();
  o.routing.top_k = 3;
  o.routing.top_p = 0.5;
  const Imported tp = import(path("logits.npz"), o);
  std::set<uint32_t> ks;
  for (const TraceStep& s : tp.steps) {
    for (size_t i = 0; i + 1 < s.offsets.size(); ++i) ks.insert(s.offsets[i + 1] - s.offsets[i]);
  }
  EXPECT_GT(ks.size(), 1u);
  EXPECT_LE(*ks.rbegin(), 3u);
  // Capacity factor 0.5: an expert takes at most ceil(0.5 * 10 * 2 / 8) = 2 routes in the
  // 10-token step.
  o = logits();
  o.routing.capacity_factor = 0.5;
  const Imported cap = import(path("logits.npz"), o);
  EXPECT_GT(cap.report.dropped_routes, 0u);
  const TraceStep& s0 = cap.steps[0];
  for (uint32_t l = 0; l < 4; ++l) {
    std::vector<int> load(8, 0);
    for (uint32_t j = s0.route_begin(l, 0); j < s0.route_end(l, 9); ++j) ++load[s0.experts[j]];
    EXPECT_LE(*std::max_element(load.begin(), load.end()), 2);
  }
  EXPECT_EQ(cap.meta.extra.at("routing"), "softmax top-2, raw probabilities, capacity factor 0.5");
}

TEST_F(ImportLogits, BadFilesNameTheFileAndWhat) {
  const std::string p = path("bad.npy");
  write_file(p, "not numpy");
  EXPECT_EQ(input_error([&] { import(p, logits()); }),
            p + ": array: bad magic (not a NumPy .npy array)");
  EXPECT_EQ(input_error([&] { import(path("layer_0.npy"), logits()); }),
            path("layer_0.npy") +
                ": array: expected a 3-D array (layers x tokens x experts), got 2 dimensions");
  ImportOptions wide = logits();
  wide.experts = 16;
  EXPECT_EQ(
      input_error([&] { import(path("logits.npz"), wide); }),
      path("logits.npz") + ": member 'layer_0': 8 experts per row but model 'tiny-moe' has 16");
  ImportOptions more = logits();
  more.is_moe = {true, true, true, true, true};
  EXPECT_EQ(input_error([&] { import(path("logits.npz"), more); }),
            path("logits.npz") +
                ": missing member 'layer_4' (model 'tiny-moe' has 5 MoE layers: layer_0 .. "
                "layer_4)");
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
