#pragma once
/// The console table printed after a run: headline numbers, chip0's units and memories,
/// (several chips) traffic, balance and the busiest links, expert caches, wall time.

#include <string>

#include "sim/output/run_view.hpp"
#include "sim/output/summary.hpp"

namespace moesim {

/// The human-readable table of `run` with headline numbers `s`.
std::string summary_table_text(const RunView& run, const Summary& s);

}  // namespace moesim
