#pragma once
/// A chip's comm unit: executes the chip's kComm ops (its part of a collective) by arriving
/// at the collective in the system's CollectiveExecutor; the op completes when the executor
/// says this chip's part is done (its messages sent and received).

#include <cstdint>
#include <memory>
#include <vector>

#include "hw_models/chip/unit.hpp"
#include "hw_models/interconnect/collective.hpp"

namespace moesim {

/// Statistics of a comm unit beyond UnitStats (`chip3.comm.*`).
struct CommStats {
  explicit CommStats(StatGroup* group);
  std::unique_ptr<Counter> role_bytes[kNumCommRoles];  ///< bytes this chip sent, by role
  Scalar collective_time;  ///< summed time from arriving at a collective to finishing it
};

class CommUnit final : public Unit {
 public:
  /// `slots`: collectives in flight at once (micro-batches overlap several).
  CommUnit(const sc_core::sc_module_name& name, ChipId chip, double clock_hz,
           StatGroup* stats_parent, uint32_t slots = 64);
  ~CommUnit() override;
  /// The executor the collectives of each step are registered with (set before a run).
  void set_executor(CollectiveExecutor* executor) { m_exec = executor; }
  /// Counts `bytes` this chip sends in a collective of `role` (from its schedule).
  void count_sent(CommRole role, uint64_t bytes) {
    *m_stats->role_bytes[static_cast<int>(role)] += bytes;
  }
  /// Called by the executor: this chip's part of collective `instance` is done.
  void collective_done(uint32_t instance);
  const CommStats& comm_stats() const { return *m_stats; }
  /// Seconds from arriving at the collective finished last to its finishing.
  double last_wait() const { return m_last_wait; }

 protected:
  void start(uint32_t op) override;

 private:
  ChipId m_chip;
  CollectiveExecutor* m_exec = nullptr;
  std::vector<uint32_t> m_op_of;  // by collective instance: the op waiting on it
  std::vector<sc_core::sc_time> m_arrived;
  std::unique_ptr<CommStats> m_stats;
  double m_last_wait = 0;
};

}  // namespace moesim
