#pragma once
/// Generic lock-step co-simulation harness: drives the SystemC model and the verilated RTL of
/// one block with the same stimulus and the same random back-pressure, compares both against
/// the bit-exact C++ reference (values) and against each other (values and the cycle of every
/// output handshake), and checks no-stall cases against the block's cycle contract.
///

#include <systemc>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "rtl/common/params.hpp"
#include "rtl/rtl_verify.hpp"

namespace moesim::rtl {

/// One stream beat: up to 512 data bits (word 0 = bits 31:0) plus the last flag.
struct Beat {
  std::array<uint32_t, 16> w{};
  bool last = false;
  bool operator==(const Beat& o) const { return w == o.w && last == o.last; }
  bool operator!=(const Beat& o) const { return !(*this == o); }
};

/// Writes the low `width` (<= 32) bits of `x` at bit `lo` of `b`.
inline void set_field(Beat& b, int lo, int width, uint32_t x) {
  const int word = lo / 32, off = lo % 32;
  uint64_t pair = b.w[word] | (word + 1 < 16 ? uint64_t{b.w[word + 1]} << 32 : 0);
  const uint64_t mask = ((uint64_t{1} << width) - 1) << off;
  pair = (pair & ~mask) | ((uint64_t{x} << off) & mask);
  b.w[word] = static_cast<uint32_t>(pair);
  if (word + 1 < 16) b.w[word + 1] = static_cast<uint32_t>(pair >> 32);
}
/// Reads `width` (<= 32) bits at bit `lo` of `b`.
inline uint32_t get_field(const Beat& b, int lo, int width) {
  const int word = lo / 32, off = lo % 32;
  const uint64_t pair = b.w[word] | (word + 1 < 16 ? uint64_t{b.w[word + 1]} << 32 : 0);
  return static_cast<uint32_t>((pair >> off) & ((uint64_t{1} << width) - 1));
}

/// One test case: input beats, reference output beats and the contract numbers.
struct Case {
  std::vector<Beat> in;
  std::vector<Beat> out;         ///< reference model output
  std::vector<Beat> w_in;        ///< beats of the second input stream (w_*), if the block has one
  uint64_t contract_cycles = 0;  ///< first input accepted .. last output accepted, no stalls
  uint64_t contract_stat = 0;    ///< expected stat_count increment over the case
  uint64_t contract_stat2 = 0;   ///< expected second-counter increment (lanes with has_stat2)
  bool stalls = true;            ///< random bubbles and back-pressure while this case runs
  std::string desc;              ///< the inputs, human readable
};

/// Block-specific knowledge: how to make case `index` and how to print an output beat.
struct CaseSource {
  std::function<Case(uint64_t index, std::mt19937_64& rng)> make;
  std::function<std::string(const Beat&)> format_out;
  /// Offer a case's inputs (both streams) only after the previous case's last output was
  /// taken, so every case starts on an empty block and its stat_count increment is its own
  /// (for blocks that would otherwise overlap consecutive cases).
  bool serial_cases = false;
};

/// Stable 64-bit mix (splitmix64) for per-case seeds.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// ---- packing a Beat into the port types Verilator uses (bool, uint32_t, uint64_t, sc_bv) ----
inline void pack(uint32_t& v, const Beat& b) {
  v = b.w[0];
}
inline void pack(uint64_t& v, const Beat& b) {
  v = b.w[0] | (uint64_t{b.w[1]} << 32);
}
template <int W>
void pack(sc_dt::sc_bv<W>& v, const Beat& b) {
  for (int i = 0; i * 32 < W; ++i) v.range(std::min(W, 32 * i + 32) - 1, 32 * i) = b.w[i];
}
inline void unpack(const uint32_t& v, Beat& b) {
  b.w[0] = v;
}
inline void unpack(const uint64_t& v, Beat& b) {
  b.w[0] = static_cast<uint32_t>(v);
  b.w[1] = static_cast<uint32_t>(v >> 32);
}
template <int W>
void unpack(const sc_dt::sc_bv<W>& v, Beat& b) {
  for (int i = 0; i * 32 < W; ++i)
    b.w[i] = static_cast<uint32_t>(v.range(std::min(W, 32 * i + 32) - 1, 32 * i).to_uint());
}

/// What the harness needs from a device under test, whatever its port types.
class LaneBase {
 public:
  virtual ~LaneBase() = default;
  virtual void set_rst(bool v) = 0;
  virtual void drive_in(bool valid, const Beat& b) = 0;
  virtual void set_out_ready(bool v) = 0;
  virtual bool in_ready() const = 0;
  virtual bool out_valid() const = 0;
  virtual Beat out_beat() const = 0;
  virtual uint32_t stat() const = 0;
  virtual const std::string& name() const = 0;
  /// The second input stream (w_valid, w_ready, w_data), for blocks that have one.
  virtual bool has_w() const { return false; }
  virtual void drive_w(bool, const Beat&) {}
  virtual bool w_ready() const { return false; }
  /// A second activity counter (e.g. the attention block's score reads), if the block has one.
  virtual bool has_stat2() const { return false; }
  virtual uint32_t stat2() const { return 0; }
};

/// Binds a DUT (verilated module or SystemC model with the standard port names) to signals.
template <class Dut>
class Lane : public LaneBase {
  template <class P>
  using DataOf = typename std::remove_reference_t<P>::data_type;

 public:
  using InT = DataOf<decltype(std::declval<Dut&>().in_data)>;
  using OutT = DataOf<decltype(std::declval<Dut&>().out_data)>;

  Lane(const std::string& name, sc_core::sc_clock& clk, std::unique_ptr<Dut> dut)
      : m_name(name),
        m_rst((name + "_rst").c_str(), true),
        m_in_valid((name + "_in_valid").c_str()),
        m_in_ready((name + "_in_ready").c_str()),
        m_in_last((name + "_in_last").c_str()),
        m_out_valid((name + "_out_valid").c_str()),
        m_out_ready((name + "_out_ready").c_str()),
        m_out_last((name + "_out_last").c_str()),
        m_in_data((name + "_in_data").c_str()),
        m_out_data((name + "_out_data").c_str()),
        m_stat((name + "_stat").c_str()),
        m_dut(std::move(dut)) {
    m_dut->clk(clk);
    m_dut->rst(m_rst);
    m_dut->in_valid(m_in_valid);
    m_dut->in_ready(m_in_ready);
    m_dut->in_data(m_in_data);
    m_dut->in_last(m_in_last);
    m_dut->out_valid(m_out_valid);
    m_dut->out_ready(m_out_ready);
    m_dut->out_data(m_out_data);
    m_dut->out_last(m_out_last);
    m_dut->stat_count(m_stat);
  }
  void set_rst(bool v) override { m_rst.write(v); }
  void drive_in(bool valid, const Beat& b) override {
    m_in_valid.write(valid);
    InT v{};
    pack(v, b);
    m_in_data.write(v);
    m_in_last.write(b.last);
  }
  void set_out_ready(bool v) override { m_out_ready.write(v); }
  bool in_ready() const override { return m_in_ready.read(); }
  bool out_valid() const override { return m_out_valid.read(); }
  Beat out_beat() const override {
    Beat b;
    unpack(m_out_data.read(), b);
    b.last = m_out_last.read();
    return b;
  }
  uint32_t stat() const override { return m_stat.read(); }
  const std::string& name() const override { return m_name; }
  Dut& dut() { return *m_dut; }

 protected:
  std::string m_name;
  sc_core::sc_signal<bool> m_rst, m_in_valid, m_in_ready, m_in_last, m_out_valid, m_out_ready,
      m_out_last;
  sc_core::sc_signal<InT> m_in_data;
  sc_core::sc_signal<OutT> m_out_data;
  sc_core::sc_signal<uint32_t> m_stat;
  std::unique_ptr<Dut> m_dut;
};

/// A Lane for blocks with a second input stream: w_valid, w_ready, w_data (no last flag).
template <class Dut>
class DualLane : public Lane<Dut> {
  template <class P>
  using DataOf = typename std::remove_reference_t<P>::data_type;

 public:
  using WT = DataOf<decltype(std::declval<Dut&>().w_data)>;
  DualLane(const std::string& name, sc_core::sc_clock& clk, std::unique_ptr<Dut> dut)
      : Lane<Dut>(name, clk, std::move(dut)),
        m_w_valid((name + "_w_valid").c_str()),
        m_w_ready((name + "_w_ready").c_str()),
        m_w_data((name + "_w_data").c_str()) {
    this->dut().w_valid(m_w_valid);
    this->dut().w_ready(m_w_ready);
    this->dut().w_data(m_w_data);
  }
  bool has_w() const override { return true; }
  void drive_w(bool valid, const Beat& b) override {
    m_w_valid.write(valid);
    WT v{};
    pack(v, b);
    m_w_data.write(v);
  }
  bool w_ready() const override { return m_w_ready.read(); }

 private:
  sc_core::sc_signal<bool> m_w_valid, m_w_ready;
  sc_core::sc_signal<WT> m_w_data;
};

/// Harness settings resolved from the rtl_verify parameters.
struct HarnessConfig {
  uint64_t cases = 1000;
  uint64_t seed = 1;
  unsigned stall_pct = 30;   ///< chance per cycle that out_ready is low (stalling cases)
  unsigned bubble_pct = 30;  ///< chance per cycle that in_valid is low (stalling cases)
  uint64_t hang_cycles = 200000;
  bool waves_all = false;     ///< trace the whole run
  bool waves_on_fail = true;  ///< replay the first failing case into a VCD
  std::string wave_path;
  std::string lanes = "both";  ///< both | rtl | systemc
  /// Self-test of the checker: corrupt the reference output of this case (bit 0 of its first
  /// beat), so the run must report a mismatch there. UINT64_MAX = off.
  uint64_t fault_case = UINT64_MAX;
};

/// The lock-step driver/monitor/comparator (one SC_METHOD on the rising clock edge).
class Harness : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Harness);
  Harness(sc_core::sc_module_name name, sc_core::sc_clock& clk, HarnessConfig cfg, CaseSource src,
          std::ostream& report)
      : sc_module(name), m_cfg(std::move(cfg)), m_src(std::move(src)), m_report(report) {
    m_total = m_cfg.cases;
    SC_METHOD(tick);
    sensitive << clk.posedge_event();
    dont_initialize();
  }
  void add_lane(LaneBase* lane) {
    m_lanes.push_back(lane);
    m_state.emplace_back();
  }
  /// Called with true to open the waveform file, false to close it (RTL lane only).
  std::function<void(bool)> waves;

  bool failed() const { return m_failed; }
  uint64_t cycles() const { return m_cycle; }
  uint64_t cases_done() const { return m_cases_done; }
  uint64_t contract_checked() const { return m_contract_checked; }
  /// Mean cycles (first input .. last output handshake) over the no-stall cases.
  double mean_nostall_cycles() const {
    return m_contract_checked ? double(m_nostall_cycles) / double(m_contract_checked) : 0.0;
  }
  /// Mean stat_count increment (score reads, input beats) over the no-stall cases.
  double mean_nostall_stat() const {
    return m_contract_checked ? double(m_nostall_stat) / double(m_contract_checked) : 0.0;
  }

 private:
  struct Observed {
    std::vector<Beat> out;
    std::vector<uint64_t> out_cycle;
    std::vector<uint64_t> in_cycle;
    std::vector<uint64_t> w_cycle;  ///< second input stream handshakes
    uint64_t first_in = 0;
    uint64_t last_out = 0;
    uint64_t stat_delta = 0;
    uint64_t stat2_delta = 0;
  };
  struct LaneState {
    uint64_t in_case = 0, in_beat = 0, out_case = 0, w_case = 0, w_beat = 0;
    bool in_valid = false, out_ready = false, w_valid = false;
    uint32_t prev_stat = 0, prev_stat2 = 0;
    std::mt19937_64 rng_in, rng_out, rng_w;
    std::map<uint64_t, Observed> obs;
  };
  enum class Phase { kReset, kRun, kReplay, kDone };

  const Case& get_case(uint64_t idx) {
    while (idx >= m_base + m_cases.size()) {
      const uint64_t i = m_base + m_cases.size();
      std::mt19937_64 rng(mix64(m_cfg.seed ^ mix64(i)));
      m_cases.push_back(m_src.make(i, rng));
      if (i == m_cfg.fault_case) {
        m_cases.back().out[0].w[0] ^= 1u;
        m_cases.back().desc += " [reference output corrupted on purpose: inject_fault]";
      }
    }
    return m_cases[idx - m_base];
  }
  void reseed_in(LaneState& s) { s.rng_in.seed(mix64(m_cfg.seed * 3 + s.in_case)); }
  void reseed_out(LaneState& s) { s.rng_out.seed(mix64(m_cfg.seed * 5 + s.out_case + 7)); }
  void reseed_w(LaneState& s) { s.rng_w.seed(mix64(m_cfg.seed * 11 + s.w_case + 13)); }

  void restart(uint64_t first_case, uint64_t total) {
    m_total = total;
    for (size_t l = 0; l < m_lanes.size(); ++l) {
      LaneState& s = m_state[l];
      s.in_case = s.out_case = s.w_case = first_case;
      s.in_beat = s.w_beat = 0;
      s.in_valid = s.w_valid = false;
      s.out_ready = false;
      s.prev_stat = s.prev_stat2 = 0;
      s.obs.clear();
      reseed_in(s);
      reseed_out(s);
      reseed_w(s);
      m_lanes[l]->set_rst(true);
      m_lanes[l]->drive_in(false, Beat{});
      if (m_lanes[l]->has_w()) m_lanes[l]->drive_w(false, Beat{});
      m_lanes[l]->set_out_ready(false);
    }
    m_done.clear();
    m_reset_until = m_cycle + 3;
    m_last_progress = m_cycle;
  }

  void tick() {
    ++m_cycle;
    if (m_phase == Phase::kDone) return;
    if (m_cycle == 1) {
      restart(0, m_total);
      m_phase = Phase::kReset;
      if (m_cfg.waves_all && waves) waves(true);
    }
    if (m_phase == Phase::kReset || m_in_replay_reset) {
      if (m_cycle < m_reset_until) return;
      for (auto* lane : m_lanes) lane->set_rst(false);
      if (m_phase == Phase::kReset) m_phase = Phase::kRun;
      m_in_replay_reset = false;
      // Inputs are driven from this edge on; nothing was offered yet.
      for (size_t l = 0; l < m_lanes.size(); ++l) drive(l);
      return;
    }
    for (size_t l = 0; l < m_lanes.size(); ++l) {
      LaneState& s = m_state[l];
      LaneBase& lane = *m_lanes[l];
      // Both input streams are sampled before either handshake is recorded.
      const bool w_fire = s.w_valid && lane.has_w() && lane.w_ready();
      if (s.in_valid && lane.in_ready()) on_in_accept(l);
      if (w_fire) on_w_accept(l);
      if (s.out_ready && lane.out_valid()) on_out_accept(l, lane.out_beat());
      if (m_abort_tick) {
        m_abort_tick = false;
        return;
      }
    }
    bool all_done = true;
    for (auto& s : m_state) all_done = all_done && s.out_case >= m_total;
    if (all_done) {
      finish();
      return;
    }
    if (m_cycle - m_last_progress > m_cfg.hang_cycles) {
      if (m_phase == Phase::kRun) {
        std::ostringstream os;
        os << "TIMEOUT: no handshake for " << m_cfg.hang_cycles << " cycles at cycle " << m_cycle;
        for (size_t l = 0; l < m_lanes.size(); ++l)
          os << "\n  " << m_lanes[l]->name() << ": input case " << m_state[l].in_case << " beat "
             << m_state[l].in_beat << ", output case " << m_state[l].out_case;
        fail(m_state[0].out_case, os.str());
      } else {
        finish();
      }
      return;
    }
    for (size_t l = 0; l < m_lanes.size(); ++l) drive(l);
  }

  void drive(size_t l) {
    LaneState& s = m_state[l];
    // serial_cases: the inputs of case c wait for the last output of case c - 1.
    auto may_offer = [&](uint64_t c) {
      return c < m_total && (!m_src.serial_cases || c <= s.out_case);
    };
    if (m_lanes[l]->has_w()) {
      while (s.w_case < m_total && get_case(s.w_case).w_in.empty()) {
        ++s.w_case;
        reseed_w(s);
      }
      const Case* wc = may_offer(s.w_case) ? &get_case(s.w_case) : nullptr;
      const bool wbubble = wc && wc->stalls && (s.rng_w() % 100) < m_cfg.bubble_pct;
      s.w_valid = wc && !wbubble;
      m_lanes[l]->drive_w(s.w_valid, s.w_valid ? wc->w_in[s.w_beat] : Beat{});
    }
    const Case* ic = may_offer(s.in_case) ? &get_case(s.in_case) : nullptr;
    const bool bubble = ic && ic->stalls && (s.rng_in() % 100) < m_cfg.bubble_pct;
    s.in_valid = ic && !bubble;
    m_lanes[l]->drive_in(s.in_valid, s.in_valid ? ic->in[s.in_beat] : Beat{});
    const Case* oc = s.out_case < m_total ? &get_case(s.out_case) : nullptr;
    const bool stall = oc && oc->stalls && (s.rng_out() % 100) < m_cfg.stall_pct;
    s.out_ready = !stall;
    m_lanes[l]->set_out_ready(s.out_ready);
  }

  void on_in_accept(size_t l) {
    LaneState& s = m_state[l];
    m_last_progress = m_cycle;
    Observed& o = s.obs[s.in_case];
    if (s.in_beat == 0) o.first_in = m_cycle;
    o.in_cycle.push_back(m_cycle);
    if (++s.in_beat == get_case(s.in_case).in.size()) {
      ++s.in_case;
      s.in_beat = 0;
      reseed_in(s);
    }
  }

  void on_w_accept(size_t l) {
    LaneState& s = m_state[l];
    m_last_progress = m_cycle;
    s.obs[s.w_case].w_cycle.push_back(m_cycle);
    if (++s.w_beat == get_case(s.w_case).w_in.size()) {
      ++s.w_case;
      s.w_beat = 0;
      reseed_w(s);
    }
  }

  void on_out_accept(size_t l, const Beat& b) {
    LaneState& s = m_state[l];
    m_last_progress = m_cycle;
    if (s.out_case >= m_total) {
      fail(m_total - 1, m_lanes[l]->name() + ": output beat after the last expected one");
      return;
    }
    Observed& o = s.obs[s.out_case];
    o.out.push_back(b);
    o.out_cycle.push_back(m_cycle);
    if (o.out.size() < get_case(s.out_case).out.size()) return;
    o.last_out = m_cycle;
    const uint32_t stat = m_lanes[l]->stat();
    o.stat_delta = static_cast<uint32_t>(stat - s.prev_stat);
    s.prev_stat = stat;
    const uint32_t stat2 = m_lanes[l]->stat2();
    o.stat2_delta = static_cast<uint32_t>(stat2 - s.prev_stat2);
    s.prev_stat2 = stat2;
    const uint64_t idx = s.out_case++;
    reseed_out(s);
    auto& slot = m_done[idx];
    slot.resize(m_lanes.size());
    slot[l] = std::move(o);
    s.obs.erase(idx);
    bool complete = true;
    for (auto& st : m_state) complete = complete && st.out_case > idx;
    if (complete) {
      compare(idx, slot);
      m_done.erase(idx);
      uint64_t min_out = m_total;
      for (auto& st : m_state) min_out = std::min(min_out, st.out_case);
      while (m_base < min_out && !m_cases.empty() && m_phase == Phase::kRun) {
        m_cases.pop_front();
        ++m_base;
      }
    }
  }

  /// The case's first input handshake on either stream.
  static uint64_t start_cycle(const Observed& o) {
    return o.w_cycle.empty() ? o.first_in : std::min(o.first_in, o.w_cycle.front());
  }

  std::string format_obs(const Observed& o) const {
    std::ostringstream os;
    for (size_t i = 0; i < o.out.size(); ++i)
      os << "    [" << i << "] " << m_src.format_out(o.out[i]) << (o.out[i].last ? " last" : "")
         << " @cycle " << o.out_cycle[i] << "\n";
    return os.str();
  }

  void compare(uint64_t idx, const std::vector<Observed>& obs) {
    if (m_phase != Phase::kRun) return;
    const Case& c = get_case(idx);
    std::ostringstream why;
    for (size_t l = 0; l < obs.size(); ++l) {
      const Observed& o = obs[l];
      const std::string& n = m_lanes[l]->name();
      if (o.out != c.out) why << n << ": output values differ from the reference model\n";
      if (c.contract_stat != o.stat_delta)
        why << n << ": stat_count increment " << o.stat_delta << " != contract " << c.contract_stat
            << "\n";
      if (m_lanes[l]->has_stat2() && c.contract_stat2 != o.stat2_delta)
        why << n << ": second counter increment " << o.stat2_delta << " != contract "
            << c.contract_stat2 << "\n";
      if (!c.stalls && o.last_out - start_cycle(o) != c.contract_cycles)
        why << n << ": " << (o.last_out - start_cycle(o)) << " cycles != contract "
            << c.contract_cycles << "\n";
      if (l > 0 && (o.in_cycle != obs[0].in_cycle || o.out_cycle != obs[0].out_cycle ||
                    o.w_cycle != obs[0].w_cycle))
        why << n << ": handshake cycles differ from " << m_lanes[0]->name() << "\n";
    }
    if (!why.str().empty()) {
      std::ostringstream os;
      os << "MISMATCH in case " << idx << " (" << (c.stalls ? "random stalls" : "no stalls")
         << ")\n"
         << why.str() << "  inputs: " << c.desc << "\n  reference:\n";
      for (size_t i = 0; i < c.out.size(); ++i)
        os << "    [" << i << "] " << m_src.format_out(c.out[i]) << (c.out[i].last ? " last" : "")
           << "\n";
      os << "  contract: " << c.contract_cycles << " cycles, stat +" << c.contract_stat << "\n";
      for (size_t l = 0; l < obs.size(); ++l)
        os << "  " << m_lanes[l]->name() << ": first input @cycle " << start_cycle(obs[l])
           << ", last output @cycle " << obs[l].last_out << " -> "
           << (obs[l].last_out - start_cycle(obs[l])) << " cycles, stat +" << obs[l].stat_delta
           << "\n"
           << format_obs(obs[l]);
      fail(idx, os.str());
      return;
    }
    ++m_cases_done;
    if (!c.stalls) {
      ++m_contract_checked;
      m_nostall_cycles += obs[0].last_out - start_cycle(obs[0]);
      m_nostall_stat += obs[0].stat_delta;
    }
  }

  void fail(uint64_t idx, const std::string& msg) {
    m_failed = true;
    m_abort_tick = true;
    m_report << msg;
    if (m_cfg.waves_on_fail && waves && !m_cfg.waves_all && m_phase == Phase::kRun &&
        idx >= m_base) {
      m_report << "  replaying case " << idx << " after a reset into " << m_cfg.wave_path << "\n";
      m_phase = Phase::kReplay;
      restart(idx, idx + 1);
      m_in_replay_reset = true;
      m_cfg.hang_cycles = 20000;
      waves(true);
      return;
    }
    if (m_cfg.waves_all && waves)
      m_report << "  waveform of the whole run: " << m_cfg.wave_path << "\n";
    finish();
  }

  void finish() {
    if (waves && (m_cfg.waves_all || m_phase == Phase::kReplay)) waves(false);
    m_phase = Phase::kDone;
    sc_core::sc_stop();
  }

  HarnessConfig m_cfg;
  CaseSource m_src;
  std::ostream& m_report;
  std::vector<LaneBase*> m_lanes;
  std::vector<LaneState> m_state;
  std::deque<Case> m_cases;
  uint64_t m_base = 0;
  std::map<uint64_t, std::vector<Observed>> m_done;
  uint64_t m_total = 0, m_cycle = 0, m_reset_until = 0, m_last_progress = 0;
  uint64_t m_cases_done = 0, m_contract_checked = 0, m_nostall_cycles = 0, m_nostall_stat = 0;
  Phase m_phase = Phase::kReset;
  bool m_in_replay_reset = false;
  bool m_abort_tick = false;
  bool m_failed = false;
};

/// Parses the runtime parameters every block accepts (see rtl/README.md).
HarnessConfig harness_config(const std::string& variant, uint64_t cases, uint64_t seed,
                             ParamReader& r);

}  // namespace moesim::rtl
