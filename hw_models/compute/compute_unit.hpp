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
  /// Cycles the unit needs for `op` (a kGemm op of the bound plan).
  virtual uint64_t op_cycles(const StepPlan& plan, const Op& op) const = 0;
  /// Peak floating-point operations per second.
  virtual double peak_flops() const = 0;
};

}  // namespace moesim
