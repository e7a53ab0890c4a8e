#include "sim/core/watchdog.hpp"

#include <exception>

#include <fmt/format.h>

#include "sim/core/sim_time.hpp"
#include "sim/core/units_text.hpp"

namespace moesim {

namespace {

std::string pending_text() {
  const Watchdog& w = watchdog();
  std::string pending = w.describe ? w.describe() : std::string();
  return pending.empty() ? std::string() : "; " + pending;
}

}  // namespace

void watchdog_fire(const char* who) {
  Watchdog& w = watchdog();
  w.fired = true;
  const std::string message = fmt::format(
      "watchdog: simulated time stuck at t = {}: {} delta cycles at this instant without "
      "time advancing (the last delay scheduled by {}){}",
      human_time(sc_core::sc_time_stamp().to_seconds()), sc_core::sc_delta_count() - w.delta0, who,
      pending_text());
  stop_with(std::make_exception_ptr(WatchdogError(message)));
}

std::string watchdog_no_event_message() {
  return fmt::format("watchdog: no event left at t = {} but the run is unfinished{}",
                     human_time(sc_core::sc_time_stamp().to_seconds()), pending_text());
}

}  // namespace moesim
