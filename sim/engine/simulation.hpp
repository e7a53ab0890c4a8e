#pragma once
/// One simulation: elaborates the system from a RunSpec, streams the trace, runs SystemC, and
/// hands the results to the writers of sim/output/. SystemC elaborates once per process, so
/// build at most one.

#include <cstdint>
#include <memory>
#include <string>

#include "sim/engine/run_spec.hpp"
#include "sim/engine/step_driver.hpp"
#include "sim/engine/system.hpp"
#include "sim/output/run_view.hpp"
#include "sim/output/summary.hpp"
#include "sim/output/timeline.hpp"
#include "sim/plan/system_plan.hpp"

namespace moesim {

class Simulation {
 public:
  /// Elaborates the system. `progress` prints progress lines to stderr during run().
  Simulation(const RunSpec& spec, std::unique_ptr<TraceReader> trace, bool progress);
  ~Simulation();

  /// Records a timeline of the run (before run()). Throws InputError when the file cannot
  /// be written.
  void record_timeline(const TimelineOptions& options);
  /// After a successful run(): completes the timeline file and renames it into place.
  void commit_timeline();
  /// Runs to the end of the trace (or max_steps). Rethrows trace errors (InputError).
  void run();

  /// The headline numbers (see summarise()).
  Summary summary() const;
  /// stats.json text (schema_version, summary, every stat with unit and description).
  std::string stats_json() const;
  /// stats.csv text: name,value,unit.
  std::string stats_csv() const;
  /// A human-readable table for the console.
  std::string summary_table() const;
  /// expert_load.csv text: routed token copies per MoE layer and expert.
  std::string expert_load_csv() const;
  /// Wall-clock seconds spent in run().
  double wall_seconds() const { return m_wall_s; }

 private:
  /// What the writers read: this run, as it stands now.
  RunView view() const;

  RunSpec m_spec;
  std::unique_ptr<TraceReader> m_trace;
  std::unique_ptr<SystemPlanner> m_planner;
  std::unique_ptr<System> m_system;
  std::unique_ptr<StepDriver> m_driver;
  /// After the system: its groups are children of the chips' (destroyed first).
  std::unique_ptr<EnergyAccount> m_energy;
  std::unique_ptr<Timeline> m_timeline;
  bool m_progress;
  double m_wall_s = 0;
};

}  // namespace moesim
