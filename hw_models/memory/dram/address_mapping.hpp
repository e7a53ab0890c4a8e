#pragma once
/// Physical address -> (channel, pseudo-channel, bank group, bank, row, column).
///
/// A mapping string lists the fields from the most significant bits to the least, separated
/// by '_': `ro` row, `ba` bank, `bg` bank group, `ch` channel, `pc` pseudo-channel (optional),
/// `co` column. Below them sit log2(atom_bytes) offset bits that are ignored: requests are
/// whole atoms. If `pc` is omitted its bits sit just below `ch` (the channel and
/// pseudo-channel indices then form one field). The default, "ro_ba_co_bg_ch", sends
/// consecutive atoms to consecutive channels, then bank groups, then columns of one row, so a
/// stream keeps every channel busy, alternates bank groups and hits open rows;
/// "ro_ba_bg_ch_co" keeps a row's atoms contiguous in one bank; "ch_ro_ba_bg_co" gives each
/// channel a contiguous slice of the address space.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "hw_models/memory/dram/dram_spec.hpp"

namespace moesim {

/// Where an address lands in the DRAM.
struct DramLocation {
  int channel = 0;         ///< channel index
  int pseudo_channel = 0;  ///< pseudo-/sub-channel inside the channel
  int bank_group = 0;      ///< bank group inside the pseudo-channel
  int bank = 0;            ///< bank inside the bank group
  int64_t row = 0;         ///< row inside the bank
  int64_t atom = 0;        ///< atom index inside the row (column / bursts_per_atom)
  /// Controller index: channel * pseudo_channels + pseudo_channel.
  int unit(const DramSpec& s) const { return channel * s.pseudo_channels + pseudo_channel; }
};

/// Decodes addresses by a configurable field order.
class AddressMapping {
 public:
  /// Parses `order` (e.g. "ro_ba_bg_ch_co"); throws InputError if it is invalid.
  AddressMapping(const DramSpec& spec, const std::string& order);
  /// Decodes `addr`; bits above the capacity wrap around.
  DramLocation decode(uint64_t addr) const;
  /// The smallest address that decodes to `loc` (inverse of decode, for tests and tools).
  uint64_t encode(const DramLocation& loc) const;
  /// The order string this mapping was built from.
  const std::string& order() const { return m_order; }

 private:
  enum Field { kRow, kBank, kGroup, kChannel, kPseudo, kColumn, kFieldCount };
  struct Slice {
    Field field;
    int shift;
    int bits;
  };
  // Where decode() finds each field: (addr >> shift) & mask.
  struct Pos {
    int shift = 0;
    uint64_t mask = 0;
  };
  std::string m_order;
  int m_offset_bits = 0;
  std::vector<Slice> m_slices;  // least significant first
  int m_pc_bits = 0;
  bool m_pc_joined = false;              // pc bits live below the ch field
  std::array<Pos, kFieldCount> m_pos{};  // per field, from m_slices
};

}  // namespace moesim
