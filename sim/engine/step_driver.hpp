#pragma once
/// The step driver: reads the trace once per step, has the system planner plan every chip,
/// starts every chip's sequencer, and ends the step when all chips are done. Steps run one
/// after another (a step's routing is only known once the previous forward pass is done).

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <systemc>

#include "sim/core/stats.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/engine/system.hpp"
#include "sim/plan/system_plan.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim {

/// Run-wide counters of the workload that was executed (summed over the chips).
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

/// One task's share of the workload (`workload.task<t>.*`), kept only for multi-task traces
/// (metadata tasks > 1), so single-task runs report exactly what they did before.
struct TaskStats : StatGroup {
  TaskStats(const std::string& name, StatGroup* parent) : StatGroup(name, parent) {}
  Counter requests{this, "requests", "requests", "distinct requests of this task"};
  Counter tokens{this, "tokens", "tokens", "tokens of this task's requests (all steps)"};
  Counter assignments{this, "assignments", "assignments",
                      "token-expert assignments of this task's tokens"};
  Counter experts_used{this, "experts_used", "experts",
                       "distinct (MoE layer, routed expert) pairs this task's tokens went to"};
};

/// Told of every step as it starts and ends (the timeline of `moesim run --timeline`).
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  /// Step `n` (0-based, in run order) is planned and its chips are about to start.
  virtual void step_begin(uint64_t n) = 0;
  /// Step `n` has ended (every chip is done; every unit, memory and link is idle).
  virtual void step_end(uint64_t n) = 0;
};

class StepDriver : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(StepDriver);
  /// Called after each step with the steps done so far.
  using Progress = std::function<void(uint64_t steps_done)>;

  StepDriver(const sc_core::sc_module_name& name, System& system, TraceReader& trace,
             SystemPlanner& planner, uint64_t max_steps, Progress progress, KvBudget kv);

  /// Chip `chip` has finished its plan of the current step.
  void chip_done(ChipId chip);
  const WorkloadStats& stats() const { return m_stats; }
  /// Routed token copies per (MoE layer, expert) over the run: [layer * experts + expert].
  const std::vector<uint64_t>& expert_load() const { return m_expert_load; }
  /// Routed experts per MoE layer (the row length of expert_load()).
  uint32_t experts() const { return m_experts; }
  /// Steps start and end reported to `o` (null: none; not owned).
  void set_observer(StepObserver* o) { m_observer = o; }
  /// An error raised while streaming the trace, if any (rethrown after sc_start returns).
  std::exception_ptr error() const { return m_error; }
  /// True once the trace (or max_steps) is exhausted and every step has finished.
  bool finished() const { return m_finished; }
  /// The step in progress and its unfinished work (for the watchdog); empty when none.
  std::string describe_pending() const;
  ~StepDriver() override;

 private:
  void begin();
  void start_next_step();
  bool plan_next_step();
  /// The KV cache the step's requests hold (position + 1 tokens each) fits on every chip.
  void check_kv(const TraceStep& step);
  /// Adds the step's routed copies to expert_load().
  void count_expert_load(const TraceStep& step);
  /// Multi-task traces: adds the step's tokens to their task's TaskStats.
  void count_tasks(const TraceStep& step);
  /// Every chip is done with the current step: step statistics, then the next step.
  void finish_step();

  System& m_system;
  TraceReader& m_trace;
  SystemPlanner& m_planner;
  uint64_t m_max_steps;
  Progress m_progress;
  TraceStep m_step;
  std::vector<CollectiveRequest> m_collectives;
  uint32_t m_chips_left = 0;
  bool m_starting = false;  // inside the loop that starts the sequencers
  bool m_in_step = false;   // a step has been started and has not finished
  bool m_finished = false;
  sc_core::sc_time m_step_start;
  WorkloadStats m_stats;
  std::exception_ptr m_error;
  KvBudget m_kv;
  std::unordered_map<uint32_t, uint32_t> m_kv_tokens;  ///< request -> tokens, this step
  std::vector<uint64_t> m_kv_group_tokens;             ///< per data-parallel group
  std::vector<uint64_t> m_expert_load;
  uint32_t m_experts = 0;
  std::vector<std::unique_ptr<TaskStats>> m_task_stats;  ///< multi-task traces only
  std::vector<std::vector<bool>> m_task_used;    ///< per task: [layer * experts + expert] seen
  std::unordered_set<uint32_t> m_task_requests;  ///< requests counted in m_task_stats
  StepObserver* m_observer = nullptr;
};

}  // namespace moesim
