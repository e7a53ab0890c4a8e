#pragma once
/// SystemC model of rtl/systolic_tile/systolic_tile_pp.v (ping-pong weights): same ports and
/// cycle contract as the RTL. Weight rows fill the empty bank; a fold's activation rows are
/// accepted once its bank is full, their results computed at acceptance with that bank and
/// delayed through the D = R + C - 2 stage line that stalls like the array (global enable).
/// The fold's last row frees its bank.

#include <systemc>

#include <array>
#include <cstdint>

#include "rtl/common/port_bits.hpp"
#include "rtl/systolic_tile/systolic_tile_ref.hpp"

namespace moesim::rtl {

/// Cycle-exact SystemC model of the double-buffered R x C weight-stationary tile.
template <int R, int C, int ACC_W>
class SystolicTilePpModel : public sc_core::sc_module {
  static constexpr int kD = R + C - 2;
  static constexpr int kStages = kD + 1;

 public:
  using InT = PortBits<8 * R>;
  using WT = PortBits<8 * C>;
  using OutT = PortBits<C * ACC_W>;

  sc_core::sc_in<bool> clk{"clk"}, rst{"rst"};
  sc_core::sc_in<bool> w_valid{"w_valid"};
  sc_core::sc_out<bool> w_ready{"w_ready"};
  sc_core::sc_in<WT> w_data{"w_data"};
  sc_core::sc_in<bool> in_valid{"in_valid"}, in_last{"in_last"};
  sc_core::sc_out<bool> in_ready{"in_ready"};
  sc_core::sc_in<InT> in_data{"in_data"};
  sc_core::sc_out<bool> out_valid{"out_valid"}, out_last{"out_last"};
  sc_core::sc_in<bool> out_ready{"out_ready"};
  sc_core::sc_out<OutT> out_data{"out_data"};
  sc_core::sc_out<uint32_t> stat_count{"stat_count"};

  SC_HAS_PROCESS(SystolicTilePpModel);
  explicit SystolicTilePpModel(sc_core::sc_module_name name) : sc_module(name) {
    SC_METHOD(tick);
    sensitive << clk.pos();
    dont_initialize();
    SC_METHOD(comb);
    sensitive << out_ready << m_load_free << m_compute_full << m_out_valid;
  }

 private:
  struct Stage {
    bool valid = false, last = false;
    std::array<int64_t, C> acc{};
  };

  void tick() {
    if (rst.read()) {
      m_full = {false, false};
      m_lbank = m_cbank = 0;
      m_wcnt = 0;
      m_stat = 0;
      m_base = 0;
      m_ring.fill(Stage{});
    } else {
      const bool adv = !(m_ring[out_index()].valid && !out_ready.read());
      const bool w_fire = w_valid.read() && !m_full[m_lbank] && adv;
      const bool act_fire = in_valid.read() && m_full[m_cbank] && adv;
      m_stat += (w_fire ? 1 : 0) + (act_fire ? 1 : 0);
      Stage incoming;
      if (act_fire) {
        const InT v = in_data.read();
        std::array<int8_t, R> a;
        for (int i = 0; i < R; ++i) a[i] = static_cast<int8_t>(get_bits(v, 8 * i, 8));
        incoming.valid = true;
        incoming.last = in_last.read();
        const auto& w = m_w[m_cbank];
        for (int j = 0; j < C; ++j) {
          int64_t s = 0;
          for (int i = 0; i < R; ++i) s = wrap_acc(s + int64_t{a[i]} * w[i][j], ACC_W);
          incoming.acc[j] = s;
        }
      }
      // w_fire needs bank lbank empty, act_fire bank cbank full: never the same bank.
      if (w_fire) {
        const WT v = w_data.read();
        for (int j = 0; j < C; ++j)
          m_w[m_lbank][m_wcnt][j] = static_cast<int8_t>(get_bits(v, 8 * j, 8));
        if (++m_wcnt == R) {
          m_wcnt = 0;
          m_full[m_lbank] = true;
          m_lbank ^= 1;
        }
      }
      if (act_fire && incoming.last) {
        m_full[m_cbank] = false;
        m_cbank ^= 1;
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
    m_load_free.write(!m_full[m_lbank]);
    m_compute_full.write(m_full[m_cbank]);
  }

  // Both readies depend combinationally on out_ready, as in the RTL (global stall).
  void comb() {
    const bool adv = !(m_out_valid.read() && !out_ready.read());
    w_ready.write(adv && m_load_free.read());
    in_ready.write(adv && m_compute_full.read());
  }

  int out_index() const { return (m_base + kD) % kStages; }

  std::array<bool, 2> m_full{};
  int m_lbank = 0, m_cbank = 0, m_wcnt = 0, m_base = 0;
  uint32_t m_stat = 0;
  std::array<std::array<std::array<int8_t, C>, R>, 2> m_w{};
  std::array<Stage, kStages> m_ring{};
  sc_core::sc_signal<bool> m_load_free{"load_free"}, m_compute_full{"compute_full"},
      m_out_valid{"out_valid_q"};
};

}  // namespace moesim::rtl
