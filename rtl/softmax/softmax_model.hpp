#pragma once
/// SystemC model of rtl/softmax: same ports and cycle contract as the RTL; the values come
/// from the bit-exact reference model, the timing from the phase sequence of README.md.

#include <systemc>

#include <cstdint>
#include <vector>

#include "rtl/softmax/softmax_ref.hpp"

namespace moesim::rtl {

/// Cycle-exact SystemC model of the online / three-pass softmax block.
class SoftmaxModel : public sc_core::sc_module {
 public:
  sc_core::sc_in<bool> clk{"clk"}, rst{"rst"};
  sc_core::sc_in<bool> in_valid{"in_valid"}, in_last{"in_last"};
  sc_core::sc_out<bool> in_ready{"in_ready"};
  sc_core::sc_in<uint32_t> in_data{"in_data"};  ///< signed Q8.8 in bits 15:0
  sc_core::sc_out<bool> out_valid{"out_valid"}, out_last{"out_last"};
  sc_core::sc_in<bool> out_ready{"out_ready"};
  sc_core::sc_out<uint32_t> out_data{"out_data"};  ///< unsigned Q1.16
  sc_core::sc_out<uint32_t> stat_count{"stat_count"};

  SC_HAS_PROCESS(SoftmaxModel);
  SoftmaxModel(sc_core::sc_module_name name, const SoftmaxParams& p) : sc_module(name), m_p(p) {
    SC_METHOD(tick);
    sensitive << clk.pos();
    dont_initialize();
  }

 private:
  enum class State { kIn, kSum, kRcp1, kRcp2, kOut };

  void tick() {
    if (rst.read()) {
      m_state = State::kIn;
      m_cnt = 0;
      m_stat = 0;
      m_out_valid = m_out_last = false;
      m_x.clear();
    } else {
      switch (m_state) {
        case State::kIn:
          if (in_valid.read()) {
            ++m_stat;
            m_x.push_back(static_cast<int16_t>(in_data.read() & 0xffff));
            if (++m_cnt == m_p.length) {
              m_cnt = 0;
              m_y = softmax_ref(m_x, m_p);
              m_x.clear();
              m_state = m_p.three_pass ? State::kSum : State::kRcp1;
            }
          }
          break;
        case State::kSum:
          ++m_stat;
          if (++m_cnt == m_p.length) {
            m_cnt = 0;
            m_state = State::kRcp1;
          }
          break;
        case State::kRcp1:
          m_state = State::kRcp2;
          break;
        case State::kRcp2:
          m_state = State::kOut;
          break;
        case State::kOut:
          if (!m_out_valid || out_ready.read()) {
            if (m_cnt != m_p.length) {
              ++m_stat;
              m_out_valid = true;
              m_out_data = m_y[m_cnt];
              m_out_last = m_cnt == m_p.length - 1;
              ++m_cnt;
            } else {
              m_out_valid = m_out_last = false;
              m_cnt = 0;
              m_state = State::kIn;
            }
          }
          break;
      }
    }
    in_ready.write(m_state == State::kIn);
    out_valid.write(m_out_valid);
    out_last.write(m_out_last);
    out_data.write(m_out_data);
    stat_count.write(m_stat);
  }

  SoftmaxParams m_p;
  State m_state = State::kIn;
  int m_cnt = 0;
  uint32_t m_stat = 0, m_out_data = 0;
  bool m_out_valid = false, m_out_last = false;
  std::vector<int16_t> m_x;
  std::vector<uint32_t> m_y;
};

}  // namespace moesim::rtl
