#include "hw_models/memory/mem_driver.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "hw_models/memory/banked_sram.hpp"
#include "hw_models/memory/detailed_dram.hpp"
#include "sim/core/error.hpp"
#include "sim/core/sim_time.hpp"

namespace moesim {

namespace {

class PatternSource final : public MemRequestSource {
 public:
  PatternSource(const DramPatternSpec& p, uint64_t footprint)
      : m_p(p),
        m_footprint(footprint),
        m_atoms(footprint / 64),
        m_addr_rng(p.seed),
        m_rw_rng(p.seed ^ 0x9e3779b97f4a7c15ull) {
    if (m_atoms == 0) throw InputError("memory pattern: footprint must be at least 64 bytes");
    if (p.read_ratio < 0.0 || p.read_ratio > 1.0)
      throw InputError("memory pattern: read ratio must be within [0, 1]");
    if (p.pattern == DramPattern::kStrided && p.stride_bytes == 0)
      throw InputError("memory pattern: stride must be positive");
  }
  bool next(MemRequest& r) override {
    // Mirrors run_dram_pattern() so both drivers see the same stream.
    if (m_i == m_p.requests) return false;
    uint64_t off = 0;
    switch (m_p.pattern) {
      case DramPattern::kSequential:
        off = (m_i % m_atoms) * 64;
        break;
      case DramPattern::kStrided:
        off = (m_i * m_p.stride_bytes) % m_footprint;
        break;
      case DramPattern::kRandom:
        off = (m_addr_rng() % m_atoms) * 64;
        break;
    }
    bool write = false;
    if (m_p.read_ratio < 1.0) {
      const double u = static_cast<double>(m_rw_rng() >> 11) * 0x1.0p-53;
      write = u >= m_p.read_ratio;
    }
    ++m_i;
    r = MemRequest{0, m_p.base + off, write};
    return true;
  }

 private:
  DramPatternSpec m_p;
  uint64_t m_footprint;
  uint64_t m_atoms;
  // mt19937_64 is bit-exact across platforms (the distributions are not), as in dram/.
  std::mt19937_64 m_addr_rng;
  std::mt19937_64 m_rw_rng;
  uint64_t m_i = 0;
};

class TraceSource final : public MemRequestSource {
 public:
  explicit TraceSource(const std::string& path) : m_path(path), m_in(path) {
    if (!m_in) throw InputError(fmt::format("{}: cannot open memory trace", path));
  }
  bool next(MemRequest& r) override {
    std::string line;
    while (std::getline(m_in, line)) {
      ++m_line;
      std::istringstream ss(line.substr(0, line.find('#')));
      std::string cyc, addr, op, extra;
      if (!(ss >> cyc)) continue;  // blank or comment-only
      auto bad = [&](const std::string& why) {
        return InputError(fmt::format("{}:{}: {} (expected '<cycle> <address> R|W', got '{}')",
                                      m_path, m_line, why, line));
      };
      if (!(ss >> addr >> op)) throw bad("missing fields");
      if (ss >> extra) throw bad(fmt::format("unexpected field '{}'", extra));
      if (!parse_u64(cyc, 10, r.cycle)) throw bad(fmt::format("bad cycle '{}'", cyc));
      const bool hex = addr.size() > 2 && addr[0] == '0' && (addr[1] == 'x' || addr[1] == 'X');
      if (!parse_u64(hex ? addr.substr(2) : addr, hex ? 16 : 10, r.addr))
        throw bad(fmt::format("bad address '{}'", addr));
      if (op == "R" || op == "r")
        r.write = false;
      else if (op == "W" || op == "w")
        r.write = true;
      else
        throw bad(fmt::format("bad operation '{}' (R or W)", op));
      if (r.cycle < m_prev)
        throw bad(
            fmt::format("cycle {} is earlier than the previous request's {}", r.cycle, m_prev));
      m_prev = r.cycle;
      return true;
    }
    return false;
  }

 private:
  static bool parse_u64(const std::string& s, int base, uint64_t& out) {
    if (s.empty() || s[0] == '-' || s[0] == '+') return false;
    try {
      size_t used = 0;
      out = std::stoull(s, &used, base);
      return used == s.size();
    } catch (const std::exception&) {
      return false;
    }
  }
  std::string m_path;
  std::ifstream m_in;
  uint64_t m_line = 0;
  uint64_t m_prev = 0;
};

}  // namespace

std::unique_ptr<MemRequestSource> make_pattern_source(const DramPatternSpec& pattern,
                                                      uint64_t footprint_bytes) {
  return std::make_unique<PatternSource>(pattern, footprint_bytes);
}

std::unique_ptr<MemRequestSource> make_trace_source(const std::string& path) {
  return std::make_unique<TraceSource>(path);
}

MemDriver::MemDriver(const sc_core::sc_module_name& name, Memory& memory,
                     std::unique_ptr<MemRequestSource> source, uint64_t window, double cycle_s,
                     uint64_t request_bytes, bool addressed)
    : sc_core::sc_module(name),
      m_mem(memory),
      m_dram(addressed ? dynamic_cast<DetailedDram*>(&memory) : nullptr),
      m_sram(addressed ? dynamic_cast<BankedSram*>(&memory) : nullptr),
      m_source(std::move(source)),
      m_window(window ? window : 1),
      m_cycle_s(cycle_s),
      m_request_bytes(request_bytes) {
  m_have_next = m_source->next(m_next);
  m_finished = !m_have_next;
  SC_METHOD(issue);
  sensitive << m_issue_event;
}

void MemDriver::issue() {
  // Callbacks from inside transfer() (a memory completing synchronously) must not recurse.
  if (m_issuing) return;
  m_issuing = true;
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  const double res = sc_core::sc_get_time_resolution().to_seconds();
  while (m_have_next && m_outstanding < m_window) {
    // A cycle past the time range (2^64-1) stops the run; llround would overflow.
    const double due_ticks = std::round(static_cast<double>(m_next.cycle) * m_cycle_s / res);
    if (due_ticks > static_cast<double>(now.value())) {
      m_issue_event.notify(
          checked_delay(due_ticks - static_cast<double>(now.value()),
                        "the request trace (request cycle " + std::to_string(m_next.cycle) + ")"));
      break;
    }
    uint64_t slot;
    if (!m_free_slots.empty()) {
      slot = m_free_slots.back();
      m_free_slots.pop_back();
    } else {
      slot = m_issue_time.size();
      m_issue_time.push_back(0);
    }
    m_issue_time[slot] = now.value();
    ++m_outstanding;
    const MemRequest r = m_next;
    m_have_next = pull();
    if (m_dram)
      m_dram->transfer_at(r.addr, m_request_bytes, r.write, this, slot);
    else if (m_sram)
      m_sram->transfer_at(r.addr, m_request_bytes, r.write, this, slot);
    else
      m_mem.transfer(m_request_bytes, r.write, this, slot);
  }
  m_issuing = false;
}

bool MemDriver::pull() {
  try {
    return m_source->next(m_next);
  } catch (const InputError&) {
    // Stop issuing; what is in flight drains and sc_start() returns to the caller, which
    // rethrows (sc_stop() would print a banner on stdout).
    m_error = std::current_exception();
    return false;
  }
}

void MemDriver::rethrow_if_failed() const {
  if (m_error) std::rethrow_exception(m_error);
}

void MemDriver::transfer_done(uint64_t tag) {
  const uint64_t now = sc_core::sc_time_stamp().value();
  m_latency.record(now - m_issue_time[tag]);
  m_free_slots.push_back(tag);
  --m_outstanding;
  ++m_completed;
  m_last_done = now;
  if (m_have_next)
    issue();
  else if (m_outstanding == 0)
    m_finished = true;
}

MemDriverResult MemDriver::result() const {
  const double res = sc_core::sc_get_time_resolution().to_seconds();
  MemDriverResult r;
  r.requests = m_completed;
  r.bytes = m_completed * m_request_bytes;
  r.seconds = static_cast<double>(m_last_done) * res;
  r.bytes_per_s = r.seconds > 0 ? static_cast<double>(r.bytes) / r.seconds : 0.0;
  r.mean_latency_s = m_latency.mean() * res;
  r.p50_latency_s = m_latency.percentile(0.50) * res;
  r.p99_latency_s = m_latency.percentile(0.99) * res;
  return r;
}

}  // namespace moesim
