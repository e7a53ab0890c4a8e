#pragma once
/// Subcommands of the moesim program.

#include <string>
#include <vector>

namespace moesim {

/// Dispatches `args` (without the program name). Returns the exit code; throws InputError
/// for bad input (exit 2).
int cli_main(const std::vector<std::string>& args);

}  // namespace moesim
