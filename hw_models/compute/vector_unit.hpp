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
  /// Elements processed so far (the energy model's count).
  virtual uint64_t elements_done() const = 0;
};

}  // namespace moesim
