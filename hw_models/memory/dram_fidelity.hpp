#pragma once
/// Fidelities of the "dram" memory tier, registered by key ("detailed", "fast").
///
/// `[chip.memory.NAME] type = "dram"` describes a device by its JEDEC preset; `fidelity`
/// picks how it is simulated. A fidelity is one implementation with one
/// MOESIM_REGISTER(DramFidelity, ...) line, beside the model it builds.

#include <memory>

#include "hw_models/memory/memory.hpp"

namespace moesim {

/// Builds the memory model of a "dram" tier at one fidelity.
class DramFidelity {
 public:
  struct Args {};
  virtual ~DramFidelity() = default;
  /// The tier's model, from the "dram" section's validated values.
  virtual std::unique_ptr<Memory> build(const Memory::Args& a) const = 0;
};

}  // namespace moesim
