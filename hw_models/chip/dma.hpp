#pragma once
/// The DMA interface: moves weights and KV cache between a memory tier and SRAM.

#include "hw_models/chip/unit.hpp"

namespace moesim {

/// A unit that runs kLoad and kStore ops.
class DmaEngine : public Unit {
 public:
  using Unit::Unit;
};

}  // namespace moesim
