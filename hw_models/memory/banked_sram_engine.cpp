#include "hw_models/memory/banked_sram_engine.hpp"

#include <algorithm>

#include "sim/core/error.hpp"

namespace moesim {

namespace {

/// Snapshots kept while looking for a repeating state; past this the search restarts (the
/// period is then longer than worth finding and cycles are simply simulated).
constexpr size_t kMaxHistory = 4096;

/// Cycles without a stream arriving or leaving before the search for a period starts.
constexpr uint64_t kSettleCycles = 2;

/// Largest power of two dividing `n` (the bits of a bank index the XOR may touch while
/// staying a permutation of the banks of a row).
uint64_t pow2_divisor(uint64_t n) {
  return n & (~n + 1);
}

void scale_add(std::vector<uint64_t>& now, const std::vector<uint64_t>& then, uint64_t m) {
  for (size_t i = 0; i < now.size(); ++i) now[i] += m * (now[i] - then[i]);
}

uint64_t hash_key(const std::vector<uint64_t>& key) {
  uint64_t h = 1469598103934665603ull;
  for (const uint64_t v : key) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

uint32_t sram_bank_of(const SramGeometry& g, uint64_t addr) {
  const uint64_t word = addr / g.bank_width;
  const uint64_t bank = word % g.banks;
  if (g.interleave == SramInterleave::kWord) return static_cast<uint32_t>(bank);
  const uint64_t low = pow2_divisor(g.banks) - 1;
  const uint64_t row = word / g.banks;
  return static_cast<uint32_t>((bank & ~low) | ((bank ^ row) & low));
}

BankedSramEngine::BankedSramEngine(const SramGeometry& g) : m_g(g) {
  if (g.banks == 0 || g.bank_width == 0 || g.bank_ports == 0 || g.ports == 0)
    throw InternalError("BankedSramEngine: banks, bank_width, bank_ports and ports must be > 0");
  const uint64_t period_words =
      g.interleave == SramInterleave::kWord ? g.banks : uint64_t{g.banks} * pow2_divisor(g.banks);
  m_period_bytes = period_words * g.bank_width;
  const size_t p = g.total_ports();
  m_ctr.port_busy_cycles.assign(p, 0);
  m_ctr.port_accesses.assign(p, 0);
  m_ctr.port_bytes.assign(p, 0);
  m_bank_stamp.assign(g.banks, 0);
  m_bank_used.assign(g.banks, 0);
}

void BankedSramEngine::add(uint64_t id, uint64_t addr, uint64_t bytes, uint64_t stride,
                           bool write) {
  if (bytes == 0 || stride == 0)
    throw InternalError("BankedSramEngine::add: bytes and stride must be positive");
  const uint64_t accesses = (bytes + m_g.bank_width - 1) / m_g.bank_width;
  m_streams.push_back({id, addr, stride, accesses, bytes, write});
  m_stable = 0;
  m_history.clear();
  m_index.clear();
}

void BankedSramEngine::make_key(std::vector<uint64_t>& key) const {
  key.clear();
  key.push_back(m_rr);
  for (const Stream& s : m_streams) key.push_back(s.addr % m_period_bytes);
}

bool BankedSramEngine::try_jump(uint64_t limit) {
  // Look for a period only once the set of streams has been stable for a few cycles: short
  // streams (single requests) finish before any period could pay for the snapshots.
  if (m_stable < kSettleCycles) return false;
  make_key(m_key);
  const uint64_t h = hash_key(m_key);
  const auto it = m_index.find(h);
  if (it != m_index.end() && m_history[it->second].key == m_key) {
    const Snapshot& then = m_history[it->second];
    const uint64_t period = m_cycle - then.cycle;
    const uint64_t k = m_g.accesses_per_port();
    // Periods to replay: every stream must keep more than a port's worth of accesses (so
    // min(k, left) stays k, as it was during the period) plus one period of margin.
    uint64_t reps = (limit - m_cycle) / period;
    bool moving = false;
    for (size_t i = 0; i < m_streams.size() && reps > 0; ++i) {
      const uint64_t d = then.left[i] - m_streams[i].left;
      if (d == 0) continue;
      moving = true;
      const uint64_t left = m_streams[i].left;
      reps = left < k + d ? 0 : std::min(reps, (left - k - d) / d);
    }
    if (moving && reps > 0) {
      for (size_t i = 0; i < m_streams.size(); ++i) {
        Stream& s = m_streams[i];
        const uint64_t adv = reps * (then.left[i] - s.left);
        s.addr += adv * s.stride;
        s.left -= adv;
        s.bytes_left -= adv * m_g.bank_width;
      }
      SramCounters& c = m_ctr;
      const SramCounters& t = then.ctr;
      c.accesses += reps * (c.accesses - t.accesses);
      c.conflicts += reps * (c.conflicts - t.conflicts);
      c.stall_cycles += reps * (c.stall_cycles - t.stall_cycles);
      c.port_waits += reps * (c.port_waits - t.port_waits);
      c.active_cycles += reps * (c.active_cycles - t.active_cycles);
      scale_add(c.port_busy_cycles, t.port_busy_cycles, reps);
      scale_add(c.port_accesses, t.port_accesses, reps);
      scale_add(c.port_bytes, t.port_bytes, reps);
      m_cycle += reps * period;
      m_history.clear();
      m_index.clear();
      return true;
    }
    if (moving) return false;  // too close to an end: simulate on, keep looking later
  }
  if (m_history.size() >= kMaxHistory) {
    m_history.clear();
    m_index.clear();
  }
  Snapshot s;
  s.cycle = m_cycle;
  s.key = m_key;
  s.left.reserve(m_streams.size());
  for (const Stream& st : m_streams) s.left.push_back(st.left);
  s.ctr = m_ctr;
  m_index[h] = m_history.size();
  m_history.push_back(std::move(s));
  return false;
}

bool BankedSramEngine::take_bank(uint32_t b, uint64_t stamp) {
  if (m_bank_stamp[b] != stamp) {
    m_bank_stamp[b] = stamp;
    m_bank_used[b] = 1;
    return true;
  }
  if (m_bank_used[b] < m_g.bank_ports) {
    ++m_bank_used[b];
    return true;
  }
  return false;
}

uint64_t BankedSramEngine::claim(uint64_t addr, uint64_t stride, uint64_t lim, uint64_t stamp) {
  const uint64_t w = m_g.bank_width;
  uint64_t taken = 0;
  if (addr % w != 0 || stride % w != 0) {
    while (taken < lim && take_bank(sram_bank_of(m_g, addr + taken * stride), stamp)) ++taken;
    return taken;
  }
  // Whole words: walk the bank index and row incrementally instead of dividing per access.
  const uint64_t banks = m_g.banks;
  const uint64_t word = addr / w;
  const uint64_t step_words = stride / w;
  const uint64_t step_col = step_words % banks;
  const uint64_t step_row = step_words / banks;
  uint64_t col = word % banks;
  uint64_t row = word / banks;
  const bool xr = m_g.interleave == SramInterleave::kXor;
  const uint64_t low = pow2_divisor(banks) - 1;
  while (taken < lim) {
    const uint64_t b = xr ? (col & ~low) | ((col ^ row) & low) : col;
    if (!take_bank(static_cast<uint32_t>(b), stamp)) break;
    ++taken;
    col += step_col;
    row += step_row;
    if (col >= banks) {
      col -= banks;
      ++row;
    }
  }
  return taken;
}

void BankedSramEngine::step(std::vector<Finished>& done) {
  const uint64_t stamp = m_cycle + 1;
  const size_t n = m_streams.size();
  const uint32_t k = m_g.accesses_per_port();
  uint32_t free_r = m_g.read_ports, free_w = m_g.write_ports, free_s = m_g.ports;
  bool conflict = false;
  bool finished = false;
  for (size_t j = 0; j < n; ++j) {
    Stream& s = m_streams[(m_rr + j) % n];
    // Ports are numbered read-only, write-only, shared; a stream takes the first free one
    // of its own kind, else the first free shared one.
    size_t port;
    if (!s.write && free_r) {
      port = m_g.read_ports - free_r--;
    } else if (s.write && free_w) {
      port = m_g.read_ports + m_g.write_ports - free_w--;
    } else if (free_s) {
      port = m_g.read_ports + m_g.write_ports + m_g.ports - free_s--;
    } else {
      ++m_ctr.port_waits;
      if (free_r + free_w == 0) {
        // No port left for anyone: the other streams wait too.
        m_ctr.port_waits += n - j - 1;
        break;
      }
      continue;
    }
    const uint64_t lim = std::min<uint64_t>(k, s.left);
    const uint64_t taken = claim(s.addr, s.stride, lim, stamp);
    if (taken < lim) {
      ++m_ctr.conflicts;
      conflict = true;
    }
    // Only a stream's last access may be partial.
    const uint64_t bytes = std::min<uint64_t>(s.bytes_left, taken * m_g.bank_width);
    s.bytes_left -= bytes;
    s.addr += taken * s.stride;
    s.left -= taken;
    if (taken) {
      ++m_ctr.port_busy_cycles[port];
      m_ctr.port_accesses[port] += taken;
      m_ctr.port_bytes[port] += bytes;
      m_ctr.accesses += taken;
      finished = finished || s.left == 0;
    }
  }
  if (conflict) ++m_ctr.stall_cycles;
  ++m_ctr.active_cycles;
  ++m_simulated;
  const uint64_t c = m_cycle++;
  if (!finished) {
    m_rr = (m_rr + 1) % n;
    ++m_stable;
    return;
  }
  m_stable = 0;
  size_t keep = 0;
  for (size_t i = 0; i < n; ++i) {
    if (m_streams[i].left == 0) {
      done.push_back({m_streams[i].id, c});
    } else {
      m_streams[keep++] = m_streams[i];
    }
  }
  m_streams.resize(keep);
  m_rr = keep ? (m_rr + 1) % keep : 0;
  m_history.clear();
  m_index.clear();
}

void BankedSramEngine::run(uint64_t limit, std::vector<Finished>& done) {
  while (m_cycle < limit) {
    if (m_streams.empty()) {
      m_cycle = limit;
      return;
    }
    if (m_replay && try_jump(limit)) continue;
    const size_t before = done.size();
    step(done);
    if (done.size() > before) return;
  }
}

}  // namespace moesim
