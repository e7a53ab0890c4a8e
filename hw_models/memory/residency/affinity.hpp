#pragma once
/// Inter-layer expert affinity, learned online (MoE-Infinity, ExpertFlow, Pre-gated MoE):
/// counts of tokens routed to expert e at MoE layer l and to e' at layer l + 1, used to
/// predict which experts layer l + 1 will need while layer l runs.

#include <cstdint>
#include <vector>

#include "workloads/trace/trace.hpp"

namespace moesim {

/// The affinity table and the predictor built on it. Memory: (layers - 1) x experts^2
/// counters of 4 bytes (DeepSeek-V3: 58 x 256^2 x 4 B = 15 MB).
class AffinityPredictor {
 public:
  AffinityPredictor(uint32_t moe_layers, uint32_t experts);

  /// Adds the (layer l, layer l + 1) expert pairs of every token of `step` to the table.
  void observe(const TraceStep& step, uint32_t moe_layer);
  /// Adds `count` transitions e -> e2 between MoE layers l and l + 1 (tests, count files).
  void add(uint32_t moe_layer, uint32_t e, uint32_t e2, uint32_t count);
  /// The experts predicted for layer l + 1 from the routing of `step` at layer l: each token
  /// spreads one unit over P(e' | e) for each of its layer-l experts e; the `n` experts with
  /// the highest score above zero, highest first (ties: lower id). Empty before any
  /// observation.
  void predict(const TraceStep& step, uint32_t moe_layer, uint32_t n, std::vector<uint32_t>& out);

 private:
  uint32_t& cell(uint32_t l, uint32_t e, uint32_t e2) {
    return m_counts[(static_cast<size_t>(l) * m_experts + e) * m_experts + e2];
  }
  uint32_t m_layers;
  uint32_t m_experts;
  std::vector<uint32_t> m_counts;  // [l][e][e2], l < layers - 1
  std::vector<uint64_t> m_row;     // [l][e]: sum over e2
  std::vector<double> m_score;
  std::vector<uint32_t> m_order;
};

}  // namespace moesim
