#pragma once
/// `moesim trace stats`: routing statistics of a trace.

#include <string>
#include <vector>

namespace moesim {

/// Help text of `moesim trace stats` (with every definition).
extern const char* const kTraceStatsHelp;

/// Runs `moesim trace stats` with `args` (after "stats"). Returns the exit code; throws
/// InputError for bad input (exit 2).
int cmd_trace_stats(const std::vector<std::string>& args);

}  // namespace moesim
