#pragma once
/// expert_load.csv: how many routed token copies each expert of each MoE layer received over
/// the run (the expert-load heat map of `moesim report`). Kept out of stats.json so that
/// file stays as it was.

#include <string>

#include "sim/output/run_view.hpp"

namespace moesim {

/// "moe_layer,expert,tokens" rows, MoE layers and experts counted from 0, every pair.
std::string expert_load_csv_text(const RunView& run);

}  // namespace moesim
