#pragma once
/// `moesim trace generate`: synthetic routing traces from a generator config (or flags).

#include <string>
#include <vector>

namespace moesim {

/// Runs `moesim trace generate` with `args` (after "generate"). Returns the exit code;
/// throws InputError for bad input (exit 2).
int cmd_trace_generate(const std::vector<std::string>& args);

}  // namespace moesim
