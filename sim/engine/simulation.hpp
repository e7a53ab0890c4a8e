#pragma once
/// One simulation: elaborates the system from a RunSpec, streams the trace, runs SystemC, and
/// renders the results. SystemC elaborates once per process, so build at most one.

#include <cstdint>
#include <memory>
#include <string>

#include "sim/engine/run_spec.hpp"
#include "sim/engine/step_driver.hpp"
#include "sim/engine/system.hpp"
#include "sim/plan/system_plan.hpp"

namespace moesim {

/// The headline numbers of a run.
struct Summary {
  uint64_t cycles = 0;  ///< chip clock cycles
  double time_s = 0;
  uint64_t steps = 0;
  uint64_t tokens = 0;
  uint64_t assignments = 0;
  double tokens_per_s = 0;
  double weight_stall_s = 0;    ///< compute idle waiting for weight loads
  double expert_hit_rate = -1;  ///< hit rate of the cache nearest the compute (-1: none)
  std::string bottleneck;       ///< hierarchical name of the most utilised resource
  std::string bottleneck_kind;  ///< "compute", "vector", "memory bandwidth"
  double bottleneck_utilisation = 0;
};

class Simulation {
 public:
  /// Elaborates the system. `progress` prints progress lines to stderr during run().
  Simulation(const RunSpec& spec, std::unique_ptr<TraceReader> trace, bool progress);
  ~Simulation();

  /// Runs to the end of the trace (or max_steps). Rethrows trace errors (InputError).
  void run();

  Summary summary() const;
  /// stats.json text (schema_version, summary, every stat with unit and description).
  std::string stats_json() const;
  /// stats.csv text: name,value,unit.
  std::string stats_csv() const;
  /// A human-readable table for the console.
  std::string summary_table() const;
  /// Wall-clock seconds spent in run().
  double wall_seconds() const { return m_wall_s; }

 private:
  RunSpec m_spec;
  std::unique_ptr<TraceReader> m_trace;
  std::unique_ptr<SystemPlanner> m_planner;
  std::unique_ptr<System> m_system;
  std::unique_ptr<StepDriver> m_driver;
  bool m_progress;
  double m_wall_s = 0;
};

/// Writes `text` to `path` atomically (temporary file, then rename). Throws InputError.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace moesim
