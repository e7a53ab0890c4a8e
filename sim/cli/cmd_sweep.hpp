#pragma once
/// `moesim sweep`: run a design-space sweep, one `moesim run` process per point.

#include <string>
#include <vector>

namespace moesim {

/// Runs `moesim sweep` with `args` (after "sweep"). Returns the exit code; throws InputError
/// for bad input (exit 2).
int cmd_sweep(const std::vector<std::string>& args);

}  // namespace moesim
