// Expert residency (hw_models/memory/residency): replacement policies on hand-made access
// sequences with known hit counts, Belady against brute force, static pinning, affinity
// prefetch accuracy and waste, the tier chain's copies and byte conservation. Pure C++.

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "hw_models/memory/residency/affinity.hpp"
#include "hw_models/memory/residency/expert_cache.hpp"
#include "hw_models/memory/residency/lookahead.hpp"
#include "hw_models/memory/residency/residency.hpp"
#include "sim/core/error.hpp"

namespace moesim {
namespace {

struct Outcome {
  int hits = 0;
  std::vector<uint32_t> evicted;
};

/// Demand-paging run of `seq` through a cache: access, then insert on a miss.
Outcome run(ExpertCache& c, const std::vector<uint32_t>& seq, NextUseOracle* oracle = nullptr) {
  Outcome o;
  uint64_t stamp = 0;
  for (size_t i = 0; i < seq.size(); ++i) {
    const uint32_t k = seq[i];
    if (oracle) {
      EXPECT_TRUE(oracle->pop(k, i));
      c.reposition(k);
    }
    c.access(k, ++stamp);
    if (c.contains(k)) {
      ++o.hits;
    } else if (c.admits(k)) {
      const uint32_t v = c.insert(k, stamp);
      if (v != kNoKey) o.evicted.push_back(v);
    }
  }
  return o;
}

TEST(ExpertCache, LruTextbookSequence) {
  ExpertCache c(CachePolicy::kLru, 3, 8);
  const Outcome o = run(c, {1, 2, 3, 1, 2, 4, 1, 2, 5});
  EXPECT_EQ(o.hits, 4);
  EXPECT_EQ(o.evicted, (std::vector<uint32_t>{3, 4}));
  EXPECT_EQ(c.keys(), (std::vector<uint32_t>{1, 2, 5}));
}

TEST(ExpertCache, LfuKeepsTheFrequentAndBreaksTiesByRecency) {
  ExpertCache c(CachePolicy::kLfu, 2, 8);
  // 1 twice; 3 evicts 2 (count 1 < 2); 2 evicts 3 (1 < 2); 4 evicts 1 (tie at 2, older).
  const Outcome o = run(c, {1, 1, 2, 3, 2, 4});
  EXPECT_EQ(o.hits, 1);
  EXPECT_EQ(o.evicted, (std::vector<uint32_t>{2, 3, 1}));
  ExpertCache lru(CachePolicy::kLru, 2, 8);
  EXPECT_EQ(run(lru, {1, 1, 2, 3, 2, 4}).hits, 2);  // 3 evicts 1, so 2 hits
}

TEST(ExpertCache, StaticPinsAndNeverAdmits) {
  ExpertCache c(CachePolicy::kStatic, 2, 8);
  EXPECT_TRUE(c.pin(5));
  EXPECT_TRUE(c.pin(2));
  EXPECT_FALSE(c.pin(7));  // full
  EXPECT_EQ(c.pinned(), 2u);
  EXPECT_TRUE(c.keys().empty()) << "pinned experts are copied in on first use";
  // 5 miss (copied in), 1 bypass, 2 miss (copied in), 1 bypass, 5 hit, 7 bypass, 2 hit.
  const Outcome o = run(c, {5, 1, 2, 1, 5, 7, 2});
  EXPECT_EQ(o.hits, 2);
  EXPECT_TRUE(o.evicted.empty());
  EXPECT_EQ(c.keys(), (std::vector<uint32_t>{2, 5}));
  EXPECT_FALSE(c.admits(1));
}

/// The most hits any choice achieves: on a miss, keep the newcomer (evicting any cached key
/// when full) or bypass it.
int brute_force_best(const std::vector<uint32_t>& seq, size_t i, std::set<uint32_t> cache,
                     uint32_t cap) {
  if (i == seq.size()) return 0;
  const uint32_t k = seq[i];
  if (cache.count(k)) return 1 + brute_force_best(seq, i + 1, cache, cap);
  int best = brute_force_best(seq, i + 1, cache, cap);  // bypass
  if (cache.size() < cap) {
    cache.insert(k);
    return std::max(best, brute_force_best(seq, i + 1, cache, cap));
  }
  for (uint32_t v : std::set<uint32_t>(cache)) {
    std::set<uint32_t> next = cache;
    next.erase(v);
    next.insert(k);
    best = std::max(best, brute_force_best(seq, i + 1, next, cap));
  }
  return best;
}

TEST(ExpertCache, BeladyIsOptimalAgainstBruteForceOnTinyCases) {
  uint64_t x = 12345;
  auto rnd = [&](uint32_t n) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>((x >> 33) % n);
  };
  int cases = 0;
  for (uint32_t cap = 1; cap <= 3; ++cap) {
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<uint32_t> seq(10);
      for (uint32_t& k : seq) k = rnd(5);
      NextUseOracle oracle(5);
      for (size_t i = 0; i < seq.size(); ++i) oracle.push(seq[i], i);
      ExpertCache belady(CachePolicy::kBelady, cap, 5, &oracle);
      const int got = run(belady, seq, &oracle).hits;
      EXPECT_EQ(got, brute_force_best(seq, 0, {}, cap)) << "cap " << cap << " trial " << trial;
      ExpertCache lru(CachePolicy::kLru, cap, 5);
      EXPECT_LE(run(lru, seq).hits, got);
      ExpertCache lfu(CachePolicy::kLfu, cap, 5);
      EXPECT_LE(run(lfu, seq).hits, got);
      // Static pinning of the `cap` most frequent keys is a bypass policy too.
      std::map<uint32_t, int> freq;
      for (uint32_t k : seq) ++freq[k];
      std::vector<uint32_t> by_freq{0, 1, 2, 3, 4};
      std::stable_sort(by_freq.begin(), by_freq.end(),
                       [&](uint32_t a, uint32_t b) { return freq[a] > freq[b]; });
      ExpertCache pinned(CachePolicy::kStatic, cap, 5);
      for (uint32_t k : by_freq) pinned.pin(k);
      EXPECT_LE(run(pinned, seq).hits, got);
      ++cases;
    }
  }
  EXPECT_EQ(cases, 120);
}

TEST(ExpertCache, BeladyWithoutLookaheadBypassesWhenFull) {
  // Window sees nothing beyond the current access: every key is "never" used again, so a
  // full cache bypasses newcomers (not used sooner than any cached key).
  NextUseOracle oracle(8);
  ExpertCache c(CachePolicy::kBelady, 2, 8, &oracle);
  const std::vector<uint32_t> seq{1, 2, 3, 1};
  Outcome o;
  uint64_t stamp = 0;
  for (size_t i = 0; i < seq.size(); ++i) {
    oracle.push(seq[i], i);
    ASSERT_TRUE(oracle.pop(seq[i], i));
    c.reposition(seq[i]);
    c.access(seq[i], ++stamp);
    if (c.contains(seq[i])) {
      ++o.hits;
    } else if (c.admits(seq[i])) {
      const uint32_t v = c.insert(seq[i], stamp);
      if (v != kNoKey) o.evicted.push_back(v);
    }
  }
  EXPECT_TRUE(o.evicted.empty());
  EXPECT_EQ(o.hits, 1) << "1 stayed";
  EXPECT_EQ(c.keys(), (std::vector<uint32_t>{1, 2}));
}

TEST(NextUseOracle, PopsOnlyTheNextPosition) {
  NextUseOracle o(3);
  o.push(1, 0);
  o.push(1, 4);
  EXPECT_EQ(o.next(1), 0u);
  EXPECT_FALSE(o.pop(1, 4));
  EXPECT_TRUE(o.pop(1, 0));
  EXPECT_EQ(o.next(1), 4u);
  EXPECT_EQ(o.next(2), kNever);
}

/// A decode step with one token per entry of routes[layer]: routes[layer][token] = experts.
TraceStep make_step(uint64_t index, const std::vector<std::vector<std::vector<int32_t>>>& routes) {
  TraceStep s;
  s.index = index;
  s.layers = static_cast<uint32_t>(routes.size());
  const size_t t = routes.front().size();
  for (size_t i = 0; i < t; ++i) s.tokens.push_back({static_cast<uint32_t>(i), 0});
  s.offsets.push_back(0);
  for (const auto& layer : routes) {
    for (const auto& tok : layer) {
      for (int32_t e : tok) {
        s.experts.push_back(e);
        s.weights.push_back(1.0f);
      }
      s.offsets.push_back(static_cast<uint32_t>(s.experts.size()));
    }
  }
  return s;
}

TEST(Affinity, PredictsTheLearnedSuccessors) {
  AffinityPredictor a(2, 4);
  std::vector<uint32_t> out;
  const TraceStep s = make_step(0, {{{0}, {1}}, {{2}, {3}}});
  a.predict(s, 0, 4, out);
  EXPECT_TRUE(out.empty()) << "nothing learned yet";
  a.observe(s, 0);
  a.observe(make_step(1, {{{0}}, {{2}}}), 0);
  a.add(0, 1, 0, 1);  // 1 -> 3 twice as often as 1 -> 0 (with the step above: 1 -> 3 once)
  a.add(0, 1, 3, 1);
  a.predict(make_step(2, {{{0}, {1}}, {{0}, {0}}}), 0, 4, out);
  // Scores: 2 <- 1.0 (from 0), 3 <- 2/3, 0 <- 1/3 (from 1).
  EXPECT_EQ(out, (std::vector<uint32_t>{2, 3, 0}));
  a.predict(make_step(2, {{{0}, {1}}, {{0}, {0}}}), 0, 1, out);
  EXPECT_EQ(out, (std::vector<uint32_t>{2}));
  a.predict(make_step(2, {{{0}}, {{0}}}), 1, 4, out);
  EXPECT_TRUE(out.empty()) << "no layer after the last";
}

/// Spec: home tier 0 (ddr), caches listed nearest the compute first.
ResidencySpec chain(std::vector<CacheLevelSpec> levels) {
  ResidencySpec s;
  s.home = "ddr";
  s.home_index = 0;
  s.levels = std::move(levels);
  return s;
}

CacheLevelSpec level(const char* name, uint8_t index, CachePolicy p, uint64_t experts,
                     uint64_t bytes) {
  CacheLevelSpec l;
  l.tier = name;
  l.tier_index = index;
  l.policy = p;
  l.capacity_bytes = experts * bytes;
  return l;
}

TEST(Residency, MissCopiesUpTheChainAndHitsStreamFromTheTop) {
  StatGroup root("chip0");
  const uint64_t eb = 1000;
  ResidencyManager r(chain({level("sram", 2, CachePolicy::kLru, 1, eb),
                            level("hbm", 1, CachePolicy::kLru, 2, eb)}),
                     1, 4, eb, true, {}, &root);
  EXPECT_EQ(r.dense_tier(), 2);
  WeightFetch f;
  r.fetch(0, 3, f);  // cold: ddr -> hbm -> sram
  ASSERT_EQ(f.copies.size(), 2u);
  EXPECT_EQ(f.copies[0].src_tier, 0);
  EXPECT_EQ(f.copies[0].dst_tier, 1);
  EXPECT_EQ(f.copies[1].src_tier, 1);
  EXPECT_EQ(f.copies[1].dst_tier, 2);
  EXPECT_EQ(f.stream_tier, 2);
  r.fetch(0, 1, f);  // evicts 3 from sram; hbm holds {3, 1}
  ASSERT_EQ(f.copies.size(), 2u);
  EXPECT_EQ(f.copies[1].victim, 3u);
  r.fetch(0, 3, f);  // sram miss, hbm hit: one copy hbm -> sram
  ASSERT_EQ(f.copies.size(), 1u);
  EXPECT_EQ(f.copies[0].src_tier, 1);
  r.fetch(0, 3, f);  // sram hit
  EXPECT_TRUE(f.copies.empty());
  EXPECT_EQ(f.stream_tier, 2);
  EXPECT_EQ(r.level_stats(0).hits.get(), 1u);
  EXPECT_EQ(r.level_stats(0).misses.get(), 3u);
  EXPECT_EQ(r.level_stats(1).accesses.get(), 3u);  // the sram hit never looks in hbm
  EXPECT_EQ(r.level_stats(1).hits.get(), 1u);
  EXPECT_EQ(r.level_stats(1).fills.get(), 2u);
}

TEST(Residency, StaticLevelPinsTheMostUsedAndBypassesTheRest) {
  StatGroup root("chip0");
  const uint64_t eb = 10;
  std::vector<uint64_t> counts{5, 0, 9, 1};  // pins 2 then 0
  ResidencyManager r(chain({level("hbm", 1, CachePolicy::kStatic, 2, eb)}), 1, 4, eb, false, counts,
                     &root);
  EXPECT_EQ(r.dense_tier(), 0);
  EXPECT_EQ(r.level_cache(0).pinned(), 2u);
  EXPECT_EQ(r.level_stats(0).pinned.get(), 2u);
  WeightFetch f;
  r.fetch(0, 3, f);
  EXPECT_TRUE(f.copies.empty());
  EXPECT_EQ(f.stream_tier, 0) << "not pinned: streams from the home tier";
  r.fetch(0, 2, f);
  ASSERT_EQ(f.copies.size(), 1u) << "pinned: copied in on first use";
  EXPECT_EQ(f.stream_tier, 1);
  r.fetch(0, 2, f);
  EXPECT_TRUE(f.copies.empty());
  EXPECT_EQ(f.stream_tier, 1);
  EXPECT_EQ(r.level_cache(0).keys(), (std::vector<uint32_t>{2}));
  EXPECT_EQ(r.level_stats(0).hits.get(), 1u);
  EXPECT_EQ(r.level_stats(0).fills.get(), 1u);
  EXPECT_EQ(r.level_stats(0).bypasses.get(), 1u);
  EXPECT_EQ(r.level_stats(0).evictions.get(), 0u);
}

TEST(Residency, PrefetchAccuracyAndWasteOnACraftedSequence) {
  StatGroup root("chip0");
  const uint64_t eb = 100;
  CacheLevelSpec hbm = level("hbm", 1, CachePolicy::kLru, 2, eb);
  hbm.prefetch = true;
  hbm.prefetch_experts = 1;
  ResidencyManager r(chain({hbm}), 2, 4, eb, false, {}, &root);
  // Plays one step the way the planner does: layer 0's experts, prefetch for layer 1, then
  // layer 1's experts, then the end-of-step prefetch call for the last layer.
  std::vector<TierCopy> pre;
  auto play = [&](const TraceStep& s) {
    WeightFetch f;
    std::vector<uint8_t> scratch;
    std::vector<std::pair<uint32_t, uint32_t>> acc;
    for_each_expert_access(s, 4, scratch, [&](uint32_t l, uint32_t e) { acc.push_back({l, e}); });
    pre.clear();
    for (uint32_t l = 0; l < 2; ++l) {
      for (auto [al, e] : acc) {
        if (al == l) r.fetch(l, e, f);
      }
      r.prefetch(s, l, pre);
    }
  };
  play(make_step(0, {{{0}}, {{2}}}));  // learns 0 -> 2; nothing predicted yet
  EXPECT_TRUE(pre.empty());
  EXPECT_EQ(r.level_stats(0).prefetch_predicted.get(), 0u);
  play(make_step(1, {{{1}}, {{3}}}));  // learns 1 -> 3
  EXPECT_EQ(r.level_stats(0).prefetch_predicted.get(), 0u) << "expert 1 had no history";
  // Step 2: layer 0 uses 0, so (layer 1, expert 2) = key 6 is predicted; it was evicted in
  // step 1, so it is prefetched (evicting key 7). Layer 1 uses 3 instead: a wrong guess.
  play(make_step(2, {{{0}}, {{3}}}));
  ASSERT_EQ(pre.size(), 1u);
  EXPECT_EQ(pre[0].key, 6u);
  EXPECT_EQ(pre[0].victim, 7u);
  EXPECT_EQ(r.level_stats(0).prefetch_predicted.get(), 1u);
  EXPECT_EQ(r.level_stats(0).prefetch_predicted_used.get(), 0u);
  EXPECT_EQ(r.level_stats(0).prefetches.get(), 1u);
  EXPECT_EQ(r.level_stats(0).prefetch_wasted_bytes.get(), 0u) << "still resident";
  // Step 3: the demand fill of layer 0's expert 0 evicts the unused key 6 (wasted). Then
  // 0 -> 2 and 0 -> 3 tie, the lower id wins: 2 is predicted, prefetched again, and used.
  play(make_step(3, {{{0}}, {{2}}}));
  EXPECT_EQ(r.level_stats(0).prefetch_wasted_bytes.get(), eb);
  EXPECT_EQ(r.level_stats(0).prefetch_predicted.get(), 2u);
  EXPECT_EQ(r.level_stats(0).prefetch_predicted_used.get(), 1u);
  EXPECT_EQ(r.level_stats(0).prefetches.get(), 2u);
  EXPECT_EQ(r.level_stats(0).prefetch_bytes.get(), 2 * eb);
  EXPECT_EQ(r.level_stats(0).prefetch_hits.get(), 1u);
  EXPECT_DOUBLE_EQ(r.level_stats(0).prefetch_accuracy.value(), 0.5);
  EXPECT_EQ(r.level_stats(0).fills.get(), 7u);
  // Byte conservation: bytes into hbm = fills x expert bytes + prefetched bytes.
  const CacheLevelStats& st = r.level_stats(0);
  EXPECT_EQ(st.misses.get(), st.fills.get());
  EXPECT_EQ(st.hits.get() + st.misses.get(), st.accesses.get());
  r.finish();
  EXPECT_EQ(st.prefetch_unused_bytes.get(), 0u);
}

TEST(Residency, PlannerWaitsForFillsAndEvictionsWaitForTheVictimsReaders) {
  ModelSpec m;
  m.name = "tiny";
  m.layers = 1;
  m.hidden = 64;
  m.heads = 4;
  m.kv_heads = 2;
  m.head_dim = 16;
  m.kv_dim = 64;
  m.attention_params = 64ull * 8 * 16 + 4ull * 16 * 64;
  m.experts = 4;
  m.top_k = 1;
  m.expert_ffn = 128;
  m.shared_ffn = 128;
  m.dense_ffn = 128;
  m.weight_bytes = 2;
  m.act_bytes = 2;
  StatGroup root("chip0");
  // One expert fits in HBM (tier 1) over DDR (tier 0): expert 1 evicts expert 0.
  ResidencyManager r(chain({level("hbm", 1, CachePolicy::kLru, 1, m.expert_bytes())}), 1, 4,
                     m.expert_bytes(), true, {}, &root);
  PlanOptions o;
  o.weight_tile_bytes = m.expert_bytes() / 2;  // two tiles per expert
  Planner planner(m, o);
  planner.set_store(&r);
  StepPlan plan;
  planner.plan(make_step(0, {{{0}, {1}}}), plan);
  std::vector<uint32_t> copies;
  std::map<uint32_t, std::vector<uint32_t>> expert_loads;  // by copy order
  for (uint32_t i = 0; i < plan.ops.size(); ++i) {
    const Op& op = plan.ops[i];
    if (op.kind == OpKind::kCopy) {
      copies.push_back(i);
      EXPECT_EQ(op.src_tier, 0);
      EXPECT_EQ(op.dst_tier, 1);
      EXPECT_EQ(op.bytes, m.expert_bytes());
    }
    if (op.kind == OpKind::kLoad && op.cls == OpClass::kExperts) {
      EXPECT_EQ(op.src_tier, 1) << "experts stream from the cache tier";
      expert_loads[static_cast<uint32_t>(copies.size())].push_back(i);
    }
    if (op.kind == OpKind::kLoad && op.cls == OpClass::kAttention) {
      EXPECT_EQ(op.src_tier, 1) << "non-expert weights are pinned in the cache tier";
    }
  }
  ASSERT_EQ(copies.size(), 2u);
  auto deps_of = [&](uint32_t i) {
    const Op& op = plan.ops[i];
    return std::set<uint32_t>(plan.deps.begin() + op.dep_begin,
                              plan.deps.begin() + op.dep_begin + op.dep_count);
  };
  ASSERT_EQ(expert_loads[1].size(), 2u);
  ASSERT_EQ(expert_loads[2].size(), 2u);
  for (uint32_t l : expert_loads[1]) EXPECT_TRUE(deps_of(l).count(copies[0]));
  for (uint32_t l : expert_loads[2]) EXPECT_TRUE(deps_of(l).count(copies[1]));
  // The second copy overwrites expert 0's slot: it waits for expert 0's tile loads.
  for (uint32_t l : expert_loads[1]) EXPECT_TRUE(deps_of(copies[1]).count(l));
  for (const Op& op : plan.ops) {
    for (uint32_t d = 0; d < op.dep_count; ++d) {
      EXPECT_LT(plan.deps[op.dep_begin + d], static_cast<uint32_t>(&op - plan.ops.data()));
    }
  }
}

TEST(Lookahead, FeedsTheWindowAheadOfTheConsumer) {
  struct Vec final : TraceReader {
    std::vector<TraceStep> steps;
    size_t i = 0;
    TraceMeta m;
    const TraceMeta& meta() const override { return m; }
    bool next(TraceStep& s) override {
      if (i == steps.size()) return false;
      s = steps[i++];
      return true;
    }
  };
  auto inner = std::make_unique<Vec>();
  for (uint64_t i = 0; i < 5; ++i) inner->steps.push_back(make_step(i, {{{0}}}));
  std::vector<uint64_t> entered;
  LookaheadReader r(std::move(inner), 2, 4,
                    [&](const TraceStep& s) { entered.push_back(s.index); });
  TraceStep s;
  ASSERT_TRUE(r.next(s));
  EXPECT_EQ(s.index, 0u);
  EXPECT_EQ(entered, (std::vector<uint64_t>{0, 1, 2}));
  ASSERT_TRUE(r.next(s));
  EXPECT_EQ(entered.size(), 4u);
  ASSERT_TRUE(r.next(s));
  ASSERT_TRUE(r.next(s));
  EXPECT_EQ(s.index, 3u);
  EXPECT_FALSE(r.next(s)) << "max_steps = 4";
  EXPECT_EQ(entered.size(), 4u);
}

TEST(TierStats, NamesPairsAndRejectsUndeclaredOnes) {
  StatGroup root("chip0");
  TierStats t(&root, {"hbm", "ddr"}, {1, 0}, 1e9);
  t.moved(1, 0, 64);
  t.moved(0, TierStats::kSramIndex, 8);
  std::map<std::string, double> v;
  root.visit([&](const std::string& n, const Stat& s) { v[n] = s.value(); });
  EXPECT_EQ(v.at("chip0.tiers.ddr_to_hbm_bytes"), 64);
  EXPECT_EQ(v.at("chip0.tiers.hbm_to_sram_bytes"), 8);
  EXPECT_EQ(v.count("chip0.tiers.hbm_to_ddr_bytes"), 0u);
  EXPECT_THROW(t.moved(0, 1, 1), InternalError);
}

}  // namespace
}  // namespace moesim
