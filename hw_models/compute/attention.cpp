/// The attention unit, registered twice: `reordered` (Edge-MoE's attention reordering: K and
/// V stream from memory once, shared by all groups of P query rows) and `naive` (K and V
/// stream again for every group of P rows). Both fuse scores, softmax and A*V; `softmax`
/// chooses the single-pass (online) or three-pass softmax inside (attention_timing.hpp).

#include "hw_models/compute/attention_unit.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"

#if MOESIM_WITH_RTL
#include "hw_models/compute/attention_rtl_timing.hpp"
#endif

namespace moesim {
namespace {

/// Statistics of the attention unit (beside the unit's own ops, busy_time, ...).
struct AttentionStats {
  explicit AttentionStats(StatGroup* g)
      : busy_cycles(g, "busy_cycles", "cycles", "cycles computing"),
        groups(g, "groups", "groups", "groups of P query rows computed (all heads)"),
        score_reads(g, "score_reads", "reads", "softmax score-buffer reads"),
        q_read_bytes(g, "q_read_bytes", "B", "Q bytes read from the memory tier"),
        kv_read_bytes(g, "kv_read_bytes", "B", "K and V bytes read from the memory tier"),
        flops(g, "flops", "flop", "scores and A*V flops (2 per MAC)") {}
  Counter busy_cycles, groups, score_reads, q_read_bytes, kv_read_bytes, flops;
};

template <bool kReorder>
class Attention final : public AttentionUnit, public MemoryClient {
 public:
  SC_HAS_PROCESS(Attention);
  static void declare(ParamSchema& s) {
    s.add("parallel_rows", ParamType::kInt, "P: query rows computed in parallel").range(1, 4096);
    s.add("dot_width", ParamType::kInt,
          "W: MACs per row engine per cycle (ceil(head_dim / W) cycles per key and pass)")
        .range(1, 4096);
    s.add("softmax", ParamType::kEnum,
          "online: single pass (running max and sum, rescale in the A*V pass; rtl/softmax "
          "online: 2L + 2 cycles, 2L score reads); three_pass: max, sum, normalise (3L + 2, 3L)")
        .one_of({"online", "three_pass"})
        .default_value(std::string("online"));
    s.add("impl", ParamType::kEnum,
          "model: cycles from the contract; rtl: group cycles measured on the verilated "
          "rtl/attention block (parallel_rows = 4, online softmax, ceil(head_dim / dot_width) "
          "<= 4; rtl/README.md)")
        .one_of({"model", "rtl"})
        .default_value(std::string("model"));
  }
  static Facts describe(const Params& p) {
    return {p.get_string("impl") == "rtl", p.get_string("softmax") == "online",
            static_cast<int>(p.get_int("parallel_rows")), static_cast<int>(p.get_int("dot_width"))};
  }
  explicit Attention(const Unit::Args& a)
      : AttentionUnit(a.name, 1, a.clock_hz, a.stats_parent), m_stats(m_unit_stats.get()) {
    m_design.parallel_rows = static_cast<uint64_t>(a.params.get_int("parallel_rows"));
    m_design.dot_width = static_cast<uint64_t>(a.params.get_int("dot_width"));
    m_design.reorder = kReorder;
    m_design.online_softmax = a.params.get_string("softmax") == "online";
    if (a.params.get_string("impl") == "rtl") {
#if MOESIM_WITH_RTL
      m_rtl = std::make_unique<RtlAttentionTiming>(m_design, a.params.path() + ".impl",
                                                   m_unit_stats.get());
#else
      throw InputError(a.params.path() + ".impl: \"rtl\" needs a build with RTL");
#endif
    }
    SC_METHOD(on_timer);
    sensitive << m_timer;
    dont_initialize();
  }

  uint64_t flops_done() const override {
    return m_stats.flops.get();
  }
  AttentionCost op_cost(const StepPlan& plan, const Op& op) const override {
    AttentionCost sum;
    for (uint32_t i = 0; i < op.gemm_count; ++i) {
      const GemmShape& g = plan.gemms[op.gemm_begin + i];
      // GemmShape of a kAttention op: m = query rows per KV head, k = head_dim, n = keys,
      // repeat = KV heads.
      const AttentionCost c = attention_cost(m_design, g.m, g.n, g.k, g.repeat, plan.act_bytes);
#if MOESIM_WITH_RTL
      // impl = "rtl": the verilated block's measured cycles (the traffic stays the contract's,
      // for the real head dim and element size; the block's read counts are checked).
      sum.cycles += m_rtl ? m_rtl->cycles(g.m, g.n, g.k, g.repeat) : c.cycles;
#else
      sum.cycles += c.cycles;
#endif
      sum.groups += c.groups;
      sum.score_reads += c.score_reads;
      sum.q_bytes += c.q_bytes;
      sum.kv_bytes += c.kv_bytes;
      sum.flops += c.flops;
    }
    return sum;
  }

 protected:
  void start(uint32_t op_index) override {
    const Op& op = m_plan->ops[op_index];
    const AttentionCost c = op_cost(*m_plan, op);
    m_stats.busy_cycles += c.cycles;
    m_stats.groups += c.groups;
    m_stats.score_reads += c.score_reads;
    m_stats.q_read_bytes += c.q_bytes;
    m_stats.kv_read_bytes += c.kv_bytes;
    m_stats.flops += c.flops;
    // Q, K and V stream from the tier while the engines compute; the op ends when both are
    // done (a bandwidth-bound attention waits for its bytes).
    const uint64_t bytes = c.q_bytes + c.kv_bytes;
    m_join.begin(op_index, bytes > 0 ? 2 : 1);
    if (bytes > 0) m_mem.kv_cache->transfer(bytes, false, this, 0);
    m_timer.notify(cycles_to_time(c.cycles));
  }

 private:
  void on_timer() {
    part_done();
  }
  void transfer_done(uint64_t) override {
    part_done();
  }
  void part_done() {
    if (m_join.part_done()) complete(m_join.op());
  }

  AttentionDesign m_design;
  AttentionStats m_stats;
#if MOESIM_WITH_RTL
  mutable std::unique_ptr<RtlAttentionTiming> m_rtl;  ///< impl = "rtl" (caches measurements)
#endif
  JoinTracker m_join;
  sc_core::sc_event m_timer;
};

using ReorderedAttention = Attention<true>;
using NaiveAttention = Attention<false>;

MOESIM_REGISTER(AttentionUnit, ReorderedAttention, "reordered",
                "Edge-MoE attention reordering: P query rows in parallel, K and V streamed once "
                "(traffic independent of P); group = 2 L ceil(d/W) + 2 (online softmax) or + L "
                "(three-pass)");
MOESIM_REGISTER(AttentionUnit, NaiveAttention, "naive",
                "P query rows in parallel, K and V streamed again for every group of P rows; "
                "same cycles as reordered");

}  // namespace
}  // namespace moesim
