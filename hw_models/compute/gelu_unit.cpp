/// Activation units for GELU FFNs: `gelu_lut` (Edge-MoE: ReLU minus a linearly interpolated
/// 177-entry correction table, gelu.hpp) and `gelu_exact` (x Phi(x) from an erf pipeline with
/// its own interval and latency). cycles = ceil(elements / lanes) * interval + latency.

#include "hw_models/compute/attention_unit.hpp"
#include "hw_models/compute/gelu.hpp"
#include "sim/core/registry.hpp"

namespace moesim {
namespace {

template <bool kLut>
class GeluUnit final : public ActivationUnit, public MemoryClient {
 public:
  SC_HAS_PROCESS(GeluUnit);
  static void declare(ParamSchema& s) {
    s.add("lanes", ParamType::kInt, "elements accepted per interval").range(1, 1 << 20);
    if (kLut) {
      s.add("latency", ParamType::kInt,
            "cycles from an element's input to its output: |x| and table index, table read, "
            "interpolation multiply-add, subtraction from ReLU(x)")
          .range(0, 100000)
          .default_value(int64_t{4});
      s.add("entry_bytes", ParamType::kInt, "bytes per table entry (table: 177 entries per lane)")
          .range(1, 8)
          .default_value(int64_t{4});
    } else {
      s.add("interval", ParamType::kInt, "cycles between elements of one lane (1: pipelined)")
          .range(1, 100000)
          .default_value(int64_t{1});
      s.add("latency", ParamType::kInt,
            "cycles from an element's input to its output (erf "
            "pipeline)")
          .range(0, 100000);
    }
  }
  explicit GeluUnit(const Unit::Args& a)
      : ActivationUnit(a.name, 1, a.clock_hz, a.stats_parent),
        m_lanes(static_cast<uint64_t>(a.params.get_int("lanes"))),
        m_interval(kLut ? 1 : static_cast<uint64_t>(a.params.get_int("interval"))),
        m_latency(static_cast<uint64_t>(a.params.get_int("latency"))),
        m_busy_cycles(m_unit_stats.get(), "busy_cycles", "cycles", "cycles computing"),
        m_elements(m_unit_stats.get(), "elements", "elements", "elements processed"),
        m_table_bytes(m_unit_stats.get(), "table_bytes", "B",
                      "correction-table storage (177 entries per lane; 0 for the exact unit)") {
    if (kLut)
      m_table_bytes +=
          m_lanes * kGeluTableEntries * static_cast<uint64_t>(a.params.get_int("entry_bytes"));
    SC_METHOD(on_timer);
    sensitive << m_timer;
    dont_initialize();
  }
  uint64_t op_cycles(const Op& op) const override {
    return activation_cycles(op.elements, m_lanes, m_interval, m_latency);
  }
  uint64_t elements_done() const override { return m_elements.get(); }

 protected:
  void start(uint32_t op_index) override {
    const Op& op = m_plan->ops[op_index];
    const uint64_t cycles = op_cycles(op);
    m_busy_cycles += cycles;
    m_elements += op.elements;
    // Operands stream from SRAM while the pipelines compute, as on the vector unit.
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
  uint64_t m_lanes, m_interval, m_latency;
  Counter m_busy_cycles;
  Counter m_elements;
  Counter m_table_bytes;
  JoinTracker m_join;
  sc_core::sc_event m_timer;
};

using GeluLut = GeluUnit<true>;
using GeluExact = GeluUnit<false>;

MOESIM_REGISTER(ActivationUnit, GeluLut, "gelu_lut",
                "Edge-MoE GELU: ReLU(x) minus a linearly interpolated 177-entry correction table "
                "(step 1/32); ceil(E / lanes) + latency cycles");
MOESIM_REGISTER(ActivationUnit, GeluExact, "gelu_exact",
                "exact GELU x Phi(x) from an erf pipeline; ceil(E / lanes) * interval + latency "
                "cycles");

}  // namespace
}  // namespace moesim
