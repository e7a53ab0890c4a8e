/// Off-chip memory tier, detailed fidelity (see detailed_dram.hpp).

#include "hw_models/memory/detailed_dram.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "hw_models/memory/dram_fidelity.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/sim_time.hpp"

namespace moesim {

using sc_core::sc_time;
using sc_core::sc_time_stamp;

namespace {

constexpr uint64_t kAtom = 64;
constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
// Stream skip: positions of concurrent streams are compared in this many steps of a row span,
// and a mix is simulated for tREFI / kWarmupDivisor cycles after it starts (the transient of a
// new stream) before it is measured, or tREFI / kReuseWarmupDivisor before it is skipped at
// rates measured earlier. Chosen on the Mixtral decode step and the scenarios of
// tests/dram/test_stream_skip.cpp (hw_models/memory/README.md, "Approximate stream skip").
constexpr uint64_t kPhaseSteps = 16;
constexpr uint64_t kWarmupDivisor = 2;
constexpr uint64_t kReuseWarmupDivisor = 8;

DramSpec stack_spec(const Params& p) {
  return dram_preset(p.get_string("preset"));
}

DramConfig dram_config(const Params& p) {
  DramConfig c;
  c.mapping = p.get_string("address_mapping");
  c.read_queue_depth = static_cast<int>(p.get_int("queue_depth"));
  c.write_queue_depth = c.read_queue_depth;
  // The dram defaults (24/8 of 32) scaled to the depth: drain writes at 3/4 full, stop at 1/4.
  c.write_high_watermark = std::max(2, c.write_queue_depth * 3 / 4);
  c.write_low_watermark = std::max(1, c.write_queue_depth / 4);
  c.page_policy = p.get_string("page_policy") == "closed" ? PagePolicy::kClosed : PagePolicy::kOpen;
  c.refresh = p.get_bool("refresh");
  return c;
}

}  // namespace

Memory::Facts DetailedDram::describe(const Params& p) {
  // The mapping is checked here, read when the config is, so its error names the key.
  try {
    AddressMapping(stack_spec(p), p.get_string("address_mapping"));
  } catch (const InputError& e) {
    throw ParamError(p.path() + ".address_mapping", e.what());
  }
  return {p.get_bytes("capacity"), 0};
}

void DetailedDram::declare(ParamSchema& s) {
  // The keys of Registry<DramFidelity> (test Registries.DramFidelitiesAreTheSchemaChoices):
  // this schema is built while the fidelities are still registering.
  s.add("fidelity", ParamType::kEnum,
        "detailed: cycle-level (this model); fast: stacks x the preset's peak x the calibrated "
        "efficiency of fast_calibration, plus its latency, bandwidth shared between transfers")
      .one_of({"detailed", "fast"})
      .default_value(std::string("detailed"));
  s.add("fast_calibration", ParamType::kEnum,
        "fidelity = \"fast\": the calibration-table pattern whose efficiency and latency it uses "
        "(hw_models/memory/README.md)")
      .one_of({"sequential", "strided", "random", "streaming"})
      .default_value(std::string("sequential"));
  s.add("preset", ParamType::kEnum, "DRAM device (organisation and JEDEC timings of one stack)")
      .one_of(dram_preset_names());
  s.add("stacks", ParamType::kInt,
        "independent copies of the preset (HBM stacks, DDR channels), interleaved every 64 B")
      .range(1, 64)
      .default_value(int64_t{1});
  s.add("capacity", ParamType::kSize,
        "capacity of the tier (addresses beyond stacks x the preset's capacity wrap)")
      .at_least(1);
  s.add("page_policy", ParamType::kEnum, "open: rows stay open; closed: precharge after access")
      .one_of({"open", "closed"})
      .default_value(std::string("open"));
  s.add("address_mapping", ParamType::kString,
        "address fields from the most significant bits down: ro, ba, bg, ch, pc, co")
      .default_value(DramConfig{}.mapping);
  s.add("queue_depth", ParamType::kInt, "read and write queue entries per pseudo-channel")
      .range(4, 4096)
      .default_value(int64_t{DramConfig{}.read_queue_depth});
  s.add("refresh", ParamType::kBool, "issue all-bank refreshes every tREFI").default_value(true);
  s.add("stream_skip", ParamType::kEnum,
        "off: simulate every request; exact: when the whole memory state repeats, one row up, "
        "while the transfers stream, advance whole repeats without simulating them (identical "
        "results; hw_models/memory/README.md, \"Exact period skip\"); approximate: once a mix "
        "of concurrent transfers (how many read and how many write transfers are active) has run "
        "at steady rates over two refresh intervals, advance it, and every later occurrence of "
        "the mix, at those rates instead of simulating it (\"Approximate stream skip\")")
      .one_of({"off", "exact", "approximate"})
      .default_value(std::string("off"));
  s.add("stream_skip_tolerance", ParamType::kFloat,
        "stream_skip = \"approximate\": the largest relative difference between the rates of two "
        "consecutive refresh intervals that counts as steady")
      .range(0, 1)
      .default_value(0.01);
}

DetailedDram::DetailedDram(const Memory::Args& a)
    : Memory(a.name),
      m_spec(stack_spec(a.params)),
      m_capacity(describe(a.params).capacity_bytes),
      m_device_bytes(0),
      m_stack_bytes(m_spec.capacity_bytes()) {
  const DramConfig cfg = dram_config(a.params);
  const int stacks = static_cast<int>(a.params.get_int("stacks"));
  try {
    for (int s = 0; s < stacks; ++s) m_sys.push_back(std::make_unique<DramSystem>(m_spec, cfg));
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", a.params.path(), e.what()));
  }
  m_device_bytes = m_stack_bytes * static_cast<uint64_t>(stacks);

  // Allocation alignment: the smallest power of two whose address lands in another bank or
  // row than address 0. Transfers starting on such a boundary never share a page with the
  // previous transfer, so concurrent transfers see the row conflicts real buffers would.
  const AddressMapping& map = m_sys[0]->mapping();
  const DramLocation zero = map.decode(0);
  uint64_t align = kAtom;
  while (align < m_stack_bytes) {
    const DramLocation l = map.decode(align);
    if (l.row != zero.row || l.bank != zero.bank) break;
    align <<= 1;
  }
  m_alloc_align = align * static_cast<uint64_t>(stacks);

  // Stream skip: the bank pattern's period, one row span over every stack; 0 if none.
  m_phase_period = m_sys[0]->row_span_bytes() / kAtom * static_cast<uint64_t>(stacks);
  m_phase_quantum = std::max<uint64_t>(1, m_phase_period / kPhaseSteps);

  m_clock = TickClock(m_spec.tck_ps * 1e-12 / sc_core::sc_get_time_resolution().to_seconds());
  m_blocked.resize(static_cast<size_t>(stacks) * m_spec.units() * 2);
  m_stats = std::make_unique<DetailedDramStats>(static_cast<const char*>(a.name), a.stats_parent,
                                                peak_bytes_per_s(),
                                                [this] { return refresh_overhead(); });
  for (size_t s = 0; s < m_sys.size(); ++s) {
    m_sys[s]->set_completion_callback(
        [this](const DramRequest& r, uint64_t) { on_complete(static_cast<uint32_t>(r.id)); });
  }
  m_skip_on = a.params.get_string("stream_skip") == "approximate";
  m_write_floor = static_cast<uint64_t>(cfg.write_low_watermark) * m_spec.units() * m_sys.size();
  m_skip_tolerance = a.params.get_float("stream_skip_tolerance");
  if (m_skip_on) m_skip_stats = std::make_unique<StreamSkipStats>("stream_skip", m_stats.get());
  m_exact_on = a.params.get_string("stream_skip") == "exact";
  m_row_atoms = m_sys[0]->row_step_bytes() / kAtom * m_sys.size();
  if (m_exact_on) m_exact_stats = std::make_unique<ExactSkipStats>("exact_skip", m_stats.get());
  SC_METHOD(step);
  sensitive << m_wake;
  dont_initialize();
}

DetailedDram::~DetailedDram() = default;

double DetailedDram::peak_bytes_per_s() const {
  return m_spec.peak_bytes_per_s() * static_cast<double>(m_sys.size());
}

const MemoryStats& DetailedDram::stats() const {
  return *m_stats;
}

const DetailedDramStats& DetailedDram::dram_stats() const {
  return *m_stats;
}

uint64_t DetailedDram::read_queue_slots() const {
  return static_cast<uint64_t>(m_sys.size()) * m_spec.units() * m_sys[0]->config().read_queue_depth;
}

uint32_t DetailedDram::new_transfer(uint64_t addr, uint64_t bytes, bool write, MemoryClient* client,
                                    uint64_t tag) {
  if (write) {
    m_stats->write_bytes += bytes;
    ++m_stats->writes;
  } else {
    m_stats->read_bytes += bytes;
    ++m_stats->reads;
  }
  if (m_active++ == 0) {
    m_busy_since = sc_time_stamp();
    if (m_timeline) {
      const auto [r, w] = done_bytes();
      m_window.begin(*m_timeline, m_busy_since.value(), r, w);
    }
  }
  uint32_t id;
  if (!m_free.empty()) {
    id = m_free.back();
    m_free.pop_back();
  } else {
    id = static_cast<uint32_t>(m_transfers.size());
    m_transfers.emplace_back();
  }
  Transfer& t = m_transfers[id];
  t.next_addr = addr % m_device_bytes;
  t.to_issue = (bytes + kAtom - 1) / kAtom;
  t.in_flight = 0;
  t.write = write;
  t.active = false;
  t.client = client;
  t.tag = tag;
  t.seq = m_seq++;
  t.left = 0;
  t.drained = 0;
  t.share = 0;
  return id;
}

void DetailedDram::transfer(uint64_t bytes, bool write, MemoryClient* client, uint64_t tag) {
  // Running allocator: each transfer gets the next page-aligned region, wrapping at the
  // modelled capacity (timing depends on where addresses land, not on what they hold).
  if (m_alloc_next + bytes > m_device_bytes) m_alloc_next = 0;
  const uint64_t base = m_alloc_next;
  m_alloc_next = (base + bytes + m_alloc_align - 1) / m_alloc_align * m_alloc_align;
  transfer_at(base, bytes, write, client, tag);
}

void DetailedDram::transfer_at(uint64_t addr, uint64_t bytes, bool write, MemoryClient* client,
                               uint64_t tag) {
  // Skipping: the transfers already active have progressed at the old mix's rates until now.
  if (m_mode == Mode::kSkip) skip_settle(cycle_at(sc_time_stamp().value()));
  // Repeating: the state the full simulation has reached by now.
  if (m_virtual) materialize();
  const uint32_t id = new_transfer(addr, bytes, write, client, tag);
  Transfer& t = m_transfers[id];
  if (t.to_issue == 0) {
    // Nothing to move: complete on the next step, after the caller has returned.
    m_done.emplace_back(client, tag);
    m_free.push_back(id);
  } else {
    t.active = true;
    ++(write ? m_streaming_writes : m_streaming_reads);
    ++m_epoch;
    if (m_mode == Mode::kSkip)
      t.left = static_cast<double>(t.to_issue);
    else
      m_ready.push_back(id);
  }
  // A delta notification overrides a pending timed one; step() then reschedules.
  m_wake.notify(zero_delay(name()));
}

bool DetailedDram::try_issue(uint32_t id, uint64_t cycle, size_t& blocked_list) {
  Transfer& t = m_transfers[id];
  uint64_t local;
  size_t stack = 0;
  if (m_sys.size() == 1) {
    local = t.next_addr;
  } else {
    const uint64_t atom = t.next_addr / kAtom;
    stack = atom % m_sys.size();
    local = atom / m_sys.size() * kAtom;
  }
  DramSystem& sys = *m_sys[stack];
  if (!sys.can_accept(local, t.write)) {
    const int unit = sys.mapping().decode(local).unit(m_spec);
    blocked_list = (stack * m_spec.units() + unit) * 2 + (t.write ? 1 : 0);
    return false;
  }
  sys.enqueue(DramRequest{local, t.write, id, cycle});
  t.next_addr += kAtom;
  if (t.next_addr >= m_device_bytes) t.next_addr -= m_device_bytes;
  ++t.in_flight;
  if (--t.to_issue == 0) {
    // Its tail (requests in flight) is no longer part of the streaming mix.
    --(t.write ? m_streaming_writes : m_streaming_reads);
    ++m_epoch;
  }
  return true;
}

void DetailedDram::feed(uint64_t cycle) {
  // Transfers that waited for a full queue go first, in the order they blocked.
  size_t keep = 0;
  for (size_t i = 0; i < m_blocked_nonempty.size(); ++i) {
    const size_t li = m_blocked_nonempty[i];
    std::deque<uint32_t>& q = m_blocked[li];
    size_t ignored;
    while (!q.empty() && try_issue(q.front(), cycle, ignored)) {
      const uint32_t id = q.front();
      q.pop_front();
      if (m_transfers[id].to_issue) m_ready.push_back(id);
    }
    if (!q.empty()) m_blocked_nonempty[keep++] = li;
  }
  m_blocked_nonempty.resize(keep);
  // Then every ready transfer in turn, one request per turn, until each is done or blocked.
  while (!m_ready.empty()) {
    const uint32_t id = m_ready.front();
    m_ready.pop_front();
    size_t li = 0;
    if (try_issue(id, cycle, li)) {
      if (m_transfers[id].to_issue) m_ready.push_back(id);
    } else {
      if (m_blocked[li].empty()) m_blocked_nonempty.push_back(li);
      m_blocked[li].push_back(id);
    }
  }
}

void DetailedDram::on_complete(uint32_t id) {
  Transfer& t = m_transfers[id];
  --t.in_flight;
  if (m_mode == Mode::kDrain) ++t.drained;
  if (t.to_issue == 0 && t.in_flight == 0) {
    t.active = false;
    ++m_epoch;
    // Draining to skip flushes the last writes of a write transfer, which the write-drain
    // policy would keep queued while reads stream: report them when reads stop (or more writes
    // arrive) instead.
    if (m_mode == Mode::kDrain && t.write && m_streaming_reads > 0)
      m_parked.push_back({t.client, t.tag, m_sys[0]->cycle(), std::min(t.drained, m_write_floor)});
    else
      m_done.emplace_back(t.client, t.tag);
    m_free.push_back(id);
  }
}

uint64_t DetailedDram::catch_up(uint64_t now) {
  // Catch up over an idle gap (only refreshes can be due there). After a tick the stacks are
  // already one cycle ahead of a wake-up in a later delta of the same time.
  const uint64_t c = std::max(cycle_at(now), m_sys[0]->cycle());
  for (auto& s : m_sys)
    if (s->cycle() < c) s->advance_to(c);
  return c;
}

uint64_t DetailedDram::simulate(uint64_t now, uint64_t& c) {
  if (m_mode == Mode::kSimulate) feed(c);
  uint64_t ne = kNever;
  for (const auto& s : m_sys) ne = std::min(ne, s->next_event_cycle());
  if (ne == c && time_of(c) == now) {
    for (auto& s : m_sys) s->tick();
    ++c;
    ne = kNever;
    for (const auto& s : m_sys) ne = std::min(ne, s->next_event_cycle());
    // A tick may have freed queue room: waiting transfers try again next cycle.
    if (m_mode == Mode::kSimulate && !m_blocked_nonempty.empty()) ne = std::min(ne, c);
  }
  return ne;
}

void DetailedDram::step() {
  ++m_wakeups;
  if (m_virtual) {
    // A timeline samples every step: the repeat ends and this step is simulated.
    if (!m_timeline) {
      virtual_step();
      return;
    }
    materialize();
  }
  const uint64_t now = sc_time_stamp().value();
  uint64_t c = catch_up(now);
  // Held-back write completions are due once no read streams (judged before this step's own
  // completions, whose clients may start the next read from their callbacks) or a write does.
  if (!m_parked.empty() && (m_streaming_reads == 0 || m_streaming_writes > 0)) {
    for (const Parked& p : m_parked) {
      m_done.emplace_back(p.client, p.tag);
      // Its drained requests would have waited in the queue until now.
      m_skipped[7] += static_cast<double>(p.requests) * static_cast<double>(c - p.cycle);
    }
    m_parked.clear();
  }
  uint64_t ne = kNever;
  if (m_mode == Mode::kSkip) {
    skip_settle(c);
    if (update_watch_key() && m_streaming_reads + m_streaming_writes > 0) {
      // The mix changed: go on skipping at its rates if they are known.
      const auto it = m_rates.find(m_watch_key);
      if (it != m_rates.end())
        assign_shares(it->second);
      else
        leave_skip();
    }
    // Past the rates' horizon the streams' distances have changed: measure them again.
    if (m_mode == Mode::kSkip && c >= m_skip_until && m_streaming_reads + m_streaming_writes > 0)
      leave_skip();
    if (m_mode == Mode::kSkip) ne = skip_next_cycle();
  }
  if (m_mode != Mode::kSkip) {
    ne = simulate(now, c);
    if (m_skip_on) {
      if (m_mode == Mode::kSimulate) skip_watch(c);
      bool drained = m_mode == Mode::kDrain;
      for (const auto& s : m_sys) drained = drained && s->idle();
      if (drained) {
        // Every queued request has completed: skip if the mix now active is measured,
        // otherwise simulate it.
        update_watch_key();
        const auto it = m_rates.find(m_watch_key);
        if (m_streaming_reads + m_streaming_writes > 0 && it != m_rates.end()) {
          enter_skip(c, it->second);
          ne = skip_next_cycle();
        } else {
          m_mode = Mode::kSimulate;
          m_watch_epoch = ~uint64_t{0};
          if (!m_ready.empty() || !m_blocked_nonempty.empty()) ne = c;
        }
      }
    }
  }
  // m_done holds completions not yet reported; they are reported below, so m_active counts
  // them as still active here.
  const uint64_t reported = m_done.size();
  uint64_t wake = kNever;
  if (m_active > reported && ne != kNever) {
    wake = std::max(ne, c);
    m_wake.notify(checked_until(time_of(wake), name()));
  }
  if (m_exact_on) exact_watch(c, wake);
  sync_stats();
  if (m_timeline && m_active > 0) {
    const auto [r, w] = done_bytes();
    m_window.update(*m_timeline, now, r, w);
  }
  if (m_done.empty()) return;
  std::vector<std::pair<MemoryClient*, uint64_t>> done;
  done.swap(m_done);
  m_active -= done.size();
  if (m_active == 0) {
    m_stats->busy_s += (sc_time_stamp() - m_busy_since).to_seconds();
    if (m_timeline) {
      const auto [r, w] = done_bytes();
      m_window.end(*m_timeline, now, r, w);
      m_timeline->busy(m_busy_since.value(), now);
    }
  }
  // Clients may start new transfers from the callback; those notify m_wake themselves. With
  // completions held back, look again once the callbacks have run.
  if (!m_parked.empty()) m_wake.notify(zero_delay(name()));
  for (const auto& [client, tag] : done) client->transfer_done(tag);
}

std::pair<uint64_t, uint64_t> DetailedDram::done_bytes() const {
  uint64_t r = static_cast<uint64_t>(std::llround(m_skipped[0])) * kAtom;
  uint64_t w = static_cast<uint64_t>(std::llround(m_skipped[1])) * kAtom;
  for (const auto& s : m_sys) {
    r += s->stats().reads * kAtom;
    w += s->stats().writes * kAtom;
  }
  return {r, w};
}

DetailedDram::Snapshot DetailedDram::snapshot() const {
  Snapshot n;
  n.cycle = m_sys[0]->cycle();
  for (const auto& s : m_sys) {
    const DramStats& d = s->stats();
    const uint64_t v[8] = {d.reads,         d.writes,    d.row_hits,   d.row_misses,
                           d.row_conflicts, d.activates, d.precharges, d.latency_sum};
    for (size_t k = 0; k < n.v.size(); ++k) n.v[k] += v[k];
  }
  for (const uint32_t id : streaming()) n.to_issue.push_back(m_transfers[id].to_issue);
  return n;
}

std::vector<uint32_t> DetailedDram::streaming() const {
  std::vector<uint32_t> ids;
  for (uint32_t id = 0; id < m_transfers.size(); ++id) {
    const Transfer& t = m_transfers[id];
    if (t.active && (m_mode == Mode::kSkip || t.to_issue > 0)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end(),
            [this](uint32_t a, uint32_t b) { return m_transfers[a].seq < m_transfers[b].seq; });
  return ids;
}

void DetailedDram::assign_shares(const MixRates& rates) {
  const std::vector<uint32_t> ids = streaming();
  for (size_t i = 0; i < ids.size(); ++i) m_transfers[ids[i]].share = rates.share.at(i);
  m_skip_rates = &rates;
  const double until = static_cast<double>(m_skip_cycle) + rates.horizon;
  m_skip_until = until < 1.8e19 ? static_cast<uint64_t>(until) : kNever;
}

std::vector<uint64_t> DetailedDram::mix_key() const {
  std::vector<const Transfer*> active;
  for (const uint32_t id : streaming()) active.push_back(&m_transfers[id]);
  std::vector<uint64_t> key{m_streaming_reads, m_streaming_writes};
  if (active.empty()) return key;
  if (m_phase_period == 0) {
    // No row-periodic mapping to compare positions by: the rates of one occurrence are not
    // reused for another.
    key.push_back(m_epoch);
    return key;
  }
  const uint64_t atoms = m_device_bytes / kAtom;
  const auto position = [&](const Transfer& t) {
    uint64_t done = 0;  // skipping: the requests the rates have completed
    if (m_mode == Mode::kSkip)
      done = t.to_issue - static_cast<uint64_t>(std::ceil(std::max(0.0, t.left - 1e-9)));
    return (t.next_addr / kAtom + done) % atoms;
  };
  const uint64_t first = position(*active.front());
  for (size_t i = 1; i < active.size(); ++i) {
    const uint64_t d = (position(*active[i]) + atoms - first) % m_phase_period;
    key.push_back(active[i]->write ? 1 : 0);
    key.push_back(d / m_phase_quantum);
  }
  return key;
}

bool DetailedDram::update_watch_key() {
  if (m_epoch == m_watch_epoch) return false;
  m_watch_epoch = m_epoch;
  m_watch_key = mix_key();
  return true;
}

void DetailedDram::skip_watch(uint64_t cycle) {
  const uint64_t refi = static_cast<uint64_t>(m_spec.tREFI);
  if (update_watch_key()) {
    // The mix changed: skip it if it is measured, otherwise measure it after a warm-up.
    m_watch_stage = -1;
    if (m_streaming_reads + m_streaming_writes == 0) return;
    m_watch_stage = m_rates.count(m_watch_key) ? 3 : 0;
    m_watch_next = cycle + refi / (m_watch_stage == 3 ? kReuseWarmupDivisor : kWarmupDivisor);
    return;
  }
  if (m_watch_stage < 0 || cycle < m_watch_next) return;
  if (m_watch_stage == 3) {
    // A measured mix, past the transient of its start: skip it.
    m_mode = Mode::kDrain;
    return;
  }
  m_watch_next = cycle + refi;
  const Snapshot now = snapshot();
  if (m_watch_stage == 2) {
    // Intervals [snap0, snap1) and [snap1, now) each hold one refresh of every unit.
    const Snapshot& a = m_snap[0];
    const Snapshot& b = m_snap[1];
    // Steady: every stream moved at the same rate in both intervals (within the tolerance).
    bool steady =
        a.to_issue.size() == now.to_issue.size() && b.to_issue.size() == now.to_issue.size();
    MixRates r;
    const double cycles = static_cast<double>(now.cycle - a.cycle);
    for (size_t i = 0; steady && i < now.to_issue.size(); ++i) {
      const double r1 = static_cast<double>(a.to_issue[i] - b.to_issue[i]) /
                        static_cast<double>(b.cycle - a.cycle);
      const double r2 = static_cast<double>(b.to_issue[i] - now.to_issue[i]) /
                        static_cast<double>(now.cycle - b.cycle);
      if (!(r1 > 0 && r2 > 0) || std::abs(r1 - r2) > m_skip_tolerance * std::max(r1, r2))
        steady = false;
      r.share.push_back(static_cast<double>(a.to_issue[i] - now.to_issue[i]) / cycles);
    }
    if (steady) {
      const double reqs = static_cast<double>(now.v[0] + now.v[1] - a.v[0] - a.v[1]);
      for (size_t k = 0; k < r.per_request.size(); ++k)
        r.per_request[k] = static_cast<double>(now.v[k + 2] - a.v[k + 2]) / reqs;
      // Streams at unequal rates change their distances, and with them the rates: skip only
      // until the distances have moved by one step of the key.
      double drift = 0;
      for (const double sh : r.share) drift = std::max(drift, std::abs(sh - r.share.front()));
      r.horizon = drift > 0 && m_phase_period > 0 ? static_cast<double>(m_phase_quantum) / drift
                                                  : std::numeric_limits<double>::infinity();
      m_rates.emplace(m_watch_key, r);
      ++m_skip_stats->measured;
      m_mode = Mode::kDrain;
      return;
    }
    m_snap[0] = m_snap[1];
    m_snap[1] = now;
    return;
  }
  m_snap[m_watch_stage] = now;
  ++m_watch_stage;
}

void DetailedDram::enter_skip(uint64_t cycle, const MixRates& rates) {
  m_mode = Mode::kSkip;
  m_skip_cycle = cycle;
  m_ready.clear();
  for (const size_t li : m_blocked_nonempty) m_blocked[li].clear();
  m_blocked_nonempty.clear();
  for (Transfer& t : m_transfers)
    if (t.active) t.left = static_cast<double>(t.to_issue);  // nothing is in flight
  assign_shares(rates);
  ++m_skip_stats->entries;
}

void DetailedDram::skip_settle(uint64_t cycle) {
  if (cycle <= m_skip_cycle || m_skip_rates == nullptr) return;
  const double dt = static_cast<double>(cycle - m_skip_cycle);
  m_skip_cycle = cycle;
  for (uint32_t id = 0; id < m_transfers.size(); ++id) {
    Transfer& t = m_transfers[id];
    if (!t.active) continue;
    const double done = std::min(t.left, dt * t.share);
    t.left -= done;
    m_skipped[t.write ? 1 : 0] += done;
    for (size_t k = 0; k < m_skip_rates->per_request.size(); ++k)
      m_skipped[2 + k] += done * m_skip_rates->per_request[k];
    if (t.left > 1e-9 * static_cast<double>(t.to_issue)) continue;
    m_skipped[t.write ? 1 : 0] += t.left;  // rounding: the transfer moved to_issue requests
    t.left = 0;
    t.active = false;
    --(t.write ? m_streaming_writes : m_streaming_reads);
    ++m_epoch;
    m_done.emplace_back(t.client, t.tag);
    m_free.push_back(id);
  }
}

uint64_t DetailedDram::skip_next_cycle() const {
  double first = std::numeric_limits<double>::infinity();
  for (const Transfer& t : m_transfers) {
    if (!t.active) continue;
    first = std::min(first, std::ceil(t.left / t.share));
  }
  const uint64_t done =
      first < 1.8e19 ? m_skip_cycle + std::max<uint64_t>(1, static_cast<uint64_t>(first)) : kNever;
  return std::min(done, std::max(m_skip_until, m_skip_cycle + 1));
}

void DetailedDram::leave_skip() {
  // Simulate the rest of every active transfer, in arrival order, from where the rates put it.
  for (const uint32_t id : streaming()) {
    Transfer& t = m_transfers[id];
    const uint64_t n = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(t.left - 1e-9)));
    // The part of a request counted as skipped is simulated instead.
    const double back = static_cast<double>(n) - t.left;
    m_skipped[t.write ? 1 : 0] -= back;
    for (size_t k = 0; k < m_skip_rates->per_request.size(); ++k)
      m_skipped[2 + k] -= back * m_skip_rates->per_request[k];
    const uint64_t moved = t.to_issue - n;
    t.next_addr = (t.next_addr + moved % (m_device_bytes / kAtom) * kAtom) % m_device_bytes;
    t.to_issue = n;
    t.left = 0;
    m_ready.push_back(id);
  }
  m_mode = Mode::kSimulate;
  m_skip_rates = nullptr;
  m_watch_epoch = ~uint64_t{0};
  ++m_skip_stats->exits;
}

// ---- Exact period skip ------------------------------------------------------------------

namespace {
// Checkpoints kept to compare with: periods of up to this many row steps are found.
constexpr size_t kExactMarks = 8;
}  // namespace

void DetailedDram::exact_signature(uint64_t index, uint64_t wake, std::vector<int64_t>& o) const {
  const uint64_t c = m_sys[0]->cycle();
  const uint64_t back = index * m_row_atoms;
  o.clear();
  // When the next step runs, then the feeder: every active transfer's cursor (less the row
  // steps), what it has left and in flight, and the order of the turn and wait queues.
  o.push_back(static_cast<int64_t>(wake - c));
  for (uint32_t id = 0; id < m_transfers.size(); ++id) {
    const Transfer& t = m_transfers[id];
    if (!t.active) continue;
    o.insert(o.end(),
             {id, static_cast<int64_t>(t.next_addr - back * kAtom),
              static_cast<int64_t>(t.to_issue + back), static_cast<int64_t>(t.in_flight), t.write});
  }
  o.push_back(static_cast<int64_t>(m_ready.size()));
  for (const uint32_t id : m_ready) o.push_back(id);
  o.push_back(static_cast<int64_t>(m_blocked_nonempty.size()));
  for (const size_t li : m_blocked_nonempty) {
    o.push_back(static_cast<int64_t>(li));
    o.push_back(static_cast<int64_t>(m_blocked[li].size()));
    for (const uint32_t id : m_blocked[li]) o.push_back(id);
  }
  for (const auto& sys : m_sys) sys->period_signature(index, 0, false, o);
}

void DetailedDram::exact_watch(uint64_t c, uint64_t wake) {
  if (m_row_atoms == 0 || m_timeline) return;
  // The checkpoints hold only while the same transfers stream and nothing completes.
  if (m_epoch != m_exact_epoch || !m_done.empty() || wake == kNever) {
    m_exact_epoch = m_epoch;
    m_marks.clear();
    m_wakes.clear();
    m_ahead.clear();
    m_has_leader = false;
    if (!m_done.empty() || wake == kNever) {
      m_exact_epoch = ~uint64_t{0};
      return;
    }
    for (const uint32_t id : streaming())
      if (m_transfers[id].to_issue > m_row_atoms) {
        m_has_leader = true;
        m_leader = id;
        m_leader_base = m_transfers[id].to_issue;
        m_next_mark = m_leader_base - m_row_atoms;
        break;
      }
    return;
  }
  if (!m_has_leader) return;
  // What this step leaves scheduled that the refresh deadlines did not set: the repeat must
  // end before a deadline could cut in (DramSystem::latest_next_before_refresh()).
  uint64_t ahead = wake;
  for (const auto& sys : m_sys) ahead = std::max(ahead, sys->latest_next_before_refresh());
  if (!m_marks.empty()) {
    m_wakes.push_back(wake);
    m_ahead.push_back(ahead);
  }
  const Transfer& lead = m_transfers[m_leader];
  if (lead.to_issue > m_next_mark) return;
  const uint64_t index = (m_leader_base - m_next_mark) / m_row_atoms;
  if (m_next_mark > m_row_atoms)
    m_next_mark -= m_row_atoms;
  else
    m_has_leader = false;  // no further row step before it ends
  exact_signature(index, wake, m_exact_sig);

  // The most recent checkpoint whose state this one translates, with no REF between.
  uint64_t due = kNever;
  for (const auto& sys : m_sys) due = std::min(due, sys->next_refresh_due());
  for (size_t i = m_marks.size(); i-- > 0 && c < due;) {
    const ExactMark& ref = m_marks[i];
    bool same = ref.cycle < c && ref.sig == m_exact_sig;
    for (size_t k = 0; same && k < m_sys.size(); ++k)
      same = ref.stats[k].refreshes == m_sys[k]->stats().refreshes;
    if (!same) continue;
    const uint64_t steps = index - ref.index;
    const uint64_t period = c - ref.cycle;
    // Whole periods whose every step, and everything it schedules, stays before the next
    // refresh deadline, that leave every stream a row step to end on, and that keep every
    // address in its stack.
    uint64_t latest = ahead;
    for (size_t w = ref.wake_pos; w < m_ahead.size(); ++w) latest = std::max(latest, m_ahead[w]);
    if (latest >= due) break;
    uint64_t k = (due - 1 - latest) / period;
    std::vector<uint32_t> streams;
    for (uint32_t id = 0; id < m_transfers.size(); ++id) {
      const Transfer& t = m_transfers[id];
      if (!t.active || t.to_issue == 0) continue;
      streams.push_back(id);
      k = std::min(
          k, t.to_issue <= m_row_atoms ? 0 : (t.to_issue - m_row_atoms) / (steps * m_row_atoms));
    }
    auto fits = [&](uint64_t n) {
      for (const auto& sys : m_sys)
        if (!sys->state_translates(n * steps)) return false;
      for (const uint32_t id : streams) {
        const uint64_t a = m_transfers[id].next_addr / kAtom;
        const uint64_t local = a / m_sys.size() * kAtom;
        if (!m_sys[a % m_sys.size()]->translates(local, n * steps)) return false;
      }
      return true;
    };
    while (k > 0 && !fits(k)) k /= 2;
    if (k == 0) break;
    m_rep.period = period;
    m_rep.steps = steps;
    m_rep.periods = k;
    m_rep.done = 0;
    m_rep.wakes.assign(m_wakes.begin() + static_cast<std::ptrdiff_t>(ref.wake_pos), m_wakes.end());
    m_rep.from = ref.stats;
    m_rep.to.clear();
    m_rep.requests = 0;
    for (size_t k2 = 0; k2 < m_sys.size(); ++k2) {
      const DramStats& now = m_sys[k2]->stats();
      m_rep.to.push_back(now);
      m_rep.requests += (now.reads + now.writes) - (ref.stats[k2].reads + ref.stats[k2].writes);
    }
    m_rep.streams = std::move(streams);
    m_virtual = true;
    m_marks.clear();
    m_wakes.clear();
    m_ahead.clear();
    ++m_exact_stats->skips;
    return;
  }
  if (m_marks.size() == kExactMarks) {
    const size_t drop = m_marks[1].wake_pos;
    m_marks.erase(m_marks.begin());
    m_wakes.erase(m_wakes.begin(), m_wakes.begin() + static_cast<std::ptrdiff_t>(drop));
    m_ahead.erase(m_ahead.begin(), m_ahead.begin() + static_cast<std::ptrdiff_t>(drop));
    for (ExactMark& m : m_marks) m.wake_pos -= drop;
  }
  std::vector<DramStats> stats;
  for (const auto& sys : m_sys) stats.push_back(sys->stats());
  m_marks.push_back({index, c, m_exact_sig, std::move(stats), m_wakes.size()});
}

void DetailedDram::virtual_step() {
  // This is step i of period t of the repeat; it schedules what step i of the recorded period
  // scheduled, t periods later.
  const uint64_t n = m_rep.wakes.size();
  const uint64_t e = m_rep.done++;
  const uint64_t t = e / n + 1;
  const uint64_t wake = m_rep.wakes[e % n] + t * m_rep.period;
  if (m_rep.done == m_rep.periods * n) materialize();
  m_wake.notify(checked_until(time_of(wake), name()));
}

void DetailedDram::materialize() {
  m_virtual = false;
  const uint64_t n = m_rep.wakes.size();
  const uint64_t whole = m_rep.done / n;
  const uint64_t rest = m_rep.done % n;
  if (whole > 0) {
    for (size_t k = 0; k < m_sys.size(); ++k) {
      m_sys[k]->add_repeats(m_rep.from[k], m_rep.to[k], whole);
      m_sys[k]->translate(whole * m_rep.period, whole * m_rep.steps, 0, false);
    }
    const uint64_t atoms = whole * m_rep.steps * m_row_atoms;
    for (const uint32_t id : m_rep.streams) {
      Transfer& t = m_transfers[id];
      t.next_addr += atoms * kAtom;
      t.to_issue -= atoms;
    }
    m_exact_stats->requests += whole * m_rep.requests;
  }
  // The steps of the period under way, simulated as the full simulation ran them: step i
  // runs at the cycle step i - 1 scheduled.
  for (uint64_t i = 0; i < rest; ++i) {
    const uint64_t at = i == 0 ? m_rep.wakes[n - 1] + whole * m_rep.period
                               : m_rep.wakes[i - 1] + (whole + 1) * m_rep.period;
    const uint64_t now = time_of(at);
    uint64_t c = catch_up(now);
    simulate(now, c);
  }
  m_exact_epoch = ~uint64_t{0};
  sync_stats();
}

void DetailedDram::end_of_simulation() {
  if (m_virtual) materialize();
  sync_stats();
}

void DetailedDram::sync_stats() {
  DetailedDramStats& st = *m_stats;
  uint64_t reqs = 0, hits = 0, misses = 0, conflicts = 0, acts = 0, pres = 0, refs = 0, lat = 0;
  if (m_skip_on) {
    // Skipped requests, at the rates of their mixes (rounded: the counts are whole).
    const auto whole = [this](size_t k) {
      return static_cast<uint64_t>(std::llround(std::max(0.0, m_skipped[k])));
    };
    reqs = whole(0) + whole(1);
    hits = whole(2);
    misses = whole(3);
    conflicts = whole(4);
    acts = whole(5);
    pres = whole(6);
    lat = whole(7);
    m_skip_stats->requests += reqs - m_skip_stats->requests.get();
  }
  for (const auto& s : m_sys) {
    const DramStats& d = s->stats();
    reqs += d.reads + d.writes;
    hits += d.row_hits;
    misses += d.row_misses;
    conflicts += d.row_conflicts;
    acts += d.activates;
    pres += d.precharges;
    refs += d.refreshes;
    lat += d.latency_sum;
  }
  // Counters only grow: add what happened since the last sync.
  st.requests += reqs - st.requests.get();
  st.row_hits += hits - st.row_hits.get();
  st.row_misses += misses - st.row_misses.get();
  st.row_conflicts += conflicts - st.row_conflicts.get();
  st.activates += acts - st.activates.get();
  st.precharges += pres - st.precharges.get();
  st.refreshes += refs - st.refreshes.get();
  const uint64_t classified = hits + misses + conflicts;
  st.row_hit_rate.set(classified ? static_cast<double>(hits) / classified : 0.0);
  st.mean_latency.set(reqs ? static_cast<double>(lat) / reqs * tck_seconds() : 0.0);
  if (m_exact_on)
    m_exact_stats->fraction.set(reqs ? static_cast<double>(m_exact_stats->requests.get()) /
                                           static_cast<double>(reqs)
                                     : 0.0);
  if (m_skip_on)
    m_skip_stats->fraction.set(
        reqs ? static_cast<double>(m_skip_stats->requests.get()) / static_cast<double>(reqs) : 0.0);
}

double DetailedDram::refresh_overhead() const {
  double sum = 0;
  for (const auto& s : m_sys) sum += s->refresh_overhead();
  return sum / static_cast<double>(m_sys.size());
}

const std::vector<DramCalibration>& dram_calibration_table() {
  static const std::vector<DramCalibration> table = {
#include "hw_models/memory/dram/mem_calibration_table.inc"
  };
  return table;
}

const DramCalibration* find_dram_calibration(const std::string& preset,
                                             const std::string& pattern) {
  for (const DramCalibration& c : dram_calibration_table()) {
    if (preset == c.preset && pattern == c.pattern) return &c;
  }
  return nullptr;
}

namespace {

/// The detailed fidelity of a "dram" tier: this model.
class DetailedFidelity final : public DramFidelity {
 public:
  static void declare(ParamSchema&) {}
  explicit DetailedFidelity(const Args&) {}
  std::unique_ptr<Memory> build(const Memory::Args& a) const override {
    return std::make_unique<DetailedDram>(a);
  }
};

MOESIM_REGISTER(DramFidelity, DetailedFidelity, "detailed",
                "cycle-level: banks, rows, refresh and an FR-FCFS controller per pseudo-channel");

// Registered by hand rather than with MOESIM_REGISTER: `fidelity` picks the class.
const bool kRegisteredDram = Registry<Memory>::instance().add(
    {"dram",
     "off-chip DRAM tier (HBM, DDR) from a JEDEC preset; fidelity = \"detailed\": banks, rows, "
     "refresh and an FR-FCFS controller per pseudo-channel, transfers split into 64-byte "
     "requests; fidelity = \"fast\": the calibrated bandwidth and latency of the same device",
     declared_schema<DetailedDram>("dram"),
     [](const Memory::Args& a) -> std::unique_ptr<Memory> {
       const auto* fidelity =
           Registry<DramFidelity>::instance().find(a.params.get_string("fidelity"));
       if (fidelity == nullptr)
         throw InternalError(a.params.path() + ".fidelity: not a registered DRAM fidelity");
       return fidelity->create({})->build(a);
     },
     [](const Params& p) { return DetailedDram::describe(p); }});

}  // namespace

}  // namespace moesim
