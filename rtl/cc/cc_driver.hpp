#pragma once
/// Clocks a plain C++ (--cc) verilated block from C++: no SystemC clock and no kernel events,
/// so a unit of the full-system simulation can run the block to completion inside one of its
/// SystemC processes. Same valid/ready protocol and the same cycle counting as the lock-step
/// harness (rtl/common/cosim_harness.hpp): a transfer happens at a rising edge where valid and
/// ready are both high; cycles are counted between handshakes.
///
/// Include verilated.h and the V*.h model header before this file.

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "rtl/common/cosim_harness.hpp"
#include "sim/core/error.hpp"

namespace moesim::rtl {

/// Writes a Beat into a --cc port value (CData..QData or VlWide<N>).
template <class T>
void cc_pack(T& v, const Beat& b) {
  if constexpr (std::is_integral_v<T>) {
    v = static_cast<T>(b.w[0] | (uint64_t{b.w[1]} << 32));
  } else {
    for (size_t i = 0; i < sizeof(T) / sizeof(EData); ++i) v[i] = b.w[i];
  }
}

/// Reads a --cc port value into a Beat.
template <class T>
void cc_unpack(const T& v, Beat& b) {
  if constexpr (std::is_integral_v<T>) {
    b.w[0] = static_cast<uint32_t>(uint64_t{v});
    b.w[1] = static_cast<uint32_t>(uint64_t{v} >> 32);
  } else {
    for (size_t i = 0; i < sizeof(T) / sizeof(EData); ++i) b.w[i] = v[i];
  }
}

/// One verilated --cc block with its own VerilatedContext, reset on construction.
template <class V>
class CcDriver {
 public:
  explicit CcDriver(const std::string& name)
      : m_ctx(std::make_unique<VerilatedContext>()),
        m_top(std::make_unique<V>(m_ctx.get(), name.c_str())) {
    m_top->rst = 1;
    m_top->in_valid = 0;
    m_top->in_last = 0;
    m_top->out_ready = 0;
    for (int i = 0; i < 3; ++i) edge();
    m_top->rst = 0;
  }
  ~CcDriver() { m_top->final(); }
  CcDriver(const CcDriver&) = delete;
  CcDriver& operator=(const CcDriver&) = delete;

  /// Streams `in` (one beat per cycle, no bubbles) and takes `n_out` output beats (out_ready
  /// always high). Returns the cycles from the first input handshake to the last output
  /// handshake, the quantity the blocks' cycle contracts give. `in_cycles`, if given, gets the
  /// cycle of every input handshake (in_cycles[0] = the first input's).
  uint64_t run(const std::vector<Beat>& in, size_t n_out, std::vector<Beat>& out,
               std::vector<uint64_t>* in_cycles = nullptr) {
    out.clear();
    if (in_cycles) in_cycles->clear();
    size_t next = 0;
    uint64_t cycle = 0, first_in = 0, last_out = 0, idle = 0;
    const uint32_t stat0 = m_top->stat_count;
    while (out.size() < n_out) {
      const bool offer = next < in.size();
      m_top->in_valid = offer;
      if (offer) {
        cc_pack(m_top->in_data, in[next]);
        m_top->in_last = in[next].last;
      }
      m_top->out_ready = 1;
      m_top->clk = 0;
      m_top->eval();  // the inputs settle (in_ready may depend on out_ready)
      // Handshakes are sampled just before the rising edge, like the harness does at it.
      const bool in_fire = offer && m_top->in_ready;
      const bool out_fire = m_top->out_valid;
      Beat ob;
      if (out_fire) {
        cc_unpack(m_top->out_data, ob);
        ob.last = m_top->out_last;
      }
      m_top->clk = 1;
      m_top->eval();
      ++cycle;
      if (in_fire) {
        if (next == 0) first_in = cycle;
        if (in_cycles) in_cycles->push_back(cycle);
        ++next;
      }
      if (out_fire) {
        out.push_back(ob);
        last_out = cycle;
      }
      idle = (in_fire || out_fire) ? 0 : idle + 1;
      if (idle > kHangCycles)
        throw InternalError("verilated block hung: no handshake for 1,000,000 cycles");
    }
    m_top->in_valid = 0;
    m_stat_delta = m_top->stat_count - stat0;
    m_cycles += cycle;
    return last_out - first_in;
  }
  /// run() for blocks with a second input stream (w_valid, w_ready, w_data): `w` and `in`
  /// are offered independently, one beat per cycle each, no bubbles. Cycles from the first
  /// handshake on either input stream to the last output handshake.
  uint64_t run_dual(const std::vector<Beat>& w, const std::vector<Beat>& in, size_t n_out,
                    std::vector<Beat>& out) {
    out.clear();
    size_t next = 0, wnext = 0;
    uint64_t cycle = 0, first_in = 0, last_out = 0, idle = 0;
    bool started = false;
    const uint32_t stat0 = m_top->stat_count;
    while (out.size() < n_out) {
      const bool offer = next < in.size(), woffer = wnext < w.size();
      m_top->in_valid = offer;
      if (offer) {
        cc_pack(m_top->in_data, in[next]);
        m_top->in_last = in[next].last;
      }
      m_top->w_valid = woffer;
      if (woffer) cc_pack(m_top->w_data, w[wnext]);
      m_top->out_ready = 1;
      m_top->clk = 0;
      m_top->eval();
      const bool in_fire = offer && m_top->in_ready;
      const bool w_fire = woffer && m_top->w_ready;
      const bool out_fire = m_top->out_valid;
      Beat ob;
      if (out_fire) {
        cc_unpack(m_top->out_data, ob);
        ob.last = m_top->out_last;
      }
      m_top->clk = 1;
      m_top->eval();
      ++cycle;
      if ((in_fire || w_fire) && !started) {
        started = true;
        first_in = cycle;
      }
      next += in_fire ? 1 : 0;
      wnext += w_fire ? 1 : 0;
      if (out_fire) {
        out.push_back(ob);
        last_out = cycle;
      }
      idle = (in_fire || w_fire || out_fire) ? 0 : idle + 1;
      if (idle > kHangCycles)
        throw InternalError("verilated block hung: no handshake for 1,000,000 cycles");
    }
    m_top->in_valid = 0;
    m_top->w_valid = 0;
    m_stat_delta = m_top->stat_count - stat0;
    m_cycles += cycle;
    return last_out - first_in;
  }
  /// stat_count increment over the last run().
  uint32_t stat_delta() const { return m_stat_delta; }
  /// The verilated model (for counters beyond stat_count).
  const V& top() const { return *m_top; }
  /// Clock cycles simulated since construction (reset excluded).
  uint64_t cycles() const { return m_cycles; }

 private:
  static constexpr uint64_t kHangCycles = 1000000;
  void edge() {
    m_top->clk = 0;
    m_top->eval();
    m_top->clk = 1;
    m_top->eval();
  }
  std::unique_ptr<VerilatedContext> m_ctx;
  std::unique_ptr<V> m_top;
  uint32_t m_stat_delta = 0;
  uint64_t m_cycles = 0;
};

}  // namespace moesim::rtl
