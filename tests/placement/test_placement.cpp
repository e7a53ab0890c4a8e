// Placement algorithms (pure C++): the DeepSeek EPLB README example exactly, greedy against
// round-robin, replica invariants, replica routing, EPLB JSON tables, and the affinity policy
// on a trace with a planted affinity structure.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include "sim/core/error.hpp"
#include "sim/plan/placement.hpp"
#include "sim/plan/system_plan.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;

PlacementInput eplb_example() {
  PlacementInput in;
  in.layers = 2;
  in.experts = 12;
  in.chips = 8;
  in.chips_per_node = 4;  // 2 nodes
  in.slots = 16;
  in.load = {90, 132, 40,  61, 104, 165, 39,  4,   73,  56, 183, 86,
             20, 107, 104, 64, 19,  197, 187, 157, 172, 86, 16,  27};
  return in;
}

TEST(Eplb, ReadmeExampleGivesThePublishedPhy2log) {
  Placement p;
  eplb_rebalance(eplb_example(), 4, true, p);
  const std::vector<uint32_t> published = {5, 6,  5, 7, 8, 4,  3, 4, 10, 9, 10, 2, 0, 1, 11, 1,
                                           7, 10, 6, 8, 6, 11, 8, 9, 2,  4, 5,  1, 5, 0, 3,  1};
  EXPECT_EQ(p.phy2log, published);
  EXPECT_EQ(p.slots, 16u);
  EXPECT_EQ(p.replica_count(0, 10), 2u);
}

/// Replica counts sum to the slots, every expert has one, and slots split evenly.
void expect_valid(const Placement& p) {
  for (uint32_t l = 0; l < p.layers; ++l) {
    uint32_t sum = 0;
    for (uint32_t e = 0; e < p.experts; ++e) {
      EXPECT_GE(p.replica_count(l, e), 1u) << l << " " << e;
      sum += p.replica_count(l, e);
    }
    EXPECT_EQ(sum, p.slots);
    std::vector<uint32_t> per_chip(p.chips, 0);
    for (uint32_t s = 0; s < p.slots; ++s) ++per_chip[p.chip_of_slot(l, s)];
    for (uint32_t c : per_chip) EXPECT_EQ(c, p.slots / p.chips);
  }
}

std::vector<double> skewed_load(uint32_t layers, uint32_t experts, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<double> w(size_t{layers} * experts);
  std::uniform_real_distribution<double> u(0, 1);
  for (double& x : w) x = std::floor(1000 * std::pow(u(rng), 4)) + 1;  // heavy skew
  return w;
}

/// max over chips / mean over chips of the load a placement gives (replicas share equally).
double peak_to_avg(const Placement& p, const std::vector<double>& w, uint32_t l) {
  std::vector<double> chip(p.chips, 0);
  double sum = 0;
  for (uint32_t s = 0; s < p.slots; ++s) {
    const uint32_t e = p.phy2log[size_t{l} * p.slots + s];
    chip[p.chip_of_slot(l, s)] += w[size_t{l} * p.experts + e] / p.replica_count(l, e);
  }
  for (double x : chip) sum += x;
  return *std::max_element(chip.begin(), chip.end()) * p.chips / sum;
}

TEST(Placement, GreedyNeverWorseThanRoundRobin) {
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    for (uint32_t chips : {2u, 4u, 8u, 16u}) {
      PlacementInput in;
      in.layers = 3;
      in.experts = 64;
      in.chips = chips;
      in.load = skewed_load(in.layers, in.experts, seed);
      Placement g;
      greedy_balanced(in, g);
      const Placement rr = Placement::round_robin(in.layers, in.experts, chips);
      for (uint32_t l = 0; l < in.layers; ++l) {
        EXPECT_LE(peak_to_avg(g, in.load, l), peak_to_avg(rr, in.load, l) + 1e-12)
            << "seed " << seed << " chips " << chips << " layer " << l;
      }
    }
  }
}

TEST(Placement, ReplicaInvariantsHoldForEveryPolicyAndShape) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    for (uint32_t extra : {0u, 8u, 16u, 64u}) {
      PlacementInput in;
      in.layers = 2;
      in.experts = 32;
      in.chips = 8;
      in.chips_per_node = 4;
      in.slots = 32 + extra;
      in.load = skewed_load(in.layers, in.experts, seed);
      Placement a, b, c;
      greedy_balanced(in, a);
      eplb_rebalance(in, 4, true, b);
      eplb_rebalance(in, 1, false, c);
      expect_valid(a);
      expect_valid(b);
      expect_valid(c);
    }
  }
  expect_valid(Placement::round_robin(4, 64, 8));
}

/// A planted affinity structure: at every layer the experts form `groups` groups (a random
/// permutation per layer, so the groups are not contiguous ids); a token belongs to one group
/// and picks its top-2 experts inside it at every layer, except that each copy with
/// probability `noise` goes to any expert. Returns the transitions; group_of[l * E + e].
std::vector<double> planted_transitions(uint32_t L, uint32_t E, uint32_t groups, double noise,
                                        uint32_t tokens, std::vector<uint32_t>& group_of) {
  std::mt19937 rng(7);
  const uint32_t gs = E / groups;
  std::vector<std::vector<uint32_t>> members(size_t{L} * groups);
  group_of.assign(size_t{L} * E, 0);
  for (uint32_t l = 0; l < L; ++l) {
    std::vector<uint32_t> perm(E);
    std::iota(perm.begin(), perm.end(), 0u);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (uint32_t k = 0; k < E; ++k) {
      group_of[size_t{l} * E + perm[k]] = k / gs;
      members[size_t{l} * groups + k / gs].push_back(perm[k]);
    }
  }
  std::vector<double> tr(size_t{L - 1} * E * E, 0.0);
  std::uniform_real_distribution<double> u(0, 1);
  for (uint32_t t = 0; t < tokens; ++t) {
    const uint32_t g = t % groups;
    std::vector<uint32_t> prev;
    for (uint32_t l = 0; l < L; ++l) {
      std::vector<uint32_t> cur;
      while (cur.size() < 2) {
        const uint32_t e = u(rng) < noise ? static_cast<uint32_t>(rng() % E)
                                          : members[size_t{l} * groups + g][rng() % gs];
        if (std::find(cur.begin(), cur.end(), e) == cur.end()) cur.push_back(e);
      }
      if (l > 0) {
        for (uint32_t a : prev) {
          for (uint32_t b : cur) tr[(size_t{l - 1} * E + a) * E + b] += 1;
        }
      }
      prev = cur;
    }
  }
  return tr;
}

TEST(Affinity, RecoversAPlantedGroupingAndCutsCrossChipTransitionsByThePlantedAmount) {
  const uint32_t L = 8, E = 32, C = 4;
  std::vector<uint32_t> group_of;
  PlacementInput in;
  in.layers = L;
  in.experts = E;
  in.chips = C;
  in.transitions = planted_transitions(L, E, C, 0.1, 4000, group_of);
  Placement p;
  AffinityStats st;
  affinity_placement(in, 20, p, &st);
  expect_valid(p);
  // Every chip holds exactly one planted group at every layer, the same group on the same
  // chip at every layer.
  std::vector<uint32_t> chip_of_group(C, UINT32_MAX);
  for (uint32_t l = 0; l < L; ++l) {
    for (uint32_t e = 0; e < E; ++e) {
      const uint32_t g = group_of[size_t{l} * E + e];
      const uint32_t c = p.chip_of_slot(l, *p.replicas_begin(l, e));
      if (chip_of_group[g] == UINT32_MAX) chip_of_group[g] = c;
      EXPECT_EQ(c, chip_of_group[g]) << "layer " << l << " expert " << e;
    }
  }
  // The planted placement itself (group g on chip g) crosses chips only for the noise.
  Placement planted;
  planted.layers = L;
  planted.experts = planted.slots = E;
  planted.chips = C;
  planted.phy2log.resize(size_t{L} * E);
  for (uint32_t l = 0; l < L; ++l) {
    std::vector<uint32_t> next(C, 0);
    for (uint32_t e = 0; e < E; ++e) {
      const uint32_t g = group_of[size_t{l} * E + e];
      planted.phy2log[size_t{l} * E + g * (E / C) + next[g]++] = e;
    }
  }
  ASSERT_EQ(planted.index(), "");
  const double rr = cross_chip_transitions(Placement::round_robin(L, E, C), in.transitions);
  const double aff = cross_chip_transitions(p, in.transitions);
  const double ideal = cross_chip_transitions(planted, in.transitions);
  EXPECT_DOUBLE_EQ(aff, ideal);
  // Noise 0.1 per copy: about 1 - 0.9^2 of the pairs have a random end, 3/4 of those cross.
  EXPECT_NEAR(ideal, (1 - 0.81) * 0.75, 0.02);
  EXPECT_NEAR(rr, 0.75, 0.03);
  EXPECT_NEAR(rr - aff, 0.75 - ideal, 0.03) << "the cut is the planted amount";
  // Greedy alone already finds it here; the local search stops once nothing improves.
  EXPECT_LT(st.rounds, 20u);
}

TEST(Affinity, RejectsReplicasAndUnevenShapes) {
  PlacementInput in;
  in.layers = 2;
  in.experts = 12;
  in.chips = 8;
  in.transitions.assign(144, 1.0);
  Placement p;
  EXPECT_THROW(affinity_placement(in, 1, p), InputError);  // 12 experts over 8 chips
  in.chips = 4;
  in.slots = 16;
  EXPECT_THROW(affinity_placement(in, 1, p), InputError);  // replicas
  in.slots = 0;
  affinity_placement(in, 1, p);
  expect_valid(p);
}

TEST(Placement, BadShapesAreInputErrors) {
  PlacementInput in = eplb_example();
  in.slots = 20;  // not a multiple of 8 chips
  Placement p;
  EXPECT_THROW(eplb_rebalance(in, 4, true, p), InputError);
  in.slots = 8;  // fewer than 12 experts
  EXPECT_THROW(greedy_balanced(in, p), InputError);
}

TEST(ReplicaRouter, SpreadsOverReplicasAndPrefersTheNearestWithLocality) {
  Placement p;
  p.layers = 1;
  p.experts = 2;
  p.chips = 4;
  p.slots = 4;
  p.phy2log = {0, 0, 0, 1};  // expert 0 on chips 0, 1, 2; expert 1 on chip 3
  ASSERT_EQ(p.index(), "");
  ReplicaRouter lb(&p, 1, false, 2);
  std::vector<uint32_t> hit(4, 0);
  for (int i = 0; i < 9; ++i) ++hit[lb.route(0, 0, 0, 3)];
  EXPECT_EQ(hit, (std::vector<uint32_t>{3, 3, 3, 0}));
  ReplicaRouter near(&p, 1, true, 2);
  EXPECT_EQ(near.route(0, 0, 0, 1), 1u);  // own chip
  EXPECT_EQ(near.route(0, 0, 0, 3), 2u);  // same node (chips 2, 3)
  EXPECT_EQ(near.route(0, 0, 1, 0), 3u);  // the only replica
  // A token only ever goes to a chip holding its expert.
  for (uint32_t src = 0; src < 4; ++src) {
    for (uint32_t e = 0; e < 2; ++e) {
      for (ReplicaRouter* r : {&lb, &near}) {
        const uint32_t c = r->route(0, 0, e, src);
        bool holds = false;
        for (const uint32_t* s = p.replicas_begin(0, e); s != p.replicas_end(0, e); ++s) {
          holds |= p.chip_of_slot(0, *s) == c;
        }
        EXPECT_TRUE(holds) << src << " " << e;
      }
    }
  }
}

fs::path write(const std::string& name, const std::string& text) {
  const fs::path d = fs::temp_directory_path() / "moesim_test_placement";
  fs::create_directories(d);
  std::ofstream(d / name) << text;
  return d / name;
}

std::string error_of(const fs::path& f, uint32_t layers, uint32_t experts, uint32_t chips) {
  try {
    read_placement_json(f.string(), layers, experts, chips);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(PlacementJson, RoundTripsAndAcceptsRealFileVariations) {
  Placement p;
  eplb_rebalance(eplb_example(), 4, true, p);
  const fs::path f = write("rt.json", placement_json(p));
  const Placement q = read_placement_json(f.string(), 2, 12, 8);
  EXPECT_EQ(q.phy2log, p.phy2log);
  // Key order, extra keys, compact whitespace, phy2log alone.
  const fs::path g = write("var.json",
                           "{\"note\":{\"by\":\"engine\",\"v\":[1.5,true,null]},\"phy2log\":"
                           "[[5,6,5,7,8,4,3,4,10,9,10,2,0,1,11,1],\n\t[7,10,6,8,6,11,8,9,2,4,5,1,"
                           "5,0,3,1]]}");
  EXPECT_EQ(read_placement_json(g.string(), 2, 12, 8).phy2log, p.phy2log);
}

TEST(PlacementJson, BadTablesAreLocated) {
  const std::string d = (fs::temp_directory_path() / "moesim_test_placement").string();
  EXPECT_EQ(error_of(write("a.json", "{\"phy2log\": [[0, 1, 2, 3]]}"), 1, 4, 3),
            d + "/a.json:1:13: 4 slots per layer do not split evenly over 3 chips");
  EXPECT_EQ(error_of(write("b.json", "{\"phy2log\": [[0, 1,\n 9, 3]]}"), 1, 4, 2),
            d + "/b.json:2:2: \"phy2log\"[0][2] = 9 is outside [0, 3]");
  EXPECT_EQ(error_of(write("c.json", "{\"phy2log\": [[0, 1, 1, 3]]}"), 1, 4, 2),
            d + "/c.json:1:13: expert 2 of layer 0 has no replica (every expert needs one)");
  EXPECT_EQ(error_of(write("d.json", "{\"log2phy\": []}"), 1, 4, 2),
            d + "/d.json:1:1: no \"phy2log\" key (the logical expert of each slot)");
  EXPECT_EQ(error_of(write("e.json", "{\"phy2log\": [[0, 1, 2, 3]], \"logcnt\": [[1, 1, 2, 1]]}"),
                     1, 4, 2),
            d + "/e.json:1:47: \"logcnt\"[0][2] = 2, but phy2log has 1 replica of expert 2");
  EXPECT_EQ(error_of(write("f.json", "{\"phy2log\": [[0, 1, 2, 3]"), 1, 4, 2),
            d + "/f.json:1:26: expected ']', found the end of the file");
  EXPECT_EQ(error_of(write("g.json", "{\"phy2log\": [[0, 1], [2, 3]]}"), 1, 4, 2),
            d + "/g.json:1:13: \"phy2log\" must be an array of 1 rows (one per MoE layer)");
}

}  // namespace
}  // namespace moesim

// --- Dynamic rebalancing in the system planner ---

namespace moesim {
namespace {

ModelSpec tiny_moe() {
  ModelSpec m;
  m.name = "tiny";
  m.layers = 2;
  m.hidden = 64;
  m.heads = 4;
  m.kv_heads = 4;
  m.head_dim = 16;
  m.kv_dim = 64;
  m.attention_params = 4ull * 64 * 64;
  m.experts = 8;
  m.top_k = 2;
  m.expert_ffn = 128;
  m.dense_ffn = 128;
  return m;
}

/// `tokens` decode tokens (one request each), every one routed to experts 0 and 4 at every
/// MoE layer: both on chip 0 under round-robin over 4 chips.
TraceStep skewed_step(uint64_t index, uint32_t tokens, uint32_t layers) {
  TraceStep s;
  s.index = index;
  s.layers = layers;
  for (uint32_t i = 0; i < tokens; ++i) s.tokens.push_back({i, 10});
  s.offsets.push_back(0);
  for (uint32_t l = 0; l < layers; ++l) {
    for (uint32_t i = 0; i < tokens; ++i) {
      s.experts.push_back(0);
      s.experts.push_back(4);
      s.weights.push_back(0.5f);
      s.weights.push_back(0.5f);
      s.offsets.push_back(static_cast<uint32_t>(s.experts.size()));
    }
  }
  return s;
}

TEST(Rebalance, MovesExpertsOverTheLinksBeforeTheLayerDispatches) {
  const ModelSpec md = tiny_moe();
  ParallelMapping m;
  m.chips = 4;
  m.expert_parallel = 4;
  m.placement = Placement::round_robin(md.moe_layers(), md.experts, 4);
  m.rebalance_every = 2;
  m.rebalance_alpha = 1.0;
  m.replan = [&](const std::vector<double>& load) {
    PlacementInput in;
    in.layers = md.moe_layers();
    in.experts = md.experts;
    in.chips = 4;
    in.load = load;
    Placement p;
    greedy_balanced(in, p);
    EXPECT_EQ(p.index(), "");
    return p;
  };
  PlanOptions po;
  po.weight_tile_bytes = 1 << 16;
  SystemPlanner sp(md, po, m);
  std::vector<StepPlan> plans(4);
  std::vector<StepPlan*> out;
  for (StepPlan& p : plans) out.push_back(&p);
  std::vector<CollectiveRequest> coll;
  for (uint64_t s = 0; s < 2; ++s) {
    sp.plan(skewed_step(s, 8, md.moe_layers()), out, coll);
    EXPECT_FALSE(sp.balance().rebalanced);
    EXPECT_EQ(sp.balance().moved, 0u);
    EXPECT_DOUBLE_EQ(sp.balance().layer_imbalance[0], 4.0) << "experts 0 and 4 both on chip 0";
  }
  sp.plan(skewed_step(2, 8, md.moe_layers()), out, coll);
  const StepBalance& b = sp.balance();
  EXPECT_TRUE(b.rebalanced);
  EXPECT_GT(b.moved, 0u);
  EXPECT_DOUBLE_EQ(b.layer_imbalance[0], 2.0) << "experts 0 and 4 now on two chips";
  const Placement& p = sp.mapping().placement;
  uint64_t moved_bytes = 0;
  for (const CollectiveRequest& r : coll) {
    if (r.role == CommRole::kRebalance) {
      for (uint64_t x : r.bytes) moved_bytes += x;
    }
    if (r.role != CommRole::kDispatch) continue;
    // A token is only sent to a chip holding its expert (after the move).
    for (uint32_t i = 0; i < 4; ++i) {
      for (uint32_t j = 0; j < 4; ++j) {
        if (i == j || r.bytes[i * 4 + j] == 0) continue;
        const uint32_t l = r.layer;  // the transformer layer is the MoE layer (every layer MoE)
        bool holds = false;
        for (uint32_t e : {0u, 4u}) {
          for (const uint32_t* q = p.replicas_begin(l, e); q != p.replicas_end(l, e); ++q) {
            holds = holds || p.chip_of_slot(l, *q) == j;
          }
        }
        EXPECT_TRUE(holds) << "chip " << j << " got tokens at layer " << l;
      }
    }
  }
  EXPECT_EQ(moved_bytes, b.moved * md.expert_bytes());
  // Each chip's dispatch of a layer waits for that layer's moves.
  for (const StepPlan& plan : plans) {
    std::vector<uint32_t> rebal;
    for (uint32_t k = 0; k < plan.ops.size(); ++k) {
      const Op& op = plan.ops[k];
      if (op.kind != OpKind::kComm) continue;
      if (op.comm_role == CommRole::kRebalance) {
        EXPECT_EQ(op.dep_count, 0u);
        rebal.push_back(k);
      } else if (op.comm_role == CommRole::kDispatch) {
        bool waits = false;
        for (uint32_t d = 0; d < op.dep_count; ++d) {
          const uint32_t dep = plan.deps[op.dep_begin + d];
          waits = waits || (plan.ops[dep].kind == OpKind::kComm &&
                            plan.ops[dep].comm_role == CommRole::kRebalance &&
                            plan.ops[dep].layer == op.layer);
        }
        EXPECT_TRUE(waits) << "dispatch of layer " << op.layer;
      }
    }
    EXPECT_EQ(rebal.size(), 2u);
  }
  // The next step keeps the new placement and moves nothing.
  sp.plan(skewed_step(3, 8, md.moe_layers()), out, coll);
  EXPECT_FALSE(sp.balance().rebalanced);
  EXPECT_DOUBLE_EQ(sp.balance().layer_imbalance[0], 2.0);
  for (const CollectiveRequest& r : coll) EXPECT_NE(r.role, CommRole::kRebalance);
  // Rebalancing again on the same load moves nothing (the chips keep their experts).
  sp.plan(skewed_step(4, 8, md.moe_layers()), out, coll);
  EXPECT_TRUE(sp.balance().rebalanced);
  EXPECT_EQ(sp.balance().moved, 0u);
}

}  // namespace
}  // namespace moesim
