#pragma once
/// Expert residency across memory tiers: a home tier holding every expert and a chain of
/// cache tiers above it (e.g. DDR home, HBM caching DDR), each with its own replacement
/// policy, plus predictive prefetch into the cache nearest the compute.
///
/// The planner consults it in plan order (ExpertStore); it answers where each expert's
/// weights come from and which copies between tiers that takes. Pure C++: unit-testable
/// without SystemC; the copies are timed by the engine's DMA on the tiers' own models.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hw_models/memory/residency/affinity.hpp"
#include "hw_models/memory/residency/expert_cache.hpp"
#include "sim/core/stats.hpp"
#include "sim/plan/plan.hpp"

namespace moesim {

/// One cache level, as configured (`[mapping.cache.<tier>]`).
struct CacheLevelSpec {
  std::string tier;        ///< tier name (a chip.memory table)
  uint8_t tier_index = 0;  ///< index into the chip's tiers
  CachePolicy policy = CachePolicy::kLru;
  uint64_t capacity_bytes = 0;    ///< bytes for experts (resolved; never 0)
  uint64_t lookahead_steps = 0;   ///< a policy seeing the future (kBelady): steps it sees
  bool prefetch = false;          ///< affinity prefetch of the next layer's experts
  uint32_t prefetch_experts = 0;  ///< experts predicted per layer; 0 = as many as used
  std::string counts_path;        ///< a pinning policy (kStatic): counts file ("" = first pass)
  std::vector<uint64_t> counts;   ///< a pinning policy: the counts file's counts per key, if any
};

/// The residency configuration of a run.
struct ResidencySpec {
  std::string home;  ///< tier holding every expert (mapping.weights)
  uint8_t home_index = 0;
  std::vector<CacheLevelSpec> levels;  ///< nearest the compute first; each caches the next
  bool enabled() const { return !levels.empty(); }
  /// Largest lookahead of any level whose policy sees the future (0: no oracle needed).
  uint64_t lookahead_steps() const;
};

/// Traffic between memories and compute stalls on weights (`chip0.tiers.*`), counted from
/// the ops the DMA executes. Memories are the chip's tiers by index, then the SRAM.
struct TierStats : StatGroup {
  /// `tiers`: the chip's tier names in index order; `chain`: tier indices of the residency
  /// chain, home first (pairs from a lower to a higher one get a counter); `clock_hz` for
  /// the stall in cycles.
  TierStats(StatGroup* parent, const std::vector<std::string>& tiers,
            const std::vector<uint8_t>& chain, double clock_hz);
  /// Counts `bytes` moved from memory `src` to `dst` (tier indices; kSramIndex = SRAM).
  void moved(uint8_t src, uint8_t dst, uint64_t bytes);
  static constexpr uint8_t kSramIndex = 254;

  Scalar weight_stall_time{this, "weight_stall_time", "s",
                           "compute idle before a GEMM whose last dependency was a weight load"};
  Formula weight_stall_cycles;
  Counter copies{this, "copies", "ops", "expert copies between tiers (fills and prefetches)"};
  Scalar copy_time{this, "copy_time", "s",
                   "time from a copy being ready to its completion, summed over copies"};
  Formula mean_copy_time;  ///< copy_time / copies: the switch time of a CoE expert model

 private:
  size_t slot(uint8_t i) const { return i == kSramIndex ? m_n : i; }
  size_t m_n;
  std::vector<std::unique_ptr<Counter>> m_owned;
  std::vector<Counter*> m_pair;  // [(n + 1) x (n + 1)], null where not declared
};

/// Statistics of one cache level (`chip0.tiers.<tier>.*`).
struct CacheLevelStats : StatGroup {
  CacheLevelStats(const std::string& tier, StatGroup* parent);
  Counter accesses{this, "accesses", "experts", "expert runs that looked in this tier"};
  Counter hits{this, "hits", "experts", "accesses that found the expert in this tier"};
  Counter misses{this, "misses", "experts", "accesses that did not find the expert here"};
  Counter fills{this, "fills", "experts", "experts copied in on a demand miss"};
  Counter evictions{this, "evictions", "experts", "experts evicted to make room"};
  Counter bypasses{this, "bypasses", "experts",
                   "misses not copied in (static: not pinned; belady: used later than any "
                   "cached expert), streamed from below instead"};
  Counter pinned{this, "pinned", "experts",
                 "experts a static tier admits (the most used ones; copied in on first use)"};
  Counter prefetch_predicted{this, "prefetch_predicted", "experts",
                             "experts predicted for the next layer"};
  Counter prefetch_predicted_used{this, "prefetch_predicted_used", "experts",
                                  "predicted experts the next layer did use"};
  Counter prefetches{this, "prefetches", "experts", "predicted experts copied in (absent before)"};
  Counter prefetch_bytes{this, "prefetch_bytes", "B", "bytes copied in by prefetches"};
  Counter prefetch_hits{this, "prefetch_hits", "experts",
                        "hits on a prefetched expert before any other use"};
  Counter prefetch_wasted_bytes{this, "prefetch_wasted_bytes", "B",
                                "prefetched bytes evicted before any use"};
  Counter prefetch_unused_bytes{this, "prefetch_unused_bytes", "B",
                                "prefetched bytes still unused at the end of the run"};
  Formula hit_rate;
  Formula prefetch_accuracy;
};

/// The chain of caches over the home tier (see the file comment).
class ResidencyManager final : public ExpertStore {
 public:
  /// `expert_bytes` per expert; `counts`: use counts per key for kStatic levels without
  /// their own CacheLevelSpec::counts (the most used are pinned);
  /// `dense_in_top`: non-expert weights stream from the top cache tier (else the home).
  ResidencyManager(const ResidencySpec& spec, uint32_t moe_layers, uint32_t experts,
                   uint64_t expert_bytes, bool dense_in_top, const std::vector<uint64_t>& counts,
                   StatGroup* stats_parent);
  ~ResidencyManager() override;

  void fetch(uint32_t moe_layer, uint32_t expert, WeightFetch& out) override;
  void prefetch(const TraceStep& step, uint32_t moe_layer, std::vector<TierCopy>& out) override;
  uint8_t dense_tier() const override { return m_dense_tier; }

  /// A step entered the lookahead window (in trace order): its accesses feed the oracle.
  void step_entered(const TraceStep& step);
  /// End of the run: prefetched experts never used count as unused.
  void finish();

  const ResidencySpec& spec() const { return m_spec; }
  const CacheLevelStats& level_stats(size_t i) const { return *m_levels[i].stats; }
  const ExpertCache& level_cache(size_t i) const { return *m_levels[i].cache; }
  uint64_t expert_bytes() const { return m_expert_bytes; }

 private:
  struct Level {
    CacheLevelSpec spec;
    std::unique_ptr<ExpertCache> cache;
    std::unique_ptr<CacheLevelStats> stats;
    std::vector<uint8_t> prefetched;  // per key: copied in by a prefetch, not used since
  };
  /// Copies `key` from level `from` (levels.size() = home) up to every admitting level
  /// above it; returns the level it ends in (levels.size(): none admitted it).
  size_t fill_up(uint32_t key, size_t from, bool is_prefetch, std::vector<TierCopy>& out);
  uint8_t tier_of(size_t level) const {
    return level < m_levels.size() ? m_levels[level].spec.tier_index : m_spec.home_index;
  }

  ResidencySpec m_spec;
  uint32_t m_layers;
  uint32_t m_experts;
  uint64_t m_expert_bytes;
  uint8_t m_dense_tier;
  std::vector<Level> m_levels;
  std::unique_ptr<NextUseOracle> m_oracle;        // when a level is kBelady
  std::unique_ptr<AffinityPredictor> m_affinity;  // when the top level prefetches
  uint64_t m_pos = 0;         // demand accesses so far (positions in the oracle)
  uint64_t m_future_pos = 0;  // demand accesses pushed into the oracle so far
  uint64_t m_stamp = 0;       // events so far (recency)
  std::vector<uint32_t> m_predicted;
  std::vector<uint32_t> m_tokens;
  std::vector<uint8_t> m_used;
};

/// The demand accesses of `step` in plan order: for each MoE layer, the experts with at
/// least one token, in id order; calls fn(moe_layer, expert).
template <class Fn>
void for_each_expert_access(const TraceStep& step, uint32_t experts, std::vector<uint8_t>& scratch,
                            Fn&& fn) {
  for (uint32_t l = 0; l < step.layers; ++l) {
    scratch.assign(experts, 0);
    for (uint32_t t = 0; t < step.num_tokens(); ++t) {
      for (uint32_t r = step.route_begin(l, t); r < step.route_end(l, t); ++r) {
        const int32_t e = step.experts[r];
        if (e >= 0 && static_cast<uint32_t>(e) < experts) scratch[static_cast<uint32_t>(e)] = 1;
      }
    }
    for (uint32_t e = 0; e < experts; ++e) {
      if (scratch[e]) fn(l, e);
    }
  }
}

}  // namespace moesim
