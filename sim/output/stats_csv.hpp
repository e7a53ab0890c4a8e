#pragma once
/// The stats.csv writer: name,value,unit rows, the summary first, then every statistic in
/// the order of stats.json.

#include <string>

#include "sim/output/run_view.hpp"
#include "sim/output/summary.hpp"

namespace moesim {

/// stats.csv text of `run` with headline numbers `s`.
std::string stats_csv_text(const RunView& run, const Summary& s);

}  // namespace moesim
