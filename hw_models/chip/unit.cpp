#include "hw_models/chip/unit.hpp"

#include "sim/core/sim_time.hpp"

#include <cmath>

namespace moesim {

using sc_core::sc_time;
using sc_core::sc_time_stamp;

UnitStats::UnitStats(const std::string& name, StatGroup* parent)
    : StatGroup(name, parent),
      utilisation(this, "utilisation", "1", "busy time / simulated time", [this] {
        const double t = sc_time_stamp().to_seconds();
        return t > 0 ? busy_s.get() / t : 0.0;
      }) {}

Unit::Unit(const sc_core::sc_module_name& name, uint32_t slots, double clock_hz,
           StatGroup* stats_parent, const char* stats_name)
    : sc_core::sc_module(name),
      m_clock_hz(clock_hz),
      m_unit_stats(std::make_unique<UnitStats>(
          stats_name ? stats_name : static_cast<const char*>(name), stats_parent)),
      m_slots(slots) {}

void Unit::bind(const StepPlan* plan, OpSink* sink, const UnitMemories& mem) {
  m_plan = plan;
  m_sink = sink;
  m_mem = mem;
}

sc_time Unit::cycles_to_time(uint64_t cycles) const {
  // Converted per op from the exact clock, so no rounding error accumulates.
  const double ps = std::ceil(static_cast<double>(cycles) * 1e12 / m_clock_hz - 1e-6);
  return checked_delay(ps, name());
}

void Unit::push(uint32_t op) {
  m_ready.push(op);
  try_start();
}

void Unit::try_start() {
  while (m_active < m_slots && !m_ready.empty()) {
    const uint32_t op = m_ready.top();
    m_ready.pop();
    const sc_time now = sc_time_stamp();
    if (m_active == 0) {
      const double idle = (now - m_idle_since).to_seconds();
      if (idle > 0) {
        m_sink->unit_idle(op, idle);
        if (m_sink->waited_on_load(op)) {
          m_unit_stats->wait_load_s += idle;
        } else {
          m_unit_stats->wait_other_s += idle;
        }
      }
      m_busy_since = now;
    }
    ++m_active;
    ++m_unit_stats->ops;
    if (m_timeline) m_timeline->op_begin(op, now.value(), m_active == 1);
    start(op);
  }
}

void Unit::complete(uint32_t op) {
  --m_active;
  if (m_active == 0) {
    const sc_time now = sc_time_stamp();
    m_unit_stats->busy_s += (now - m_busy_since).to_seconds();
    m_idle_since = now;
  }
  if (m_timeline) m_timeline->op_end(op, sc_time_stamp().value(), m_active == 0);
  m_sink->op_done(op);
  try_start();
}

}  // namespace moesim
