#pragma once
/// What the output writers read after a run: the spec, the elaborated system, the driver's
/// workload statistics and the wall time. A view: it owns nothing and lives no longer than the
/// Simulation that made it.

#include "sim/engine/run_spec.hpp"
#include "sim/engine/step_driver.hpp"
#include "sim/engine/system.hpp"
#include "sim/output/energy.hpp"

namespace moesim {

/// Which MoE layers of a partial trace were real and what the run did with the others
/// (from the trace's metadata real_layers / layer_fill / layer_fill_by).
struct TraceLayers {
  bool partial = false;     ///< the trace records real_layers
  std::string real;         ///< the real MoE layers, e.g. "0-7"
  uint32_t real_count = 0;  ///< how many
  uint32_t moe_layers = 0;  ///< the trace's MoE layers (the model's, before any cut)
  std::string rule;         ///< "skipped", "none", "copy-nearest", "calibrated", ...
  std::string set_by;       ///< "workload.unlogged_layers" or "trace import"
};

/// A finished run as the writers see it (the Simulation keeps everything alive).
struct RunView {
  const RunSpec& spec;
  const System& system;
  const StepDriver& driver;
  double wall_s = 0;                 ///< wall-clock seconds spent in Simulation::run()
  const TraceMeta* trace = nullptr;  ///< the simulated trace's metadata (as its reader gave it)
  const EnergyAccount& energy;
};

/// The partial-trace facts of `run` (partial = false for a trace that logs every layer).
TraceLayers trace_layers(const RunView& run);

}  // namespace moesim
