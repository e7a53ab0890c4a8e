#pragma once
/// A unit that executes planned ops: compute array, vector unit, DMA engine.
///
/// The sequencer pushes ops whose dependencies are done; the unit serves them lowest index
/// first (the plan is topologically ordered, so this cannot deadlock), `slots` at a time,
/// and reports each completion. Nothing runs while a unit is idle: completions are events.

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include <systemc>

#include "hw_models/memory/memory.hpp"
#include "sim/config/schema.hpp"
#include "sim/core/model_args.hpp"
#include "sim/core/stats.hpp"
#include "sim/core/timeline.hpp"
#include "sim/plan/plan.hpp"

namespace moesim {

/// Receives op completions (the chip's sequencer).
class OpSink {
 public:
  virtual ~OpSink() = default;
  virtual void op_done(uint32_t op) = 0;
  /// True when the dependency that made `op` ready last was a memory load (for stall
  /// attribution: the unit was waiting for data, not for another unit).
  virtual bool waited_on_load(uint32_t op) const = 0;
  /// The unit was idle for `idle_s` seconds before starting `op` (stall attribution).
  virtual void unit_idle(uint32_t op, double idle_s) {
    (void)op;
    (void)idle_s;
  }
};

/// Memories a unit may use.
struct UnitMemories {
  Memory* sram = nullptr;
  Memory* weights = nullptr;   ///< tier the weights stream from
  Memory* kv_cache = nullptr;  ///< tier the KV cache lives in
  std::vector<Memory*> tiers;  ///< every tier by index (Op::src_tier, Op::dst_tier)
};

/// Statistics every unit keeps.
struct UnitStats : StatGroup {
  UnitStats(const std::string& name, StatGroup* parent);
  Counter ops{this, "ops", "ops", "ops executed"};
  Scalar busy_s{this, "busy_time", "s", "time with at least one op in progress"};
  Formula utilisation;
  Scalar wait_load_s{this, "idle_waiting_memory", "s",
                     "idle time before an op whose last dependency was a memory load"};
  Scalar wait_other_s{this, "idle_waiting_other", "s",
                      "idle time before an op whose last dependency was another unit"};
};

/// Base of all op-executing units.
class Unit : public sc_core::sc_module {
 public:
  /// What every unit model is constructed from.
  using Args = ModelArgs;
  /// `stats_name`: the stat group's name when it differs from the module's (default: same).
  Unit(const sc_core::sc_module_name& name, uint32_t slots, double clock_hz,
       StatGroup* stats_parent, const char* stats_name = nullptr);
  ~Unit() override = default;

  /// Connects the plan being executed, the completion sink and the memories.
  void bind(const StepPlan* plan, OpSink* sink, const UnitMemories& mem);
  /// An op whose dependencies are all done.
  void push(uint32_t op);
  const UnitStats& unit_stats() const { return *m_unit_stats; }
  /// Counts `ops` run for `busy_s` outside the unit's queue (stages of a fused kernel, timed
  /// by the kernel while the unit's own queue is empty).
  void add_external_busy(uint64_t ops, double busy_s) {
    m_unit_stats->ops += ops;
    m_unit_stats->busy_s += busy_s;
    if (m_timeline) {
      const uint64_t now = sc_core::sc_time_stamp().value();
      m_timeline->external_busy(now, now + static_cast<uint64_t>(std::llround(busy_s * 1e12)));
    }
  }
  double clock_hz() const { return m_clock_hz; }
  /// Ops from now on are recorded on `tl` (null: none; not owned).
  void set_timeline(UnitTimeline* tl) { m_timeline = tl; }
  /// Ops in progress at once, at most (a DMA's channels).
  uint32_t slots() const { return m_slots; }

 protected:
  /// Begins `op`; the implementation must call complete(op) exactly once, later.
  virtual void start(uint32_t op) = 0;
  /// Marks `op` finished: frees its slot and starts the next ready op.
  void complete(uint32_t op);
  sc_core::sc_time cycles_to_time(uint64_t cycles) const;

  const StepPlan* m_plan = nullptr;
  OpSink* m_sink = nullptr;
  UnitMemories m_mem;
  double m_clock_hz = 1e9;
  std::unique_ptr<UnitStats> m_unit_stats;

 private:
  void try_start();
  std::priority_queue<uint32_t, std::vector<uint32_t>, std::greater<uint32_t>> m_ready;
  uint32_t m_slots;
  uint32_t m_active = 0;
  UnitTimeline* m_timeline = nullptr;
  sc_core::sc_time m_busy_since;
  sc_core::sc_time m_idle_since;
};

/// An op that finishes when its parts (a timed busy period, memory transfers) are all done.
/// Parts are counted per slot; `part_done` completes the op on the last one.
class JoinTracker {
 public:
  void begin(uint32_t op, uint32_t parts) {
    m_op = op;
    m_left = parts;
  }
  /// Returns true when this was the last outstanding part.
  bool part_done() { return --m_left == 0; }
  uint32_t op() const { return m_op; }

 private:
  uint32_t m_op = 0;
  uint32_t m_left = 0;
};

}  // namespace moesim
