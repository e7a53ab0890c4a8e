#pragma once
/// `moesim trace`: generate, convert (and further trace subcommands).

#include <string>
#include <vector>

namespace moesim {

/// Runs `moesim trace` with `args` (after "trace"). Returns the exit code; throws InputError
/// for bad input (exit 2).
int cmd_trace(const std::vector<std::string>& args);

}  // namespace moesim
