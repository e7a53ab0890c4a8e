#pragma once
/// DRAM commands as seen on a pseudo-channel's command bus.

#include <cstdint>

namespace moesim {

/// Command kinds a controller issues.
enum class DramCommandType : uint8_t { kAct, kPre, kPreA, kRd, kWr, kRef };

/// Printable name of a command kind ("ACT", "RD", ...).
const char* to_string(DramCommandType t);

/// One issued command: what, when, and where.
struct DramCommand {
  DramCommandType type = DramCommandType::kAct;
  uint64_t cycle = 0;      ///< cycle of tCK at which it is on the bus
  int channel = 0;         ///< channel index
  int pseudo_channel = 0;  ///< pseudo-/sub-channel inside the channel
  int bank_group = 0;      ///< ignored for PREA and REF
  int bank = 0;            ///< bank inside its group; ignored for PREA and REF
  int64_t row = 0;         ///< ACT: row opened; RD/WR: row accessed
  int column = 0;          ///< RD/WR: column address
};

}  // namespace moesim
