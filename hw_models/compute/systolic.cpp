/// Systolic-array compute unit: `arrays` identical R x C arrays, weight-, output- or
/// input-stationary.
/// Timing comes from systolic_timing.hpp (the cycle contract checked against the RTL tile).

#include <cmath>

#include "hw_models/compute/compute_unit.hpp"
#include "hw_models/compute/systolic_timing.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"

#if MOESIM_WITH_RTL
#include "hw_models/compute/rtl_tile_timing.hpp"
#endif

namespace moesim {

ComputeStats::ComputeStats(const std::string& name, StatGroup* parent, double peak_flops_per_s)
    : StatGroup(name, parent),
      mac_utilisation(this, "mac_utilisation", "1", "flops / (peak flops * simulated time)",
                      [this] {
                        const double t = sc_core::sc_time_stamp().to_seconds();
                        return t > 0 ? static_cast<double>(flops.get()) / (peak * t) : 0.0;
                      }),
      peak_flops(this, "peak_flops", "flop/s", "peak floating-point operations per second",
                 [this] { return peak; }),
      peak(peak_flops_per_s) {
  for (int c = 0; c < kNumOpClasses; ++c) {
    class_cycles[c] = std::make_unique<Counter>(
        this, std::string("busy_cycles_") + op_class_name(static_cast<OpClass>(c)), "cycles",
        std::string("cycles computing ") + op_class_name(static_cast<OpClass>(c)) + " ops");
  }
}

namespace {

class Systolic final : public ComputeUnit, public MemoryClient {
 public:
  SC_HAS_PROCESS(Systolic);
  static void declare(ParamSchema& s) {
    s.add("rows", ParamType::kInt, "rows R of one array (the K dimension in WS)").range(1, 4096);
    s.add("cols", ParamType::kInt, "columns C of one array (the N dimension)").range(1, 4096);
    s.add("arrays", ParamType::kInt, "identical arrays working in parallel").range(1, 1 << 20);
    s.add("dataflow", ParamType::kEnum, "which operand stays in the PEs")
        .one_of({"weight_stationary", "output_stationary", "input_stationary"});
    s.add("impl", ParamType::kEnum,
          "model: GEMM cycles from the contract formula; rtl: fold cycles measured on the "
          "verilated tile (weight_stationary, baked shapes 4x4 and 16x16), outputs checked")
        .one_of({"model", "rtl"})
        .default_value(std::string("model"));
    s.add("ping_pong", ParamType::kBool,
          "double-buffered (ping-pong) weights, weight_stationary only: the next fold's weights "
          "load while the current fold computes; GEMM = (2R + C + M - 2) + (folds - 1) * "
          "max(M, R) instead of folds * (2R + C + M - 2)")
        .default_value(false);
    s.add("os_drain", ParamType::kEnum,
          "output_stationary only: exposed: the R cycles that shift a fold's results out add "
          "to each fold, 2R + C + K - 2; overlapped: they hide under the next fold, R + C + K - "
          "2 (SCALE-Sim's count)")
        .one_of({"exposed", "overlapped"})
        .default_value(std::string("exposed"));
  }
  static Facts describe(const Params& p) {
    if (p.get_string("os_drain") == "overlapped" && p.get_string("dataflow") != "output_stationary")
      throw ParamError(p.path() + ".os_drain",
                       "\"overlapped\" needs dataflow = \"output_stationary\" (only an "
                       "output-stationary array drains its results)");
    return {p.get_string("impl") == "rtl", p.get_string("dataflow") == "weight_stationary",
            static_cast<int>(p.get_int("rows")), static_cast<int>(p.get_int("cols")),
            p.get_bool("ping_pong")};
  }
  explicit Systolic(const Unit::Args& a) : Systolic(a, describe(a.params)) {}
  Systolic(const Unit::Args& a, const Facts& f)
      : ComputeUnit(a.name, 1, a.clock_hz, a.stats_parent),
        m_rows(static_cast<uint64_t>(f.rows)),
        m_cols(static_cast<uint64_t>(f.cols)),
        m_arrays(static_cast<uint64_t>(a.params.get_int("arrays"))),
        m_df(dataflow_of(a.params.get_string("dataflow"))),
        m_os_drain(a.params.get_string("os_drain") == "overlapped" ? OsDrain::kOverlapped
                                                                   : OsDrain::kExposed),
        m_ping_pong(f.ping_pong),
        m_stats(std::make_unique<ComputeStats>("array", m_unit_stats.get(), peak_flops())) {
    if (f.rtl) {
#if MOESIM_WITH_RTL
      m_rtl = std::make_unique<RtlTileTiming>(m_rows, m_cols, m_ping_pong,
                                              a.params.path() + ".impl", m_stats.get());
#else
      throw InputError(a.params.path() + ".impl: \"rtl\" needs a build with RTL");
#endif
    }
    SC_METHOD(on_timer);
    sensitive << m_timer;
    dont_initialize();
  }

  uint64_t op_cycles(const StepPlan& plan, const Op& op) const override {
    return op_cycles_on(plan, op, m_arrays);
  }
  uint64_t parallel_parts() const override {
    return m_arrays;
  }
  uint64_t op_cycles_on(const StepPlan& plan, const Op& op, uint64_t arrays) const override {
    uint64_t cycles = 0;
    for (uint32_t i = 0; i < op.gemm_count; ++i) {
      const GemmShape& g = plan.gemms[op.gemm_begin + i];
      cycles += m_ping_pong ? systolic_gemm_cycles_parallel_pingpong(m_rows, m_cols, arrays, g.m,
                                                                     g.k, g.n, g.repeat)
                            : systolic_gemm_cycles_parallel(m_df, m_rows, m_cols, arrays, g.m, g.k,
                                                            g.n, g.repeat, m_os_drain);
    }
    return cycles;
  }
  void account_stage(const Op& op, uint64_t cycles) override {
    m_stats->flops += op.flops;
    m_stats->gemms += op.gemm_count;
    m_stats->busy_cycles += cycles;
    *m_stats->class_cycles[static_cast<int>(op.cls)] += cycles;
  }
  double peak_flops() const override {
    return 2.0 * static_cast<double>(m_rows * m_cols * m_arrays) * m_clock_hz;
  }
  uint64_t flops_done() const override {
    return m_stats->flops.get();
  }

 protected:
  void start(uint32_t op_index) override {
    const Op& op = m_plan->ops[op_index];
    const uint64_t cycles = m_rtl ? rtl_op_cycles(op) : op_cycles(*m_plan, op);
    m_stats->flops += op.flops;
    m_stats->gemms += op.gemm_count;
    m_stats->busy_cycles += cycles;
    *m_stats->class_cycles[static_cast<int>(op.cls)] += cycles;
    // Operands stream from SRAM while the array computes; the op ends when both are done.
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

  /// op_cycles() with the fold cycles of the verilated tile (impl = "rtl").
  uint64_t rtl_op_cycles(const Op& op) {
    uint64_t cycles = 0;
#if MOESIM_WITH_RTL
    for (uint32_t i = 0; i < op.gemm_count; ++i) {
      const GemmShape& g = m_plan->gemms[op.gemm_begin + i];
      cycles += m_rtl->gemm_cycles(m_arrays, g.m, g.k, g.n, g.repeat);
    }
#else
    (void)op;
#endif
    return cycles;
  }

  static Dataflow dataflow_of(const std::string& name) {
    if (name == "weight_stationary") return Dataflow::kWeightStationary;
    if (name == "input_stationary") return Dataflow::kInputStationary;
    return Dataflow::kOutputStationary;
  }

  uint64_t m_rows;
  uint64_t m_cols;
  uint64_t m_arrays;
  Dataflow m_df;
  OsDrain m_os_drain;
  bool m_ping_pong;
  std::unique_ptr<ComputeStats> m_stats;
#if MOESIM_WITH_RTL
  std::unique_ptr<RtlTileTiming> m_rtl;
#else
  std::unique_ptr<int> m_rtl;  // never set: a build without RTL rejects impl = "rtl"
#endif
  JoinTracker m_join;
  sc_core::sc_event m_timer;
};

MOESIM_REGISTER(ComputeUnit, Systolic, "systolic",
                "arrays of R x C systolic MACs; GEMM cycles per fold 2R + C + M - 2 (WS), "
                "2R + C + K - 2 (OS; R + C + K - 2 with os_drain = overlapped) or 2R + C + N - "
                "2 (IS), folds dealt out to the arrays; ping_pong (WS): folds overlap, (2R + C "
                "+ M - 2) + (folds - 1) max(M, R)");

}  // namespace
}  // namespace moesim
