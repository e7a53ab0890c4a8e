#pragma once
/// What the output writers read after a run: the spec, the elaborated system, the driver's
/// workload statistics and the wall time. A view: it owns nothing and lives no longer than the
/// Simulation that made it.

#include "sim/engine/run_spec.hpp"
#include "sim/engine/step_driver.hpp"
#include "sim/engine/system.hpp"
#include "sim/output/energy.hpp"

namespace moesim {

/// A finished run as the writers see it (the Simulation keeps everything alive).
struct RunView {
  const RunSpec& spec;
  const System& system;
  const StepDriver& driver;
  double wall_s = 0;  ///< wall-clock seconds spent in Simulation::run()
  const EnergyAccount& energy;
};

}  // namespace moesim
