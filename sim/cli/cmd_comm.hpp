#pragma once
/// `moesim comm`: one collective on a config's [system], timed on its network model.

#include <string>
#include <vector>

namespace moesim {

/// Runs `moesim comm` with `args` (after "comm"). Returns the exit code; throws InputError for
/// bad input (exit 2).
int cmd_comm(const std::vector<std::string>& args);

}  // namespace moesim
