#pragma once
/// `moesim gemm`: the systolic compute unit alone on one GEMM or a SCALE-Sim topology.

#include <string>
#include <vector>

namespace moesim {

/// Runs `moesim gemm` with `args` (after "gemm"). Returns the exit code; throws InputError
/// for bad input (exit 2).
int cmd_gemm(const std::vector<std::string>& args);

}  // namespace moesim
