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

  m_clock = TickClock(m_spec.tck_ps * 1e-12 / sc_core::sc_get_time_resolution().to_seconds());
  m_blocked.resize(static_cast<size_t>(stacks) * m_spec.units() * 2);
  m_stats = std::make_unique<DetailedDramStats>(static_cast<const char*>(a.name), a.stats_parent,
                                                peak_bytes_per_s(),
                                                [this] { return refresh_overhead(); });
  for (size_t s = 0; s < m_sys.size(); ++s) {
    m_sys[s]->set_completion_callback(
        [this](const DramRequest& r, uint64_t) { on_complete(static_cast<uint32_t>(r.id)); });
  }
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
  t.client = client;
  t.tag = tag;
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
  const uint32_t id = new_transfer(addr, bytes, write, client, tag);
  if (m_transfers[id].to_issue == 0) {
    // Nothing to move: complete on the next step, after the caller has returned.
    m_done.emplace_back(client, tag);
    m_free.push_back(id);
  } else {
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
  --t.to_issue;
  ++t.in_flight;
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
  if (t.to_issue == 0 && t.in_flight == 0) {
    m_done.emplace_back(t.client, t.tag);
    m_free.push_back(id);
  }
}

void DetailedDram::step() {
  ++m_wakeups;
  const uint64_t now = sc_time_stamp().value();
  // Catch up over an idle gap (only refreshes can be due there). After a tick the stacks are
  // already one cycle ahead of a wake-up in a later delta of the same time.
  uint64_t c = std::max(cycle_at(now), m_sys[0]->cycle());
  for (auto& s : m_sys)
    if (s->cycle() < c) s->advance_to(c);
  feed(c);
  uint64_t ne = kNever;
  for (const auto& s : m_sys) ne = std::min(ne, s->next_event_cycle());
  if (ne == c && time_of(c) == now) {
    for (auto& s : m_sys) s->tick();
    ++c;
    ne = kNever;
    for (const auto& s : m_sys) ne = std::min(ne, s->next_event_cycle());
    // A tick may have freed queue room: waiting transfers try again next cycle.
    if (!m_blocked_nonempty.empty()) ne = std::min(ne, c);
  }
  // m_done holds completions not yet reported; they are reported below, so m_active counts
  // them as still active here.
  const uint64_t reported = m_done.size();
  if (m_active > reported && ne != kNever) {
    m_wake.notify(checked_until(time_of(std::max(ne, c)), name()));
  }
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
  // Clients may start new transfers from the callback; those notify m_wake themselves.
  for (const auto& [client, tag] : done) client->transfer_done(tag);
}

std::pair<uint64_t, uint64_t> DetailedDram::done_bytes() const {
  uint64_t r = 0, w = 0;
  for (const auto& s : m_sys) {
    r += s->stats().reads * kAtom;
    w += s->stats().writes * kAtom;
  }
  return {r, w};
}

void DetailedDram::sync_stats() {
  DetailedDramStats& st = *m_stats;
  uint64_t reqs = 0, hits = 0, misses = 0, conflicts = 0, acts = 0, pres = 0, refs = 0, lat = 0;
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
