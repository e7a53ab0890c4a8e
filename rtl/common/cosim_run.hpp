#pragma once
/// run_cosim(): elaborates the harness with a SystemC-model lane and a verilated RTL lane.
/// Include the verilated headers (verilated.h, verilated_vcd_sc.h, V*.h) before this file.

#include <systemc>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "rtl/common/cosim_harness.hpp"

namespace moesim::rtl {

/// Elaborates clock, harness, SystemC-model lane and RTL lane, runs, reports. Returns 0 on
/// pass, 1 on mismatch.
template <class Rtl, class Model, template <class> class LaneT = Lane>
int run_cosim(const std::string& variant, const HarnessConfig& cfg, CaseSource src,
              std::function<std::unique_ptr<Model>()> make_model, std::ostream& report) {
  const std::string& lanes = cfg.lanes;
  sc_core::sc_clock clk("clk", 10, sc_core::SC_NS);
  HarnessConfig run_cfg = cfg;
  if (!run_cfg.wave_path.empty())
    run_cfg.wave_path = std::filesystem::absolute(run_cfg.wave_path).string();
  Harness h("harness", clk, run_cfg, std::move(src), report);
  std::unique_ptr<LaneT<Model>> sc_lane;
  std::unique_ptr<LaneT<Rtl>> rtl_lane;
  if (lanes != "rtl") {
    sc_lane = std::make_unique<LaneT<Model>>("systemc", clk, make_model());
    h.add_lane(sc_lane.get());
  }
  std::unique_ptr<VerilatedVcdSc> tfp;
  if (lanes != "systemc") {
    Verilated::traceEverOn(true);
    rtl_lane = std::make_unique<LaneT<Rtl>>("rtl", clk, std::make_unique<Rtl>("rtl"));
    h.add_lane(rtl_lane.get());
  }
  sc_core::sc_start(sc_core::SC_ZERO_TIME);
  if (rtl_lane && !run_cfg.wave_path.empty()) {
    tfp = std::make_unique<VerilatedVcdSc>();
    rtl_lane->dut().trace(tfp.get(), 99);
    h.waves = [&](bool open) {
      if (open)
        tfp->open(run_cfg.wave_path.c_str());
      else
        tfp->close();
    };
  }
  const auto t0 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (rtl_lane) rtl_lane->dut().final();
  report << variant << ": " << (h.failed() ? "FAIL" : "PASS") << ", " << h.cases_done()
         << " cases (" << h.contract_checked() << " checked against the cycle contract), "
         << h.cycles() << " cycles in " << secs
         << " s = " << static_cast<uint64_t>(static_cast<double>(h.cycles()) / std::max(secs, 1e-9))
         << " cycles/s (lanes: " << lanes << ")\n"
         << variant << ": no-stall cases measured: mean " << h.mean_nostall_cycles()
         << " cycles first input to last output, mean stat_count +" << h.mean_nostall_stat()
         << "\n";
  if (cfg.waves_all && !cfg.wave_path.empty()) report << "waveform: " << run_cfg.wave_path << "\n";
  return h.failed() ? 1 : 0;
}

}  // namespace moesim::rtl
