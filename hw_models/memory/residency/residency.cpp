#include "hw_models/memory/residency/residency.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "sim/core/error.hpp"

namespace moesim {

uint64_t ResidencySpec::lookahead_steps() const {
  uint64_t w = 0;
  for (const CacheLevelSpec& l : levels) {
    if (l.policy.facts().sees_future) w = std::max(w, l.lookahead_steps);
  }
  return w;
}

TierStats::TierStats(StatGroup* parent, const std::vector<std::string>& tiers,
                     const std::vector<uint8_t>& chain, double clock_hz)
    : StatGroup("tiers", parent),
      weight_stall_cycles(this, "weight_stall_cycles", "cycles",
                          "weight_stall_time in chip clock cycles",
                          [this, clock_hz] { return weight_stall_time.get() * clock_hz; }),
      mean_copy_time(this, "mean_copy_time", "s",
                     "mean time from a copy between tiers being ready to its completion",
                     [this] {
                       return copies.get() ? copy_time.get() / static_cast<double>(copies.get())
                                           : 0.0;
                     }),
      m_n(tiers.size()),
      m_pair((tiers.size() + 1) * (tiers.size() + 1), nullptr) {
  auto declare = [&](size_t a, size_t b) {
    const std::string an = a < m_n ? tiers[a] : "sram";
    const std::string bn = b < m_n ? tiers[b] : "sram";
    m_owned.push_back(
        std::make_unique<Counter>(this, an + "_to_" + bn + "_bytes", "B",
                                  fmt::format("bytes the DMA moved from {} to {}", an, bn)));
    m_pair[a * (m_n + 1) + b] = m_owned.back().get();
  };
  for (size_t i = 0; i < chain.size(); ++i) {
    for (size_t j = i + 1; j < chain.size(); ++j) declare(chain[i], chain[j]);
  }
  for (size_t t = 0; t < m_n; ++t) {
    declare(t, m_n);
    declare(m_n, t);
  }
}

void TierStats::moved(uint8_t src, uint8_t dst, uint64_t bytes) {
  Counter* c = m_pair[slot(src) * (m_n + 1) + slot(dst)];
  if (c == nullptr) {
    throw InternalError(fmt::format("TierStats: no counter for memories {} -> {}", src, dst));
  }
  *c += bytes;
}

CacheLevelStats::CacheLevelStats(const std::string& tier, StatGroup* parent)
    : StatGroup(tier, parent),
      hit_rate(this, "hit_rate", "1", "hits / accesses",
               [this] {
                 return accesses.get()
                            ? static_cast<double>(hits.get()) / static_cast<double>(accesses.get())
                            : 0.0;
               }),
      prefetch_accuracy(this, "prefetch_accuracy", "1",
                        "predicted experts the next layer used / predicted experts", [this] {
                          return prefetch_predicted.get()
                                     ? static_cast<double>(prefetch_predicted_used.get()) /
                                           static_cast<double>(prefetch_predicted.get())
                                     : 0.0;
                        }) {}

ResidencyManager::ResidencyManager(const ResidencySpec& spec, uint32_t moe_layers, uint32_t experts,
                                   uint64_t expert_bytes, bool dense_in_top,
                                   const std::vector<uint64_t>& counts, StatGroup* stats_parent)
    : m_spec(spec),
      m_layers(moe_layers),
      m_experts(experts),
      m_expert_bytes(expert_bytes),
      m_dense_tier(dense_in_top && !spec.levels.empty() ? spec.levels[0].tier_index
                                                        : spec.home_index) {
  const uint32_t keys = moe_layers * experts;
  if (spec.lookahead_steps() > 0) m_oracle = std::make_unique<NextUseOracle>(keys);
  for (size_t i = 0; i < spec.levels.size(); ++i) {
    const CacheLevelSpec& ls = spec.levels[i];
    Level lv;
    lv.spec = ls;
    const uint64_t cap = std::min<uint64_t>(ls.capacity_bytes / expert_bytes, keys);
    if (cap == 0) throw InternalError("ResidencyManager: a level holds no expert");
    lv.cache =
        std::make_unique<ExpertCache>(ls.policy, static_cast<uint32_t>(cap), keys, m_oracle.get());
    lv.stats = std::make_unique<CacheLevelStats>(ls.tier, stats_parent);
    lv.prefetched.assign(keys, 0);
    if (ls.policy.facts().pins_most_used) {
      // Pin the most used experts (ties: lower key); never-used ones are not worth a slot.
      const std::vector<uint64_t>& c = ls.counts.empty() ? counts : ls.counts;
      std::vector<uint32_t> order(keys);
      std::iota(order.begin(), order.end(), 0u);
      std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        return (a < c.size() ? c[a] : 0) > (b < c.size() ? c[b] : 0);
      });
      for (uint32_t k : order) {
        if (k >= c.size() || c[k] == 0 || !lv.cache->pin(k)) break;
        ++lv.stats->pinned;
      }
    }
    if (i == 0 && ls.prefetch)
      m_affinity = std::make_unique<AffinityPredictor>(moe_layers, experts);
    m_levels.push_back(std::move(lv));
  }
}

ResidencyManager::~ResidencyManager() = default;

void ResidencyManager::step_entered(const TraceStep& step) {
  if (!m_oracle) return;
  for_each_expert_access(step, m_experts, m_used, [&](uint32_t l, uint32_t e) {
    const uint32_t key = l * m_experts + e;
    const bool was_never = m_oracle->next(key) == kNever;
    m_oracle->push(key, m_future_pos++);
    if (was_never) {
      for (Level& lv : m_levels) lv.cache->reposition(key);
    }
  });
}

size_t ResidencyManager::fill_up(uint32_t key, size_t from, bool is_prefetch,
                                 std::vector<TierCopy>& out) {
  size_t src = from;
  for (size_t i = from; i-- > 0;) {
    Level& lv = m_levels[i];
    if (!lv.cache->admits(key)) {
      if (!is_prefetch) ++lv.stats->bypasses;
      continue;
    }
    TierCopy c;
    c.src_tier = tier_of(src);
    c.dst_tier = lv.spec.tier_index;
    c.key = key;
    c.victim = lv.cache->insert(key, ++m_stamp);
    if (c.victim != kNoKey) {
      ++lv.stats->evictions;
      if (lv.prefetched[c.victim]) {
        lv.stats->prefetch_wasted_bytes += m_expert_bytes;
        lv.prefetched[c.victim] = 0;
      }
    }
    if (is_prefetch) {
      ++lv.stats->prefetches;
      lv.stats->prefetch_bytes += m_expert_bytes;
      lv.prefetched[key] = 1;
    } else {
      ++lv.stats->fills;
    }
    out.push_back(c);
    src = i;
  }
  return src;
}

void ResidencyManager::fetch(uint32_t l, uint32_t e, WeightFetch& out) {
  const uint32_t key = l * m_experts + e;
  if (m_oracle) {
    if (!m_oracle->pop(key, m_pos)) {
      throw InternalError(
          fmt::format("residency: access {} of expert {} at layer {} was not "
                      "the one the lookahead predicted",
                      m_pos, e, l));
    }
    for (Level& lv : m_levels) lv.cache->reposition(key);
  }
  ++m_pos;
  const uint64_t stamp = ++m_stamp;
  size_t found = m_levels.size();
  for (size_t i = 0; i < m_levels.size(); ++i) {
    if (m_levels[i].cache->contains(key)) {
      found = i;
      break;
    }
  }
  for (size_t i = 0; i < m_levels.size(); ++i) {
    Level& lv = m_levels[i];
    if (i > found) break;
    ++lv.stats->accesses;
    lv.cache->access(key, stamp);
    if (i == found) {
      ++lv.stats->hits;
      if (lv.prefetched[key]) {
        ++lv.stats->prefetch_hits;
        lv.prefetched[key] = 0;
      }
    } else {
      ++lv.stats->misses;
    }
  }
  out.copies.clear();
  const size_t top = fill_up(key, found, false, out.copies);
  out.stream_tier = tier_of(top);
}

void ResidencyManager::prefetch(const TraceStep& step, uint32_t l, std::vector<TierCopy>& out) {
  if (!m_affinity) return;
  // Learn the transitions now known (layer l - 1 to l of this step), then predict l + 1 from
  // layer l: the table holds only the past.
  if (l > 0) m_affinity->observe(step, l - 1);
  if (l + 1 >= m_layers) return;
  Level& top = m_levels[0];
  m_used.assign(m_experts, 0);
  uint32_t used_here = 0;
  for (uint32_t t = 0; t < step.num_tokens(); ++t) {
    for (uint32_t r = step.route_begin(l, t); r < step.route_end(l, t); ++r) {
      const int32_t e = step.experts[r];
      if (e >= 0 && !m_used[static_cast<uint32_t>(e)]) {
        m_used[static_cast<uint32_t>(e)] = 1;
        ++used_here;
      }
    }
  }
  const uint32_t n = top.spec.prefetch_experts ? top.spec.prefetch_experts : used_here;
  m_affinity->predict(step, l, n, m_predicted);
  // Accuracy against what layer l + 1 of this step does use (statistics only).
  m_used.assign(m_experts, 0);
  for (uint32_t t = 0; t < step.num_tokens(); ++t) {
    for (uint32_t r = step.route_begin(l + 1, t); r < step.route_end(l + 1, t); ++r) {
      const int32_t e = step.experts[r];
      if (e >= 0) m_used[static_cast<uint32_t>(e)] = 1;
    }
  }
  for (uint32_t e : m_predicted) {
    ++top.stats->prefetch_predicted;
    if (m_used[e]) ++top.stats->prefetch_predicted_used;
    const uint32_t key = (l + 1) * m_experts + e;
    if (top.cache->contains(key) || !top.cache->admits(key)) continue;
    size_t found = m_levels.size();
    for (size_t i = 1; i < m_levels.size(); ++i) {
      if (m_levels[i].cache->contains(key)) {
        found = i;
        break;
      }
    }
    fill_up(key, found, true, out);
  }
}

void ResidencyManager::finish() {
  for (Level& lv : m_levels) {
    for (uint32_t k : lv.cache->keys()) {
      if (lv.prefetched[k]) lv.stats->prefetch_unused_bytes += m_expert_bytes;
    }
  }
}

}  // namespace moesim
