#include "sim/engine/simulation.hpp"

#include <algorithm>
#include <chrono>

#include "hw_models/memory/residency/lookahead.hpp"
#include "sim/core/sim_time.hpp"
#include "sim/core/watchdog.hpp"
#include "sim/output/expert_load.hpp"
#include "sim/output/progress.hpp"
#include "sim/output/stats_csv.hpp"
#include "sim/output/stats_json.hpp"
#include "sim/output/summary_table.hpp"

namespace moesim {

Simulation::Simulation(const RunSpec& spec, std::unique_ptr<TraceReader> trace, bool progress)
    : m_spec(spec), m_trace(std::move(trace)), m_progress(progress) {
  m_planner = std::make_unique<SystemPlanner>(m_spec.model, m_spec.plan, m_spec.parallel);
  m_system =
      std::make_unique<System>(m_spec, *m_planner, [this](ChipId c) { m_driver->chip_done(c); });
  if (m_system->needs_lookahead()) {
    System* sys = m_system.get();
    m_trace = std::make_unique<LookaheadReader>(
        std::move(m_trace), m_spec.residency.lookahead_steps(), m_spec.workload.max_steps,
        [sys](const TraceStep& st) { sys->step_entered(st); });
  }
  uint64_t total = m_spec.workload.max_steps;
  if (m_spec.workload.source == WorkloadSpec::Source::kSynthetic) {
    const uint64_t gen = m_spec.workload.synthetic.steps;
    total = total == 0 ? gen : std::min(total, gen);
  }
  StepDriver::Progress cb;
  if (m_progress) cb = make_progress_printer(total);
  m_driver =
      std::make_unique<StepDriver>("driver", *m_system, *m_trace, *m_planner,
                                   m_spec.workload.max_steps, std::move(cb), kv_budget(m_spec));
  m_energy = std::make_unique<EnergyAccount>(*m_system, *m_driver, m_spec.energy);
}

Simulation::~Simulation() {
  // The timeline's tracks go before the models that point to them.
  if (m_driver) m_driver->set_observer(nullptr);
  m_timeline.reset();
}

void Simulation::record_timeline(const TimelineOptions& options) {
  m_timeline = std::make_unique<Timeline>(options, *m_system, m_spec);
  m_driver->set_observer(m_timeline.get());
}

void Simulation::commit_timeline() {
  if (m_timeline) m_timeline->commit(m_driver->stats().steps.get());
}

std::string Simulation::expert_load_csv() const {
  return expert_load_csv_text(view());
}

void Simulation::run() {
  const auto t0 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  m_wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (m_driver->error()) std::rethrow_exception(m_driver->error());
  rethrow_process_error();
  // Nothing left to simulate, yet the trace is not done: ops are pending that no event will
  // ever complete (a model lost a completion). Wrong statistics would follow; stop instead.
  if (!m_driver->finished()) throw WatchdogError(watchdog_no_event_message());
  m_system->finish();
}

RunView Simulation::view() const {
  return RunView{m_spec, *m_system, *m_driver, m_wall_s, &m_trace->meta(), *m_energy};
}

Summary Simulation::summary() const {
  return summarise(view());
}

std::string Simulation::stats_json() const {
  return stats_json_text(view(), summary());
}

std::string Simulation::stats_csv() const {
  return stats_csv_text(view(), summary());
}

std::string Simulation::summary_table() const {
  return summary_table_text(view(), summary());
}

}  // namespace moesim
