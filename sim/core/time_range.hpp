#pragma once
/// The range of simulated time (pure C++, no SystemC: the config loader checks against it).

#include <cstdint>

namespace moesim {

/// Largest time value (picoseconds, SystemC's resolution here) a run may reach. Half the
/// 64-bit range, so that signed conversions (std::llround) and the sum of a time and a delay
/// below it never overflow.
inline constexpr uint64_t kMaxSimTicks = uint64_t{1} << 63;

/// The same bound in seconds (about 106.75 days).
inline constexpr double kMaxSimSeconds = static_cast<double>(kMaxSimTicks) * 1e-12;

}  // namespace moesim
