#pragma once
/// The run watchdog: stops a run that makes no progress instead of letting it spin forever
/// or end with wrong statistics.
///
/// Two ways a run can stop making progress, both model bugs (not bad input), so both end
/// the run with a WatchdogError, exit code 1:
/// - Simulated time stuck: events keep firing, but every delay scheduled is zero, so time
///   never advances, one delta cycle after another. Every delay a model schedules passes
///   through checked_delay(), checked_until() or zero_delay() (sim_time.hpp), which call
///   watchdog_event() for every zero delay; once `limit` delta cycles have passed at one
///   instant the run stops.
/// - No event left with work pending: sc_start() returns (nothing is scheduled) while a step
///   still has unfinished ops. The caller of sc_start() checks this (Simulation::run).
/// Either message names the pending work as the owner of the run describes it (the step
/// driver: step, chips, units and their pending ops, layers, collectives).

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include <systemc>

namespace moesim {

/// A run stopped by the watchdog: a bug in a model, exit code 1.
class WatchdogError : public std::runtime_error {
 public:
  explicit WatchdogError(const std::string& message) : std::runtime_error(message) {}
};

struct Watchdog {
  /// Delta cycles at one instant before the run is stopped. A legitimate instant takes a
  /// few (a chain of zero-delay hand-offs: sequencer, unit, memory, network); each delta
  /// costs at least a process activation, so 10^6 of them take well under a second.
  static constexpr uint64_t kDefaultLimit = 1'000'000;
  uint64_t limit = kDefaultLimit;
  uint64_t at = UINT64_MAX;  ///< time value of the current instant
  uint64_t delta0 = 0;       ///< sc_delta_count() when it was first seen
  uint64_t calls = 0;        ///< zero delays scheduled, all instants
  bool fired = false;
  /// The pending work, for the message (set by the owner of the run; empty when none).
  std::function<std::string()> describe;
};

/// The watchdog of the current process (one simulation per process).
inline Watchdog& watchdog() {
  static Watchdog w;
  return w;
}

/// Raises the "time stuck" WatchdogError (keeps it and stops the simulation).
void watchdog_fire(const char* who);

/// A zero delay is being scheduled by `who`: stops the run once `limit` delta cycles have
/// passed at the current instant. Looks at the time and the delta count on every 256th call
/// only (a spin makes calls without end, so it is caught all the same, at most 255 calls
/// late), which keeps the common call to an increment.
inline void watchdog_event(const char* who) {
  Watchdog& w = watchdog();
  if ((++w.calls & 255) != 0) return;
  const uint64_t now = sc_core::sc_time_stamp().value();
  const uint64_t delta = sc_core::sc_delta_count();
  if (now != w.at) {
    w.at = now;
    w.delta0 = delta;
  } else if (delta - w.delta0 >= w.limit && !w.fired) {
    watchdog_fire(who);
  }
}

/// The message of a run whose work is pending with no event left (at the current time).
std::string watchdog_no_event_message();

}  // namespace moesim
