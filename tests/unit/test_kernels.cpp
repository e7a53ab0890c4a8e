// Kernels (sim/plan/kernels.hpp): grouping presets and lists, bad lists, the pipeline
// formula, stage shares and spill accounting. Pure C++, no SystemC.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "sim/plan/kernels.hpp"
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
  m.shared_experts = 1;
  m.shared_ffn = 128;
  m.dense_ffn = 128;
  m.ffn_matrices = 3;
  m.weight_bytes = 2;
  m.act_bytes = 2;
  return m;
}

/// A decode step of 3 requests; token i goes to experts {i, i+1} in every layer.
TraceStep decode_step(uint32_t layers) {
  TraceStep s;
  s.layers = layers;
  for (uint32_t i = 0; i < 3; ++i) s.tokens.push_back({i, 10 + i});
  s.offsets.push_back(0);
  for (uint32_t l = 0; l < layers; ++l) {
    for (int32_t i = 0; i < 3; ++i) {
      s.experts.push_back(i);
      s.experts.push_back(i + 1);
      s.weights.push_back(0.5f);
      s.weights.push_back(0.5f);
      s.offsets.push_back(static_cast<uint32_t>(s.experts.size()));
    }
  }
  return s;
}

StepPlan planned(const ModelSpec& m, uint64_t tile_bytes = 1 << 20) {
  PlanOptions o;
  o.weight_tile_bytes = tile_bytes;
  Planner p(m, o);
  static TraceStep step;
  step = decode_step(m.moe_layers());
  StepPlan plan;
  p.plan(step, plan);
  return plan;
}

FusionSpec spec_of(const std::string& kernels) {
  FusionSpec f;
  f.enabled = true;
  f.sram_budget = UINT64_MAX;
  const auto problem = parse_kernel_groups(kernels, f);
  EXPECT_FALSE(problem) << *problem;
  return f;
}

int group(const FusionSpec& f, Segment s) {
  return f.group_of[static_cast<int>(s)];
}

bool is_compute(const Op& op) {
  return op.kind == OpKind::kGemm || op.kind == OpKind::kVector;
}

TEST(KernelGroups, NoneLeavesEverySegmentUnfused) {
  const FusionSpec f = spec_of("none");
  EXPECT_EQ(f.groups, 0u);
  for (int s = 0; s < kNumSegments; ++s) EXPECT_EQ(f.group_of[s], -1);
}

TEST(KernelGroups, PresetsAndLists) {
  const FusionSpec a = spec_of("attention_block");
  EXPECT_EQ(a.groups, 1u);
  EXPECT_EQ(group(a, Segment::kAttnNorm), 0);
  EXPECT_EQ(group(a, Segment::kAttention), 0);
  EXPECT_EQ(group(a, Segment::kFfnNorm), 0);
  EXPECT_EQ(group(a, Segment::kGating), -1);

  const FusionSpec e = spec_of("expert_ffn");
  EXPECT_EQ(e.groups, 3u);
  EXPECT_EQ(group(e, Segment::kExperts), 0);
  EXPECT_EQ(group(e, Segment::kSharedExperts), 1);
  EXPECT_EQ(group(e, Segment::kDenseFfn), 2);
  EXPECT_EQ(group(e, Segment::kAttention), -1);

  const FusionSpec d = spec_of("decoder_layer");
  EXPECT_EQ(d.groups, 1u);
  for (int s = 0; s < kNumSegments; ++s) EXPECT_EQ(d.group_of[s], 0);

  const FusionSpec l = spec_of("attention_block, gating+experts ,shared_experts+combine");
  EXPECT_EQ(l.groups, 3u);
  EXPECT_EQ(group(l, Segment::kAttention), 0);
  EXPECT_EQ(group(l, Segment::kGating), 1);
  EXPECT_EQ(group(l, Segment::kExperts), 1);
  EXPECT_EQ(group(l, Segment::kSharedExperts), 2);
  EXPECT_EQ(group(l, Segment::kCombine), 2);
  EXPECT_EQ(group(l, Segment::kDenseFfn), -1);
}

std::string problem_of(const std::string& kernels) {
  FusionSpec f;
  const auto p = parse_kernel_groups(kernels, f);
  return p ? *p : "(accepted)";
}

TEST(KernelGroups, BadListsAreRejectedWithTheirReason) {
  EXPECT_EQ(problem_of("atention"),
            "unknown segment 'atention' in group 'atention' (segments: attn_norm, attention, "
            "ffn_norm, gating, experts, shared_experts, combine, dense_ffn; presets: "
            "attention_block, expert_ffn, decoder_layer) (did you mean 'attention'?)");
  EXPECT_EQ(problem_of("attn_norm+gating"),
            "group 'attn_norm+gating': its segments are not consecutive in a decoder layer (MoE "
            "layer: attn_norm, attention, ffn_norm, gating, experts, shared_experts, combine; "
            "dense layer: attn_norm, attention, ffn_norm, dense_ffn)");
  EXPECT_EQ(problem_of("attention_block,attention+ffn_norm"),
            "segment 'attention' is in two groups ('attention_block' and 'attention+ffn_norm')");
  EXPECT_EQ(problem_of("gating,,experts"), "an empty group in 'gating,,experts'");
  EXPECT_EQ(problem_of("none,experts"), "'none' cannot be combined with other groups");
  EXPECT_EQ(problem_of("experts+dense_ffn"), "(accepted)");  // each layer has one of them
}

/// Every op in exactly one kernel, kernels consecutive and covering the plan.
void expect_partition(const StepPlan& plan, const std::vector<Kernel>& ks) {
  ASSERT_FALSE(ks.empty());
  EXPECT_EQ(ks.front().begin, 0u);
  EXPECT_EQ(ks.back().end, plan.ops.size());
  for (size_t k = 0; k + 1 < ks.size(); ++k) EXPECT_EQ(ks[k].end, ks[k + 1].begin);
  for (const Kernel& k : ks) EXPECT_LT(k.begin, k.end);
}

TEST(FormKernels, NoneGivesOneKernelPerComputeOp) {
  ModelSpec m = tiny_model();
  StepPlan plan = planned(m);
  uint32_t compute = 0;
  for (const Op& op : plan.ops) compute += is_compute(op) ? 1 : 0;
  std::vector<Kernel> ks;
  SpillCounts sp;
  form_kernels(plan, spec_of("none"), ks, sp);
  expect_partition(plan, ks);
  EXPECT_EQ(ks.size(), compute);
  for (const Kernel& k : ks) {
    EXPECT_EQ(k.compute_ops, 1u);
    EXPECT_FALSE(k.fused);
  }
  EXPECT_EQ(sp.spills, 0u);
}

TEST(FormKernels, PresetsFuseTheirSegments) {
  ModelSpec m = tiny_model();
  StepPlan base = planned(m);
  // decoder_layer: one kernel per layer (one chip: no collective splits it).
  {
    StepPlan plan = base;
    std::vector<Kernel> ks;
    SpillCounts sp;
    form_kernels(plan, spec_of("decoder_layer"), ks, sp);
    expect_partition(plan, ks);
    ASSERT_EQ(ks.size(), m.layers);
    for (const Kernel& k : ks) {
      EXPECT_TRUE(k.fused);
      for (uint32_t i = k.begin; i < k.end; ++i)
        EXPECT_EQ(plan.ops[i].layer, plan.ops[k.begin].layer);
    }
  }
  // expert_ffn: one kernel per FFN (4 routed experts run + 1 shared per layer), each
  // holding exactly that FFN's ops; every other compute op alone.
  {
    StepPlan plan = base;
    std::vector<Kernel> ks;
    SpillCounts sp;
    form_kernels(plan, spec_of("expert_ffn"), ks, sp);
    expect_partition(plan, ks);
    uint32_t fused = 0;
    for (const Kernel& k : ks) {
      if (!k.fused) {
        EXPECT_EQ(k.compute_ops, 1u);
        continue;
      }
      ++fused;
      std::set<uint32_t> ffns;
      for (uint32_t i = k.begin; i < k.end; ++i) ffns.insert(plan.ops[i].ffn);
      EXPECT_EQ(ffns.size(), 1u);
      EXPECT_NE(*ffns.begin(), 0u);
    }
    EXPECT_EQ(fused, m.layers * (4 + 1));
  }
  // attention_block: attn_norm .. ffn_norm in one kernel per layer, starting at the first norm.
  {
    StepPlan plan = base;
    std::vector<Kernel> ks;
    SpillCounts sp;
    form_kernels(plan, spec_of("attention_block"), ks, sp);
    expect_partition(plan, ks);
    uint32_t fused = 0;
    for (const Kernel& k : ks) {
      if (!k.fused) continue;
      ++fused;
      EXPECT_EQ(k.segment, Segment::kAttnNorm);
      uint32_t norms = 0;
      for (uint32_t i = k.begin; i < k.end; ++i) {
        const Op& op = plan.ops[i];
        if (!is_compute(op)) continue;
        EXPECT_TRUE(op.cls == OpClass::kAttention || op.cls == OpClass::kNorm);
        norms += op.cls == OpClass::kNorm ? 1 : 0;
      }
      EXPECT_EQ(norms, 2u);
    }
    EXPECT_EQ(fused, m.layers);
  }
}

TEST(Pipeline, SlowestStagePlusFillAndDrain) {
  // Stages of 100, 300 and 50 cycles over 4 tiles: 25, 75 and 13 cycles a tile; the slowest
  // sets the pace for 4 tiles (300), and the first tile fills the other two (25 + 13).
  EXPECT_EQ(pipeline_cycles({100, 300, 50}, 4), 4 * 75 + 25 + 13);
  // One tile: no overlap, the stages one after another.
  EXPECT_EQ(pipeline_cycles({100, 300, 50}, 1), 450u);
  // One stage: its own time.
  EXPECT_EQ(pipeline_cycles({120}, 8), 120u);
  EXPECT_EQ(pipeline_cycles({}, 3), 0u);
  // Never faster than the slowest stage, never slower than running them one by one.
  for (uint64_t tiles = 1; tiles <= 64; ++tiles) {
    const uint64_t c = pipeline_cycles({700, 20, 333, 90}, tiles);
    EXPECT_GE(c, 700u);
    EXPECT_LE(c, 700u + 20 + 333 + 90 + 4 * tiles);  // + rounding of each tile up
  }
}

TEST(Pipeline, StageShares) {
  const std::vector<double> p = stage_shares(ShareRule::kProportional, {100, 300, 0});
  ASSERT_EQ(p.size(), 3u);
  EXPECT_DOUBLE_EQ(p[0], 0.25);
  EXPECT_DOUBLE_EQ(p[1], 0.75);
  EXPECT_DOUBLE_EQ(p[2], 0.0);
  const std::vector<double> e = stage_shares(ShareRule::kEqual, {100, 300, 0, 7});
  for (double x : e) EXPECT_DOUBLE_EQ(x, 0.25);
  const std::vector<double> z = stage_shares(ShareRule::kProportional, {0, 0});
  EXPECT_DOUBLE_EQ(z[0] + z[1], 1.0);
}

/// Each spilled result: producer out_bytes once per store, once per consuming kernel loaded.
struct Expected {
  uint64_t store = 0;
  uint64_t load = 0;
  uint64_t spills = 0;
};

Expected expected_spills(const StepPlan& plan, const std::vector<Kernel>& ks, uint64_t budget) {
  std::vector<uint32_t> kof(plan.ops.size());
  for (uint32_t k = 0; k < ks.size(); ++k) {
    for (uint32_t i = ks[k].begin; i < ks[k].end; ++i) kof[i] = k;
  }
  std::map<uint32_t, std::set<uint32_t>> readers;
  for (uint32_t c = 0; c < plan.ops.size(); ++c) {
    if (!is_compute(plan.ops[c])) continue;
    for (uint32_t d = 0; d < plan.ops[c].dep_count; ++d) {
      const uint32_t p = plan.deps[plan.ops[c].dep_begin + d];
      if (is_compute(plan.ops[p]) && kof[p] != kof[c] && plan.ops[p].out_bytes > budget) {
        readers[p].insert(kof[c]);
      }
    }
  }
  Expected e;
  for (const auto& [p, ks2] : readers) {
    e.store += plan.ops[p].out_bytes;
    e.load += plan.ops[p].out_bytes * ks2.size();
    ++e.spills;
  }
  return e;
}

TEST(Spills, IntermediatesThatFitStayOnChip) {
  ModelSpec m = tiny_model();
  StepPlan plan = planned(m);
  const size_t ops = plan.ops.size();
  FusionSpec f = spec_of("none");
  f.sram_budget = 1 << 20;  // every intermediate of this tiny step fits
  std::vector<Kernel> ks;
  SpillCounts sp;
  form_kernels(plan, f, ks, sp);
  EXPECT_EQ(plan.ops.size(), ops);
  EXPECT_EQ(sp.spills, 0u);
  EXPECT_EQ(sp.store_bytes + sp.load_bytes, 0u);
}

TEST(Spills, IntermediatesThatDoNotFitGoToTheSpillTierAndBack) {
  ModelSpec m = tiny_model();
  for (const char* grouping : {"none", "attention_block,expert_ffn"}) {
    StepPlan plan = planned(m);
    FusionSpec f = spec_of(grouping);
    f.sram_budget = 256;  // a 3-token x 64 hidden bf16 activation is 384 B: it spills
    f.spill_tier = 3;
    // The expectation, from the kernels before spill ops are added.
    StepPlan probe = plan;
    std::vector<Kernel> ks0;
    SpillCounts sp0;
    FusionSpec nospill = f;
    nospill.sram_budget = UINT64_MAX;
    form_kernels(probe, nospill, ks0, sp0);
    const Expected want = expected_spills(probe, ks0, f.sram_budget);
    ASSERT_GT(want.spills, 0u) << grouping;

    const size_t ops = plan.ops.size();
    std::vector<Kernel> ks;
    SpillCounts sp;
    form_kernels(plan, f, ks, sp);
    EXPECT_EQ(sp.spills, want.spills) << grouping;
    EXPECT_EQ(sp.store_bytes, want.store) << grouping;
    EXPECT_EQ(sp.load_bytes, want.load) << grouping;
    EXPECT_EQ(ks.size(), ks0.size());
    expect_partition(plan, ks);
    // The inserted ops are loads and stores of the spill tier with exactly those bytes, and
    // the plan stays topologically ordered.
    uint64_t store = 0, load = 0, added = 0;
    for (uint32_t i = 0; i < plan.ops.size(); ++i) {
      const Op& op = plan.ops[i];
      for (uint32_t d = 0; d < op.dep_count; ++d) EXPECT_LT(plan.deps[op.dep_begin + d], i);
      if (op.mem == MemRole::kKvCache && op.src_tier == 3) {
        ++added;
        (op.kind == OpKind::kStore ? store : load) += op.bytes;
      }
    }
    EXPECT_EQ(plan.ops.size(), ops + added);
    EXPECT_EQ(store, want.store);
    EXPECT_EQ(load, want.load);
    // A spill load is in its readers' kernel, before them, and they depend on it.
    for (const Kernel& k : ks) {
      for (uint32_t i = k.begin; i < k.end; ++i) {
        const Op& op = plan.ops[i];
        if (!(op.kind == OpKind::kLoad && op.src_tier == 3)) continue;
        bool read = false;
        for (uint32_t c = i + 1; c < k.end; ++c) {
          const Op& r = plan.ops[c];
          for (uint32_t d = 0; d < r.dep_count; ++d) read |= plan.deps[r.dep_begin + d] == i;
        }
        EXPECT_TRUE(read) << "spill load " << i << " has no reader in its kernel";
      }
    }
  }
}

}  // namespace
}  // namespace moesim
