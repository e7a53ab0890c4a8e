#pragma once
/// impl = "rtl" for the vector unit's top-k (router gating) and softmax: the verilated blocks
/// run inside the full simulation on values derived from the step, their outputs are checked
/// against the trace (top-k) and the bit-exact reference (both), and their cycles against the
/// block's cycle contract. The vector unit's timing stays its SIMD cost model (the blocks are
/// checked functional units beside it, see rtl/README.md "Full-system co-simulation").
///
/// Top-k: every token of every MoE layer whose route has exactly top_k routed experts is run:
/// its N = experts Q8.8 router logits are derived from the trace's gate weights
/// (round(256 ln w) for the selected experts, made strictly decreasing in trace order, and
/// 1.0 below the smallest of them for every other expert), so the trace's selection is the
/// true top-k; the RTL's selected ids must equal the trace's. Tokens with another k or with
/// special experts are counted as skipped.
/// Softmax (sampled: RTL cycles cost far more wall time than the event-driven model spends on a
/// layer): in step s, the attention softmax op of layer s mod layers runs one score vector
/// per scores-GEMM shape, so over `layers` steps every layer is covered. A vector's length is
/// the keys of its shape, bounded by the block's L = 256 (longer vectors run their first 256
/// scores and are counted as truncated); random Q8.8 scores in [-8, 8) seeded by step, layer
/// and shape, padded to L with the most negative score (whose exp underflows to exactly 0).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/stats.hpp"
#include "sim/plan/plan.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim {

namespace rtl {
class TopkGateRunner;
class SoftmaxRunner;
}  // namespace rtl

/// Statistics of the top-k co-simulation.
struct RtlTopkStats : StatGroup {
  explicit RtlTopkStats(StatGroup* parent) : StatGroup("rtl_topk", parent) {}
  Counter tokens_checked{this, "tokens_checked", "tokens",
                         "router score vectors run through the verilated top-k gate"};
  Counter tokens_skipped{this, "tokens_skipped", "tokens",
                         "tokens whose route is not top_k routed experts (not run)"};
  Counter selection_mismatches{this, "selection_mismatches", "tokens",
                               "RTL selections that differ from the trace's experts"};
  Counter value_mismatches{this, "value_mismatches", "tokens",
                           "RTL outputs that differ from the bit-exact reference"};
  Counter contract_mismatches{this, "contract_mismatches", "tokens",
                              "RTL runs whose cycles differ from N + K - 1"};
  Counter cycles_simulated{this, "cycles_simulated", "cycles",
                           "clock cycles of the verilated top-k gate"};
};

/// Statistics of the softmax co-simulation.
struct RtlSoftmaxStats : StatGroup {
  explicit RtlSoftmaxStats(StatGroup* parent) : StatGroup("rtl_softmax", parent) {}
  Counter ops_checked{this, "ops_checked", "ops", "softmax ops sampled (layer = step mod layers)"};
  Counter ops_not_sampled{this, "ops_not_sampled", "ops", "softmax ops of the other layers"};
  Counter vectors_run{this, "vectors_run", "vectors",
                      "score vectors run through the verilated softmax block"};
  Counter vectors_truncated{this, "vectors_truncated", "vectors",
                            "vectors longer than the block's L (their first L scores ran)"};
  Counter value_mismatches{this, "value_mismatches", "vectors",
                           "RTL outputs that differ from the bit-exact reference"};
  Counter contract_mismatches{this, "contract_mismatches", "vectors",
                              "RTL runs whose cycles or score reads differ from 2L + 2, 2L"};
  Counter score_reads{this, "score_reads", "reads",
                      "score reads of the verilated block (stat_count)"};
  Counter cycles_simulated{this, "cycles_simulated", "cycles",
                           "clock cycles of the verilated softmax block"};
};

/// Runs the trace's routing through the verilated top-k gate.
class RtlTopkCheck {
 public:
  /// Throws InputError naming `key` when no --cc gate for experts/top_k is baked in.
  RtlTopkCheck(uint32_t experts, uint32_t top_k, const std::string& key, StatGroup* parent);
  ~RtlTopkCheck();
  /// Checks every token of MoE layer `moe_layer` of `step`.
  void check(const TraceStep& step, uint32_t moe_layer);

 private:
  uint32_t m_experts, m_top_k;
  std::unique_ptr<rtl::TopkGateRunner> m_runner;
  RtlTopkStats m_stats;
  std::vector<int16_t> m_scores;
  bool m_warned = false;
};

/// Runs attention score vectors through the verilated softmax block.
class RtlSoftmaxCheck {
 public:
  /// Throws InputError naming `key` when no --cc softmax block is baked in.
  RtlSoftmaxCheck(const std::string& key, StatGroup* parent);
  ~RtlSoftmaxCheck();
  /// Checks softmax op `op` of `plan` (its first dependency is the attention-scores GEMM).
  void check(const StepPlan& plan, const Op& op, uint64_t step_index);

 private:
  std::unique_ptr<rtl::SoftmaxRunner> m_runner;  ///< L = 256
  RtlSoftmaxStats m_stats;
  const StepPlan* m_counted_plan = nullptr;
  uint64_t m_counted_step = UINT64_MAX;
  uint32_t m_softmax_ops = 1;  ///< softmax ops (attention layers) in the current step
  bool m_warned = false;
};

}  // namespace moesim
