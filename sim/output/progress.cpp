#include "sim/output/progress.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include <systemc>

#include "sim/output/human_text.hpp"

namespace moesim {

StepDriver::Progress make_progress_printer(uint64_t total_steps) {
  using Clock = std::chrono::steady_clock;
  // Shared so the callback stays copyable (std::function) while keeping its state.
  auto last = std::make_shared<Clock::time_point>(Clock::now());
  auto start = std::make_shared<Clock::time_point>(Clock::now());
  const uint64_t total = total_steps;
  return [last, start, total](uint64_t done) {
    const auto now = Clock::now();
    if (now - *last < std::chrono::seconds(2)) return;
    *last = now;
    const double el = std::chrono::duration<double>(now - *start).count();
    const double sim_s = sc_core::sc_time_stamp().to_seconds();
    if (total > 0) {
      const double eta =
          el * static_cast<double>(total - std::min(total, done)) / static_cast<double>(done);
      std::fprintf(stderr,
                   "moesim: step %llu/%llu (%.0f%%), simulated %s, elapsed %.1f s, ETA %.1f s\n",
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                   100.0 * static_cast<double>(done) / static_cast<double>(total),
                   seconds_text(sim_s).c_str(), el, eta);
    } else {
      std::fprintf(stderr, "moesim: step %llu, simulated %s, elapsed %.1f s\n",
                   static_cast<unsigned long long>(done), seconds_text(sim_s).c_str(), el);
    }
  };
}

}  // namespace moesim
