#pragma once
/// `moesim mem`: drive one memory model with a synthetic pattern or a request trace.

#include <string>
#include <vector>

namespace moesim {

/// Runs `moesim mem` with `args` (after "mem"). Returns the exit code; throws InputError for
/// bad input (exit 2).
int cmd_mem(const std::vector<std::string>& args);

}  // namespace moesim
