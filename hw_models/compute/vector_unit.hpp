#pragma once
/// The vector-unit interface: element-wise and reduction ops (softmax, activation, norm,
/// top-k, weighted combine of expert outputs).

#include "hw_models/chip/unit.hpp"

namespace moesim {

/// A unit that runs kVector ops.
class VectorUnit : public Unit {
 public:
  using Unit::Unit;
  /// What others need of a configured vector unit (its model's static describe(params)).
  struct Facts {
    bool topk_rtl = false;     ///< topk_impl = "rtl"
    bool softmax_rtl = false;  ///< softmax_impl = "rtl"
  };
  /// Cycles the unit needs for `op`.
  virtual uint64_t op_cycles(const Op& op) const = 0;
  /// Lanes (or other identical parts) a fused kernel can divide among its stages.
  virtual uint64_t parallel_parts() const = 0;
  /// Cycles for `op` on `parts` of the parallel_parts() (a stage of a fused kernel).
  virtual uint64_t op_cycles_on(const Op& op, uint64_t parts) const = 0;
  /// Counts `op`, run as a stage of a fused kernel, in the statistics (`cycles` of the
  /// whole unit: its stage cycles x its share).
  virtual void account_stage(const Op& op, uint64_t cycles) = 0;
  /// Elements processed so far (the energy model's count).
  virtual uint64_t elements_done() const = 0;
};

}  // namespace moesim
