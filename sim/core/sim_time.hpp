#pragma once
/// Checked conversions into SystemC time (each seen by the watchdog, watchdog.hpp), and the
/// way a run-time error raised inside a SystemC process reaches the caller of sc_start().
///
/// Simulated time is a 64-bit count of resolution units (picoseconds). A very low bandwidth
/// or clock, or a very long latency, can ask for a time that count cannot hold; unchecked, a
/// float-to-integer conversion then overflows (to a zero delay that loops forever, or to
/// 2^63) or the sum wraps. Every delay a model schedules goes through checked_delay() or
/// checked_until(), which stop the run with a SimTimeError instead.

#include <cmath>
#include <cstdint>
#include <exception>
#include <string>

#include <fmt/format.h>
#include <systemc>

#include "sim/core/error.hpp"
#include "sim/core/time_range.hpp"
#include "sim/core/watchdog.hpp"

namespace moesim {

/// The run would leave the representable simulated time: something the user can change
/// (a bandwidth, clock or latency far out of range), so it exits with code 2.
class SimTimeError : public InputError {
 public:
  using InputError::InputError;
};

/// The first error raised inside a SystemC process of the current run.
inline std::exception_ptr& process_error_slot() {
  static std::exception_ptr e;
  return e;
}

/// Keeps `e` (the first error wins) and stops the simulation. An exception must not unwind
/// through the SystemC kernel, so a process records it here and returns; the caller of
/// sc_start() calls rethrow_process_error().
inline void stop_with(std::exception_ptr e) {
  // The first error stops the run; sc_stop() twice would warn.
  if (process_error_slot()) return;
  process_error_slot() = std::move(e);
  // sc_stop()'s "stopped by user" note is not a result (stdout carries the results).
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_stop();
}

/// After sc_start() returns: rethrows (and clears) the error a process kept, if any.
inline void rethrow_process_error() {
  std::exception_ptr e = process_error_slot();
  process_error_slot() = nullptr;
  if (e) std::rethrow_exception(e);
}

/// Raises `message` as a SimTimeError: thrown outside a simulation, kept and the simulation
/// stopped inside one.
inline void time_out_of_range(const std::string& what, double at_s) {
  const std::string message = fmt::format(
      "simulated time would pass {:.0f} s (2^63 ps), the representable range, in {} at t = "
      "{:.6g} s (a bandwidth, clock or latency far out of range?)",
      kMaxSimSeconds, what, at_s);
  if (!sc_core::sc_is_running()) throw SimTimeError(message);
  stop_with(std::make_exception_ptr(SimTimeError(message)));
}

/// Delay of `ticks` resolution units from now (fractions rounded up). If it is not finite,
/// negative, or now + delay would pass kMaxSimTicks: a SimTimeError (see time_out_of_range)
/// and a zero delay, which never fires because the kernel stops at the end of this delta.
inline sc_core::sc_time checked_delay(double ticks, const std::string& what) {
  const uint64_t now = sc_core::sc_time_stamp().value();
  const double t = std::ceil(ticks);
  if (!(t >= 0) || t >= static_cast<double>(kMaxSimTicks - now)) {
    time_out_of_range(what, sc_core::sc_time_stamp().to_seconds());
    return sc_core::SC_ZERO_TIME;
  }
  // Only a zero delay can keep time from advancing: the watchdog looks at those alone.
  if (t == 0) watchdog_event(what.c_str());
  return sc_core::sc_time::from_value(static_cast<uint64_t>(t));
}

/// Delay from now to the absolute time value `at` (at least now), checked as above.
inline sc_core::sc_time checked_until(uint64_t at, const std::string& what) {
  const uint64_t now = sc_core::sc_time_stamp().value();
  if (at > kMaxSimTicks) {
    time_out_of_range(what, sc_core::sc_time_stamp().to_seconds());
    return sc_core::SC_ZERO_TIME;
  }
  if (at <= now) watchdog_event(what.c_str());
  return sc_core::sc_time::from_value(at > now ? at - now : 0);
}

/// A zero delay (the next delta cycle) scheduled by `who`, counted by the watchdog.
inline sc_core::sc_time zero_delay(const char* who) {
  watchdog_event(who);
  return sc_core::SC_ZERO_TIME;
}

/// a + b, or UINT64_MAX if that wraps (an absolute time checked_until() then refuses).
inline uint64_t saturating_add(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/// A time value for `ticks` (a constant such as a latency; rounded to nearest, as
/// std::llround did), checked against the range.
inline uint64_t checked_ticks(double ticks, const std::string& what) {
  const double t = std::round(ticks);
  if (!(t >= 0) || t > static_cast<double>(kMaxSimTicks)) {
    time_out_of_range(what, sc_core::sc_time_stamp().to_seconds());
    return 0;
  }
  return static_cast<uint64_t>(t);
}

}  // namespace moesim
