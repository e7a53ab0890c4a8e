// Trace statistics on hand-built traces whose answers are worked out by hand in the comments.

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/trace/trace_test_util.hpp"
#include "workloads/trace/trace.hpp"
#include "workloads/trace/trace_stats.hpp"

namespace moesim::test {
namespace {

TraceMeta meta(uint32_t layers, uint32_t experts) {
  TraceMeta m;
  m.model = "hand";
  m.layers = layers;
  m.experts = experts;
  m.top_k = 2;
  m.source = "test";
  return m;
}

TraceStats stats_of(const TraceMeta& m, const std::vector<TraceStep>& steps) {
  TraceStatsCollector c(m);
  for (const auto& s : steps) c.add(s);
  return c.result();
}

/// Two layers, four experts.
///   step 0: (r0,p5) L0 {0:.7, 1:.3}  L1 {3:.6, null:.4}
///           (r1,p0) L0 {0:.5, 2:.5}  L1 {}
///   step 1: (r0,p6) L0 {1:.9, 0:.1}  L1 {3:.5, 2:.5}
///           (r2,p0) L0 {2:1}         L1 {zero:1}
std::vector<TraceStep> two_steps() {
  return {make_step(0, {{0, 5}, {1, 0}},
                    {{{{0, 0.7f}, {1, 0.3f}}, {{0, 0.5f}, {2, 0.5f}}},
                     {{{3, 0.6f}, {kNullExpert, 0.4f}}, {}}}),
          make_step(1, {{0, 6}, {2, 0}},
                    {{{{1, 0.9f}, {0, 0.1f}}, {{2, 1.0f}}},
                     {{{3, 0.5f}, {2, 0.5f}}, {{kZeroExpert, 1.0f}}}})};
}

TEST(TraceStats, CountsAndKHistogram) {
  const TraceStats s = stats_of(meta(2, 4), two_steps());
  EXPECT_EQ(s.steps, 2u);
  EXPECT_EQ(s.tokens, 4u);
  EXPECT_EQ(s.assignments, 12u);
  EXPECT_EQ(s.routed_assignments, 10u);
  EXPECT_EQ(s.special[0], 1u);  // null
  EXPECT_EQ(s.special[1], 1u);  // zero
  EXPECT_EQ(s.special[2], 0u);
  EXPECT_EQ(s.special[3], 0u);
  // (token, layer) pairs: k=2 five times, k=1 twice, k=0 once.
  EXPECT_EQ(s.k_histogram, (std::map<uint32_t, uint64_t>{{0, 1}, {1, 2}, {2, 5}}));
}

TEST(TraceStats, PerLayerLoad) {
  const TraceStats s = stats_of(meta(2, 4), two_steps());
  ASSERT_EQ(s.layers.size(), 2u);
  // Layer 0 loads 3, 2, 2, 0 (N 7, mean 1.75).
  const LoadStats& l0 = s.layers[0];
  EXPECT_EQ(l0.routed, 7u);
  EXPECT_DOUBLE_EQ(*l0.max_over_mean, 3 / 1.75);
  EXPECT_DOUBLE_EQ(*l0.cv, std::sqrt(4.75 / 4) / 1.75);
  const double h0 = -(3.0 / 7 * std::log2(3.0 / 7) + 2 * (2.0 / 7 * std::log2(2.0 / 7)));
  EXPECT_NEAR(*l0.entropy_bits, h0, 1e-12);
  EXPECT_NEAR(*l0.normalised_entropy, h0 / 2, 1e-12);
  // Layer 1 loads 0, 0, 1, 2 (N 3, mean 0.75).
  const LoadStats& l1 = s.layers[1];
  EXPECT_EQ(l1.routed, 3u);
  EXPECT_DOUBLE_EQ(*l1.max_over_mean, 2 / 0.75);
  const double h1 = -(1.0 / 3 * std::log2(1.0 / 3) + 2.0 / 3 * std::log2(2.0 / 3));
  EXPECT_NEAR(*l1.entropy_bits, h1, 1e-12);
  EXPECT_NEAR(*s.mean_over_layers.max_over_mean, (3 / 1.75 + 2 / 0.75) / 2, 1e-12);
  EXPECT_NEAR(*s.mean_over_layers.entropy_bits, (h0 + h1) / 2, 1e-12);
}

TEST(TraceStats, UniformLoadIsBalancedAndAnEmptyLayerUndefined) {
  // One layer routes each expert once; the other routes nothing.
  const TraceStats s = stats_of(
      meta(2, 4),
      {make_step(0, {{0, 0}, {1, 0}}, {{{{0, 1.f}, {1, 1.f}}, {{2, 1.f}, {3, 1.f}}}, {{}, {}}})});
  EXPECT_DOUBLE_EQ(*s.layers[0].max_over_mean, 1.0);
  EXPECT_DOUBLE_EQ(*s.layers[0].cv, 0.0);
  EXPECT_DOUBLE_EQ(*s.layers[0].entropy_bits, 2.0);
  EXPECT_DOUBLE_EQ(*s.layers[0].normalised_entropy, 1.0);
  EXPECT_FALSE(s.layers[1].max_over_mean.has_value());
  EXPECT_FALSE(s.layers[1].entropy_bits.has_value());
  EXPECT_DOUBLE_EQ(*s.mean_over_layers.max_over_mean, 1.0);  // the defined layer only
}

TEST(TraceStats, TemporalLocalityComparesWithThePreviousStep) {
  const TraceStats s = stats_of(meta(2, 4), two_steps());
  // Only (r0,p6) counts (r2 is new). L0: {1,0} vs {0,1}: 2 shared of 2. L1: {3,2} vs
  // {3,null}: 1 shared of 2 (special experts are not experts).
  EXPECT_EQ(s.locality_pairs, 2u);
  EXPECT_DOUBLE_EQ(*s.locality_shared, 1.5);
  EXPECT_DOUBLE_EQ(*s.locality_fraction, 0.75);
}

TEST(TraceStats, LocalityUsesTheHighestPositionAndOnlyTheStepJustBefore) {
  // Step 0 holds r0 at positions 1 and 0 (first appearance order 1, 0): the previous token of
  // r0 in step 1 is position 1 ({2}). Step 2 has r1, absent from step 1: not counted. Step 3
  // has r0, absent from step 2: not counted either (only the step just before counts).
  const TraceStats s = stats_of(
      meta(1, 4), {make_step(0, {{0, 1}, {0, 0}}, {{{{2, 1.f}}, {{3, 1.f}}}}),
                   make_step(1, {{0, 2}}, {{{{2, 1.f}, {1, 1.f}}}}),
                   make_step(2, {{1, 0}}, {{{{2, 1.f}}}}), make_step(3, {{0, 3}}, {{{{2, 1.f}}}})});
  EXPECT_EQ(s.locality_pairs, 1u);
  EXPECT_DOUBLE_EQ(*s.locality_shared, 1.0);
  EXPECT_DOUBLE_EQ(*s.locality_fraction, 0.5);
}

TEST(TraceStats, AffinityOfTopOneExperts) {
  // Top-1 at (L0, L1): (0,2) (0,2) (0,3) (1,3): for expert 0 the most likely next is 2 (2 of
  // 3), for expert 1 it is 3 (1 of 1): (2 + 1) / 4. Independent: max(2, 2) / 4.
  // Token 2's L0 routes tie at 0.5 (lower id 0 wins); token 3's L1 has a special expert with
  // a higher weight (ignored).
  const TraceStats s =
      stats_of(meta(2, 4),
               {make_step(0, {{0, 0}, {1, 0}, {2, 0}, {3, 0}},
                          {{{{0, .9f}}, {{1, .2f}, {0, .8f}}, {{1, .5f}, {0, .5f}}, {{1, 1.f}}},
                           {{{2, 1.f}}, {{2, 1.f}}, {{3, 1.f}}, {{kNullExpert, 9.f}, {3, 1.f}}}})});
  ASSERT_TRUE(s.affinity_computed);
  EXPECT_EQ(s.affinity_pairs, 4u);
  EXPECT_DOUBLE_EQ(*s.affinity, 0.75);
  EXPECT_DOUBLE_EQ(*s.affinity_independent, 0.5);
  ASSERT_EQ(s.affinity_per_layer.size(), 1u);
  EXPECT_DOUBLE_EQ(*s.affinity_per_layer[0], 0.75);

  const TraceStats two = stats_of(meta(2, 4), two_steps());
  // (0 -> 3) and (1 -> 2): each expert's next is certain; independent 1/2.
  EXPECT_EQ(two.affinity_pairs, 2u);
  EXPECT_DOUBLE_EQ(*two.affinity, 1.0);
  EXPECT_DOUBLE_EQ(*two.affinity_independent, 0.5);
}

TEST(TraceStats, AffinityIsSkippedWhenTooLargeOrSingleLayer) {
  EXPECT_FALSE(TraceStatsCollector(meta(1, 4)).result().affinity_computed);
  EXPECT_FALSE(TraceStatsCollector(meta(200, 256)).result().affinity_computed);
  EXPECT_TRUE(TraceStatsCollector(meta(61, 256)).result().affinity_computed);
}

TEST(TraceStats, JsonAndTextCarryValuesWithUnits) {
  const TraceStats s = stats_of(meta(2, 4), two_steps());
  const std::string j = trace_stats_json(s, "t.csv");
  for (const char* want :
       {"\"schema\": \"moesim-trace-stats 1\"", "\"steps\": {\"value\": 2, \"unit\": \"steps\"}",
        "\"assignments\": {\"value\": 12, \"unit\": \"assignments\"}",
        "\"counts\": {\"0\": 1, \"1\": 2, \"2\": 5}", "\"null\": 1, \"zero\": 1",
        "\"shared_experts\": {\"value\": 1.5, \"unit\": \"experts\"}",
        "\"affinity\": {\"value\": 1, \"unit\": \"probability\"}", "\"entropy\": \"bits\"",
        "{\"layer\": 1, \"routed_assignments\": 3, \"max_over_mean\": 2.66667"}) {
    EXPECT_NE(j.find(want), std::string::npos) << want << "\n" << j;
  }
  const std::string t = trace_stats_text(s, "t.csv");
  EXPECT_NE(t.find("k=0: 1, k=1: 2, k=2: 5"), std::string::npos) << t;
  EXPECT_NE(t.find("1.5000 experts shared"), std::string::npos) << t;
}

class TraceStatsFile : public TraceTest {};

TEST_F(TraceStatsFile, ComputeReadsATraceFile) {
  const std::string p = path("t.jsonl");
  write_all(p, meta(2, 4), two_steps());
  auto r = open_trace(p);
  const TraceStats s = compute_trace_stats(*r);
  EXPECT_EQ(s.assignments, 12u);
  EXPECT_DOUBLE_EQ(*s.locality_fraction, 0.75);
}

}  // namespace
}  // namespace moesim::test
