#pragma once
/// Edge-MoE-style special units, optional parts of a chip: the attention unit (kAttention
/// ops: scores, softmax and A*V fused, Q/K/V streamed from a memory tier) and the activation
/// unit (the FFNs' kVector kActivation ops instead of the vector unit). Cycle contracts in
/// attention_timing.hpp, gelu.hpp and README.md.

#include "hw_models/chip/unit.hpp"
#include "hw_models/compute/attention_timing.hpp"

namespace moesim {

/// A unit that runs fused attention ops (OpKind::kAttention).
class AttentionUnit : public Unit {
 public:
  using Unit::Unit;
  /// What others need of a configured attention unit (its model's static describe(params)).
  struct Facts {
    bool rtl = false;       ///< impl = "rtl": timed on the verilated block
    bool online = true;     ///< softmax = "online"
    int parallel_rows = 0;  ///< P
    int dot_width = 0;      ///< W
  };
  /// What one kAttention op of `plan` costs on this unit.
  virtual AttentionCost op_cost(const StepPlan& plan, const Op& op) const = 0;
  /// Flops executed so far, 2 per MAC (the energy model's count).
  virtual uint64_t flops_done() const = 0;
};

/// A unit that runs the activation function of FFNs (kVector ops with VecFn::kActivation).
class ActivationUnit : public Unit {
 public:
  using Unit::Unit;
  /// Cycles the unit needs for `op`.
  virtual uint64_t op_cycles(const Op& op) const = 0;
  /// Elements processed so far (the energy model's count).
  virtual uint64_t elements_done() const = 0;
};

}  // namespace moesim
