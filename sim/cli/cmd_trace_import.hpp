#pragma once
/// `moesim trace import`: converts a public routing log into a trace.

#include <string>
#include <vector>

namespace moesim {

/// Help text of `moesim trace import`.
extern const char* const kTraceImportHelp;

/// Runs `moesim trace import` with `args` (after "import"). Returns the exit code; throws
/// InputError for bad input (exit 2).
int cmd_trace_import(const std::vector<std::string>& args);

}  // namespace moesim
