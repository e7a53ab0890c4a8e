/// Off-chip memory tier, fast fidelity: peak bandwidth times an efficiency, plus latency.

#include <cmath>

#include <stdexcept>

#include "hw_models/memory/detailed_dram.hpp"
#include "hw_models/memory/dram_fidelity.hpp"
#include "hw_models/memory/fluid_memory.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/sim_time.hpp"

namespace moesim {

namespace {

class FastDram final : public FluidMemory {
 public:
  static void declare(ParamSchema& s) {
    s.add("capacity", ParamType::kSize, "capacity of the tier").at_least(1);
    s.add("bandwidth", ParamType::kBandwidth, "peak bandwidth").at_least(1);
    s.add("efficiency", ParamType::kFloat,
          "fraction of peak bandwidth achieved on streaming transfers (refresh, turnarounds)")
        .range(0.01, 1.0)
        .default_value(1.0);
    s.add("latency", ParamType::kTime, "latency from request to first byte")
        .default_value(Quantity{100e-9, false});
  }
  static Facts describe(const Params& p) {
    return {p.get_bytes("capacity"), p.get_bytes_per_s("bandwidth")};
  }
  explicit FastDram(const Memory::Args& a)
      : FluidMemory(a.name, a.stats_parent,
                    describe(a.params).nominal_bytes_per_s * a.params.get_float("efficiency"),
                    sc_core::sc_time::from_value(
                        checked_ticks(a.params.get_seconds("latency", a.clock_hz) * 1e12,
                                      std::string(a.name) + " latency")),
                    describe(a.params).capacity_bytes) {}
};

MOESIM_REGISTER(Memory, FastDram, "fast",
                "off-chip DRAM tier (HBM, DDR) as bandwidth x efficiency plus latency, "
                "bandwidth shared fairly among concurrent transfers");

class Sram final : public FluidMemory {
 public:
  static void declare(ParamSchema& s) {
    s.add("capacity", ParamType::kSize, "on-chip SRAM capacity").at_least(1);
    s.add("banks", ParamType::kInt, "independent banks").range(1, 1 << 20);
    s.add("bytes_per_cycle", ParamType::kInt, "bytes one bank reads or writes per chip cycle")
        .range(1, 1 << 16);
    s.add("latency", ParamType::kTime, "access latency").default_value(Quantity{2, true});
  }
  static Facts describe(const Params& p) { return {p.get_bytes("capacity"), 0}; }
  explicit Sram(const Memory::Args& a)
      : FluidMemory(a.name, a.stats_parent,
                    static_cast<double>(a.params.get_int("banks")) *
                        static_cast<double>(a.params.get_int("bytes_per_cycle")) * a.clock_hz,
                    sc_core::sc_time::from_value(
                        checked_ticks(a.params.get_seconds("latency", a.clock_hz) * 1e12,
                                      std::string(a.name) + " latency")),
                    describe(a.params).capacity_bytes) {}
};

MOESIM_REGISTER(Memory, Sram, "sram",
                "on-chip scratchpad: banks x bytes_per_cycle at the chip clock, shared by DMA "
                "writes and operand reads");

/// The fast fidelity of a "dram" tier: the fluid model set from the preset and the
/// calibration table, so one tier description runs at either fidelity.
class FastFidelity final : public DramFidelity {
 public:
  static void declare(ParamSchema&) {}
  explicit FastFidelity(const Args&) {}
  std::unique_ptr<Memory> build(const Memory::Args& a) const override {
    const std::string preset = a.params.get_string("preset");
    const std::string pattern = a.params.get_string("fast_calibration");
    const DramCalibration* cal = find_dram_calibration(preset, pattern);
    // Every preset has every pattern (test MemCalibration.EveryPresetHasEveryPattern).
    if (cal == nullptr) throw std::logic_error("no calibration row for " + preset + " " + pattern);
    const double peak =
        dram_preset(preset).peak_bytes_per_s() * static_cast<double>(a.params.get_int("stacks"));
    const auto latency = sc_core::sc_time::from_value(
        checked_ticks(cal->latency_ns * 1e3, std::string(a.name) + " latency"));  // ps
    return std::make_unique<FluidMemory>(a.name, a.stats_parent, peak * cal->efficiency, latency,
                                         DetailedDram::describe(a.params).capacity_bytes);
  }
};

MOESIM_REGISTER(DramFidelity, FastFidelity, "fast",
                "the preset's peak x the calibrated efficiency of fast_calibration, plus its "
                "latency, bandwidth shared between transfers");

}  // namespace
}  // namespace moesim
