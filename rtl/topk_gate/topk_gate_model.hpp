#pragma once
/// SystemC model of rtl/topk_gate: same ports and cycle contract as the RTL; the function
/// comes from the reference model, the timing from a phase counter (see README.md).

#include <systemc>

#include <cstdint>
#include <vector>

#include "rtl/topk_gate/topk_gate_ref.hpp"

namespace moesim::rtl {

/// Cycle-exact SystemC model of the top-k gate.
class TopkGateModel : public sc_core::sc_module {
 public:
  sc_core::sc_in<bool> clk{"clk"}, rst{"rst"};
  sc_core::sc_in<bool> in_valid{"in_valid"}, in_last{"in_last"};
  sc_core::sc_out<bool> in_ready{"in_ready"};
  sc_core::sc_in<uint32_t> in_data{"in_data"};
  sc_core::sc_out<bool> out_valid{"out_valid"}, out_last{"out_last"};
  sc_core::sc_in<bool> out_ready{"out_ready"};
  sc_core::sc_out<uint32_t> out_data{"out_data"};  ///< {id, value[15:0]}
  sc_core::sc_out<uint32_t> stat_count{"stat_count"};

  SC_HAS_PROCESS(TopkGateModel);
  TopkGateModel(sc_core::sc_module_name name, const TopkGateParams& p) : sc_module(name), m_p(p) {
    SC_METHOD(tick);
    sensitive << clk.pos();
    dont_initialize();
  }

 private:
  enum class State { kIn, kSelect, kReplay, kOut };

  void tick() {
    if (rst.read()) {
      m_state = State::kIn;
      m_cnt = 0;
      m_ocnt = 0;
      m_stat = 0;
      m_scores.clear();
    } else {
      switch (m_state) {
        case State::kIn:
          if (in_valid.read()) {
            m_scores.push_back(static_cast<int16_t>(in_data.read() & 0xffff));
            ++m_stat;
            if (++m_cnt == m_p.n) {
              m_cnt = 0;
              m_result = topk_gate_ref(m_scores, m_p);
              m_scores.clear();
              m_state = m_p.groups > 1 ? State::kSelect : State::kOut;
            }
          }
          break;
        case State::kSelect:
          m_state = State::kReplay;
          break;
        case State::kReplay:
          ++m_stat;
          if (++m_cnt == m_p.n) {
            m_cnt = 0;
            m_state = State::kOut;
          }
          break;
        case State::kOut:
          if (out_ready.read() && ++m_ocnt == m_p.k) {
            m_ocnt = 0;
            m_state = State::kIn;
          }
          break;
      }
    }
    const bool ov = m_state == State::kOut;
    in_ready.write(m_state == State::kIn);
    out_valid.write(ov);
    out_last.write(ov && m_ocnt == m_p.k - 1);
    if (ov) {
      const TopkEntry& e = m_result[m_ocnt];
      out_data.write((e.id << 16) | static_cast<uint16_t>(e.value));
    }
    stat_count.write(m_stat);
  }

  TopkGateParams m_p;
  State m_state = State::kIn;
  int m_cnt = 0, m_ocnt = 0;
  uint32_t m_stat = 0;
  std::vector<int16_t> m_scores;
  std::vector<TopkEntry> m_result;
};

}  // namespace moesim::rtl
