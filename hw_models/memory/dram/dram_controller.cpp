#include "hw_models/memory/dram/dram_controller.hpp"

#include <algorithm>
#include <limits>

namespace moesim {
namespace {
constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
// compute_next() scans without scan_floor() this many times after it did not help.
constexpr int kFloorBackoff = 16;
}  // namespace

DramController::DramController(DramSystem& sys, int unit, uint64_t* next)
    : m_sys(sys),
      m_s(sys.spec()),
      m_closed(sys.config().page_policy == PagePolicy::kClosed),
      m_starvation_limit(static_cast<uint64_t>(sys.config().starvation_limit)),
      m_unit(unit),
      m_channel(unit / sys.spec().pseudo_channels),
      m_pseudo(unit % sys.spec().pseudo_channels),
      m_banks(m_s.banks()),
      m_queued(2 * m_s.banks(), 0),
      m_starved(m_s.banks(), kNever),
      m_groups(m_s.bank_groups),
      m_next(*next) {
  const int slots = sys.config().read_queue_depth + sys.config().write_queue_depth;
  m_pool.resize(static_cast<size_t>(slots));
  m_requests.resize(m_pool.size());
  for (size_t i = 0; i < m_banks.size(); ++i)
    m_banks[i].group = static_cast<int>(i) / m_s.banks_per_group;
  m_free.reserve(m_pool.size());
  for (int i = slots - 1; i >= 0; --i) m_free.push_back(static_cast<uint32_t>(i));
  m_reads.reserve(sys.config().read_queue_depth);
  m_writes.reserve(sys.config().write_queue_depth);
  // All pseudo-channels refresh on the same deadlines. Staggering them would let one of the
  // 16-32 units be refreshing most of the time, and a host that issues in order (a stream
  // interleaved over every unit) would then stall on whichever one is busy: aligned refresh
  // costs such a host tRFC once per tREFI, as it costs the memory.
  m_refresh_due = static_cast<uint64_t>(m_s.tREFI);
  m_next = compute_next(0);
}

bool DramController::has_room(bool is_write) const {
  return is_write ? m_writes.size() < static_cast<size_t>(m_sys.config().write_queue_depth)
                  : m_reads.size() < static_cast<size_t>(m_sys.config().read_queue_depth);
}

void DramController::enqueue(const DramRequest& r, const DramLocation& loc) {
  const uint32_t slot = m_free.back();
  m_free.pop_back();
  Entry& e = m_pool[slot];
  e = Entry{};
  m_requests[slot] = r;
  e.group = static_cast<int16_t>(loc.bank_group);
  e.bank = loc.bank_group * m_s.banks_per_group + loc.bank;
  e.row = loc.row;
  e.column = static_cast<int>(loc.atom) * m_s.bursts_per_atom();
  e.enqueued = m_sys.cycle();
  Bank& b = m_banks[e.bank];
  if (b.open_row == e.row) {
    ++b.pending_hits[r.is_write];
    m_col_floor = 0;
  }
  if (m_queued[r.is_write * m_banks.size() + e.bank]++ == 0 && e.bank < 64)
    m_bank_mask[r.is_write] |= uint64_t{1} << e.bank;
  const bool drain_before = draining_next();
  (r.is_write ? m_writes : m_reads).push_back(slot);
  // The queues changed, so the scheduling decision may change from this cycle on.
  const uint64_t now = m_sys.cycle();
  if (m_next <= now) return;
  if (m_sys.config().refresh && now >= m_refresh_due) return;  // requests wait for the REF
  if (drain_before != m_draining || draining_next() != m_draining) {
    // A tick now would switch between the read and write queues, or m_next was computed for
    // the other queue.
    m_next = now;
  } else if (r.is_write == m_draining) {
    m_next = std::min(m_next, std::max(now, new_entry_bound(e, r.is_write, now)));
  }
  // Otherwise the request joined the queue not being served: it cannot issue before the next
  // tick, which is when the controller may switch queues.
}

uint64_t DramController::new_entry_bound(const Entry& e, bool w, uint64_t now) const {
  // Until the next tick, nothing but this entry (and the clock) changes. The entry may make
  // other requests wait (one more pending row hit; it starves later than they do), never go
  // earlier, so its own earliest command bounds the change. want() is used only where it does
  // not read the starvation marks, which may be stale between ticks.
  const Bank& b = m_banks[e.bank];
  const UnitReady u = unit_ready(w);
  if (b.open_row == e.row && (!m_closed || !b.accessed)) {
    const uint64_t col = ready_time(e, Want::kColumn, w, u);
    return m_starvation_limit > 0 ? std::min(col, ready_time(e, Want::kWait, w, u)) : col;
  }
  return ready_time(e, want(e, w, now), w, u);
}

bool DramController::draining_next() const {
  const auto& cfg = m_sys.config();
  const size_t w = m_writes.size();
  if (!m_draining)
    return w >= static_cast<size_t>(cfg.write_high_watermark) || (m_reads.empty() && w > 0);
  return !(w == 0 || (w <= static_cast<size_t>(cfg.write_low_watermark) && !m_reads.empty()));
}

void DramController::find_starved(const Queue& q, uint64_t now) const {
  m_any_starved = false;
  // The queue is in arrival order: if its oldest request is not starving, none is.
  if (m_starvation_limit == 0 || q.empty() || now < m_pool[q.front()].enqueued + m_starvation_limit)
    return;
  std::fill(m_starved.begin(), m_starved.end(), kNever);
  for (const uint32_t i : q) {
    const Entry& e = m_pool[i];
    const Bank& b = m_banks[e.bank];
    if (b.open_row >= 0 && b.open_row != e.row && now >= e.enqueued + m_starvation_limit) {
      m_starved[e.bank] = std::min(m_starved[e.bank], e.enqueued);
      m_any_starved = true;
    }
  }
}

DramController::Want DramController::want(const Entry& e, bool writes, uint64_t now) const {
  const Bank& b = m_banks[e.bank];
  if (b.open_row == e.row && (!m_closed || !b.accessed || e.bursts_done > 0)) {
    // A request starving for another row of this bank closes it: hits younger than it wait
    // (older ones go first, or the two would take turns re-opening their rows forever).
    if (m_any_starved && e.bursts_done == 0 && e.enqueued > m_starved[e.bank]) return Want::kWait;
    return Want::kColumn;
  }
  if (b.open_row < 0) return Want::kAct;
  // FR-FCFS: do not close a row that queued requests are about to hit, unless this request
  // has waited starvation_limit cycles. With the closed-page policy a row that has served
  // its access is closed regardless.
  if (b.pending_hits[writes] > 0 && (!m_closed || !b.accessed) &&
      (m_starvation_limit == 0 || now < e.enqueued + m_starvation_limit))
    return Want::kWait;
  return Want::kPre;
}

DramController::UnitReady DramController::unit_ready(bool is_write) const {
  UnitReady u;
  u.act = m_act_ready;
  if (m_faw_count == 4) u.act = std::max(u.act, m_faw[m_faw_head] + m_s.tFAW);
  u.col = is_write ? m_wr_ready : m_rd_ready;
  return u;
}

uint64_t DramController::ready_time(const Entry& e, Want k, bool is_write,
                                    const UnitReady& u) const {
  const Bank& b = m_banks[e.bank];
  const Group& g = m_groups[e.group];
  switch (k) {
    case Want::kColumn:
      return is_write ? std::max(std::max(b.wr_ready, g.wr_ready), u.col)
                      : std::max(std::max(b.rd_ready, g.rd_ready), u.col);
    case Want::kAct:
      return std::max(std::max(b.act_ready, g.act_ready), u.act);
    case Want::kPre:
      return b.pre_ready;
    case Want::kWait:
      // A queued row hit (itself a candidate) goes first; this request may force the
      // precharge once it has waited starvation_limit cycles.
      if (m_starvation_limit > 0) return std::max(e.enqueued + m_starvation_limit, b.pre_ready);
      break;
  }
  return kNever;
}

uint64_t DramController::scan_floor(bool w, const UnitReady& u, bool& exact) const {
  const Queue& q = w ? m_writes : m_reads;
  const uint64_t oldest = q.empty() ? 0 : m_pool[q.front()].enqueued;
  // Closed page, or more banks than a mask has bits: visit every bank, bound loosely.
  const bool wide = m_closed || m_banks.size() > 64;
  uint64_t mixed = 0;             // banks holding both hits and misses of q
  uint64_t mixed_floor = kNever;  // no miss in those before this
  uint64_t f = kNever;
  uint64_t col_floor = kNever;  // no column command of q before this
  m_col_floor_queue = w;
  exact = !m_closed;
  const int* queued = &m_queued[w * m_banks.size()];
  auto bank_floor = [&](size_t i) {
    const int n = queued[i];
    const Bank& b = m_banks[i];
    if (m_closed && b.open_row >= 0 && b.accessed) f = std::min(f, b.pre_ready);
    if (n == 0) return;
    const Group& g = m_groups[b.group];
    if (b.open_row < 0) {
      f = std::min(f, std::max(std::max(b.act_ready, g.act_ready), u.act));
      return;
    }
    const int hits = b.pending_hits[w];
    // A miss wants PRE (after pre_ready); behind queued hits it waits until it starves,
    // which is no sooner than the oldest queued request starves. So does a hit behind a
    // starving miss. Under the closed-page policy an accessed row takes PRE (above).
    if (n > hits) {
      if (hits == 0 || (m_closed && b.accessed))
        f = std::min(f, b.pre_ready);
      else if (m_starvation_limit > 0 && wide)
        f = std::min(f, std::max(b.pre_ready, oldest + m_starvation_limit)), exact = false;
      else if (m_starvation_limit > 0)
        mixed |= uint64_t{1} << i,
            mixed_floor = std::min(mixed_floor, std::max(b.pre_ready, oldest + m_starvation_limit));
    }
    if (hits > 0) {
      const uint64_t col = w ? std::max(std::max(b.wr_ready, g.wr_ready), u.col)
                             : std::max(std::max(b.rd_ready, g.rd_ready), u.col);
      f = std::min(f, col);
      col_floor = std::min(col_floor, col);
    }
  };
  if (wide) {
    for (size_t i = 0; i < m_banks.size(); ++i) bank_floor(i);
    m_col_floor = col_floor;
    return f;
  }
  // Only banks with queued requests matter.
  for (uint64_t m = m_bank_mask[w]; m; m &= m - 1) bank_floor(__builtin_ctzll(m));
  // In a bank with both, the oldest miss is the first to starve: find it (the queue is in
  // arrival order), unless none of them can beat the floor anyway.
  if (mixed_floor >= f) mixed = 0;
  for (size_t k = 0; mixed && k < q.size(); ++k) {
    const Entry& e = m_pool[q[k]];
    const uint64_t bit = uint64_t{1} << e.bank;
    const Bank& b = m_banks[e.bank];
    if ((mixed & bit) && b.open_row != e.row) {
      f = std::min(f, std::max(b.pre_ready, e.enqueued + m_starvation_limit));
      mixed &= ~bit;
    }
  }
  m_col_floor = col_floor;
  return f;
}

uint64_t DramController::compute_next(uint64_t from) const {
  uint64_t best = kNever;
  m_col_floor = 0;  // unknown unless scan_floor() runs
  if (m_sys.config().refresh) {
    if (from >= m_refresh_due) {
      if (m_open_banks == 0) {
        best = m_ref_ready;
      } else {
        for (const Bank& b : m_banks)
          if (b.open_row >= 0) best = std::min(best, b.pre_ready);
      }
      return std::max(from, best);
    }
    best = m_refresh_due;
  }
  const bool w = draining_next();
  const UnitReady u = unit_ready(w);
  find_starved(w ? m_writes : m_reads, from);
  // Every remaining candidate (including the closed-page PREs below) is >= floor, so the
  // scan stops as soon as it reaches it.
  // Computing the floor costs a pass over the banks; when it did not cut the last scan short
  // (requests spread over many banks, say), the next few scans go without it. Either way the
  // result is the same.
  const bool use_floor = m_floor_skip == 0;
  if (!use_floor) --m_floor_skip;
  const Queue& q = w ? m_writes : m_reads;
  uint64_t floor = from;
  if (use_floor && !q.empty()) {
    bool exact = false;
    const uint64_t f = scan_floor(w, u, exact);
    if (exact && !m_any_starved) {
      // Open page, nothing starving, no bank with both hits and misses: every request's
      // command time is its bank's class time, so the floor is the minimum itself.
      best = std::min(best, f);
      return best == kNever ? kNever : std::max(from, best);
    }
    floor = std::max(from, f);
  }
  for (const uint32_t i : q) {
    const Entry& e = m_pool[i];
    best = std::min(best, ready_time(e, want(e, w, from), w, u));
    if (best <= floor) return std::max(from, best);  // cannot get earlier
  }
  if (use_floor) m_floor_skip = kFloorBackoff;
  if (m_closed)
    for (const Bank& b : m_banks)
      if (b.open_row >= 0 && b.accessed) best = std::min(best, b.pre_ready);
  return best == kNever ? kNever : std::max(from, best);
}

void DramController::tick(uint64_t t) {
  if (m_sys.config().refresh && t >= m_refresh_due) {
    // Refresh is due: stop scheduling requests, close every bank, then REF (all-bank).
    if (m_open_banks == 0) {
      if (t >= m_ref_ready) issue_ref(t);
    } else {
      for (int i = 0; i < static_cast<int>(m_banks.size()); ++i) {
        if (m_banks[i].open_row >= 0 && m_banks[i].pre_ready <= t) {
          issue_pre(t, i);
          break;
        }
      }
    }
    m_next = compute_next(t + 1);
    return;
  }

  m_draining = draining_next();
  const bool w = m_draining;
  Queue& q = w ? m_writes : m_reads;
  find_starved(q, t);
  bool issued = false;
  // One pass, oldest first: the first ready row hit wins; failing that, the oldest request
  // whose ACT or PRE can go now.
  size_t row_cmd = q.size();
  Want row_want = Want::kWait;
  const UnitReady u = unit_ready(w);
  // No column command can issue before u.col: then the first ready ACT or PRE is the pick.
  // The last scan_floor() bounds every row hit's column time; only an enqueued hit (which
  // resets the bound) can be earlier.
  const bool column_possible = u.col <= t && (m_col_floor_queue != w || m_col_floor <= t);
  for (size_t i = 0; i < q.size(); ++i) {
    const Entry& e = m_pool[q[i]];
    const Want k = want(e, w, t);
    if (k == Want::kColumn) {
      if (ready_time(e, k, w, u) <= t) {
        issue_column(t, q, i, w);
        issued = true;
        break;
      }
    } else if (row_cmd == q.size() && k != Want::kWait && ready_time(e, k, w, u) <= t) {
      row_cmd = i;
      row_want = k;
      if (!column_possible) break;
    }
  }
  if (!issued && row_cmd < q.size()) {
    Entry& e = m_pool[q[row_cmd]];
    if (row_want == Want::kAct) {
      issue_act(t, e);
    } else {
      e.did_pre = true;
      issue_pre(t, e.bank);
    }
    issued = true;
  }
  // Closed page: close used rows as soon as allowed.
  if (!issued && m_closed) {
    for (int i = 0; i < static_cast<int>(m_banks.size()); ++i) {
      const Bank& b = m_banks[i];
      if (b.open_row >= 0 && b.accessed && b.pre_ready <= t) {
        issue_pre(t, i);
        break;
      }
    }
  }
  m_next = compute_next(t + 1);
}

void DramController::emit(uint64_t t, DramCommandType type, int bank, int64_t row, int column) {
  DramCommand c;
  c.type = type;
  c.cycle = t;
  c.channel = m_channel;
  c.pseudo_channel = m_pseudo;
  c.bank_group = bank / m_s.banks_per_group;
  c.bank = bank % m_s.banks_per_group;
  c.row = row;
  c.column = column;
  m_sys.emit(c);
}

void DramController::issue_act(uint64_t t, Entry& e) {
  Bank& b = m_banks[e.bank];
  Group& g = m_groups[e.group];
  e.did_act = true;
  b.open_row = e.row;
  b.accessed = false;
  ++m_open_banks;
  b.rd_ready = t + m_s.tRCD_rd;
  b.wr_ready = t + m_s.tRCD_wr;
  b.pre_ready = t + m_s.tRAS;
  b.act_ready = t + m_s.tRC;
  g.act_ready = std::max(g.act_ready, t + m_s.tRRD_L);
  m_act_ready = std::max(m_act_ready, t + m_s.tRRD_S);
  m_ref_ready = std::max(m_ref_ready, t + m_s.tRC);
  m_faw[m_faw_head] = t;
  m_faw_head = (m_faw_head + 1) % 4;
  m_faw_count = std::min(4, m_faw_count + 1);
  b.pending_hits = {0, 0};
  for (int w = 0; w < 2; ++w)
    for (const uint32_t i : w ? m_writes : m_reads) {
      const Entry& o = m_pool[i];
      if (o.bank == e.bank && o.row == e.row) ++b.pending_hits[w];
    }
  ++m_sys.m_stats.activates;
  emit(t, DramCommandType::kAct, e.bank, e.row, 0);
}

void DramController::issue_pre(uint64_t t, int bank) {
  Bank& b = m_banks[bank];
  const int64_t row = b.open_row;
  b.open_row = -1;
  b.accessed = false;
  b.pending_hits = {0, 0};
  --m_open_banks;
  b.act_ready = std::max(b.act_ready, t + m_s.tRP);
  m_ref_ready = std::max(m_ref_ready, t + m_s.tRP);
  ++m_sys.m_stats.precharges;
  emit(t, DramCommandType::kPre, bank, row, 0);
}

void DramController::issue_column(uint64_t t, Queue& q, size_t pos, bool w) {
  const uint32_t slot = q[pos];
  Entry& e = m_pool[slot];
  Bank& b = m_banks[e.bank];
  Group& g = m_groups[e.group];
  DramStats& st = m_sys.m_stats;
  if (e.bursts_done == 0) {
    if (!e.did_act)
      ++st.row_hits;
    else if (e.did_pre)
      ++st.row_conflicts;
    else
      ++st.row_misses;
  }
  const uint64_t spacing = std::max(m_s.tCCD_S, m_s.tBURST);
  if (w) {
    const uint64_t data_end = t + m_s.tCWL + m_s.tBURST;
    b.pre_ready = std::max(b.pre_ready, data_end + m_s.tWR);
    m_wr_ready = std::max(m_wr_ready, t + spacing);
    g.wr_ready = std::max(g.wr_ready, t + m_s.tCCD_L);
    m_rd_ready = std::max(m_rd_ready, data_end + m_s.tWTR_S);
    g.rd_ready = std::max(g.rd_ready, data_end + m_s.tWTR_L);
    ++st.writes_issued;
  } else {
    b.pre_ready = std::max(b.pre_ready, t + m_s.tRTP);
    m_rd_ready = std::max(m_rd_ready, t + spacing);
    g.rd_ready = std::max(g.rd_ready, t + m_s.tCCD_L);
    // Write data may start only after the read data has left the bus, plus a bubble.
    const int64_t turn = int64_t{m_s.tCL} + m_s.tBURST + m_s.tRTW_bubble - m_s.tCWL;
    m_wr_ready = std::max<uint64_t>(m_wr_ready, t + std::max<int64_t>(turn, 1));
    ++st.reads_issued;
  }
  st.data_bus_busy_cycles += m_s.tBURST;
  emit(t, w ? DramCommandType::kWr : DramCommandType::kRd, e.bank, e.row, e.column + e.bursts_done);
  if (++e.bursts_done == m_s.bursts_per_atom()) {
    const uint64_t done = t + (w ? m_s.tCWL : m_s.tCL) + m_s.tBURST;
    m_sys.complete_later(m_requests[slot], done);
    --b.pending_hits[w];
    if (--m_queued[w * m_banks.size() + e.bank] == 0 && e.bank < 64)
      m_bank_mask[w] &= ~(uint64_t{1} << e.bank);
    if (m_closed) b.accessed = true;
    q.erase(q.begin() + static_cast<std::ptrdiff_t>(pos));
    m_free.push_back(slot);
  }
}

bool DramController::idle_refresh_only() const {
  // With the queues empty and every bank closed, tick() at a deadline issues REF if
  // m_ref_ready allows; a REF leaves m_ref_ready = t + tRFC < t + tREFI (validated), so once
  // m_ref_ready <= m_refresh_due every later REF issues exactly on its deadline.
  return m_sys.config().refresh && m_reads.empty() && m_writes.empty() && m_open_banks == 0 &&
         m_ref_ready <= m_refresh_due;
}

uint64_t DramController::idle_refreshes(uint64_t limit, uint64_t& first) const {
  first = m_refresh_due;
  if (limit <= m_refresh_due) return 0;
  return (limit - 1 - m_refresh_due) / static_cast<uint64_t>(m_s.tREFI) + 1;
}

void DramController::skip_idle_refreshes(uint64_t n) {
  if (n == 0) return;
  const uint64_t refi = static_cast<uint64_t>(m_s.tREFI);
  const uint64_t last = m_refresh_due + (n - 1) * refi;
  DramStats& st = m_sys.m_stats;
  // What issue_ref() does n times: the maxima are set by the last REF, the sums grow n-fold.
  for (size_t i = 0; i < m_banks.size(); ++i) {
    m_banks[i].act_ready = std::max(m_banks[i].act_ready, last + m_s.tRFC);
    st.refresh_cycles_per_bank[m_unit * m_banks.size() + i] += n * m_s.tRFC;
  }
  m_ref_ready = last + m_s.tRFC;
  m_refresh_due += n * refi;
  st.refreshes += n;
  // tick() recomputes m_next after every REF; the n - 1 calls skipped here would only have
  // counted down the scan back-off (compute_next() with empty queues).
  m_floor_skip =
      n - 1 >= static_cast<uint64_t>(m_floor_skip) ? 0 : m_floor_skip - static_cast<int>(n - 1);
  m_next = compute_next(last + 1);
}

void DramController::emit_ref(uint64_t t) {
  emit(t, DramCommandType::kRef, 0, 0, 0);
}

void DramController::issue_ref(uint64_t t) {
  DramStats& st = m_sys.m_stats;
  for (size_t i = 0; i < m_banks.size(); ++i) {
    m_banks[i].act_ready = std::max(m_banks[i].act_ready, t + m_s.tRFC);
    st.refresh_cycles_per_bank[m_unit * m_banks.size() + i] += m_s.tRFC;
  }
  m_ref_ready = t + m_s.tRFC;
  m_refresh_due += m_s.tREFI;
  ++st.refreshes;
  emit(t, DramCommandType::kRef, 0, 0, 0);
}

void DramController::period_signature(uint64_t now, int64_t rows, uint64_t addr_back,
                                      uint64_t id_back, bool with_refresh,
                                      std::vector<int64_t>& o) const {
  // Every comparison of a ready time is with a tick cycle >= now and every update is a max
  // with a later cycle, so a time already past acts as `now` itself.
  auto rel = [now](uint64_t v) { return v > now ? static_cast<int64_t>(v - now) : int64_t{0}; };
  auto diff = [now](uint64_t v) { return static_cast<int64_t>(v - now); };
  for (const Queue* q : {&m_reads, &m_writes}) {
    o.push_back(static_cast<int64_t>(q->size()));
    for (const uint32_t slot : *q) {
      const Entry& e = m_pool[slot];
      const DramRequest& r = m_requests[slot];
      // The age decides starvation, so it is kept exactly.
      o.insert(o.end(), {e.row - rows, diff(e.enqueued), e.bank, e.column, e.group, e.bursts_done,
                         e.did_act * 2 + e.did_pre, static_cast<int64_t>(r.addr - addr_back),
                         static_cast<int64_t>(r.id - id_back), diff(r.arrival), r.is_write});
    }
  }
  for (const Bank& b : m_banks)
    o.insert(o.end(), {b.open_row < 0 ? std::numeric_limits<int64_t>::min() : b.open_row - rows,
                       b.accessed, rel(b.act_ready), rel(b.pre_ready), rel(b.rd_ready),
                       rel(b.wr_ready), b.pending_hits[0], b.pending_hits[1]});
  for (const Group& g : m_groups)
    o.insert(o.end(), {rel(g.act_ready), rel(g.rd_ready), rel(g.wr_ready)});
  o.insert(o.end(), {rel(m_act_ready), rel(m_rd_ready), rel(m_wr_ready), rel(m_ref_ready),
                     m_faw_count, m_draining, m_floor_skip, rel(m_col_floor), m_col_floor_queue});
  // Oldest first; only m_faw[head] + tFAW is ever read, once four are held.
  for (int i = 0; i < m_faw_count; ++i)
    o.push_back(rel(m_faw[(m_faw_head + 4 - m_faw_count + i) % 4] + m_s.tFAW));
  // The next event: a deadline set by the refresh (nothing earlier to do) stays where it is.
  if (with_refresh) o.push_back(diff(m_refresh_due));
  if (m_next == kNever)
    o.push_back(-1);
  else if (!with_refresh && m_sys.config().refresh && m_next >= m_refresh_due)
    o.push_back(-2);
  else
    o.push_back(rel(m_next));
}

void DramController::translate(uint64_t cycles, int64_t rows, uint64_t addr_delta,
                               uint64_t id_delta, bool with_refresh) {
  for (const Queue* q : {&m_reads, &m_writes})
    for (const uint32_t slot : *q) {
      Entry& e = m_pool[slot];
      DramRequest& r = m_requests[slot];
      e.row += rows;
      e.enqueued += cycles;
      r.addr += addr_delta;
      r.id += id_delta;
      r.arrival += cycles;
    }
  for (Bank& b : m_banks) {
    if (b.open_row >= 0) b.open_row += rows;
    b.act_ready += cycles;
    b.pre_ready += cycles;
    b.rd_ready += cycles;
    b.wr_ready += cycles;
  }
  for (Group& g : m_groups) {
    g.act_ready += cycles;
    g.rd_ready += cycles;
    g.wr_ready += cycles;
  }
  for (uint64_t* t : {&m_act_ready, &m_rd_ready, &m_wr_ready, &m_ref_ready, &m_col_floor})
    *t += cycles;
  for (uint64_t& t : m_faw) t += cycles;
  for (uint64_t& t : m_starved)
    if (t != kNever) t += cycles;
  if (with_refresh) {
    m_refresh_due += cycles;
    if (m_next != kNever) m_next += cycles;
  } else if (m_next != kNever && !(m_sys.config().refresh && m_next >= m_refresh_due)) {
    m_next += cycles;
  }
}

void DramController::queued_addresses(std::vector<uint64_t>& out) const {
  for (const Queue* q : {&m_reads, &m_writes})
    for (const uint32_t slot : *q) out.push_back(m_requests[slot].addr);
}

}  // namespace moesim
