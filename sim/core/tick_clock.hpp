#pragma once
/// Conversions between a model's own clock cycles and SystemC time values.

#include <cmath>
#include <cstdint>

namespace moesim {

/// A clock whose period is `ticks_per_cycle` SystemC time-resolution units. The period need
/// not be a whole number of units (1.4 GHz, DDR5's 416.67 ps tCK), so both ways round.
class TickClock {
 public:
  TickClock() = default;
  explicit TickClock(double ticks_per_cycle) : m_ticks_per_cycle(ticks_per_cycle) {}
  /// Time value at which `cycle` starts; UINT64_MAX if that is past 2^63 (std::llround
  /// would overflow), which the checked delays of sim/core/sim_time.hpp refuse.
  uint64_t time_of(uint64_t cycle) const {
    const double t = static_cast<double>(cycle) * m_ticks_per_cycle;
    if (!(t < 9223372036854775808.0)) return UINT64_MAX;
    return static_cast<uint64_t>(std::llround(t));
  }
  /// First cycle starting at or after time value `t`.
  uint64_t cycle_at(uint64_t t) const {
    const double guess = static_cast<double>(t) / m_ticks_per_cycle;
    uint64_t c = guess < 18446744073709551615.0 ? static_cast<uint64_t>(guess) : UINT64_MAX;
    while (time_of(c) < t) ++c;
    while (c > 0 && time_of(c - 1) >= t) --c;
    return c;
  }

 private:
  double m_ticks_per_cycle = 1;
};

}  // namespace moesim
