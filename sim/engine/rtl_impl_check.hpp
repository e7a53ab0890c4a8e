#pragma once
/// Checks the impl = "rtl" choices of a run (chip.compute.impl, chip.vector.topk_impl,
/// chip.vector.softmax_impl) against this build: RTL built in, and the shapes the run needs
/// baked as verilated --cc blocks (rtl/CMakeLists.txt).

#include "sim/config/config.hpp"

namespace moesim {

struct RunSpec;

/// Throws InputError located at the offending key when a unit asks for "rtl" that this
/// build cannot run.
void check_rtl_impl(const Config& cfg, const RunSpec& spec);

}  // namespace moesim
