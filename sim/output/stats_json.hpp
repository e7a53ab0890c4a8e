#pragma once
/// The stats.json writer: schema_version, the summary and its units, then every statistic
/// with its unit and description in output order (workload first, then the system).

#include <string>

#include "sim/output/run_view.hpp"
#include "sim/output/summary.hpp"

namespace moesim {

/// stats.json text of `run` with headline numbers `s`.
std::string stats_json_text(const RunView& run, const Summary& s);

}  // namespace moesim
