#include "hw_models/memory/residency/affinity.hpp"

#include <algorithm>

namespace moesim {

AffinityPredictor::AffinityPredictor(uint32_t moe_layers, uint32_t experts)
    : m_layers(moe_layers),
      m_experts(experts),
      m_counts(static_cast<size_t>(moe_layers > 0 ? moe_layers - 1 : 0) * experts * experts, 0),
      m_row(static_cast<size_t>(moe_layers) * experts, 0),
      m_score(experts, 0.0),
      m_order(experts) {}

void AffinityPredictor::add(uint32_t l, uint32_t e, uint32_t e2, uint32_t count) {
  if (l + 1 >= m_layers || e >= m_experts || e2 >= m_experts) return;
  cell(l, e, e2) += count;
  m_row[static_cast<size_t>(l) * m_experts + e] += count;
}

void AffinityPredictor::observe(const TraceStep& step, uint32_t l) {
  if (l + 1 >= m_layers) return;
  for (uint32_t t = 0; t < step.num_tokens(); ++t) {
    for (uint32_t r = step.route_begin(l, t); r < step.route_end(l, t); ++r) {
      const int32_t e = step.experts[r];
      if (e < 0) continue;
      for (uint32_t r2 = step.route_begin(l + 1, t); r2 < step.route_end(l + 1, t); ++r2) {
        const int32_t e2 = step.experts[r2];
        if (e2 >= 0) add(l, static_cast<uint32_t>(e), static_cast<uint32_t>(e2), 1);
      }
    }
  }
}

void AffinityPredictor::predict(const TraceStep& step, uint32_t l, uint32_t n,
                                std::vector<uint32_t>& out) {
  out.clear();
  if (l + 1 >= m_layers) return;
  std::fill(m_score.begin(), m_score.end(), 0.0);
  for (uint32_t t = 0; t < step.num_tokens(); ++t) {
    for (uint32_t r = step.route_begin(l, t); r < step.route_end(l, t); ++r) {
      const int32_t e = step.experts[r];
      if (e < 0) continue;
      const uint64_t row = m_row[static_cast<size_t>(l) * m_experts + static_cast<uint32_t>(e)];
      if (row == 0) continue;
      for (uint32_t e2 = 0; e2 < m_experts; ++e2) {
        const uint32_t c = cell(l, static_cast<uint32_t>(e), e2);
        if (c != 0) m_score[e2] += static_cast<double>(c) / static_cast<double>(row);
      }
    }
  }
  for (uint32_t e = 0; e < m_experts; ++e) m_order[e] = e;
  std::stable_sort(m_order.begin(), m_order.end(),
                   [&](uint32_t a, uint32_t b) { return m_score[a] > m_score[b]; });
  for (uint32_t i = 0; i < m_experts && out.size() < n; ++i) {
    if (m_score[m_order[i]] <= 0) break;
    out.push_back(m_order[i]);
  }
}

}  // namespace moesim
