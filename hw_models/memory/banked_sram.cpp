/// On-chip SRAM, detailed fidelity (see banked_sram.hpp).

#include "hw_models/memory/banked_sram.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "sim/core/registry.hpp"
#include "sim/core/sim_time.hpp"

namespace moesim {

using sc_core::sc_time;
using sc_core::sc_time_stamp;

namespace {

constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

SramGeometry geometry_of(const Params& p) {
  SramGeometry g;
  g.banks = static_cast<uint32_t>(p.get_int("banks"));
  g.bank_width = static_cast<uint32_t>(p.get_int("bank_width"));
  g.bank_ports = static_cast<uint32_t>(p.get_int("bank_ports"));
  g.ports = static_cast<uint32_t>(p.get_int("ports"));
  g.read_ports = static_cast<uint32_t>(p.get_int("read_ports"));
  g.write_ports = static_cast<uint32_t>(p.get_int("write_ports"));
  g.port_accesses = static_cast<uint32_t>(p.get_int("port_accesses"));
  g.interleave = p.get_string("interleave") == "xor" ? SramInterleave::kXor : SramInterleave::kWord;
  return g;
}

double cycles_now(double clock_hz) {
  return sc_time_stamp().to_seconds() * clock_hz;
}

}  // namespace

SramPortStats::SramPortStats(const std::string& name, StatGroup* parent, double clock_hz)
    : StatGroup(name, parent),
      utilisation(this, "utilisation", "1", "busy_cycles / simulated cycles", [this, clock_hz] {
        const double c = cycles_now(clock_hz);
        return c > 0 ? static_cast<double>(busy_cycles.get()) / c : 0.0;
      }) {}

BankedSramStats::BankedSramStats(const std::string& name, StatGroup* parent,
                                 double peak_bytes_per_s)
    : MemoryStats(name, parent, peak_bytes_per_s) {}

void BankedSram::declare(ParamSchema& s) {
  s.add("capacity", ParamType::kSize, "on-chip SRAM capacity (the allocator wraps here)")
      .at_least(1);
  s.add("banks", ParamType::kInt, "independent banks").range(1, 1 << 20);
  s.add("bank_width", ParamType::kInt, "bytes one bank access moves").range(1, 1 << 16);
  s.add("bank_ports", ParamType::kInt, "accesses one bank serves per cycle")
      .range(1, 64)
      .default_value(int64_t{1});
  s.add("ports", ParamType::kInt,
        "shared read/write ports of the array (transfers served per cycle)")
      .range(1, 1024)
      .default_value(int64_t{2});
  s.add("read_ports", ParamType::kInt, "read-only ports, in addition to the shared ones")
      .range(0, 1024)
      .default_value(int64_t{0});
  s.add("write_ports", ParamType::kInt, "write-only ports, in addition to the shared ones")
      .range(0, 1024)
      .default_value(int64_t{0});
  s.add("port_accesses", ParamType::kInt,
        "bank accesses one port issues per cycle (consecutive accesses of its transfer); "
        "0 = banks (one port can use the whole array)")
      .range(0, 1 << 20)
      .default_value(int64_t{0});
  s.add("interleave", ParamType::kEnum,
        "word: bank = word mod banks; xor: also XOR the bank index's low bits (as many as "
        "the largest power of two dividing banks) with the row's")
      .one_of({"word", "xor"})
      .default_value(std::string("word"));
  s.add("latency", ParamType::kTime, "from an access to its data at the requester")
      .default_value(Quantity{2, true});
}

BankedSram::BankedSram(const Memory::Args& a)
    : Memory(a.name),
      m_geom(geometry_of(a.params)),
      m_capacity(describe(a.params).capacity_bytes),
      m_clock_hz(a.clock_hz),
      m_engine(m_geom),
      m_predicted(m_geom) {
  const double res = sc_core::sc_get_time_resolution().to_seconds();
  m_clock = TickClock(1.0 / (a.clock_hz * res));
  m_latency_ticks = checked_ticks(a.params.get_seconds("latency", a.clock_hz) / res,
                                  std::string(name()) + " latency");
  m_stats = std::make_unique<BankedSramStats>(static_cast<const char*>(a.name), a.stats_parent,
                                              peak_bytes_per_s());
  // Ports in the engine's order: read-only, write-only, shared.
  for (uint32_t i = 0; i < m_geom.read_ports; ++i)
    m_stats->ports.push_back(
        std::make_unique<SramPortStats>(fmt::format("read_port{}", i), m_stats.get(), m_clock_hz));
  for (uint32_t i = 0; i < m_geom.write_ports; ++i)
    m_stats->ports.push_back(
        std::make_unique<SramPortStats>(fmt::format("write_port{}", i), m_stats.get(), m_clock_hz));
  for (uint32_t i = 0; i < m_geom.ports; ++i)
    m_stats->ports.push_back(
        std::make_unique<SramPortStats>(fmt::format("port{}", i), m_stats.get(), m_clock_hz));
  SC_METHOD(on_wake);
  sensitive << m_wake;
  dont_initialize();
  SC_METHOD(on_deliver);
  sensitive << m_deliver;
  dont_initialize();
}

BankedSram::~BankedSram() = default;

double BankedSram::peak_bytes_per_s() const {
  return m_geom.peak_bytes_per_cycle() * m_clock_hz;
}

const MemoryStats& BankedSram::stats() const {
  return *m_stats;
}

uint64_t BankedSram::simulated_cycles() const {
  return m_engine.simulated_cycles();
}

void BankedSram::transfer(uint64_t bytes, bool write, MemoryClient* client, uint64_t tag) {
  if (m_alloc_next + bytes > m_capacity) m_alloc_next = 0;
  const uint64_t base = m_alloc_next;
  const uint64_t w = m_geom.bank_width;
  m_alloc_next = (base + bytes + w - 1) / w * w;
  transfer_at(base, bytes, write, client, tag);
}

void BankedSram::transfer_at(uint64_t addr, uint64_t bytes, bool write, MemoryClient* client,
                             uint64_t tag, uint64_t stride) {
  if (write) {
    m_stats->write_bytes += bytes;
    ++m_stats->writes;
  } else {
    m_stats->read_bytes += bytes;
    ++m_stats->reads;
  }
  uint32_t slot;
  if (!m_free.empty()) {
    slot = m_free.back();
    m_free.pop_back();
  } else {
    slot = static_cast<uint32_t>(m_clients.size());
    m_clients.emplace_back();
  }
  m_clients[slot] = {client, tag, bytes, write};
  const uint64_t now = sc_time_stamp().value();
  if (bytes == 0) {
    // Nothing to move: only the latency, from the next cycle boundary (keeps m_due in order).
    m_due.push_back({saturating_add(time_of(cycle_at(now)), m_latency_ticks), slot});
    if (m_due.size() == 1) m_deliver.notify(checked_until(m_due.front().time, name()));
    return;
  }
  commit_to(cycle_at(now));
  if (m_timeline && m_engine.active() == 0) {
    // The engine counts active cycles from the one a stream arrives in.
    m_timeline_busy = true;
    m_busy_begin_cycle = m_engine.cycle();
    m_window.begin(*m_timeline, time_of(m_busy_begin_cycle), m_done_read, m_done_write);
  }
  m_engine.add(slot, addr, bytes, stride ? stride : m_geom.bank_width, write);
  // Predict once for every transfer arriving in this delta cycle (a host refilling its window
  // from completion callbacks starts many at once).
  m_wake.cancel();
  m_wake.notify(zero_delay(name()));
}

void BankedSram::commit_to(uint64_t cycle) {
  // Completions before `cycle` were predicted and are delivered by on_wake; the committed
  // engine only catches up (a transfer arriving exactly when one completes may see it here).
  std::vector<BankedSramEngine::Finished> done;
  while (m_engine.cycle() < cycle) m_engine.run(cycle, done);
  finish(done);
  m_prediction_valid = false;
}

void BankedSram::predict() {
  m_wake.cancel();
  m_prediction_valid = false;
  sync_stats();
  if (m_engine.active() == 0) return;
  m_predicted = m_engine;
  m_predicted_done.clear();
  m_predicted.run(kNever, m_predicted_done);
  m_prediction_valid = true;
  // The last access's data is there at the end of its cycle.
  const uint64_t at = time_of(m_predicted.cycle());
  m_wake.notify(checked_until(at, name()));
}

void BankedSram::finish(const std::vector<BankedSramEngine::Finished>& done) {
  if (m_timeline && m_timeline_busy) record(done);
  for (const auto& f : done) {
    m_due.push_back(
        {saturating_add(time_of(f.cycle + 1), m_latency_ticks), static_cast<uint32_t>(f.id)});
    if (m_due.size() == 1) m_deliver.notify(checked_until(m_due.front().time, name()));
  }
}

void BankedSram::record(const std::vector<BankedSramEngine::Finished>& done) {
  for (const auto& f : done) {
    const Client& c = m_clients[f.id];
    (c.write ? m_done_write : m_done_read) += c.bytes;
    m_window.update(*m_timeline, time_of(f.cycle + 1), m_done_read, m_done_write);
  }
  if (m_engine.active() == 0 && !done.empty()) {
    // Busy through the cycle of the last completion.
    const uint64_t end = time_of(done.back().cycle + 1);
    m_window.end(*m_timeline, end, m_done_read, m_done_write);
    m_timeline->busy(time_of(m_busy_begin_cycle), end);
    m_timeline_busy = false;
  }
}

void BankedSram::on_wake() {
  const uint64_t c = cycle_at(sc_time_stamp().value());
  if (m_prediction_valid && m_predicted.cycle() == c) {
    std::swap(m_engine, m_predicted);
    finish(m_predicted_done);
  } else {
    commit_to(c);
  }
  predict();
}

void BankedSram::on_deliver() {
  const uint64_t now = sc_time_stamp().value();
  while (!m_due.empty() && m_due.front().time <= now) {
    const Due d = m_due.front();
    m_due.pop_front();
    const Client c = m_clients[d.slot];
    m_free.push_back(d.slot);
    // Clients may start transfers from the callback; transfer() copes with that.
    c.client->transfer_done(c.tag);
  }
  if (!m_due.empty()) m_deliver.notify(checked_until(m_due.front().time, name()));
}

void BankedSram::sync_stats() {
  const SramCounters& c = m_engine.counters();
  BankedSramStats& s = *m_stats;
  // Counters only grow: add what happened since the last sync.
  s.accesses += c.accesses - s.accesses.get();
  s.bank_conflicts += c.conflicts - s.bank_conflicts.get();
  s.conflict_stall_cycles += c.stall_cycles - s.conflict_stall_cycles.get();
  s.port_waits += c.port_waits - s.port_waits.get();
  s.active_cycles += c.active_cycles - s.active_cycles.get();
  s.busy_s.set(static_cast<double>(c.active_cycles) / m_clock_hz);
  for (size_t i = 0; i < s.ports.size(); ++i) {
    SramPortStats& p = *s.ports[i];
    p.busy_cycles += c.port_busy_cycles[i] - p.busy_cycles.get();
    p.accesses += c.port_accesses[i] - p.accesses.get();
    p.bytes += c.port_bytes[i] - p.bytes.get();
  }
}

MOESIM_REGISTER(Memory, BankedSram, "banked_sram",
                "on-chip scratchpad, cycle-level: banks with bank ports, read/write/shared array "
                "ports, word or XOR interleaving, bank conflicts and port arbitration");

}  // namespace moesim
