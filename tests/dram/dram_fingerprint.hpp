#pragma once
/// The hash the DRAM tests fingerprint command streams and completions with (test_dram_pins
/// pins its values; test_period_skip compares runs by it).

#include <cstdint>

#include "hw_models/memory/dram/dram_command.hpp"

namespace moesim::dram_fingerprint {

// FNV-1a over 64-bit words.
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void add(uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  }
  // A command: its type, cycle, location, row and column.
  void add(const DramCommand& c) {
    add(static_cast<uint64_t>(c.type));
    add(c.cycle);
    add(static_cast<uint64_t>(((c.channel * 8 + c.pseudo_channel) * 64 + c.bank_group) * 64 +
                              c.bank));
    add(static_cast<uint64_t>(c.row));
    add(static_cast<uint64_t>(c.column));
  }
};

}  // namespace moesim::dram_fingerprint
