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
  // The row span: the smallest power of two that moves address 0 to another row, if nothing
  // else changes. The exact skip's row step is that span only when the row is the topmost
  // field (adding steps never carries into another field: an address translates if it stays
  // in range).
  const DramLocation zero = m_mapping.decode(0);
  const uint64_t cap = m_spec.capacity_bytes();
  for (uint64_t p = static_cast<uint64_t>(m_spec.atom_bytes); p < cap; p <<= 1) {
    const DramLocation l = m_mapping.decode(p);
    if (l.row == zero.row) continue;
    if (l.channel == zero.channel && l.pseudo_channel == zero.pseudo_channel &&
        l.bank_group == zero.bank_group && l.bank == zero.bank && l.atom == zero.atom)
      m_row_span = p;
    break;
  }
  if (m_row_span * static_cast<uint64_t>(m_spec.rows) == cap &&
      m_mapping.decode(cap - m_row_span).row == m_spec.rows - 1)
    m_row_step = m_row_span;
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
    if (m_log) {
      DramLogEntry e;
      e.cycle = d.cycle;
      e.a = d.req.addr;
      e.b = d.req.id;
      e.latency = static_cast<uint32_t>(d.cycle - d.req.arrival);
      e.kind = d.req.is_write ? DramLogEntry::kWrite : DramLogEntry::kRead;
      m_log->push_back(e);
    }
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

void DramSystem::period_signature(uint64_t steps, uint64_t id_step, bool with_refresh,
                                  std::vector<int64_t>& out) const {
  const uint64_t now = m_cycle;
  const uint64_t addr_back = steps * m_row_step;
  const uint64_t id_back = steps * id_step;
  const int64_t rows = static_cast<int64_t>(steps);
  out.push_back(static_cast<int64_t>(m_outstanding));
  out.push_back(static_cast<int64_t>(m_completed.size()));
  // In flight, in the order they will complete (cycle, then issue order across both FIFOs).
  std::array<size_t, 2> at{0, 0};
  for (;;) {
    const Done* r = at[0] < m_done[0].size() ? &m_done[0][at[0]] : nullptr;
    const Done* w = at[1] < m_done[1].size() ? &m_done[1][at[1]] : nullptr;
    if (!r && !w) break;
    const Done& d = !r || (w && *w < *r) ? *w : *r;
    ++at[d.req.is_write];
    out.insert(out.end(), {static_cast<int64_t>(d.cycle - now), d.req.is_write,
                           static_cast<int64_t>(d.req.addr - addr_back),
                           static_cast<int64_t>(d.req.id - id_back),
                           static_cast<int64_t>(d.req.arrival - now)});
  }
  for (const auto& u : m_units)
    u->period_signature(now, rows, addr_back, id_back, with_refresh, out);
}

uint64_t DramSystem::refresh_horizon() const {
  const uint64_t due = next_refresh_due();
  if (due == kNeverCycle) return kNeverCycle;
  // Longer than anything the scheduler looks ahead: a starving request's deadline, or a
  // timing constraint (their sum bounds every chain of them within one decision).
  const DramSpec& s = m_spec;
  const uint64_t margin = static_cast<uint64_t>(m_config.starvation_limit) + s.tRFC + s.tRC +
                          s.tFAW + s.tRAS + s.tRCD_rd + s.tRCD_wr + s.tRP + s.tCL + s.tCWL +
                          2 * s.tBURST + s.tWR + s.tWTR_L + s.tRTP + s.tCCD_L + s.tRTW_bubble + 8;
  return due > margin ? due - margin : 0;
}

uint64_t DramSystem::next_refresh_due() const {
  if (!m_config.refresh) return kNeverCycle;
  uint64_t due = kNeverCycle;
  for (const auto& u : m_units) due = std::min(due, u->refresh_due());
  return due;
}

uint64_t DramSystem::latest_next_before_refresh() const {
  uint64_t latest = 0;
  for (size_t u = 0; u < m_units.size(); ++u) {
    const uint64_t n = m_unit_next[u];
    if (n == kNeverCycle || (m_config.refresh && n >= m_units[u]->refresh_due())) continue;
    latest = std::max(latest, n);
  }
  return latest;
}

bool DramSystem::translates(uint64_t addr, uint64_t steps) const {
  // The row is the top field (see the constructor): only leaving the capacity would carry.
  const uint64_t cap = m_spec.capacity_bytes();
  return m_row_step != 0 && addr < cap && steps <= (cap - 1 - addr) / m_row_step;
}

bool DramSystem::state_translates(uint64_t steps) const {
  std::vector<uint64_t> addrs;
  for (const auto& q : m_done)
    for (const Done& d : q) addrs.push_back(d.req.addr);
  for (const auto& u : m_units) u->queued_addresses(addrs);
  for (const uint64_t a : addrs)
    if (!translates(a, steps)) return false;
  return true;
}

void DramSystem::translate(uint64_t cycles, uint64_t steps, uint64_t id_step, bool with_refresh) {
  const uint64_t addr_delta = steps * m_row_step;
  const uint64_t id_delta = steps * id_step;
  for (auto& q : m_done)
    for (Done& d : q) {
      d.cycle += cycles;
      d.req.addr += addr_delta;
      d.req.id += id_delta;
      d.req.arrival += cycles;
    }
  for (auto& u : m_units)
    u->translate(cycles, static_cast<int64_t>(steps), addr_delta, id_delta, with_refresh);
  m_cycle += cycles;
}

void DramSystem::add_repeats(const DramStats& from, const DramStats& to, uint64_t times) {
  DramStats& s = m_stats;
  auto add = [times](uint64_t& v, uint64_t a, uint64_t b) { v += times * (b - a); };
  add(s.reads, from.reads, to.reads);
  add(s.writes, from.writes, to.writes);
  add(s.read_bytes, from.read_bytes, to.read_bytes);
  add(s.write_bytes, from.write_bytes, to.write_bytes);
  add(s.row_hits, from.row_hits, to.row_hits);
  add(s.row_misses, from.row_misses, to.row_misses);
  add(s.row_conflicts, from.row_conflicts, to.row_conflicts);
  add(s.activates, from.activates, to.activates);
  add(s.precharges, from.precharges, to.precharges);
  add(s.refreshes, from.refreshes, to.refreshes);
  add(s.reads_issued, from.reads_issued, to.reads_issued);
  add(s.writes_issued, from.writes_issued, to.writes_issued);
  add(s.data_bus_busy_cycles, from.data_bus_busy_cycles, to.data_bus_busy_cycles);
  add(s.latency_sum, from.latency_sum, to.latency_sum);
  for (size_t i = 0; i < s.refresh_cycles_per_bank.size(); ++i)
    add(s.refresh_cycles_per_bank[i], from.refresh_cycles_per_bank[i],
        to.refresh_cycles_per_bank[i]);
  s.latency.add_repeats(from.latency, to.latency, times);
}

void DramSystem::log_command(const DramCommand& c) {
  DramLogEntry e;
  e.cycle = c.cycle;
  e.a = static_cast<uint64_t>(c.row);
  e.b = static_cast<uint64_t>(c.column);
  e.kind = static_cast<uint8_t>(c.type);
  e.channel = static_cast<uint8_t>(c.channel);
  e.pseudo_channel = static_cast<uint8_t>(c.pseudo_channel);
  e.bank = static_cast<uint8_t>(c.bank_group * 16 + c.bank);
  m_log->push_back(e);
}

DramLogEntry DramSystem::translated(const DramLogEntry& e, uint64_t cycles, uint64_t steps,
                                    uint64_t id_step) const {
  DramLogEntry t = e;
  t.cycle += cycles;
  if (!e.is_command()) {
    t.a += steps * m_row_step;
    t.b += steps * id_step;
  } else if (e.kind != static_cast<uint8_t>(DramCommandType::kRef) &&
             e.kind != static_cast<uint8_t>(DramCommandType::kPreA)) {
    t.a += steps;  // the row
  }
  return t;
}

void DramSystem::replay(const DramLogEntry* begin, const DramLogEntry* end, uint64_t cycles,
                        uint64_t steps, uint64_t id_step) {
  for (const DramLogEntry* p = begin; p != end; ++p) {
    if (p->is_command() && !m_observer) continue;
    const DramLogEntry e = translated(*p, cycles, steps, id_step);
    if (e.is_command()) {
      DramCommand c;
      c.type = static_cast<DramCommandType>(e.kind);
      c.cycle = e.cycle;
      c.channel = e.channel;
      c.pseudo_channel = e.pseudo_channel;
      c.bank_group = e.bank / 16;
      c.bank = e.bank % 16;
      c.row = static_cast<int64_t>(e.a);
      c.column = static_cast<int>(e.b);
      m_observer(c);
    } else {
      const DramRequest r{e.a, e.kind == DramLogEntry::kWrite, e.b, e.cycle - e.latency};
      if (m_on_complete)
        m_on_complete(r, e.cycle);
      else
        m_completed.emplace_back(r, e.cycle);
    }
  }
}

}  // namespace moesim
