#pragma once
/// The System: every chip of a run with its memories, expert store, sequencer and (with
/// several chips) comm unit, and the network joining them, elaborated from a RunSpec.
/// Chips are named chip0, chip1, ... (their stats: `chip3.hbm.*`); link directions by their
/// ends (`link0_1.*`); system-wide statistics are `system.*`.

#include <memory>
#include <vector>

#include "hw_models/chip/chip.hpp"
#include "hw_models/interconnect/collective.hpp"
#include "hw_models/interconnect/comm_unit.hpp"
#include "hw_models/interconnect/network.hpp"
#include "hw_models/memory/residency/residency.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/engine/sequencer.hpp"
#include "sim/plan/system_plan.hpp"

namespace moesim {

/// One chip of the system and what belongs to it alone.
struct ChipSlot {
  std::unique_ptr<Chip> chip;
  std::unique_ptr<TierStats> tier_stats;
  std::unique_ptr<ResidencyManager> residency;  ///< when caches are configured
  std::unique_ptr<CommUnit> comm;               ///< several chips only
  std::unique_ptr<Sequencer> sequencer;
};

/// System-wide statistics of a multi-chip run (`system.*`).
struct SystemStats : StatGroup {
  SystemStats(uint32_t chips, uint32_t moe_layers);
  std::unique_ptr<Counter> role_bytes[kNumCommRoles];  ///< bytes between chips, by role
  Counter collectives{this, "collectives", "collectives", "collectives run (all chips joined)"};
  Formula routed_imbalance;  ///< max / mean over chips of routed copies, whole run
  std::vector<std::unique_ptr<Scalar>> layer_imbalance;  ///< mean over steps, per MoE layer
  std::vector<uint64_t> routed;                          ///< per chip, whole run
  uint64_t steps = 0;
  std::vector<double> layer_sum;  // per MoE layer: summed per-step imbalance
  /// Placement metrics, as `moesim place` reports them (whole run).
  StepBalance sums;
  double step_imbalance_sum = 0;  ///< summed over steps of the mean over MoE layers
  std::unique_ptr<Formula> step_imbalance, leave_chip, leave_node, hops_per_token,
      cross_transitions;
  /// Summed over the chips of the time from arriving at a dispatch (combine) collective to
  /// finishing its part, divided by the chips: the link time the placement causes.
  std::unique_ptr<Scalar> dispatch_time, combine_time;
  /// Dynamic rebalancing: placements recomputed, expert copies moved to new chips, and the
  /// time the moves took (as dispatch_time; their bytes are rebalance_bytes).
  std::unique_ptr<Counter> rebalances, moved_experts;
  std::unique_ptr<Scalar> rebalance_time;
};

class System {
 public:
  /// Elaborates the chips (and network); `done(chip)` is called when a chip's sequencer
  /// finishes its plan. `planner` receives each chip's expert store.
  System(const RunSpec& spec, SystemPlanner& planner, Sequencer::Done done);
  ~System();

  uint32_t chips() const { return static_cast<uint32_t>(m_slots.size()); }
  ChipSlot& slot(ChipId c) { return m_slots[c]; }
  const ChipSlot& slot(ChipId c) const { return m_slots[c]; }
  Chip& chip(ChipId c) const { return *m_slots[c].chip; }
  /// The network (null with one chip).
  const Network* network() const { return m_net.get(); }
  /// System-wide statistics (several chips only).
  const SystemStats& stats() const { return *m_stats; }
  /// The plans the sequencers execute, by ChipId (for the planner to fill).
  const std::vector<StepPlan*>& plans() const { return m_plans; }
  /// A step was planned: registers its collectives with the executor, counts its traffic.
  void begin_step(const std::vector<CollectiveRequest>& collectives, const StepBalance& balance);
  /// Residency managers that need every step as it is read (lookahead prefetch).
  bool needs_lookahead() const;
  void step_entered(const TraceStep& step);
  /// Ends the run (residency end-of-run statistics).
  void finish();
  /// Every statistic of the system in output order: chips, then (several chips) `system.*`
  /// and the link directions.
  void visit(const std::function<void(const std::string&, const Stat&)>& fn) const;
  /// The work of the current step not yet done, for the watchdog: each chip's unfinished
  /// ops (sequencer) and, with several chips, the collectives not done. Empty when none.
  std::string describe_pending() const;

 private:
  const RunSpec& m_spec;
  std::vector<ChipSlot> m_slots;
  std::vector<StepPlan*> m_plans;
  std::unique_ptr<Network> m_net;
  std::unique_ptr<CollectiveExecutor> m_exec;
  std::unique_ptr<SystemStats> m_stats;
  std::vector<CommRole> m_role_of;  // by collective instance of the current step
};

}  // namespace moesim
