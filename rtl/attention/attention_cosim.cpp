// Co-simulation of rtl/attention: reference vs SystemC model vs verilated RTL.
#include <verilated.h>
#include <verilated_vcd_sc.h>

#include "Vattention_p2_d4_w2.h"
#include "Vattention_p4_d8_w2.h"

#include <sstream>

#include "hw_models/compute/attention_timing.hpp"
#include "rtl/attention/attention_model.hpp"
#include "rtl/attention/attention_ref.hpp"
#include "rtl/common/cosim_run.hpp"

namespace moesim {
namespace rtl {
namespace {

/// A Lane that also binds the block's second counter, stat_scores (score reads).
template <class Dut>
class AttnLane : public Lane<Dut> {
 public:
  AttnLane(const std::string& name, sc_core::sc_clock& clk, std::unique_ptr<Dut> dut)
      : Lane<Dut>(name, clk, std::move(dut)), m_scores((name + "_stat_scores").c_str()) {
    this->dut().stat_scores(m_scores);
  }
  bool has_stat2() const override { return true; }
  uint32_t stat2() const override { return m_scores.read(); }

 private:
  sc_core::sc_signal<uint32_t> m_scores;
};

/// The model's contract (attention_timing.hpp) for one RTL case: the block's P and W, one
/// KV head, head dim c W, 1-byte elements (so kv_bytes / W = K/V slices read).
AttentionCost model_cost(const AttentionCase& c, const AttentionParams& p) {
  AttentionDesign a;
  a.parallel_rows = static_cast<uint64_t>(p.p);
  a.dot_width = static_cast<uint64_t>(p.w);
  a.reorder = !c.naive;
  a.online_softmax = true;
  return attention_cost(a, static_cast<uint64_t>(c.rows), static_cast<uint64_t>(c.keys),
                        static_cast<uint64_t>(c.slices * p.w), 1, 1);
}

/// mode: 0 reordered, 1 naive, 2 both (chosen per case).
CaseSource attention_source(const AttentionParams& p, int mode, int max_l) {
  CaseSource src;
  src.serial_cases = true;  // each case's counter increments are its own
  const int cmax = p.d / p.w;
  src.make = [p, mode, max_l, cmax](uint64_t idx, std::mt19937_64& rng) {
    Case cs;
    AttentionCase c;
    auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); };
    c.naive = mode == 2 ? (rng() % 2 != 0) : mode == 1;
    // Directed shapes first (each without, then with back-pressure), then random ones.
    const int kDirected = 8;
    int data = 0;  // 0 random full range, 1 small (+-1.0), 2 all equal, 3 extremes, 4 ascending
    if (idx < 2 * kDirected) {
      const int d = static_cast<int>(idx % kDirected);
      cs.stalls = idx >= kDirected;
      const int shapes[kDirected][4] = {
          {1, 1, 1, 0},           {p.rmax, max_l, cmax, 0}, {p.p, max_l, cmax, 2},
          {p.p + 1, max_l, 1, 3}, {p.rmax, max_l, cmax, 4}, {p.rmax - 1, 2, cmax, 1},
          {1, max_l, cmax, 3},    {p.rmax, 1, 1, 1}};
      c.rows = shapes[d][0];
      c.keys = shapes[d][1];
      c.slices = shapes[d][2];
      data = shapes[d][3];
      c.naive = mode == 2 ? (d % 2 != 0) : mode == 1;
    } else {
      c.rows = pick(1, p.rmax);
      c.keys = pick(1, max_l);
      c.slices = pick(1, cmax);
      data = pick(0, 4);
      cs.stalls = rng() % 4 != 0;
    }
    c.q.assign(static_cast<size_t>(c.rows) * p.d, 0);
    c.k.assign(static_cast<size_t>(c.keys) * p.d, 0);
    c.v.assign(static_cast<size_t>(c.keys) * p.d, 0);
    auto fill = [&](std::vector<int8_t>& m, bool is_k) {
      for (size_t i = 0; i < m.size(); ++i) {
        int x = 0;
        if (data == 0) x = static_cast<int8_t>(rng());
        if (data == 1) x = pick(-16, 16);
        if (data == 2) x = 16;
        if (data == 3) x = (rng() % 2) ? 127 : -128;
        if (data == 4) x = is_k ? static_cast<int>(i / p.d) * 4 - 64 : pick(-128, 127);
        m[i] = static_cast<int8_t>(x);
      }
    };
    fill(c.q, false);
    if (data == 4) std::fill(c.q.begin(), c.q.end(), int8_t{16});  // scores ascend with j
    fill(c.k, true);
    fill(c.v, false);
    std::vector<AttentionRowTrace> tr;
    const auto out = attention_ref(c, p, &tr);
    for (const auto& w : attention_in_beats(c, p)) {
      Beat b;
      std::copy(w.begin(), w.end(), b.w.begin());
      cs.in.push_back(b);
    }
    const auto ob = attention_out_beats(out, c, p);
    for (size_t g = 0; g < ob.size(); ++g) {
      Beat b;
      std::copy(ob[g].begin(), ob[g].end(), b.w.begin());
      b.last = g + 1 == ob.size();
      cs.out.push_back(b);
    }
    const AttentionCost k = model_cost(c, p);
    cs.contract_cycles = 1 + static_cast<uint64_t>(c.rows) + k.cycles;
    cs.contract_stat = k.kv_bytes / static_cast<uint64_t>(p.w);
    cs.contract_stat2 = k.score_reads;
    std::ostringstream os;
    os << (c.naive ? "naive" : "reordered") << " rows=" << c.rows << " keys=" << c.keys
       << " slices=" << c.slices << " (head dim " << c.slices * p.w << ") Q=[";
    for (size_t i = 0; i < c.q.size(); ++i) os << (i ? "," : "") << int{c.q[i]};
    os << "] K=[";
    for (size_t i = 0; i < c.k.size(); ++i) os << (i ? "," : "") << int{c.k[i]};
    os << "] V=[";
    for (size_t i = 0; i < c.v.size(); ++i) os << (i ? "," : "") << int{c.v[i]};
    os << "] ref rows (max, sum Q.16, recip Q1.24):";
    for (const auto& t : tr) os << " (" << t.max << "," << t.sum << "," << t.recip << ")";
    os << "; contract " << cs.contract_cycles << " cycles, " << cs.contract_stat << " K/V slices, "
       << cs.contract_stat2 << " score reads";
    cs.desc = os.str();
    return cs;
  };
  src.format_out = [p](const Beat& b) {
    std::ostringstream os;
    for (int i = 0; i < p.p; ++i) {
      os << (i ? " | " : "") << "row" << i << ":";
      for (int e = 0; e < p.d; ++e)
        os << " " << static_cast<int16_t>(get_field(b, 16 * (i * p.d + e), 16));
    }
    return os.str();
  };
  return src;
}

template <class Rtl, int IW, int OW>
int run(const std::string& variant, const HarnessConfig& cfg, const AttentionParams& p, int mode,
        int max_l, std::ostream& report) {
  report << variant << ": contract 1 + rows + ceil(rows/P) (2 L c + 2) cycles from header to "
         << "last output; K/V slices read 2 L c (reordered) or ceil(rows/P) 2 L c (naive); "
         << "score reads 2 L per row\n";
  return run_cosim<Rtl, AttentionModel<IW, OW>, AttnLane>(
      variant, cfg, attention_source(p, mode, max_l),
      [p] { return std::make_unique<AttentionModel<IW, OW>>("systemc_model", p); }, report);
}

}  // namespace
}  // namespace rtl

int rtl_verify_attention(uint64_t cases, uint64_t seed, const ParamMap& params,
                         std::ostream& report) {
  using namespace rtl;
  try {
    ParamReader r(params);
    AttentionParams p;
    p.p = static_cast<int>(r.get_int("P", 4));
    p.d = static_cast<int>(r.get_int("D", 8));
    p.w = static_cast<int>(r.get_int("W", 2));
    p.rmax = 8;
    p.lmax = p.p == 2 ? 16 : 32;
    const std::string mode = r.get_str("MODE", "both");
    if (mode != "reordered" && mode != "naive" && mode != "both")
      throw std::invalid_argument("MODE must be reordered, naive or both");
    const int m = mode == "reordered" ? 0 : mode == "naive" ? 1 : 2;
    const int max_l = static_cast<int>(r.get_int("MAX_L", p.lmax));
    const std::string variant = "attention_p" + std::to_string(p.p) + "_d" + std::to_string(p.d) +
                                "_w" + std::to_string(p.w);
    const HarnessConfig cfg = harness_config(variant, cases, seed, r);
    r.finish("P, D, W, MODE, MAX_L, stall, bubble, waves, lanes, inject_fault");
    const bool p2 = p.p == 2 && p.d == 4 && p.w == 2, p4 = p.p == 4 && p.d == 8 && p.w == 2;
    if (!p2 && !p4)
      throw std::invalid_argument("no RTL build for " + variant + "\n" + rtl_verify_help());
    if (max_l < 2 || max_l > p.lmax)
      throw std::invalid_argument("MAX_L must be in 2.." + std::to_string(p.lmax));
    if (p2) return run<Vattention_p2_d4_w2, 32, 128>(variant, cfg, p, m, max_l, report);
    return run<Vattention_p4_d8_w2, 64, 512>(variant, cfg, p, m, max_l, report);
  } catch (const std::invalid_argument& e) {
    report << "rtl-verify attention: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace moesim
