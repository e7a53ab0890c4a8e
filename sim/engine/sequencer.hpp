#pragma once
/// The chip's sequencer: streams steps from the trace, plans each, and issues ops to the
/// units as their dependencies complete. Steps run one after another (a step's routing is
/// only known once the previous forward pass is done).

#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include <systemc>

#include "hw_models/chip/chip.hpp"
#include "hw_models/memory/residency/residency.hpp"
#include "sim/core/stats.hpp"
#include "sim/plan/plan.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim {

/// Run-wide counters of the workload that was executed.
struct WorkloadStats : StatGroup {
  explicit WorkloadStats(StatGroup* parent) : StatGroup("workload", parent) {}
  Counter steps{this, "steps", "steps", "forward passes simulated"};
  Counter tokens{this, "tokens", "tokens", "tokens processed (all steps)"};
  Counter assignments{this, "assignments", "assignments", "token-expert assignments in the trace"};
  Counter experts_run{this, "experts_run", "experts", "(step, layer, expert) runs with tokens"};
  Counter ops{this, "ops", "ops", "planned ops executed"};
  Counter flops{this, "flops", "flop", "planned GEMM flops"};
  Counter weight_bytes{this, "weight_bytes", "B", "weight bytes streamed from the weight tier"};
  Counter kv_read_bytes{this, "kv_read_bytes", "B", "KV-cache bytes read"};
  Counter kv_write_bytes{this, "kv_write_bytes", "B", "KV-cache bytes written"};
  Scalar max_step_time{this, "max_step_time", "s", "longest step"};
  Scalar min_step_time{this, "min_step_time", "s", "shortest step"};
};

/// Issues planned ops to a chip's units.
class Sequencer : public sc_core::sc_module, public OpSink {
 public:
  SC_HAS_PROCESS(Sequencer);
  /// Called after each step with the steps done so far.
  using Progress = std::function<void(uint64_t steps_done)>;

  Sequencer(const sc_core::sc_module_name& name, Chip& chip, TraceReader& trace,
            const Planner& planner, uint64_t max_steps, StatGroup* stats_parent, Progress progress,
            TierStats* tier_stats = nullptr, uint8_t weights_tier = 0, uint8_t kv_tier = 0);

  void op_done(uint32_t op) override;
  bool waited_on_load(uint32_t op) const override { return m_last_dep_load[op] != 0; }
  void unit_idle(uint32_t op, double idle_s) override;
  const WorkloadStats& stats() const { return m_stats; }
  /// An error raised while streaming the trace, if any (rethrown after sc_start returns).
  std::exception_ptr error() const { return m_error; }

 private:
  void begin();
  bool start_next_step();
  bool plan_next_step();
  void issue(uint32_t op);

  Chip& m_chip;
  TraceReader& m_trace;
  Planner m_planner;
  uint64_t m_max_steps;
  Progress m_progress;
  TraceStep m_step;
  StepPlan m_plan;
  std::vector<uint32_t> m_remaining;   // unfinished deps per op
  std::vector<uint32_t> m_dependents;  // CSR of dependents
  std::vector<uint32_t> m_dep_offsets;
  std::vector<uint8_t> m_last_dep_load;
  std::vector<sc_core::sc_time> m_copy_ready;  // when each kCopy op was issued
  uint32_t m_ops_left = 0;
  sc_core::sc_time m_step_start;
  WorkloadStats m_stats;
  TierStats* m_tier_stats;
  uint8_t m_weights_tier;  // tier index of MemRole::kWeights ops without their own tier
  uint8_t m_kv_tier;
  std::exception_ptr m_error;
};

}  // namespace moesim
