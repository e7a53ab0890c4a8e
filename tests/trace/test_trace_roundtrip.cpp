// Conversions between the two forms, and streaming over a 10^6-assignment trace.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/trace/trace_test_util.hpp"
#include "workloads/trace/synthetic.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim::test {
namespace {

class RoundTrip : public TraceTest {};

TraceMeta hand_meta() {
  TraceMeta m;
  m.model = "hand-made";
  m.layers = 3;
  m.experts = 16;
  m.top_k = 2;
  m.source = "import:test";
  m.extra = {{"dataset", "gsm8k"},
             {"empty", ""},
             {"spaces", "a, b ;c = d"},
             {"quote", "say \"hi\" \\ {x: [1]} é"}};
  return m;
}

/// Variable k (0 to 4), every special expert, odd weights, gaps in step indices.
std::vector<TraceStep> hand_steps() {
  std::vector<TraceStep> s;
  s.push_back(
      make_step(0, {{0, 0}, {0, 1}, {1, 0}},
                {{{{15, 0.6f}, {0, 0.4f}}, {}, {{kNullExpert, 1.0f}}},
                 {{{kZeroExpert, 0.1f}, {kCopyExpert, 0.2f}, {kConstantExpert, 0.3f}, {3, 0.4f}},
                  {{7, 1e-7f}},
                  {}},
                 {{}, {}, {{2, 3.4028235e38f}, {4, 0.0f}}}}));
  s.push_back(make_step(7, {{9, 4000000000u}}, {{{{1, 0.333333343f}}}, {Routes{}}, {{{1, 2.0f}}}}));
  return s;
}

TEST_F(RoundTrip, CsvToBinaryToCsvIsByteIdentical) {
  const std::string a = path("a.csv");
  write_all(a, hand_meta(), hand_steps());
  convert(a, path("b.moetrace"));
  convert(path("b.moetrace"), path("c.csv"));
  const std::string text = read_file(a);
  EXPECT_EQ(read_file(path("c.csv")), text);
  EXPECT_NE(text.find("zero;copy;const;3"), std::string::npos);

  auto r = open_trace(path("b.moetrace"));
  expect_meta_equal(r->meta(), hand_meta());
  const auto back = read_all(*r);
  const auto want = hand_steps();
  ASSERT_EQ(back.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) expect_steps_equal(back[i], want[i]);
}

TEST_F(RoundTrip, BinaryToCsvToBinaryKeepsContentAndBytes) {
  SyntheticSpec spec;
  spec.model = "mixtral-8x7b";
  spec.layers = 4;
  spec.experts = 8;
  spec.top_k = 2;
  spec.steps = 5;
  spec.batch = 3;
  spec.phase = SyntheticSpec::Phase::kPrefill;
  spec.prompt_tokens = 7;
  spec.dist = SyntheticSpec::Dist::kZipf;
  spec.zipf_s = 1.2;
  spec.seed = 99;
  auto gen = make_synthetic_trace(spec);
  const std::string a = path("a.moetrace");
  write_all(a, gen->meta(), read_all(*gen));
  convert(a, path("b.csv"));
  convert(path("b.csv"), path("c.moetrace"));
  EXPECT_EQ(read_file(path("c.moetrace")), read_file(a));

  auto ra = open_trace(a);
  auto rc = open_trace(path("c.moetrace"));
  expect_meta_equal(rc->meta(), ra->meta());
  const auto sa = read_all(*ra);
  const auto sc = read_all(*rc);
  ASSERT_EQ(sa.size(), 5u);
  ASSERT_EQ(sc.size(), sa.size());
  for (size_t i = 0; i < sa.size(); ++i) expect_steps_equal(sc[i], sa[i]);
}

TEST_F(RoundTrip, EveryFormToEveryOtherIsLossless) {
  // Each of the three forms, converted through each pair of others, comes back byte for byte.
  const std::vector<std::string> forms = {"csv", "jsonl", "moetrace"};
  for (const std::string& a : forms) {
    const std::string start = path("start." + a);
    write_all(start, hand_meta(), hand_steps());
    for (const std::string& b : forms) {
      if (b == a) continue;
      const std::string mid = path("mid_" + a + "." + b);
      convert(start, mid);
      for (const std::string& c : forms) {
        const std::string mid2 = path("mid_" + a + "_" + b + "." + c);
        convert(mid, mid2);
        const std::string back = path("back_" + a + "_" + b + "_" + c + "." + a);
        convert(mid2, back);
        EXPECT_EQ(read_file(back), read_file(start)) << a << " -> " << b << " -> " << c;
      }
      auto r = open_trace(mid);
      expect_meta_equal(r->meta(), hand_meta());
      const auto got = read_all(*r);
      const auto want = hand_steps();
      ASSERT_EQ(got.size(), want.size()) << b;
      for (size_t i = 0; i < want.size(); ++i) expect_steps_equal(got[i], want[i]);
    }
  }
}

TEST_F(RoundTrip, ShippedTraceSurvivesCsvJsonlBinaryCsv) {
  const std::string shipped =
      std::string(MOESIM_SOURCE_DIR) + "/workloads/traces/mixtral_decode_b16.csv";
  convert(shipped, path("a.jsonl"));
  convert(path("a.jsonl"), path("b.moetrace"));
  convert(path("b.moetrace"), path("c.jsonl"));
  convert(path("c.jsonl"), path("d.csv"));
  EXPECT_EQ(read_file(path("c.jsonl")), read_file(path("a.jsonl")));
  EXPECT_EQ(read_file(path("d.csv")), read_file(shipped));
}

TEST_F(RoundTrip, StreamsAMillionAssignmentsOneStepAtATime) {
  // 125 steps x 125 tokens x 16 layers x k 4 = 10^6 assignments.
  SyntheticSpec spec;
  spec.layers = 16;
  spec.experts = 64;
  spec.top_k = 4;
  spec.steps = 125;
  spec.batch = 125;
  spec.context = 1000;
  spec.dist = SyntheticSpec::Dist::kZipf;
  spec.seed = 5;
  const uint64_t per_step = 125ull * 16 * 4;
  for (const char* name : {"big.moetrace", "big.csv", "big.jsonl"}) {
    const std::string p = path(name);
    {
      auto gen = make_synthetic_trace(spec);
      auto w = create_trace_writer(p, gen->meta());
      TraceStep s;
      while (gen->next(s)) w->write(s);
      w->finish();
    }
    auto gen = make_synthetic_trace(spec);
    auto r = open_trace(p);
    TraceStep got, want;
    uint64_t total = 0;
    uint64_t steps = 0;
    while (r->next(got)) {
      ASSERT_TRUE(gen->next(want));
      // The reader's step holds exactly one step, never an accumulation.
      ASSERT_EQ(got.assignments(), per_step) << name;
      ASSERT_EQ(got.tokens.size(), 125u);
      ASSERT_EQ(got.offsets.size(), 16u * 125 + 1);
      ASSERT_EQ(got.experts, want.experts) << name << " step " << steps;
      ASSERT_EQ(got.weights, want.weights) << name << " step " << steps;
      total += got.assignments();
      ++steps;
    }
    EXPECT_FALSE(gen->next(want));
    EXPECT_EQ(steps, 125u) << name;
    EXPECT_EQ(total, 1000000u) << name;
  }
}

}  // namespace
}  // namespace moesim::test

namespace moesim::test {
namespace {

TEST_F(RoundTrip, ShippedSampleTraceIsTheDocumentedGeneratorOutput) {
  // workloads/traces/README.md: the moesim trace generate command that makes this file.
  SyntheticSpec spec;
  spec.model = "mixtral-8x7b";
  spec.layers = 32;
  spec.experts = 8;
  spec.top_k = 2;
  spec.steps = 16;
  spec.batch = 16;
  spec.context = 1024;
  spec.dist = SyntheticSpec::Dist::kZipf;
  spec.zipf_s = 1.2;
  spec.seed = 1;
  const std::string shipped =
      std::string(MOESIM_SOURCE_DIR) + "/workloads/traces/mixtral_decode_b16.csv";
  auto gen = make_synthetic_trace(spec);
  const std::string p = path("regenerated.csv");
  write_all(p, gen->meta(), read_all(*gen));
  EXPECT_EQ(read_file(p), read_file(shipped));
  auto r = open_trace(shipped);
  uint64_t assignments = 0;
  for (const auto& s : read_all(*r)) assignments += s.assignments();
  EXPECT_EQ(assignments, 16u * 16 * 32 * 2);
}

}  // namespace
}  // namespace moesim::test
