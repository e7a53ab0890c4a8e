#include "hw_models/memory/dram/dram.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "hw_models/memory/dram/dram_controller.hpp"
#include "sim/core/error.hpp"

namespace moesim {
namespace {
constexpr uint64_t kNeverCycle = std::numeric_limits<uint64_t>::max();
}  // namespace

const char* to_string(DramCommandType t) {
  switch (t) {
    case DramCommandType::kAct:
      return "ACT";
    case DramCommandType::kPre:
      return "PRE";
    case DramCommandType::kPreA:
      return "PREA";
    case DramCommandType::kRd:
      return "RD";
    case DramCommandType::kWr:
      return "WR";
    case DramCommandType::kRef:
      return "REF";
  }
  return "?";
}

void DramConfig::validate() const {
  if (read_queue_depth < 1 || write_queue_depth < 1)
    throw InputError("dram: read_queue_depth and write_queue_depth must be at least 1");
  if (starvation_limit < 0) throw InputError("dram: starvation_limit must not be negative");
  if (write_low_watermark < 0 || write_low_watermark >= write_high_watermark ||
      write_high_watermark > write_queue_depth)
    throw InputError(
        fmt::format("dram: need 0 <= write_low_watermark ({}) < write_high_watermark ({}) <= "
                    "write_queue_depth ({})",
                    write_low_watermark, write_high_watermark, write_queue_depth));
}

double DramStats::row_hit_rate() const {
  const uint64_t n = row_hits + row_misses + row_conflicts;
  return n ? static_cast<double>(row_hits) / n : 0.0;
}

DramSystem::DramSystem(const DramSpec& spec, const DramConfig& config)
    : m_spec((spec.validate(), spec)),
      m_config((config.validate(), config)),
      m_mapping(m_spec, m_config.mapping) {
  m_stats.refresh_cycles_per_bank.assign(static_cast<size_t>(m_spec.units()) * m_spec.banks(), 0);
  m_units.reserve(m_spec.units());
  m_unit_next.assign(m_spec.units(), 0);  // never resized: the controllers point into it
  for (int u = 0; u < m_spec.units(); ++u)
    m_units.push_back(std::make_unique<DramController>(*this, u, &m_unit_next[u]));
}

DramSystem::~DramSystem() = default;

bool DramSystem::can_accept(uint64_t addr, bool is_write) const {
  return m_units[m_mapping.decode(addr).unit(m_spec)]->has_room(is_write);
}

void DramSystem::enqueue(const DramRequest& r) {
  const DramLocation loc = m_mapping.decode(r.addr);
  DramController& u = *m_units[loc.unit(m_spec)];
  if (!u.has_room(r.is_write))
    throw InternalError(fmt::format("DramSystem::enqueue: queue full for address {:#x}", r.addr));
  u.enqueue(r, loc);
  ++m_outstanding;
}

void DramSystem::complete_later(const DramRequest& r, uint64_t done_cycle) {
  std::deque<Done>& q = m_done[r.is_write];
  const Done d{done_cycle, m_done_seq++, r};
  if (q.empty() || !(d < q.back()))
    q.push_back(d);
  else  // not expected (see m_done), but keep the order exact whatever the timings
    q.insert(std::upper_bound(q.begin(), q.end(), d), d);
}

const DramSystem::Done* DramSystem::first_done() const {
  const Done* r = m_done[0].empty() ? nullptr : &m_done[0].front();
  const Done* w = m_done[1].empty() ? nullptr : &m_done[1].front();
  if (!r) return w;
  if (!w) return r;
  return *w < *r ? w : r;
}

void DramSystem::tick() {
  const uint64_t c = m_cycle;
  for (const Done* first = first_done(); first && first->cycle <= c; first = first_done()) {
    const Done d = *first;
    m_done[d.req.is_write].pop_front();
    --m_outstanding;
    const uint64_t lat = d.cycle > d.req.arrival ? d.cycle - d.req.arrival : 0;
    if (d.req.is_write) {
      ++m_stats.writes;
      m_stats.write_bytes += m_spec.atom_bytes;
    } else {
      ++m_stats.reads;
      m_stats.read_bytes += m_spec.atom_bytes;
    }
    m_stats.latency_sum += lat;
    m_stats.latency.record(lat);
    if (m_on_complete)
      m_on_complete(d.req, d.cycle);
    else
      m_completed.emplace_back(d.req, d.cycle);
  }
  for (size_t u = 0; u < m_unit_next.size(); ++u)
    if (m_unit_next[u] <= c) m_units[u]->tick(c), ++m_unit_ticks;
  ++m_cycle;
}

uint64_t DramSystem::next_event_cycle() const {
  const Done* first = first_done();
  uint64_t best = first ? first->cycle : std::numeric_limits<uint64_t>::max();
  for (const uint64_t n : m_unit_next) best = std::min(best, n);
  return best == std::numeric_limits<uint64_t>::max() ? best : std::max(best, m_cycle);
}

void DramSystem::skip_idle(uint64_t limit) {
  for (const auto& u : m_units)
    if (!u->idle_refresh_only()) return;
  // Every unit would tick only to REF on its deadlines, every tREFI. Their commands are shown
  // to an observer in the order ticking gives: by cycle, then by unit.
  const uint64_t refi = static_cast<uint64_t>(m_spec.tREFI);
  std::vector<std::pair<uint64_t, uint64_t>> plan(m_units.size());  // (first REF, count)
  for (size_t u = 0; u < m_units.size(); ++u)
    plan[u].second = m_units[u]->idle_refreshes(limit, plan[u].first);
  if (m_observer) {
    // Every deadline is a multiple of tREFI (they start at tREFI and each REF adds tREFI), and
    // every unit's REFs run to the last deadline before `limit`: walk the deadlines, and in
    // each the units in index order.
    uint64_t t = kNeverCycle;
    for (const auto& p : plan)
      if (p.second) t = std::min(t, p.first);
    for (; t<limit; t = limit - t> refi ? t + refi : limit)
      for (size_t u = 0; u < m_units.size(); ++u)
        if (plan[u].second && plan[u].first <= t) m_units[u]->emit_ref(t);
  }
  for (size_t u = 0; u < m_units.size(); ++u) m_units[u]->skip_idle_refreshes(plan[u].second);
}

void DramSystem::advance_to(uint64_t cycle) {
  if (m_idle_skip && m_outstanding == 0 && m_config.refresh && m_cycle < cycle) skip_idle(cycle);
  while (m_cycle < cycle) {
    const uint64_t ne = next_event_cycle();
    if (ne >= cycle) {
      m_cycle = cycle;  // nothing can happen before `cycle`
      return;
    }
    m_cycle = ne;
    tick();
    // The PREs and first REF of an idle gap are ticked; the rest can then be skipped.
    if (m_idle_skip && m_outstanding == 0 && m_config.refresh) skip_idle(cycle);
  }
}

bool DramSystem::idle() const {
  return m_outstanding == 0;
}

std::vector<std::pair<DramRequest, uint64_t>> DramSystem::take_completions() {
  std::vector<std::pair<DramRequest, uint64_t>> out;
  out.swap(m_completed);
  return out;
}

double DramSystem::refresh_overhead() const {
  if (m_cycle == 0) return 0.0;
  const uint64_t sum = std::accumulate(m_stats.refresh_cycles_per_bank.begin(),
                                       m_stats.refresh_cycles_per_bank.end(), uint64_t{0});
  return static_cast<double>(sum) /
         (static_cast<double>(m_stats.refresh_cycles_per_bank.size()) * m_cycle);
}

double DramSystem::achieved_bytes_per_s() const {
  if (m_cycle == 0) return 0.0;
  return static_cast<double>(m_stats.read_bytes + m_stats.write_bytes) /
         (m_cycle * m_spec.tck_ps * 1e-12);
}

}  // namespace moesim
