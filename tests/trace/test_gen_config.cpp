// Generator configs: a complete config read into the spec, and every bad input with its
// exact one-line message (unknown keys, bad values, data lookups, inconsistent parameters).

#include <filesystem>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "tests/trace/gen_test_util.hpp"

namespace moesim::test {
namespace {

using G = GeneratorSpec;

const std::string kHead = R"([trace]
layers = 4
experts = 8
top_k = 2
)";

const std::string kDecode = "[decode]\nbatch = 2\nsteps = 3\n";

TEST(GenConfig, ReadsEveryTable) {
  const G s = spec_from(R"([trace]
model = "m"
layers = 16
experts = 64
top_k = 8
seed = 9
mode = "serving"
[serving]
requests = 10
arrival_rate = 2.5
step_time = "30ms"
max_tokens = 128
max_requests = 4
chunked_prefill = false
[serving.prompt]
dist = "lognormal"
median = 50
sigma = 0.5
min = 2
max = 100
[serving.output]
dist = "fixed"
tokens = 7
[popularity]
type = "calibrated"
selection = "top1"
[data]
model = "OLMoE-1B-7B"
domain = "github"
fill = "interpolate"
[affinity]
type = "calibrated"
strength = 0.5
[routing]
type = "top_p"
top_p = 0.4
max_k = 8
gate_temperature = 2.0
[special]
null_experts = 2
null_rate = 0.1
copy_rate = 0.05
[capacity]
factor = 1.25
)");
  EXPECT_EQ(s.model, "m");
  EXPECT_EQ(s.layers, 16u);
  EXPECT_EQ(s.seed, 9u);
  EXPECT_EQ(s.mode, G::Mode::kServing);
  EXPECT_EQ(s.serving.requests, 10u);
  EXPECT_DOUBLE_EQ(s.serving.arrival_rate, 2.5);
  EXPECT_DOUBLE_EQ(s.serving.step_time_s, 0.03);
  EXPECT_EQ(s.serving.max_tokens, 128u);
  EXPECT_EQ(s.serving.max_requests, 4u);
  EXPECT_FALSE(s.serving.chunked_prefill);
  EXPECT_EQ(s.serving.prompt.kind, LengthDist::Kind::kLognormal);
  EXPECT_EQ(s.serving.prompt.max, 100u);
  EXPECT_EQ(s.serving.output.tokens, 7u);
  EXPECT_EQ(s.popularity, G::Popularity::kCalibrated);
  EXPECT_FALSE(s.calibrate_topk);
  EXPECT_EQ(s.fill, G::Fill::kInterpolate);
  EXPECT_EQ(s.layer_map, G::LayerMap::kRelative);
  EXPECT_EQ(s.data.experts, 64u);
  EXPECT_EQ(s.data.model_layers, 16u);
  EXPECT_EQ(s.data.layers, (std::vector<uint32_t>{0, 7, 15}));
  EXPECT_EQ(s.data.transitions.size(), 2u);
  EXPECT_EQ(s.data.source, "OLMoE-1B-7B/base/github");
  EXPECT_EQ(s.affinity, G::Affinity::kCalibrated);
  EXPECT_DOUBLE_EQ(s.affinity_strength, 0.5);
  EXPECT_EQ(s.routing, G::Routing::kTopP);
  EXPECT_DOUBLE_EQ(s.top_p, 0.4);
  EXPECT_EQ(s.max_k, 8u);
  EXPECT_DOUBLE_EQ(s.gate_temperature, 2.0);
  EXPECT_EQ(s.null_experts, 2u);
  EXPECT_DOUBLE_EQ(s.copy_rate, 0.05);
  EXPECT_DOUBLE_EQ(s.capacity_factor, 1.25);
  // And the trace's metadata records every parameter.
  auto r = make_generated_trace(s);
  const auto& x = r->meta().extra;
  EXPECT_EQ(x.at("mode"), "serving");
  EXPECT_EQ(x.at("serving.prompt.dist"), "lognormal");
  EXPECT_EQ(x.at("serving.step_time_s"), "0.03");
  EXPECT_EQ(x.at("data"), "OLMoE-1B-7B/base/github");
  EXPECT_EQ(x.at("data.fill"), "interpolate");
  EXPECT_EQ(x.at("popularity.selection"), "top1");
  EXPECT_EQ(x.at("affinity.strength"), "0.5");
  EXPECT_EQ(x.at("routing.top_p"), "0.4");
  EXPECT_EQ(x.at("special.null_rate"), "0.1");
  EXPECT_EQ(x.at("capacity.factor"), "1.25");
  EXPECT_EQ(x.count("dropped_routes"), 1u);
  EXPECT_EQ(x.at("seed"), "9");
}

TEST(GenConfig, DefaultsAreDecodeUniformTopK) {
  const G s = spec_from(kHead + kDecode);
  EXPECT_EQ(s.mode, G::Mode::kDecode);
  EXPECT_EQ(s.batch, 2u);
  EXPECT_EQ(s.steps, 3u);
  EXPECT_EQ(s.popularity, G::Popularity::kUniform);
  EXPECT_EQ(s.routing, G::Routing::kTopK);
  EXPECT_EQ(s.affinity, G::Affinity::kNone);
  EXPECT_EQ(s.capacity_factor, 0.0);
  EXPECT_EQ(s.model, "custom");
  EXPECT_EQ(s.seed, 1u);
}

struct Bad {
  std::string toml;
  std::string message;
};

TEST(GenConfig, BadInputsGiveOneExactMessage) {
  const std::string kCounts = default_routing_stats_dir() + "/expert_counts.csv";
  const std::string kCross = default_routing_stats_dir() + "/crosslayer_counts.csv";
  const std::string kNoDir = (std::filesystem::current_path() / "no/such/dir").string();
  const std::string data = "[popularity]\ntype = \"calibrated\"\n[data]\n";
  const Bad cases[] = {
      {kHead + kDecode + "[routing]\ntype = \"topk\"\ntop_p = 0.5\n",
       "gen.toml:10:1: routing.top_p: unknown key for 'topk'"},
      {kHead + "[decode]\nbatch = 2\nstep = 3\n",
       "gen.toml:7:1: decode.step: unknown key for 'decode' (did you mean 'steps'?)"},
      {kHead + kDecode + "[popularity]\ntype = \"zipff\"\n",
       "gen.toml:9:8: popularity.type: \"zipff\" is not one of 'uniform', 'zipf', 'calibrated' "
       "(did you mean 'zipf'?)"},
      {kHead + kDecode + "[popularity]\ntype = \"zipf\"\nzipf_s = -1.0\n",
       "gen.toml:10:10: popularity.zipf_s: -1.0 is out of range (expected 1e-06 to 100)"},
      {kHead + kDecode + "[locality]\nreuse = 1.5\n",
       "gen.toml:9:9: locality.reuse: 1.5 is out of range (expected 0 to 1)"},
      {kHead + kDecode + "[routing]\ntype = \"grouped\"\nn_groups = 4\ntop_groups = 5\n",
       "gen.toml:11:14: routing.top_groups: 5 exceeds n_groups = 4"},
      {kHead + kDecode + "[routing]\ntype = \"grouped\"\nn_groups = 3\ntop_groups = 1\n",
       "gen.toml:10:12: routing.n_groups: experts = 8 is not a multiple of n_groups = 3"},
      {kHead + kDecode + "[routing]\ntype = \"grouped\"\nn_groups = 8\ntop_groups = 1\n",
       "gen.toml:4:9: trace.top_k: 2 exceeds the 1 experts of top_groups = 1 groups of 1"},
      {kHead + kDecode +
           "[routing]\ntype = \"grouped\"\nn_groups = 8\ntop_groups = 2\ngroup_score = "
           "\"top2_sum\"\n",
       "gen.toml:12:15: routing.group_score: \"top2_sum\" needs at least 2 experts per group "
       "(experts / n_groups = 1)"},
      {"[trace]\nlayers = 4\nexperts = 8\ntop_k = 9\n" + kDecode,
       "gen.toml:4:9: trace.top_k: 9 exceeds experts = 8 (a token's experts are distinct)"},
      {"[trace]\nlayers = 4\nexperts = 8\ntop_k = 11\n" + kDecode +
           "[special]\nnull_experts = 2\nnull_rate = 0.1\n",
       "gen.toml:4:9: trace.top_k: 11 exceeds the 10 candidates (experts = 8 plus 2 null and "
       "zero-computation experts)"},
      {kHead + kDecode + "[routing]\ntype = \"top_p\"\ntop_p = 0.5\nmax_k = 9\n",
       "gen.toml:11:9: routing.max_k: 9 exceeds the 8 candidate experts"},
      {kHead + kDecode + "[routing]\ntype = \"top_p\"\ntop_p = 0.5\nmin_k = 3\nmax_k = 2\n",
       "gen.toml:11:9: routing.min_k: 3 exceeds max_k = 2"},
      {kHead + kDecode + "[special]\nnull_rate = 0.2\n",
       "gen.toml:9:13: special.null_rate: 0.2 needs null_experts of at least 1"},
      {kHead + kDecode + "[special]\nnull_experts = 2\n",
       "gen.toml:9:16: special.null_experts: 2 null slots need a null_rate above 0"},
      {kHead + kDecode + "[special]\nnull_experts = 2\nnull_rate = 0.5\nzero_rate = 0.5\n",
       "gen.toml:8:1: special: the null and zero-computation rates add up to 1 (must be below 1)"},
      {kHead + kDecode + "[routing]\ntype = \"expert_choice\"\n[special]\nzero_rate = 0.1\n",
       "gen.toml:10:1: special: null and zero-computation experts need routing.type \"topk\" or "
       "\"top_p\""},
      {kHead + kDecode + "[routing]\ntype = \"expert_choice\"\n[locality]\nreuse = 0.5\n",
       "gen.toml:11:9: locality.reuse: needs routing.type \"topk\" or \"top_p\""},
      {kHead + kDecode +
           "[routing]\ntype = \"grouped\"\nn_groups = 2\ntop_groups = 1\n[affinity]\ntype = "
           "\"permutation\"\n",
       "gen.toml:13:8: affinity.type: needs routing.type \"topk\" or \"top_p\""},
      {kHead + kDecode + "[locality]\nreuse = 0.5\n[affinity]\ntype = \"permutation\"\n",
       "gen.toml:11:8: affinity.type: cannot be combined with locality.reuse above 0 (both force a "
       "token's experts)"},
      {kHead + kDecode + "[routing]\ntype = \"expert_choice\"\n[capacity]\nfactor = 1.0\n",
       "gen.toml:11:10: capacity.factor: not used with routing.type = \"expert_choice\" (its "
       "capacity is routing.capacity_factor)"},
      {kHead + kDecode + data + "model = \"OLMoE-1B-7B\"\ndomain = \"c4\"\n",
       "gen.toml:11:9: data.model: OLMoE-1B-7B has 64 experts in the data but trace.experts = 8"},
      {kHead + kDecode + data + "model = \"Mixtrl-8x7B\"\ndomain = \"c4\"\n",
       std::string("gen.toml:11:9: data.model: 'Mixtrl-8x7B' is not a model in '" + kCounts +
                   "' (models: Mixtral-8x7B, OLMoE-1B-7B) (did you mean 'Mixtral-8x7B'?)")},
      {kHead + kDecode + data + "model = \"Mixtral-8x7B\"\ndomain = \"tulu\"\n",
       std::string("gen.toml:12:10: data.domain: 'tulu' is not a domain of Mixtral-8x7B/base in '" +
                   kCounts + "' (domains: arxiv, book, c4, github, wikipedia)")},
      {kHead + kDecode + data + "model = \"Mixtral-8x7B\"\ncheckpoint = \"sft\"\ndomain = \"c4\"\n",
       std::string(
           "gen.toml:12:14: data.checkpoint: 'sft' is not a checkpoint of Mixtral-8x7B in '" +
           kCounts + "' (checkpoints: base)")},
      {kHead + kDecode +
           "[popularity]\ntype = \"calibrated\"\nselection = \"top1\"\n[data]\nmodel = "
           "\"OLMoE-1B-7B\"\ncheckpoint = \"sft\"\ndomain = \"tulu\"\n",
       std::string("gen.toml:10:13: popularity.selection: 'top1' is not a selection of "
                   "OLMoE-1B-7B/sft/tulu in '" +
                   kCounts + "' (selections: topk) (did you mean 'topk'?)")},
      {"[trace]\nlayers = 4\nexperts = 64\ntop_k = 8\n" + kDecode +
           "[affinity]\ntype = \"calibrated\"\n[data]\nmodel = \"OLMoE-1B-7B\"\ncheckpoint = "
           "\"sft\"\ndomain = \"tulu\"\n",
       std::string("gen.toml:8:1: affinity.selection: '" + kCross +
                   "' has no cross-layer counts for OLMoE-1B-7B/sft/tulu")},
      {kHead + kDecode + data +
           "stats_dir = \"no/such/dir\"\nmodel = \"Mixtral-8x7B\"\ndomain = \"c4\"\n",
       std::string("gen.toml:11:13: data.stats_dir: cannot open '" + kNoDir +
                   "/expert_counts.csv' (No such file or directory)")},
      {kHead + kDecode + data + "domain = \"c4\"\n",
       "gen.toml:10:1: data.model: missing required key (expected a string)"},
      {kHead + kDecode + "[data]\nmodel = \"Mixtral-8x7B\"\n", "gen.toml:8:1: data: unknown table"},
      {kHead + "mode = \"serving\"\n[serving]\nrequests = 2\narrival_rate = 1.0\nmax_tokens = "
               "64\nchunked_prefill = false\n[serving.prompt]\ndist = \"uniform\"\nmin = 10\nmax = "
               "100\n[serving.output]\ndist = \"fixed\"\ntokens = 4\n",
       "gen.toml:9:14: serving.max_tokens: 64 is smaller than the longest prompt (100) and "
       "chunked_prefill = false"},
      {kHead + "mode = \"serving\"\n[serving]\nrequests = 2\narrival_rate = 1.0\nmax_tokens = "
               "64\n[serving.prompt]\ndist = \"uniform\"\nmin = 10\nmax = "
               "5\n[serving.output]\ndist = \"fixed\"\ntokens = 4\n",
       "gen.toml:13:7: serving.prompt.max: 5 is below min = 10"},
      {kHead + "mode = \"serving\"\n[serving]\nrequests = 2\narrival_rate = 1.0\nmax_tokens = "
               "64\nstep_time = \"100cycles\"\n[serving.prompt]\ndist = \"fixed\"\ntokens = "
               "4\n[serving.output]\ndist = \"fixed\"\ntokens = 4\n",
       "gen.toml:10:13: serving.step_time: must be a time in seconds, not cycles (no clock is "
       "known)"},
      {kHead + "mode = \"serving\"\n[serving]\nrequests = 2\narrival_rate = 1.0\nmax_tokens = "
               "64\n[serving.prompt]\ndist = \"normal\"\n[serving.output]\ndist = "
               "\"fixed\"\ntokens = 4\n",
       "gen.toml:11:8: serving.prompt.dist: \"normal\" is not one of 'fixed', 'uniform', "
       "'lognormal'"},
      {kHead + "mode = \"serving\"\n[serving]\nrequests = 2\narrival_rate = 1.0\nmax_tokens = "
               "64\n[serving.prompt]\ndist = \"fixed\"\ntokens = 4\n",
       "gen.toml: serving.output.dist: missing required key (expected one of 'fixed', 'uniform', "
       "'lognormal')"},
      {kHead + "mode = \"decoding\"\n" + kDecode,
       "gen.toml:5:8: trace.mode: \"decoding\" is not one of 'decode', 'prefill', 'serving'"},
      {kHead + kDecode + "[serving]\nrequests = 2\n", "gen.toml:8:1: serving: unknown table"},
  };
  for (const Bad& b : cases) {
    EXPECT_EQ(config_error(b.toml), b.message) << b.toml;
  }
}

}  // namespace
}  // namespace moesim::test

namespace moesim::test {
namespace {

TEST(GenConfig, ApiChecksTheSpecToo) {
  auto err = [](const std::function<void(G&)>& edit) {
    G s;
    s.layers = 2;
    s.experts = 8;
    s.top_k = 2;
    edit(s);
    return input_error([&] { make_generated_trace(s); });
  };
  EXPECT_EQ(err([](G& s) { s.layers = 0; }), "trace generator: trace.layers: must be at least 1");
  EXPECT_EQ(err([](G& s) { s.experts = 0; }), "trace generator: trace.experts: must be at least 1");
  EXPECT_EQ(err([](G& s) { s.experts = 40000; }),
            "trace generator: trace.experts: 40000 is too large (at most 32767)");
  EXPECT_EQ(err([](G& s) { s.top_k = 0; }), "trace generator: trace.top_k: must be at least 1");
  EXPECT_EQ(err([](G& s) { s.context = 4294967295u, s.steps = 2; }),
            "trace generator: decode.steps: context + steps exceeds the 32-bit position range");
  EXPECT_EQ(err([](G& s) {
              s.mode = G::Mode::kPrefill;
              s.batch = 1u << 31;
              s.steps = 3;
            }),
            "trace generator: prefill.steps: steps * batch exceeds the 32-bit request id range");
  EXPECT_EQ(err([](G& s) {
              s.mode = G::Mode::kServing;
              s.serving.requests = 1ull << 33;
            }),
            "trace generator: serving.requests: exceeds the 32-bit request id range");
  EXPECT_EQ(err([](G& s) {
              s.mode = G::Mode::kServing;
              s.serving.prompt.tokens = 4294967295u;
              s.serving.max_tokens = 4294967295u;
            }),
            "trace generator: serving.prompt: prompt + output exceeds the 32-bit position range");
  EXPECT_EQ(err([](G& s) {
              s.mode = G::Mode::kServing;
              s.serving.output = LengthDist{LengthDist::Kind::kUniform, 1, 9, 3, 1, 0};
            }),
            "trace generator: serving.output.max: 3 is below min = 9");
  EXPECT_EQ(err([](G& s) { s.batch = 1u << 30; }),
            "trace generator: trace: a step could hold 4294967296 routes (at most 4294967295)");
}

/// A routing-stats folder with the given files, for loader errors.
class GenData : public TraceTest {
 protected:
  std::string config(const std::string& extra = "") {
    return "[trace]\nlayers = 2\nexperts = 2\ntop_k = 1\n[decode]\nbatch = 1\nsteps = 1\n"
           "[popularity]\ntype = \"calibrated\"\n" +
           extra + "[data]\nstats_dir = \"" + m_dir.string() +
           "\"\nmodel = \"M\"\ndomain = \"d\"\n";
  }
  void counts(const std::string& body) {
    write_file(path("expert_counts.csv"),
               "model,checkpoint,domain,selection,layer,expert,count\n" + body);
  }
  void cross(const std::string& body) {
    write_file(path("crosslayer_counts.csv"),
               "model,checkpoint,domain,selection,layer_from,layer_to,expert_from,expert_to,"
               "count\n" +
                   body);
  }
};

TEST_F(GenData, MalformedFilesNameTheLine) {
  const std::string good =
      "M,base,d,topk,0,0,5\nM,base,d,topk,0,1,3\nM,base,d,topk,4,0,1\n"
      "M,base,d,topk,4,1,1\n";
  counts(good);
  const G s = spec_from(config());
  EXPECT_EQ(s.data.layers, (std::vector<uint32_t>{0, 4}));
  EXPECT_EQ(s.data.model_layers, 5u);  // unknown model: last measured layer + 1
  EXPECT_EQ(s.data.counts[0], (std::vector<double>{5, 3}));
  const std::string f = path("expert_counts.csv");
  write_file(f, "model,layer\n");
  EXPECT_EQ(config_error(config()),
            f + ":1: expected the header 'model,checkpoint,domain,selection,layer,expert,count'");
  counts(good + "M,base,d,topk,4,1\n");
  EXPECT_EQ(config_error(config()), f + ":6: expected 7 columns, got 6");
  counts(good + "M,base,d,topk,4,1,-3\n");
  EXPECT_EQ(config_error(config()),
            f + ":6: column 'count': expected an unsigned integer, got '-3'");
  counts("M,base,d,topk,0,9999999,1\n");
  EXPECT_EQ(config_error(config()), f + ":2: expert 9999999 is too large");
  counts("M,base,d,topk,9999999,0,1\n");
  EXPECT_EQ(config_error(config()), f + ":2: layer 9999999 is too large");
  // Cross-layer counts.
  counts(good);
  const std::string aff = "[affinity]\ntype = \"calibrated\"\n";
  const std::string c = path("crosslayer_counts.csv");
  cross("M,base,d,top1,0,4,0,1,7\nM,base,d,top1,0,4,1,1,2\n");
  const G a = spec_from(config(aff));
  ASSERT_EQ(a.data.transitions.size(), 1u);
  EXPECT_EQ(a.data.transitions[0], (std::vector<double>{0, 7, 0, 2}));
  cross("M,base,d,top1,0,4,0,2,7\n");
  EXPECT_EQ(config_error(config(aff)), c + ":2: expert 2 out of range (the counts have 2)");
  cross("M,base,d,top1,0,3,0,1,7\n");
  EXPECT_EQ(config_error(config(aff)),
            "gen.toml:10:1: affinity.selection: '" + c + "' has no 0 -> 4 counts for M/base/d");
}

}  // namespace
}  // namespace moesim::test
