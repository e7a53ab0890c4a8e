#include "hw_models/memory/fluid_memory.hpp"

#include "sim/core/sim_time.hpp"

#include <algorithm>
#include <cmath>

namespace moesim {

using sc_core::sc_time;
using sc_core::sc_time_stamp;

MemoryStats::MemoryStats(const std::string& name, StatGroup* parent, double peak_bytes_per_s)
    : StatGroup(name, parent),
      bandwidth_utilisation(this, "bandwidth_utilisation", "1",
                            "bytes moved / (peak bandwidth * simulated time)",
                            [this] {
                              const double t = sc_time_stamp().to_seconds();
                              const double bytes = static_cast<double>(read_bytes.get()) +
                                                   static_cast<double>(write_bytes.get());
                              return t > 0 ? bytes / (peak * t) : 0.0;
                            }),
      mean_bandwidth(this, "mean_bandwidth", "B/s", "bytes moved / simulated time",
                     [this] {
                       const double t = sc_time_stamp().to_seconds();
                       const double bytes = static_cast<double>(read_bytes.get()) +
                                            static_cast<double>(write_bytes.get());
                       return t > 0 ? bytes / t : 0.0;
                     }),
      peak_bandwidth(this, "peak_bandwidth", "B/s", "peak bandwidth", [this] { return peak; }),
      peak(peak_bytes_per_s) {}

FluidMemory::FluidMemory(const sc_core::sc_module_name& name, StatGroup* stats_parent,
                         double bytes_per_s, sc_time latency, uint64_t capacity)
    : Memory(name),
      m_bytes_per_s(bytes_per_s),
      m_latency(latency),
      m_capacity(capacity),
      m_stats(std::make_unique<MemoryStats>(static_cast<const char*>(name), stats_parent,
                                            bytes_per_s)) {
  SC_METHOD(on_finish);
  sensitive << m_finish_event;
  dont_initialize();
  SC_METHOD(on_deliver);
  sensitive << m_deliver_event;
  dont_initialize();
}

void FluidMemory::settle() {
  const sc_time now = sc_time_stamp();
  if (!m_active.empty() && now > m_last_settle) {
    const double dt = (now - m_last_settle).to_seconds();
    const double moved = dt * m_bytes_per_s / static_cast<double>(m_active.size());
    double* r = m_remaining.data();
    const size_t n = m_remaining.size();
    for (size_t i = 0; i < n; ++i) r[i] = std::max(0.0, r[i] - moved);
    // The same monotone map applied to the smallest remainder gives the new smallest one.
    m_min_remaining = std::max(0.0, m_min_remaining - moved);
    m_stats->busy_s += dt;
  }
  m_last_settle = now;
}

void FluidMemory::reschedule() {
  m_finish_event.cancel();
  if (m_active.empty()) return;
  const double secs = m_min_remaining * static_cast<double>(m_active.size()) / m_bytes_per_s;
  // Round up to whole picoseconds so a transfer never finishes early.
  m_finish_event.notify(checked_delay(secs * 1e12, name()));
}

void FluidMemory::transfer(uint64_t bytes, bool write, MemoryClient* client, uint64_t tag) {
  if (write) {
    m_stats->write_bytes += bytes;
    ++m_stats->writes;
  } else {
    m_stats->read_bytes += bytes;
    ++m_stats->reads;
  }
  settle();
  // Alone, the bytes take bytes / bandwidth (rounded up to picoseconds as reschedule() does).
  const sc_time alone = checked_delay(static_cast<double>(bytes) / m_bytes_per_s * 1e12, name());
  // Both below 2^63: the sum cannot wrap; on_deliver() checks it against the range.
  const sc_time earliest = sc_time_stamp() + m_latency + alone;
  const bool was_idle = m_active.empty();
  const double rem = static_cast<double>(bytes);
  m_min_remaining = was_idle ? rem : std::min(m_min_remaining, rem);
  m_active.push_back({earliest, client, tag, write});
  m_remaining.push_back(rem);
  reschedule();
  if (m_timeline) record(was_idle);
}

void FluidMemory::on_finish() {
  settle();
  // A transfer whose remainder is below a thousandth of a byte is done (rounding of the
  // event time to picoseconds leaves such crumbs).
  const sc_time now = sc_time_stamp();
  // Nothing finishes unless the smallest remainder does (then the pass also finds the new
  // smallest).
  if (!m_active.empty() && m_min_remaining < 1e-3) {
    double min_rem = 0;
    bool any = false;
    for (size_t i = 0; i < m_active.size();) {
      if (m_remaining[i] < 1e-3) {
        const Active& a = m_active[i];
        m_pending.push({std::max(now, a.earliest), m_seq++, a.client, a.tag});
        m_active[i] = m_active.back();
        m_active.pop_back();
        m_remaining[i] = m_remaining.back();
        m_remaining.pop_back();
      } else {
        min_rem = any ? std::min(min_rem, m_remaining[i]) : m_remaining[i];
        any = true;
        ++i;
      }
    }
    m_min_remaining = min_rem;
  }
  reschedule();
  if (m_timeline) record(false);
  // An earlier notification overrides a later pending one.
  if (!m_pending.empty())
    m_deliver_event.notify(checked_until(m_pending.top().due.value(), name()));
}

void FluidMemory::record(bool was_idle) {
  const uint64_t now = sc_time_stamp().value();
  if (was_idle) {
    m_busy_begin_ps = now;
    m_timeline_busy = true;
  }
  // Processor sharing: each active transfer moves an equal share of the bandwidth.
  size_t writes = 0;
  for (const Active& a : m_active) writes += a.write ? 1 : 0;
  const double n = static_cast<double>(m_active.size());
  const double share = n > 0 ? m_bytes_per_s / n : 0.0;
  m_timeline->bandwidth(now, share * (n - static_cast<double>(writes)),
                        share * static_cast<double>(writes));
  if (m_active.empty() && m_timeline_busy) {
    m_timeline->busy(m_busy_begin_ps, now);
    m_timeline_busy = false;
  }
}

void FluidMemory::on_deliver() {
  const sc_time now = sc_time_stamp();
  while (!m_pending.empty() && m_pending.top().due <= now) {
    const Pending p = m_pending.top();
    m_pending.pop();
    p.client->transfer_done(p.tag);
  }
  if (!m_pending.empty())
    m_deliver_event.notify(checked_until(m_pending.top().due.value(), name()));
}

}  // namespace moesim
