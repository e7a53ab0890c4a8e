#pragma once
/// SystemC model of rtl/attention: same ports and cycle contract as the RTL; the values come
/// from the bit-exact reference model, the timing from the loop nest of README.md (the same
/// counters as the RTL: keys, slices, groups; RCP1/RCP2 per group; output FIFO of
/// ceil(RMAX / P) group beats).

#include <systemc>

#include <cstdint>
#include <deque>
#include <vector>

#include "rtl/attention/attention_ref.hpp"
#include "rtl/common/port_bits.hpp"

namespace moesim::rtl {

/// Cycle-exact SystemC model of the attention block; IW / OW are the in_data / out_data widths.
template <int IW, int OW>
class AttentionModel : public sc_core::sc_module {
 public:
  sc_core::sc_in<bool> clk{"clk"}, rst{"rst"};
  sc_core::sc_in<bool> in_valid{"in_valid"}, in_last{"in_last"};
  sc_core::sc_out<bool> in_ready{"in_ready"};
  sc_core::sc_in<PortBits<IW>> in_data{"in_data"};
  sc_core::sc_out<bool> out_valid{"out_valid"}, out_last{"out_last"};
  sc_core::sc_in<bool> out_ready{"out_ready"};
  sc_core::sc_out<PortBits<OW>> out_data{"out_data"};
  sc_core::sc_out<uint32_t> stat_count{"stat_count"};    ///< K/V slices read
  sc_core::sc_out<uint32_t> stat_scores{"stat_scores"};  ///< score reads

  SC_HAS_PROCESS(AttentionModel);
  AttentionModel(sc_core::sc_module_name name, const AttentionParams& p)
      : sc_module(name), m_p(p), m_gmax((p.rmax + p.p - 1) / p.p) {
    SC_METHOD(tick);
    sensitive << clk.pos();
    dont_initialize();
  }

 private:
  enum class State { kHdr, kQ, kK, kRcp1, kRcp2, kV };
  struct Entry {
    AttentionWords w{};
    bool last = false;
  };

  void tick() {
    if (rst.read()) {
      m_state = State::kHdr;
      m_g = m_j = m_t = 0;
      m_kv = m_scores = 0;
      m_fifo.clear();
    } else {
      const bool scan = m_state == State::kK || m_state == State::kV;
      const bool need_in = scan && (m_c.naive || m_g == 0);
      const bool fin = m_state == State::kV && m_j == m_c.keys - 1 && m_t == m_c.slices - 1;
      const bool full = static_cast<int>(m_fifo.size()) == m_gmax;
      const bool ready =
          m_state == State::kHdr || m_state == State::kQ || (need_in && !(fin && full));
      const bool in_fire = in_valid.read() && ready;
      const bool step = scan && (need_in ? in_fire : !(fin && full));
      const bool out_fire = !m_fifo.empty() && out_ready.read();
      const PortBits<IW> din = in_data.read();
      if (step && need_in) ++m_kv;
      if (step &&
          ((m_state == State::kK && m_t == m_c.slices - 1) || (m_state == State::kV && m_t == 0)))
        m_scores += static_cast<uint32_t>(std::min(m_p.p, m_c.rows - m_g * m_p.p));
      if (out_fire) m_fifo.pop_front();
      switch (m_state) {
        case State::kHdr:
          if (in_fire) {
            m_c = AttentionCase{};
            m_c.rows = static_cast<int>(get_bits(din, 0, 8));
            m_c.keys = static_cast<int>(get_bits(din, 8, 16));
            m_c.slices = static_cast<int>(get_bits(din, 24, 4));
            m_c.naive = get_bits(din, 28, 1) != 0;
            m_c.q.assign(static_cast<size_t>(m_c.rows) * m_p.d, 0);
            m_c.k.assign(static_cast<size_t>(m_c.keys) * m_p.d, 0);
            m_c.v.assign(static_cast<size_t>(m_c.keys) * m_p.d, 0);
            m_groups = (m_c.rows + m_p.p - 1) / m_p.p;
            m_qcnt = 0;
            m_state = State::kQ;
          }
          break;
        case State::kQ:
          if (in_fire) {
            for (int e = 0; e < m_p.d; ++e)
              m_c.q[m_qcnt * m_p.d + e] = static_cast<int8_t>(get_bits(din, 8 * e, 8));
            if (++m_qcnt == m_c.rows) {
              m_state = State::kK;
              m_g = m_j = m_t = 0;
            }
          }
          break;
        case State::kK:
        case State::kV:
          if (step) {
            auto& mat = m_state == State::kK ? m_c.k : m_c.v;
            if (need_in)
              for (int w = 0; w < m_p.w; ++w)
                mat[m_j * m_p.d + m_t * m_p.w + w] = static_cast<int8_t>(get_bits(din, 8 * w, 8));
            if (fin) {
              const auto out = attention_out_beats(attention_ref(m_c, m_p), m_c, m_p);
              m_fifo.push_back({out[m_g], m_g == m_groups - 1});
            }
            advance();
          }
          break;
        case State::kRcp1:
          m_state = State::kRcp2;
          break;
        case State::kRcp2:
          if (m_c.naive || m_g == m_groups - 1) {
            m_state = State::kV;
            if (!m_c.naive) m_g = 0;
          } else {
            ++m_g;
            m_state = State::kRcp1;
          }
          break;
      }
    }
    const bool scan = m_state == State::kK || m_state == State::kV;
    const bool need_in = scan && (m_c.naive || m_g == 0);
    const bool fin = m_state == State::kV && m_j == m_c.keys - 1 && m_t == m_c.slices - 1;
    const bool full = static_cast<int>(m_fifo.size()) == m_gmax;
    in_ready.write(m_state == State::kHdr || m_state == State::kQ || (need_in && !(fin && full)));
    out_valid.write(!m_fifo.empty());
    PortBits<OW> od{};
    bool last = false;
    if (!m_fifo.empty()) {
      for (int i = 0; i * 32 < OW; ++i)
        set_bits(od, 32 * i, std::min(32, OW - 32 * i), m_fifo.front().w[i]);
      last = m_fifo.front().last;
    }
    out_data.write(od);
    out_last.write(last);
    stat_count.write(m_kv);
    stat_scores.write(m_scores);
  }

  /// The loop nest: reordered keys > slices > groups; naive groups > keys > slices.
  void advance() {
    const bool last_t = m_t == m_c.slices - 1, last_j = m_j == m_c.keys - 1,
               last_g = m_g == m_groups - 1, pass2 = m_state == State::kV;
    if (m_c.naive) {
      if (!last_t) return void(++m_t);
      m_t = 0;
      if (!last_j) return void(++m_j);
      m_j = 0;
      if (!pass2) {
        m_state = State::kRcp1;
      } else if (last_g) {
        m_state = State::kHdr;
      } else {
        ++m_g;
        m_state = State::kK;
      }
      return;
    }
    if (!last_g) return void(++m_g);
    m_g = 0;
    if (!last_t) return void(++m_t);
    m_t = 0;
    if (!last_j) return void(++m_j);
    m_j = 0;
    m_state = pass2 ? State::kHdr : State::kRcp1;
  }

  AttentionParams m_p;
  int m_gmax;
  State m_state = State::kHdr;
  AttentionCase m_c;
  int m_groups = 0, m_qcnt = 0, m_g = 0, m_j = 0, m_t = 0;
  uint32_t m_kv = 0, m_scores = 0;
  std::deque<Entry> m_fifo;
};

}  // namespace moesim::rtl
