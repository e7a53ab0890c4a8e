#pragma once
/// A chip's sequencer: executes one StepPlan at a time, issuing each op to its unit as its
/// dependencies complete, and reports when the plan is done. It only executes: the step
/// driver reads the trace and the system planner makes the plans.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <systemc>

#include "hw_models/chip/chip.hpp"
#include "hw_models/interconnect/topology.hpp"
#include "hw_models/memory/residency/residency.hpp"
#include "sim/plan/plan.hpp"

namespace moesim {

/// Issues planned ops to a chip's units.
class Sequencer : public sc_core::sc_module, public OpSink {
 public:
  /// Called when every op of the plan has completed.
  using Done = std::function<void(ChipId chip)>;

  Sequencer(const sc_core::sc_module_name& name, Chip& chip, ChipId id, Done done,
            TierStats* tier_stats = nullptr, uint8_t weights_tier = 0, uint8_t kv_tier = 0);

  /// The unit that runs kComm ops (several chips only; binds it to this plan).
  void set_comm(Unit* comm);
  /// The plan this sequencer executes (filled by the planner before execute()).
  StepPlan& plan() { return m_plan; }
  /// Starts executing plan(); calls Done once all its ops have completed (at once for an
  /// empty plan).
  void execute();

  void op_done(uint32_t op) override;
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
};

}  // namespace moesim
