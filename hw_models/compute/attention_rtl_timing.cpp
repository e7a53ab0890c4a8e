#include "hw_models/compute/attention_rtl_timing.hpp"

#include <cstdio>
#include <random>

#include <fmt/format.h>

#include "rtl/cc/rtl_runners.hpp"
#include "sim/core/error.hpp"

namespace moesim {

RtlAttentionTiming::RtlAttentionTiming(const AttentionDesign& design, const std::string& key,
                                       StatGroup* stats_parent)
    : m_design(design), m_stats(stats_parent) {
  m_runner = rtl::make_attention_runner(static_cast<int>(design.parallel_rows));
  if (!m_runner || !design.online_softmax)
    throw InputError(
        fmt::format("{}: \"rtl\" needs a baked RTL attention block ({}), got "
                    "parallel_rows = {}, softmax = \"{}\"",
                    key, rtl::attention_cc_shapes(), design.parallel_rows,
                    design.online_softmax ? "online" : "three_pass"));
}

RtlAttentionTiming::~RtlAttentionTiming() = default;

uint64_t RtlAttentionTiming::run_sample(int groups, int keys, int slices) {
  const rtl::AttentionParams& p = m_runner->params();
  rtl::AttentionCase c;
  c.rows = groups * p.p;
  c.keys = keys;
  c.slices = slices;
  c.naive = !m_design.reorder;
  std::mt19937_64 rng(0xa77e0000ULL + (uint64_t(keys) << 8) + uint64_t(slices) * 2 +
                      uint64_t(groups));
  c.q.resize(static_cast<size_t>(c.rows) * p.d);
  c.k.resize(static_cast<size_t>(keys) * p.d);
  c.v.resize(static_cast<size_t>(keys) * p.d);
  for (auto* m : {&c.q, &c.k, &c.v})
    for (auto& x : *m) x = static_cast<int8_t>(static_cast<int>(rng() % 33) - 16);  // +-1.0
  const uint64_t before = m_runner->cycles_simulated();
  const auto r = m_runner->run(c);
  m_stats.cycles_simulated += m_runner->cycles_simulated() - before;
  ++m_stats.samples_run;
  // The model's contract for this op (its P, the block's W, head dim c W, 1-byte elements:
  // kv_bytes / W = K/V slices).
  AttentionDesign a = m_design;
  a.dot_width = static_cast<uint64_t>(p.w);
  const AttentionCost k =
      attention_cost(a, static_cast<uint64_t>(c.rows), static_cast<uint64_t>(keys),
                     static_cast<uint64_t>(slices * p.w), 1, 1);
  const bool cycles_ok = r.compute_cycles == k.cycles;
  const bool reads_ok =
      r.kv_reads == k.kv_bytes / static_cast<uint64_t>(p.w) && r.score_reads == k.score_reads;
  if (!r.values_match) ++m_stats.value_mismatches;
  if (!cycles_ok) ++m_stats.contract_mismatches;
  if (!reads_ok) ++m_stats.read_mismatches;
  if ((!r.values_match || !cycles_ok || !reads_ok) && !m_warned) {
    m_warned = true;
    std::fprintf(
        stderr,
        "moesim: warning: verilated attention block, %d groups, L=%d, c=%d: %s; %llu "
        "cycles (contract %llu), %llu K/V slices (contract %llu), %llu score reads "
        "(contract %llu) (counted in attention.rtl stats)\n",
        groups, keys, slices,
        r.values_match ? "outputs match the reference" : "OUTPUTS DIFFER from the reference",
        static_cast<unsigned long long>(r.compute_cycles),
        static_cast<unsigned long long>(k.cycles), static_cast<unsigned long long>(r.kv_reads),
        static_cast<unsigned long long>(k.kv_bytes / static_cast<uint64_t>(p.w)),
        static_cast<unsigned long long>(r.score_reads),
        static_cast<unsigned long long>(k.score_reads));
  }
  return r.compute_cycles;
}

RtlAttentionTiming::GroupTiming RtlAttentionTiming::measure(int keys, int slices) {
  GroupTiming t;
  t.first = run_sample(1, keys, slices);
  const uint64_t two = run_sample(2, keys, slices);
  t.interval = two > t.first ? two - t.first : 0;
  return t;
}

RtlAttentionTiming::GroupTiming RtlAttentionTiming::group_timing(uint64_t keys, uint64_t slices) {
  const auto it = m_cache.find({keys, slices});
  if (it != m_cache.end()) {
    ++m_stats.cache_hits;
    return it->second;
  }
  const int lmax = m_runner->params().lmax;
  GroupTiming t;
  if (keys <= static_cast<uint64_t>(lmax)) {
    t = measure(static_cast<int>(keys), static_cast<int>(slices));
  } else {
    // Linear in L from the measured cycles at LMAX and LMAX / 2 (one group each).
    const GroupTiming full = measure(lmax, static_cast<int>(slices));
    const uint64_t half = run_sample(1, lmax / 2, static_cast<int>(slices));
    const uint64_t span = static_cast<uint64_t>(lmax - lmax / 2);
    const uint64_t slope_num = full.first > half ? full.first - half : 0;  // per span keys
    const uint64_t extra = (keys - static_cast<uint64_t>(lmax)) * slope_num / span;
    t.first = full.first + extra;
    t.interval = full.interval + extra;
    ++m_stats.extrapolated;
  }
  ++m_stats.shapes_run;
  m_cache.emplace(std::make_pair(keys, slices), t);
  return t;
}

uint64_t RtlAttentionTiming::cycles(uint64_t rows, uint64_t keys, uint64_t d, uint64_t kv_heads) {
  if (rows == 0 || keys == 0 || d == 0 || kv_heads == 0) return 0;
  const uint64_t slices = (d + m_design.dot_width - 1) / m_design.dot_width;
  const uint64_t groups = (rows + m_design.parallel_rows - 1) / m_design.parallel_rows;
  const GroupTiming t = group_timing(keys, slices);
  return kv_heads * (t.first + (groups - 1) * t.interval);
}

}  // namespace moesim
