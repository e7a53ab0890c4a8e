#pragma once
/// A chip's sequencer: executes one StepPlan at a time, issuing each op to its unit as its
/// dependencies complete, and reports when the plan is done. It only executes: the step
/// driver reads the trace and the system planner makes the plans.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "hw_models/chip/chip.hpp"
#include "hw_models/interconnect/topology.hpp"
#include "hw_models/memory/residency/residency.hpp"
#include "sim/plan/kernels.hpp"
#include "sim/plan/plan.hpp"

namespace moesim {

/// Statistics of a chip's kernels (`chipN.kernels.*`, with [mapping.fusion] only).
struct KernelStats : StatGroup {
  explicit KernelStats(StatGroup* parent);
  Counter kernels{this, "kernels", "kernels", "kernels launched (each one launch)"};
  Counter fused{this, "fused_kernels", "kernels",
                "kernels of a fusion group, run as a spatial pipeline of their ops"};
  Counter collective{this, "collective_kernels", "kernels", "kernels that are one collective"};
  Scalar launch_s{this, "launch_time", "s", "launch latency paid, summed over kernels"};
  Scalar kernel_s{this, "kernel_time", "s", "time from launch to the last op, summed"};
  Scalar pipeline_s{this, "pipeline_time", "s",
                    "fused kernels: the pipeline formula's time (slowest stage + fill and drain)"};
  Scalar slowest_s{this, "slowest_stage_time", "s",
                   "fused kernels: tiles x the slowest stage's time per tile, summed"};
  Scalar fill_drain_s{this, "fill_drain_time", "s",
                      "fused kernels: pipeline_time less slowest_stage_time, summed"};
  Counter stages{this, "stages", "stages", "fused kernels: pipeline stages (GEMM and vector ops)"};
  Counter memory_bound{this, "memory_bound_kernels", "kernels",
                       "fused kernels whose loads ended after their pipeline"};
  Counter spills{this, "spills", "intermediates",
                 "intermediates between kernels larger than the SRAM budget, spilled"};
  Counter spill_store_bytes{this, "spill_store_bytes", "B", "spilled intermediates written"};
  Counter spill_load_bytes{this, "spill_load_bytes", "B", "spilled intermediates read back"};
  Formula stage_utilisation;
  std::array<std::unique_ptr<Counter>, kNumSegments> seg_kernels;
  std::array<std::unique_ptr<Scalar>, kNumSegments> seg_time;
  double stage_busy_s = 0;   ///< sum over stages of their busy time
  double stage_avail_s = 0;  ///< sum over fused kernels of stages x pipeline time
};

/// Issues planned ops to a chip's units.
class Sequencer : public sc_core::sc_module, public OpSink {
 public:
  /// Called when every op of the plan has completed.
  using Done = std::function<void(ChipId chip)>;

  Sequencer(const sc_core::sc_module_name& name, Chip& chip, ChipId id, Done done,
            TierStats* tier_stats = nullptr, uint8_t weights_tier = 0, uint8_t kv_tier = 0);

  /// The unit that runs kComm ops (several chips only; binds it to this plan).
  void set_comm(Unit* comm);
  /// Runs plans as kernels (sim/plan/kernels.hpp): one at a time, each after its launch
  /// latency; a fused kernel as a spatial pipeline. Without this, ops issue one by one.
  void set_fusion(const FusionSpec& spec);
  /// The plan this sequencer executes (filled by the planner before execute()).
  StepPlan& plan() { return m_plan; }
  /// Starts executing plan(); calls Done once all its ops have completed (at once for an
  /// empty plan).
  void execute();

  void op_done(uint32_t op) override;
  SC_HAS_PROCESS(Sequencer);
  bool waited_on_load(uint32_t op) const override { return m_last_dep_load[op] != 0; }
  void unit_idle(uint32_t op, double idle_s) override;
  ChipId id() const { return m_id; }
  /// Ops of the current plan not yet completed (0 once it is done).
  uint32_t ops_left() const { return m_ops_left; }
  /// The unfinished ops, for the watchdog: those issued to a unit (with the unit, op kind,
  /// class, layer and collective), then how many wait on them. Empty when nothing is left.
  std::string describe_pending() const;

 private:
  void issue(uint32_t op);
  // The unit that runs `o` (nullptr for a comm op on a chip without a comm unit).
  Unit* unit_for(const Op& o) const;
  bool in_fused_kernel(uint32_t op) const;
  void launch(uint32_t kernel);
  void on_kernel_event();
  void open_kernel();
  /// Times the open fused kernel's pipeline; returns its cycles.
  uint64_t start_pipeline();
  /// The open fused kernel's compute ops are done (`memory_bound`: its loads ended last).
  void finish_pipeline(bool memory_bound);
  void kernel_op_done(uint32_t op);

  Chip& m_chip;
  Unit* m_comm = nullptr;
  ChipId m_id;
  Done m_done;
  StepPlan m_plan;
  std::vector<uint32_t> m_remaining;   // unfinished deps per op
  std::vector<uint32_t> m_dependents;  // CSR of dependents
  std::vector<uint32_t> m_initial;     // ops with no dependency, issued by execute()
  std::vector<uint32_t> m_dep_offsets;
  std::vector<uint8_t> m_last_dep_load;
  std::vector<uint8_t> m_state;  // per op: 0 waiting on deps, 1 issued to its unit, 2 done
  std::vector<sc_core::sc_time> m_copy_ready;  // when each kCopy op was issued
  uint32_t m_ops_left = 0;
  TierStats* m_tier_stats;
  uint8_t m_weights_tier;  // tier index of MemRole::kWeights ops without their own tier
  uint8_t m_kv_tier;

  // Kernels ([mapping.fusion]); unused without it.
  FusionSpec m_fusion;
  std::unique_ptr<KernelStats> m_kstats;
  std::vector<Kernel> m_kernels;
  std::vector<uint32_t> m_kernel_of;  // per op
  uint32_t m_open = UINT32_MAX;       // the kernel whose ops may issue
  uint32_t m_kernel_left = 0;         // its unfinished ops
  uint32_t m_loads_left = 0;          // fused: its unfinished loads and copies
  bool m_launching = false;           // m_kernel_event: launch done (else: pipeline done)
  bool m_pipe_timer = false;          // fused: the pipeline's time has passed
  bool m_finishing = false;           // fused: completing its compute ops
  uint64_t m_plans_started = 0;
  sc_core::sc_time m_kernel_start;
  sc_core::sc_event m_kernel_event;
};

}  // namespace moesim
