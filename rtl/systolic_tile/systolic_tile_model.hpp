#pragma once
/// SystemC model of rtl/systolic_tile: same ports and cycle contract as the RTL. A row's
/// result is computed when the row is accepted (reference function) and then travels through
/// a D = R + C - 2 stage delay line that stalls exactly like the array (global enable).

#include <systemc>

#include <array>
#include <cstdint>

#include "rtl/common/port_bits.hpp"
#include "rtl/systolic_tile/systolic_tile_ref.hpp"

namespace moesim::rtl {

/// Cycle-exact SystemC model of the R x C weight-stationary tile.
template <int R, int C, int ACC_W>
class SystolicTileModel : public sc_core::sc_module {
  static constexpr int kIw = 8 * (R > C ? R : C);
  static constexpr int kD = R + C - 2;
  static constexpr int kStages = kD + 1;

 public:
  using InT = PortBits<kIw>;
  using OutT = PortBits<C * ACC_W>;

  sc_core::sc_in<bool> clk{"clk"}, rst{"rst"};
  sc_core::sc_in<bool> in_valid{"in_valid"}, in_last{"in_last"};
  sc_core::sc_out<bool> in_ready{"in_ready"};
  sc_core::sc_in<InT> in_data{"in_data"};
  sc_core::sc_out<bool> out_valid{"out_valid"}, out_last{"out_last"};
  sc_core::sc_in<bool> out_ready{"out_ready"};
  sc_core::sc_out<OutT> out_data{"out_data"};
  sc_core::sc_out<uint32_t> stat_count{"stat_count"};

  SC_HAS_PROCESS(SystolicTileModel);
  explicit SystolicTileModel(sc_core::sc_module_name name) : sc_module(name) {
    SC_METHOD(tick);
    sensitive << clk.pos();
    dont_initialize();
    SC_METHOD(comb);
    sensitive << out_ready << m_accepting << m_out_valid;
  }

 private:
  enum class State { kLoad, kCompute, kDrain };
  struct Stage {
    bool valid = false, last = false;
    std::array<int64_t, C> acc{};
  };

  void tick() {
    if (rst.read()) {
      m_state = State::kLoad;
      m_wcnt = m_dcnt = 0;
      m_stat = 0;
      m_base = 0;
      m_ring.fill(Stage{});
    } else {
      const bool adv = !(m_ring[out_index()].valid && !out_ready.read());
      const bool accepting = m_state == State::kLoad || m_state == State::kCompute;
      const bool fire = in_valid.read() && accepting && adv;
      Stage incoming;
      if (fire) ++m_stat;
      if (fire && m_state == State::kLoad) {
        const InT v = in_data.read();
        for (int j = 0; j < C; ++j) m_w[m_wcnt][j] = static_cast<int8_t>(get_bits(v, 8 * j, 8));
        if (++m_wcnt == R) {
          m_wcnt = 0;
          m_state = State::kCompute;
        }
      } else if (fire && m_state == State::kCompute) {
        const InT v = in_data.read();
        std::array<int8_t, R> a;
        for (int i = 0; i < R; ++i) a[i] = static_cast<int8_t>(get_bits(v, 8 * i, 8));
        incoming.valid = true;
        incoming.last = in_last.read();
        for (int j = 0; j < C; ++j) {
          int64_t s = 0;
          for (int i = 0; i < R; ++i) s = wrap_acc(s + int64_t{a[i]} * m_w[i][j], ACC_W);
          incoming.acc[j] = s;
        }
        if (incoming.last) {
          m_dcnt = kD;
          m_state = kD == 0 ? State::kLoad : State::kDrain;
        }
      } else if (m_state == State::kDrain && adv) {
        if (m_dcnt == 1) m_state = State::kLoad;
        --m_dcnt;
      }
      if (adv) {
        m_base = (m_base + kStages - 1) % kStages;
        m_ring[m_base] = incoming;
      }
    }
    const Stage& o = m_ring[out_index()];
    OutT v{};
    for (int j = 0; j < C; ++j)
      set_bits(v, ACC_W * j, ACC_W, static_cast<uint32_t>(static_cast<uint64_t>(o.acc[j])));
    out_data.write(v);
    out_valid.write(o.valid);
    out_last.write(o.valid && o.last);
    stat_count.write(m_stat);
    m_out_valid.write(o.valid);
    m_accepting.write(m_state == State::kLoad || m_state == State::kCompute);
  }

  // in_ready depends combinationally on out_ready, as in the RTL (global stall).
  void comb() { in_ready.write(m_accepting.read() && !(m_out_valid.read() && !out_ready.read())); }

  int out_index() const { return (m_base + kD) % kStages; }

  State m_state = State::kLoad;
  int m_wcnt = 0, m_dcnt = 0, m_base = 0;
  uint32_t m_stat = 0;
  std::array<std::array<int8_t, C>, R> m_w{};
  std::array<Stage, kStages> m_ring{};
  sc_core::sc_signal<bool> m_accepting{"accepting"}, m_out_valid{"out_valid_q"};
};

}  // namespace moesim::rtl
