#pragma once
/// The compute-unit interface: executes GEMM ops; implementations give the cycle contract.

#include <array>
#include <memory>

#include "hw_models/chip/unit.hpp"

namespace moesim {

/// Statistics every compute unit keeps.
struct ComputeStats : StatGroup {
  ComputeStats(const std::string& name, StatGroup* parent, double peak_flops_per_s);
  Counter flops{this, "flops", "flop", "floating-point operations (2 per MAC)"};
  Counter gemms{this, "gemms", "ops", "GEMM shapes executed (repeats counted once)"};
  Counter busy_cycles{this, "busy_cycles", "cycles", "cycles the arrays were computing"};
  Formula mac_utilisation;
  Formula peak_flops;
  std::array<std::unique_ptr<Counter>, kNumOpClasses> class_cycles;
  double peak;
};

/// A unit that runs GEMM ops (systolic array, SIMD tensor core, ...).
class ComputeUnit : public Unit {
 public:
  using Unit::Unit;
  /// What others need of a configured compute unit (its model's static describe(params)).
  struct Facts {
    bool rtl = false;                ///< impl = "rtl": timed on the verilated tile
    bool weight_stationary = false;  ///< its dataflow
    int rows = 0;                    ///< PE rows of one array
    int cols = 0;                    ///< PE columns of one array
    bool ping_pong = false;          ///< double-buffered weights (weight-stationary)
  };
  /// Cycles the unit needs for `op` (a kGemm op of the bound plan).
  virtual uint64_t op_cycles(const StepPlan& plan, const Op& op) const = 0;
  /// Peak floating-point operations per second.
  virtual double peak_flops() const = 0;
  /// Arrays (or other identical parts) a fused kernel can divide among its stages.
  virtual uint64_t parallel_parts() const = 0;
  /// Cycles for `op` on `parts` of the parallel_parts() (a stage of a fused kernel).
  virtual uint64_t op_cycles_on(const StepPlan& plan, const Op& op, uint64_t parts) const = 0;
  /// Counts `op`, run as a stage of a fused kernel, in the statistics (flops, and `cycles`
  /// of the whole unit: its stage cycles x its share); the kernel, not this unit, times it.
  virtual void account_stage(const Op& op, uint64_t cycles) = 0;
  /// Floating-point operations executed so far, 2 per MAC (the energy model's count).
  virtual uint64_t flops_done() const = 0;
};

}  // namespace moesim
