#pragma once
/// Numbers for people: SI prefixes and time units, as the console table and progress lines
/// print them.

#include <string>

namespace moesim {

/// `v` with an SI prefix and `unit`, three significant digits: "1.5 GB/s", "820 kB".
std::string si_text(double v, const char* unit);

/// Seconds in s, ms or us when the value reaches the unit, else ns; four significant digits:
/// "3.2 ms", "41.07 us".
std::string seconds_text(double s);

}  // namespace moesim
