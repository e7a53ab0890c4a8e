#pragma once
/// DRAM device description: organisation and JEDEC timings in cycles of tCK.
///
/// One DramSpec describes one memory (an HBM stack or a set of DDR channels). The unit a
/// controller drives is a pseudo-channel (HBM) or sub-channel (DDR5); for DDR4 there is one
/// per channel. Every timing is in cycles of the command clock tCK.

#include <cstdint>
#include <string>
#include <vector>

namespace moesim {

/// Organisation and timing of one DRAM device type (cycles of tCK unless stated).
struct DramSpec {
  std::string name;

  // Organisation.
  int channels = 1;         ///< independent channels
  int pseudo_channels = 1;  ///< pseudo-/sub-channels per channel, each with its own controller
  int bank_groups = 1;      ///< bank groups per pseudo-channel
  int banks_per_group = 1;  ///< banks per bank group
  int64_t rows = 1;         ///< rows per bank
  int columns = 1;          ///< column addresses per row (each bus_bits wide)
  int bus_bits = 64;        ///< data bus width of one pseudo-channel
  int burst_length = 8;     ///< beats per column command
  int atom_bytes = 64;      ///< request granularity (64-byte cache line)

  double tck_ps = 1000.0;  ///< command clock period in picoseconds

  // Timings, cycles of tCK.
  int tCL = 0;                    ///< RD to first data beat
  int tCWL = 0;                   ///< WR to first data beat
  int tRCD_rd = 0;                ///< ACT to RD, same bank
  int tRCD_wr = 0;                ///< ACT to WR, same bank (HBM3 has a shorter one)
  int tRP = 0;                    ///< PRE to ACT, same bank
  int tRAS = 0;                   ///< ACT to PRE, same bank
  int tRC = 0;                    ///< ACT to ACT, same bank
  int tCCD_S = 0;                 ///< column to column, different bank group
  int tCCD_L = 0;                 ///< column to column, same bank group
  int tRRD_S = 0;                 ///< ACT to ACT, different bank group
  int tRRD_L = 0;                 ///< ACT to ACT, same bank group
  int tFAW = 0;                   ///< window holding at most four ACTs
  int tWTR_S = 0;                 ///< end of write data to RD, different bank group
  int tWTR_L = 0;                 ///< end of write data to RD, same bank group
  int tWR = 0;                    ///< end of write data to PRE, same bank
  int tRTP = 0;                   ///< RD to PRE, same bank
  int tRFC = 0;                   ///< all-bank REF to next ACT/REF
  int tREFI = 0;                  ///< average interval between REF commands
  int tBURST = 0;                 ///< data bus cycles of one column command
  int tRTW_bubble = 2;            ///< idle data-bus cycles between read data and write data
  int max_postponed_refresh = 8;  ///< JEDEC allows up to 8 postponed REFs

  /// Banks in one pseudo-channel.
  int banks() const { return bank_groups * banks_per_group; }
  /// Controller units in the whole memory (channels x pseudo-channels).
  int units() const { return channels * pseudo_channels; }
  /// Bytes moved by one column command.
  int burst_bytes() const { return bus_bits / 8 * burst_length; }
  /// Column commands needed for one atom-sized request.
  int bursts_per_atom() const { return atom_bytes / burst_bytes(); }
  /// Bytes in one row of one bank (the page).
  int64_t row_bytes() const { return static_cast<int64_t>(columns) * bus_bits / 8; }
  /// Atom-sized requests per row.
  int64_t atoms_per_row() const { return row_bytes() / atom_bytes; }
  /// Capacity of the whole memory in bytes.
  uint64_t capacity_bytes() const;
  /// Peak data bandwidth of one pseudo-channel in bytes per second.
  double peak_bytes_per_s_per_pseudo_channel() const;
  /// Peak data bandwidth of one channel in bytes per second.
  double peak_bytes_per_s_per_channel() const;
  /// Peak data bandwidth of the whole memory in bytes per second.
  double peak_bytes_per_s() const;
  /// Throws InputError if the organisation or timings are inconsistent.
  void validate() const;
};

/// The preset called `name` ("HBM2", "HBM2e", "HBM3", "DDR4-3200", "DDR5-4800").
const DramSpec& dram_preset(const std::string& name);
/// Names of all presets, in a fixed order.
std::vector<std::string> dram_preset_names();

}  // namespace moesim
