// Planner and model-shape tests (pure C++, no SystemC).

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "hw_models/compute/systolic_timing.hpp"
#include "sim/plan/model.hpp"
#include "sim/plan/plan.hpp"

namespace moesim {
namespace {

ModelSpec tiny_model() {
  ModelSpec m;
  m.name = "tiny";
  m.layers = 2;
  m.hidden = 64;
  m.heads = 4;
  m.kv_heads = 2;
  m.head_dim = 16;
  m.kv_dim = 2 * 2 * 16;
  m.attention_params = 64ull * (4 + 2 * 2) * 16 + 4ull * 16 * 64;
  m.experts = 4;
  m.top_k = 2;
  m.expert_ffn = 128;
  m.shared_ffn = 128;
  m.dense_ffn = 128;
  m.ffn_matrices = 3;
  m.weight_bytes = 2;
  m.act_bytes = 2;
  return m;
}

/// A decode step: token i of request i at position 10 + i, routed to `routes[layer][i]`.
TraceStep decode_step(const std::vector<std::vector<std::vector<int32_t>>>& routes) {
  TraceStep s;
  s.layers = static_cast<uint32_t>(routes.size());
  const size_t t = routes.front().size();
  for (size_t i = 0; i < t; ++i) {
    s.tokens.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(10 + i)});
  }
  s.offsets.push_back(0);
  for (const auto& layer : routes) {
    for (const auto& tok : layer) {
      for (int32_t e : tok) {
        s.experts.push_back(e);
        s.weights.push_back(1.0f / static_cast<float>(tok.size()));
      }
      s.offsets.push_back(static_cast<uint32_t>(s.experts.size()));
    }
  }
  return s;
}

TEST(Model, MoeLayersFollowDenseAndInterval) {
  ModelSpec m = tiny_model();
  m.layers = 12;
  m.first_dense_layers = 1;
  m.moe_every = 2;
  EXPECT_EQ(m.moe_layers(), 6u);
  EXPECT_FALSE(m.is_moe_layer(0));
  EXPECT_TRUE(m.is_moe_layer(1));
  EXPECT_FALSE(m.is_moe_layer(2));
  EXPECT_TRUE(m.is_moe_layer(11));
}

TEST(Model, CutToSomeMoeLayersKeepsTheDenseLayersThatGoWithThem) {
  ModelSpec m = tiny_model();
  m.layers = 12;
  m.first_dense_layers = 1;
  m.moe_every = 2;  // dense 0, then MoE 1,3,...,11 each followed by one dense (11: none)
  const ModelSpec a = m.with_moe_layers(3, false);
  EXPECT_EQ(a.layers, 7u);  // dense, then 3 x (MoE, dense)
  EXPECT_EQ(a.moe_layers(), 3u);
  const ModelSpec b = m.with_moe_layers(3, true);
  EXPECT_EQ(b.layers, 6u);  // dense, 2 x (MoE, dense), the last MoE layer alone
  EXPECT_EQ(b.moe_layers(), 3u);
  EXPECT_TRUE(b.is_moe_layer(5));
  ModelSpec c = tiny_model();
  c.layers = 32;
  EXPECT_EQ(c.with_moe_layers(8, false).layers, 8u);
  EXPECT_EQ(c.with_moe_layers(32, true).layers, 32u);
  EXPECT_EQ(m.with_moe_layers(6, true).layers, 12u);  // all of them: the model itself
}

TEST(Model, MixtralWeightCountMatchesPublishedParameters) {
  ModelSpec m;
  m.layers = 32;
  m.hidden = 4096;
  m.heads = 32;
  m.kv_heads = 8;
  m.head_dim = 128;
  m.attention_params = 4096ull * (32 + 16) * 128 + 32ull * 128 * 4096;
  m.experts = 8;
  m.top_k = 2;
  m.expert_ffn = 14336;
  m.ffn_matrices = 3;
  m.weight_bytes = 1;
  // 46.7 B parameters in total, of which 2 x 32000 x 4096 = 0.26 B are embeddings and the
  // LM head (not modelled) and ~0.0003 B norms.
  const double params = static_cast<double>(m.total_weight_bytes());
  EXPECT_NEAR(params / 1e9, 46.7 - 0.262, 0.05);
}

TEST(Planner, ExpertsWithoutTokensLoadNothingAndEachExpertLoadsOnce) {
  const ModelSpec m = tiny_model();
  PlanOptions o;
  o.weight_tile_bytes = 1 << 20;  // every block in one tile
  o.weight_buffers = 2;
  Planner p(m, o);
  // Layer 0: experts 0 and 2 used (expert 0 twice); layer 1: only expert 3.
  const TraceStep step = decode_step({{{0, 2}, {0, 2}, {2, 0}}, {{3}, {3}, {3}}});
  StepPlan plan;
  p.plan(step, plan);
  EXPECT_EQ(plan.experts_run, 3u);
  uint64_t expert_load_bytes = 0;
  std::map<uint32_t, std::vector<uint32_t>> gemm_m_by_layer;
  for (const Op& op : plan.ops) {
    if (op.kind == OpKind::kLoad && op.cls == OpClass::kExperts) expert_load_bytes += op.bytes;
    if (op.kind == OpKind::kGemm && op.cls == OpClass::kExperts) {
      const GemmShape& g = plan.gemms[op.gemm_begin];
      if (g.k == m.hidden) gemm_m_by_layer[op.layer].push_back(g.m);  // up projection
    }
  }
  EXPECT_EQ(expert_load_bytes, 3 * m.expert_bytes());
  // Each expert runs exactly its routed tokens: 3 tokens for experts 0 and 2, 3 for 3.
  EXPECT_EQ(gemm_m_by_layer[0], (std::vector<uint32_t>{3, 3}));
  EXPECT_EQ(gemm_m_by_layer[1], (std::vector<uint32_t>{3}));
  EXPECT_EQ(plan.assignments, 9u);
}

TEST(Planner, DependenciesPointBackwardAndTheRingHoldsBuffers) {
  const ModelSpec m = tiny_model();
  PlanOptions o;
  o.weight_tile_bytes = 4096;  // forces several tiles per block
  o.weight_buffers = 3;
  Planner p(m, o);
  const TraceStep step = decode_step({{{0, 1}, {1, 2}}, {{2, 3}, {0, 3}}});
  StepPlan plan;
  p.plan(step, plan);
  std::vector<uint32_t> loads;
  for (uint32_t i = 0; i < plan.ops.size(); ++i) {
    const Op& op = plan.ops[i];
    for (uint32_t d = 0; d < op.dep_count; ++d) EXPECT_LT(plan.deps[op.dep_begin + d], i);
    if (op.kind == OpKind::kLoad && op.mem == MemRole::kWeights) {
      EXPECT_LE(op.bytes, o.weight_tile_bytes);
      loads.push_back(i);
    }
  }
  ASSERT_GT(loads.size(), 6u);
  // The first `buffers` loads wait for nothing; later ones wait for exactly one op: the
  // consumer of the load `buffers` earlier, which itself depends on that load.
  for (size_t j = 0; j < loads.size(); ++j) {
    const Op& op = plan.ops[loads[j]];
    if (j < o.weight_buffers) {
      EXPECT_EQ(op.dep_count, 0u) << j;
      continue;
    }
    ASSERT_EQ(op.dep_count, 1u) << j;
    const uint32_t consumer = plan.deps[op.dep_begin];
    EXPECT_GT(consumer, loads[j - o.weight_buffers]);
    EXPECT_LT(consumer, loads[j]);
  }
}

TEST(Planner, WeightAndKvBytesAndFlopsAddUp) {
  const ModelSpec m = tiny_model();
  PlanOptions o;
  o.weight_tile_bytes = 1000;
  Planner p(m, o);
  const TraceStep step = decode_step({{{0, 1}, {2, 3}}, {{0, 1}, {0, 1}}});
  StepPlan plan;
  p.plan(step, plan);
  // Weights: attention + router per layer, and experts 0..3 in layer 0, 0..1 in layer 1.
  EXPECT_EQ(plan.weight_bytes, 2 * (m.attention_bytes() + m.router_bytes()) + 6 * m.expert_bytes());
  // KV: each request's earlier positions (10 and 11), both layers.
  EXPECT_EQ(plan.kv_read_bytes, 2ull * (10 + 11) * m.kv_dim * m.act_bytes);
  EXPECT_EQ(plan.kv_write_bytes, 2ull * 2 * m.kv_dim * m.act_bytes);
  uint64_t flops = 0;
  for (const Op& op : plan.ops) {
    uint64_t f = 0;
    for (uint32_t g = 0; g < op.gemm_count; ++g) {
      const GemmShape& s = plan.gemms[op.gemm_begin + g];
      f += 2ull * s.m * s.k * s.n * s.repeat;
    }
    EXPECT_EQ(f, op.flops);
    flops += f;
  }
  EXPECT_EQ(flops, plan.flops);
  // Expert FFN flops: 2 tokens per expert-layer pair... 8 assignments x 3 matrices x 2 x H x F.
  uint64_t expert_flops = 0;
  for (const Op& op : plan.ops) {
    if (op.cls == OpClass::kExperts) expert_flops += op.flops;
  }
  EXPECT_EQ(expert_flops, 8ull * 3 * 2 * m.hidden * m.expert_ffn);
}

TEST(Planner, NullExpertsCostNothingAndEncodersReadNoKvCache) {
  ModelSpec m = tiny_model();
  m.causal = false;
  PlanOptions o;
  o.weight_tile_bytes = 1 << 20;
  Planner p(m, o);
  const TraceStep step = decode_step({{{0, kNullExpert}, {kNullExpert}}, {{1}, {kZeroExpert}}});
  StepPlan plan;
  p.plan(step, plan);
  EXPECT_EQ(plan.experts_run, 2u);
  EXPECT_EQ(plan.kv_read_bytes, 0u);
  EXPECT_EQ(plan.kv_write_bytes, 0u);
  for (const Op& op : plan.ops) {
    if (op.kind == OpKind::kLoad || op.kind == OpKind::kStore) {
      EXPECT_EQ(op.mem, MemRole::kWeights);
    }
  }
}

TEST(Planner, PrefillAttentionIsBlockCausal) {
  ModelSpec m = tiny_model();
  PlanOptions o;
  o.weight_tile_bytes = 1 << 20;
  o.attention_q_tile = 4;
  Planner p(m, o);
  // One request, 8 prompt tokens at positions 0..7: two q blocks of 4 with 4 and 8 keys.
  TraceStep s;
  s.layers = 2;
  for (uint32_t i = 0; i < 8; ++i) s.tokens.push_back({0, i});
  s.offsets.push_back(0);
  for (uint32_t l = 0; l < 2; ++l) {
    for (uint32_t i = 0; i < 8; ++i) {
      s.experts.push_back(static_cast<int32_t>(i % 4));
      s.weights.push_back(1.0f);
      s.offsets.push_back(static_cast<uint32_t>(s.experts.size()));
    }
  }
  StepPlan plan;
  p.plan(s, plan);
  EXPECT_EQ(plan.kv_read_bytes, 0u);
  bool found = false;
  for (const Op& op : plan.ops) {
    if (op.kind != OpKind::kGemm || op.cls != OpClass::kAttention || op.gemm_count != 2) continue;
    const GemmShape& a = plan.gemms[op.gemm_begin];
    const GemmShape& b = plan.gemms[op.gemm_begin + 1];
    if (a.k == m.head_dim) {  // scores: M = q x group, K = head_dim, N = keys
      EXPECT_EQ(a.m, 4u * 2);
      EXPECT_EQ(a.n, 4u);
      EXPECT_EQ(b.n, 8u);
      EXPECT_EQ(a.repeat, m.kv_heads);
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST(SystolicTiming, WeightStationaryFormula) {
  // One fold: 2R + C + M - 2.
  EXPECT_EQ(systolic_gemm_cycles(Dataflow::kWeightStationary, 4, 4, 1, 4, 4), 2 * 4 + 4 + 1 - 2);
  // K = 9 on R = 4 -> 3 K-folds; N = 5 on C = 4 -> 2 N-folds.
  EXPECT_EQ(systolic_gemm_cycles(Dataflow::kWeightStationary, 4, 4, 7, 9, 5),
            6u * (2 * 4 + 4 + 7 - 2));
  EXPECT_EQ(systolic_gemm_cycles(Dataflow::kWeightStationary, 4, 4, 0, 9, 5), 0u);
}

TEST(SystolicTiming, OutputStationaryFormula) {
  // M = 10 on R = 4 -> 3 folds, N = 4 on C = 4 -> 1 fold; per fold 2R + C + K - 2.
  EXPECT_EQ(systolic_gemm_cycles(Dataflow::kOutputStationary, 4, 4, 10, 16, 4),
            3u * (2 * 4 + 4 + 16 - 2));
}

TEST(SystolicTiming, ParallelArraysDealOutFolds) {
  // 1 array, 1 copy: the single-array formula.
  EXPECT_EQ(systolic_gemm_cycles_parallel(Dataflow::kWeightStationary, 8, 8, 1, 5, 30, 30, 1),
            systolic_gemm_cycles(Dataflow::kWeightStationary, 8, 8, 5, 30, 30));
  // 16 folds on 5 arrays: 4 rounds.
  EXPECT_EQ(systolic_gemm_cycles_parallel(Dataflow::kWeightStationary, 8, 8, 5, 5, 32, 32, 1),
            4u * (16 + 8 + 5 - 2));
  // Repeats multiply folds.
  EXPECT_EQ(systolic_gemm_cycles_parallel(Dataflow::kWeightStationary, 8, 8, 4, 5, 8, 8, 8),
            2u * (16 + 8 + 5 - 2));
}

TEST(SystolicTiming, NeverBelowTheMacBound) {
  for (uint64_t r : {1u, 3u, 16u}) {
    for (uint64_t m : {1u, 7u, 64u}) {
      for (uint64_t k : {1u, 9u, 100u}) {
        for (uint64_t n : {1u, 5u, 33u}) {
          for (auto df : {Dataflow::kWeightStationary, Dataflow::kOutputStationary}) {
            const uint64_t c = systolic_gemm_cycles(df, r, r + 1, m, k, n);
            EXPECT_GE(c * r * (r + 1), m * k * n);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace moesim
