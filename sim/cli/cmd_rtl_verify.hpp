#pragma once
/// `moesim rtl-verify`: randomised comparison of an RTL block with its reference and SystemC
/// models (rtl/rtl_verify.hpp).

#include <string>
#include <vector>

namespace moesim {

/// Runs `moesim rtl-verify` with `args` (after "rtl-verify"). Returns 0 when every case
/// matched, 1 on a mismatch; throws InputError for bad arguments and in builds without RTL.
int cmd_rtl_verify(const std::vector<std::string>& args);

}  // namespace moesim
