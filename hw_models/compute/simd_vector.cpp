/// SIMD vector unit: `lanes` elements per cycle, a cost in lane-cycles per element for each
/// function, plus a fixed pipeline latency per op:
///   cycles = ceil(elements * cost[fn] / lanes) + pipeline_latency

#include <array>
#include <cmath>

#include "hw_models/compute/vector_unit.hpp"
#include "sim/core/registry.hpp"

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
    SC_METHOD(on_timer);
    sensitive << m_timer;
    dont_initialize();
  }

  uint64_t op_cycles(const Op& op) const override {
    const double lane_cycles = static_cast<double>(op.elements) * m_cost[static_cast<int>(op.vfn)];
    return static_cast<uint64_t>(std::ceil(lane_cycles / static_cast<double>(m_lanes))) + m_latency;
  }

 protected:
  void start(uint32_t op_index) override {
    const Op& op = m_plan->ops[op_index];
    const uint64_t cycles = op_cycles(op);
    m_busy_cycles += cycles;
    m_elements += op.elements;
    m_join.begin(op_index, op.bytes > 0 ? 2 : 1);
    if (op.bytes > 0) m_mem.sram->transfer(op.bytes, false, this, 0);
    m_timer.notify(cycles_to_time(cycles));
  }

 private:
  void on_timer() { part_done(); }
  void transfer_done(uint64_t) override { part_done(); }
  void part_done() {
    if (m_join.part_done()) complete(m_join.op());
  }

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
