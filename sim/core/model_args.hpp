#pragma once
/// What every chip model (units, memories) is constructed from.

#include <systemc>

#include "sim/config/schema.hpp"
#include "sim/core/stats.hpp"

namespace moesim {

/// The constructor argument of a registered chip model (Unit::Args, Memory::Args).
struct ModelArgs {
  /// Module name ("hbm", "sram", "compute"). Held here so it lives until the model's
  /// constructor has finished: SystemC names processes after the module being constructed.
  sc_core::sc_module_name name;
  const Params& params;  ///< validated values of its config section
  double clock_hz;       ///< the chip clock (for values given in cycles)
  StatGroup* stats_parent;
};

}  // namespace moesim
