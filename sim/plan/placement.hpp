#pragma once
/// Expert placement: which chip of an expert-parallel group holds each expert of each MoE
/// layer. An interface like the cache policies (pure C++); implementations register by name
/// and are chosen by `[mapping.placement] type`.

#include <cstdint>
#include <vector>

#include "sim/config/schema.hpp"

namespace moesim {

class PlacementPolicy {
 public:
  struct Args {
    const Params& params;
  };
  virtual ~PlacementPolicy() = default;
  /// Fills `chip` (moe_layers x experts) with a chip index in [0, group_chips). Throws
  /// InputError naming its input file and line for a bad table.
  virtual void place(uint32_t moe_layers, uint32_t experts, uint32_t group_chips,
                     std::vector<uint32_t>& chip) const = 0;
};

}  // namespace moesim
