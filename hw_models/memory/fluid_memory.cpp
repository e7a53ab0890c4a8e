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
                         double bytes_per_s, sc_time latency, uint64_t capacity, size_t heap_above)
    : Memory(name),
      m_bytes_per_s(bytes_per_s),
      m_latency(latency),
      m_capacity(capacity),
      m_heap_above(heap_above),
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
  if (!m_order.empty() && now > m_last_settle) {
    const double dt = (now - m_last_settle).to_seconds();
    const double moved = dt * m_bytes_per_s / static_cast<double>(m_order.size());
    if (m_heap) {
      m_vtime += moved;
    } else {
      for (uint32_t s : m_order) m_slab[s].finish = std::max(0.0, m_slab[s].finish - moved);
      // The same monotone map applied to the smallest remainder gives the new smallest one.
      m_min_remaining = std::max(0.0, m_min_remaining - moved);
    }
    m_stats->busy_s += dt;
  }
  m_last_settle = now;
}

double FluidMemory::min_remaining() const {
  return m_heap ? std::max(0.0, m_tags.top().finish - m_vtime) : m_min_remaining;
}

void FluidMemory::to_heap() {
  // With m_vtime = 0 a remainder is its own tag, exactly.
  std::vector<Tag> tags;
  tags.reserve(m_order.size());
  for (uint32_t s : m_order) tags.push_back({m_slab[s].finish, s});
  m_tags = decltype(m_tags)(std::greater<Tag>(), std::move(tags));
  m_vtime = 0;
  m_heap = true;
}

void FluidMemory::to_list() {
  m_tags = decltype(m_tags)();
  bool first = true;
  for (uint32_t s : m_order) {
    const double r = std::max(0.0, m_slab[s].finish - m_vtime);
    m_slab[s].finish = r;
    m_min_remaining = first ? r : std::min(m_min_remaining, r);
    first = false;
  }
  m_vtime = 0;
  m_heap = false;
}

void FluidMemory::rebase() {
  // Above 2^40 bytes a remainder's rounding (an ulp of m_vtime) would near 10^-4 bytes, the
  // scale of the crumbs on_finish() tolerates; subtract m_vtime from every tag instead.
  constexpr double kRebaseBytes = 1099511627776.0;
  if (m_vtime < kRebaseBytes) return;
  to_list();  // the tags become remainders, which are the tags for m_vtime = 0
  to_heap();
}

void FluidMemory::reschedule() {
  m_finish_event.cancel();
  if (m_order.empty()) return;
  const double secs = min_remaining() * static_cast<double>(m_order.size()) / m_bytes_per_s;
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
  const bool was_idle = m_order.empty();
  if (was_idle) m_heap = false;
  uint32_t slot;
  if (m_free.empty()) {
    slot = static_cast<uint32_t>(m_slab.size());
    m_slab.emplace_back();
  } else {
    slot = m_free.back();
    m_free.pop_back();
  }
  if (m_heap) rebase();  // before the new tag is taken
  const double rem = static_cast<double>(bytes);
  const double finish = m_heap ? m_vtime + rem : rem;
  Active& a = m_slab[slot];
  a = {earliest, client, tag, finish, 0, write, false};
  a.pos = static_cast<uint32_t>(m_order.size());
  m_order.push_back(slot);
  m_writes += write ? 1 : 0;
  if (m_heap) {
    m_tags.push({finish, slot});
  } else {
    m_min_remaining = was_idle ? rem : std::min(m_min_remaining, rem);
    if (m_order.size() > m_heap_above) to_heap();
  }
  reschedule();
  if (m_timeline) record(was_idle);
}

void FluidMemory::depart(size_t p) {
  const uint32_t s = m_order[p];
  Active& a = m_slab[s];
  m_pending.push({std::max(sc_time_stamp(), a.earliest), m_seq++, a.client, a.tag});
  m_writes -= a.write ? 1 : 0;
  a.leaving = false;
  a.client = nullptr;
  const uint32_t last = m_order.back();
  m_order[p] = last;
  m_slab[last].pos = static_cast<uint32_t>(p);
  m_order.pop_back();
  m_free.push_back(s);
}

void FluidMemory::on_finish() {
  settle();
  // A transfer whose remainder is below a thousandth of a byte is done (rounding of the
  // event time to picoseconds leaves such crumbs). They leave as a scan of m_order removes
  // them: in order of position, each removal moving the last entry into the gap, which is
  // looked at next.
  if (m_heap) {
    // The finishing ones are the smallest tags; the scan is replayed over them alone.
    std::vector<uint32_t>& leaving = m_leaving;
    leaving.clear();
    while (!m_tags.empty() && m_tags.top().finish - m_vtime < 1e-3) {
      const uint32_t s = m_tags.top().slot;
      m_tags.pop();
      m_slab[s].leaving = true;
      leaving.push_back(s);
    }
    if (leaving.size() > 1)
      std::sort(leaving.begin(), leaving.end(),
                [this](uint32_t a, uint32_t b) { return m_slab[a].pos < m_slab[b].pos; });
    for (uint32_t s : leaving) {
      if (!m_slab[s].leaving) continue;  // already moved into a gap and removed
      const size_t p = m_slab[s].pos;
      depart(p);
      while (p < m_order.size() && m_slab[m_order[p]].leaving) depart(p);
    }
    if (m_order.size() <= m_heap_above / 2) to_list();
  } else if (!m_order.empty() && m_min_remaining < 1e-3) {
    // Nothing finishes unless the smallest remainder does (the scan finds the new smallest).
    double min_rem = 0;
    bool any = false;
    for (size_t i = 0; i < m_order.size();) {
      const double r = m_slab[m_order[i]].finish;
      if (r < 1e-3) {
        depart(i);
      } else {
        min_rem = any ? std::min(min_rem, r) : r;
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
  const size_t writes = m_writes;
  const double n = static_cast<double>(m_order.size());
  const double share = n > 0 ? m_bytes_per_s / n : 0.0;
  m_timeline->bandwidth(now, share * (n - static_cast<double>(writes)),
                        share * static_cast<double>(writes));
  if (m_order.empty() && m_timeline_busy) {
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
