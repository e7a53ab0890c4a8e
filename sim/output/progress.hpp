#pragma once
/// Progress lines on stderr while a run goes: steps done, simulated time, elapsed, ETA.

#include <cstdint>

#include "sim/engine/step_driver.hpp"

namespace moesim {

/// A step callback that prints a progress line at most every 2 s of wall time; with
/// `total_steps` 0 (length unknown) the lines carry no percentage and no ETA.
StepDriver::Progress make_progress_printer(uint64_t total_steps);

}  // namespace moesim
