#pragma once
/// `moesim place`: an expert placement computed from a trace without simulating, with its
/// load balance and cross-chip and cross-node traffic.

#include <string>
#include <vector>

namespace moesim {

/// Runs `moesim place` with `args` (after "place"). Returns the exit code; throws InputError
/// for bad input (exit 2).
int cmd_place(const std::vector<std::string>& args);

}  // namespace moesim
