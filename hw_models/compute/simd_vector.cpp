/// SIMD vector unit: `lanes` elements per cycle, a cost in lane-cycles per element for each
/// function, plus a fixed pipeline latency per op:
///   cycles = ceil(elements * cost[fn] / lanes) + pipeline_latency

#include <array>
#include <cmath>

#include "hw_models/compute/vector_unit.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"

#if MOESIM_WITH_RTL
#include "hw_models/compute/rtl_vector_check.hpp"
#endif

namespace moesim {
namespace {

class SimdVector final : public VectorUnit, public MemoryClient {
 public:
  SC_HAS_PROCESS(SimdVector);
  static void declare(ParamSchema& s) {
    s.add("lanes", ParamType::kInt, "elements processed per cycle").range(1, 1 << 20);
    s.add("pipeline_latency", ParamType::kInt, "cycles from first input to first output")
        .range(0, 100000)
        .default_value(int64_t{8});
    s.add("softmax_cost", ParamType::kFloat, "lane-cycles per score (exp, max, sum, scale)")
        .range(0, 1000)
        .default_value(4.0);
    s.add("activation_cost", ParamType::kFloat, "lane-cycles per element of SiLU/GELU x gate")
        .range(0, 1000)
        .default_value(2.0);
    s.add("norm_cost", ParamType::kFloat, "lane-cycles per element of RMSNorm / residual")
        .range(0, 1000)
        .default_value(2.0);
    s.add("topk_cost", ParamType::kFloat, "lane-cycles per router score for softmax + top-k")
        .range(0, 1000)
        .default_value(4.0);
    s.add("combine_cost", ParamType::kFloat,
          "lane-cycles per element of the gate-weighted sum of expert outputs")
        .range(0, 1000)
        .default_value(1.0);
    s.add("topk_impl", ParamType::kEnum,
          "router top-k: model (SIMD cost only) or rtl (also runs every token's router scores, "
          "derived from the trace's gate weights, through the verilated top-k gate and checks "
          "its selection; timing unchanged)")
        .one_of({"model", "rtl"})
        .default_value(std::string("model"));
    s.add("softmax_impl", ParamType::kEnum,
          "attention softmax: model (SIMD cost only) or rtl (also runs one score vector per "
          "attention shape through the verilated online-softmax block and checks it; timing "
          "unchanged)")
        .one_of({"model", "rtl"})
        .default_value(std::string("model"));
  }
  static Facts describe(const Params& p) {
    return {p.get_string("topk_impl") == "rtl", p.get_string("softmax_impl") == "rtl"};
  }
  explicit SimdVector(const Unit::Args& a)
      : VectorUnit(a.name, 1, a.clock_hz, a.stats_parent),
        m_lanes(static_cast<uint64_t>(a.params.get_int("lanes"))),
        m_latency(static_cast<uint64_t>(a.params.get_int("pipeline_latency"))),
        m_cost{a.params.get_float("softmax_cost"), a.params.get_float("activation_cost"),
               a.params.get_float("norm_cost"), a.params.get_float("topk_cost"),
               a.params.get_float("combine_cost")},
        m_busy_cycles(m_unit_stats.get(), "busy_cycles", "cycles", "cycles computing"),
        m_elements(m_unit_stats.get(), "elements", "elements", "elements processed") {
    static_assert(kNumVecFns == 5, "one cost per VecFn");
    const Facts facts = describe(a.params);
    m_topk_rtl = facts.topk_rtl;
    m_softmax_rtl = facts.softmax_rtl;
    m_path = a.params.path();
#if MOESIM_WITH_RTL
    if (m_softmax_rtl)
      m_softmax = std::make_unique<RtlSoftmaxCheck>(m_path + ".softmax_impl", m_unit_stats.get());
#else
    if (m_topk_rtl || m_softmax_rtl)
      throw InputError(m_path + (m_topk_rtl ? ".topk_impl" : ".softmax_impl") +
                       ": \"rtl\" needs a build with RTL");
#endif
    SC_METHOD(on_timer);
    sensitive << m_timer;
    dont_initialize();
  }

  uint64_t op_cycles(const Op& op) const override {
    return op_cycles_on(op, m_lanes);
  }
  uint64_t parallel_parts() const override {
    return m_lanes;
  }
  uint64_t op_cycles_on(const Op& op, uint64_t lanes) const override {
    const double lane_cycles = static_cast<double>(op.elements) * m_cost[static_cast<int>(op.vfn)];
    return static_cast<uint64_t>(std::ceil(lane_cycles / static_cast<double>(lanes))) + m_latency;
  }
  void account_stage(const Op& op, uint64_t cycles) override {
    m_busy_cycles += cycles;
    m_elements += op.elements;
  }
  uint64_t elements_done() const override {
    return m_elements.get();
  }

 protected:
  void start(uint32_t op_index) override {
    const Op& op = m_plan->ops[op_index];
    const uint64_t cycles = op_cycles(op);
    m_busy_cycles += cycles;
    m_elements += op.elements;
#if MOESIM_WITH_RTL
    if (m_topk_rtl && op.vfn == VecFn::kTopK) check_topk(op_index);
    if (m_softmax && op.vfn == VecFn::kSoftmax)
      m_softmax->check(*m_plan, op, m_plan->step ? m_plan->step->index : 0);
#endif
    m_join.begin(op_index, op.bytes > 0 ? 2 : 1);
    if (op.bytes > 0) m_mem.sram->transfer(op.bytes, false, this, 0);
    m_timer.notify(cycles_to_time(cycles));
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

#if MOESIM_WITH_RTL
  /// Runs the router scores of top-k op `op_index` (MoE layer = its rank among the step's
  /// top-k ops) through the verilated gate.
  void check_topk(uint32_t op_index) {
    if (!m_plan->step) return;
    if (!m_topk)
      m_topk = std::make_unique<RtlTopkCheck>(m_plan->experts, m_plan->top_k, m_path + ".topk_impl",
                                              m_unit_stats.get());
    uint32_t moe_layer = 0;
    for (uint32_t i = 0; i < op_index; ++i) {
      const Op& o = m_plan->ops[i];
      if (o.kind == OpKind::kVector && o.vfn == VecFn::kTopK) ++moe_layer;
    }
    m_topk->check(*m_plan->step, moe_layer);
  }
  std::unique_ptr<RtlTopkCheck> m_topk;
  std::unique_ptr<RtlSoftmaxCheck> m_softmax;
#endif
  bool m_topk_rtl = false;
  bool m_softmax_rtl = false;
  std::string m_path;
  uint64_t m_lanes;
  uint64_t m_latency;
  std::array<double, kNumVecFns> m_cost;
  Counter m_busy_cycles;
  Counter m_elements;
  JoinTracker m_join;
  sc_core::sc_event m_timer;
};

MOESIM_REGISTER(VectorUnit, SimdVector, "simd",
                "SIMD lanes with a per-element cost for softmax, activation, norm, top-k and "
                "combine");

}  // namespace
}  // namespace moesim
