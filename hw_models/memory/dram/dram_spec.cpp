#include "hw_models/memory/dram/dram_spec.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "sim/core/error.hpp"

namespace moesim {
namespace {

bool is_pow2(int64_t v) {
  return v > 0 && (v & (v - 1)) == 0;
}

// Sources, cited per value below:
//  [REF]  ../shared/REFERENCE.md "DRAM timing" table (JEDEC-derived, as in DRAMsim3/Ramulator 2).
//  [DS3]  DRAMsim3 configs/HBM2_8Gb_x128.ini.
//  [R2]   Ramulator 2 timing presets (DDR4_3200AA in DDR4.cpp, DDR5_4800B in DDR5.cpp,
//         HBM3_6400Mbps from python/ramulator/dram/hbm3.py).
//  [JEDEC] JESD79-4 (DDR4), JESD79-5 (DDR5), JESD235 (HBM2) formulas max(nCK, ns).
// Where they disagree the choice is explained here and in README.md.

DramSpec make_hbm2() {
  DramSpec s;
  s.name = "HBM2";
  s.channels = 8;         // [REF] 8 ch x 128 b
  s.pseudo_channels = 2;  // [REF] 2 pseudo-channels x 64 b per channel
  s.bank_groups = 4;      // [REF] 4 BG x 4 banks
  s.banks_per_group = 4;  // [REF]
  s.rows = 32768;         // [DS3] rows = 32768
  s.columns = 128;        // 1 KiB page per pseudo-channel (JESD235) / 8 B per column
  s.bus_bits = 64;        // [REF] pseudo-channel width
  s.burst_length = 4;     // [REF] BL 4 -> 32 B per column command
  s.tck_ps = 1000.0;      // [REF] tCK 1.0 ns (2.0 Gb/s DDR)
  s.tCL = 14;             // [REF] [DS3]
  s.tCWL = 4;             // [DS3] CWL = 4 (missing in REF)
  s.tRCD_rd = 14;         // [REF] [DS3]
  s.tRCD_wr = 14;         // [DS3] tRCDWR = 14
  s.tRP = 14;             // [REF]
  s.tRAS = 34;            // [REF]
  s.tRC = 48;             // [REF] (= tRAS + tRP)
  s.tCCD_S = 2;           // [DS3] says 1 (legacy 128 b mode); BL4 on a 64 b pseudo-channel
                          // holds the data bus 2 tCK, so 2 is the binding value
  s.tCCD_L = 2;           // [DS3]
  s.tRRD_S = 4;           // [DS3]
  s.tRRD_L = 6;           // [DS3]
  s.tFAW = 30;            // [DS3]
  s.tWTR_S = 6;           // [DS3]
  s.tWTR_L = 8;           // [DS3]
  s.tWR = 16;             // [DS3]
  s.tRTP = 6;             // [DS3] tRTP_L = 6 (a bank is always in its own group; tRTP_S=4)
  s.tRFC = 350;           // [REF] 260-350 ns: 350 ns is the 8 Gb value (Ramulator 2 table,
                          // JESD235); DS3's 260 ns is the 4 Gb value
  s.tREFI = 3900;         // [REF] 3.9 us
  s.tBURST = 2;           // BL/2 (DDR)
  return s;
}

DramSpec make_hbm2e() {
  // HBM2e keeps the HBM2 organisation and core; only the interface is faster
  // ([REF]: 3.2-3.6 Gb/s, 410-460 GB/s per stack). No table in REF gives its timings, so the
  // HBM2 preset's nanosecond values are kept and re-expressed in 0.625 ns cycles, rounded up.
  DramSpec s = make_hbm2();
  s.name = "HBM2e";
  s.tck_ps = 625.0;  // 3.2 Gb/s DDR -> 1.6 GHz command clock ([REF] lower bin)
  s.tCL = 23;        // 14 ns
  s.tCWL = 7;        // 4 ns
  s.tRCD_rd = 23;    // 14 ns
  s.tRCD_wr = 23;    // 14 ns
  s.tRP = 23;        // 14 ns
  s.tRAS = 55;       // 34 ns
  s.tRC = 78;        // 48 ns -> 77, raised to tRAS + tRP = 78
  s.tCCD_S = 2;      // data bus limit of BL4 at DDR
  s.tCCD_L = 4;      // 2 ns
  s.tRRD_S = 7;      // 4 ns
  s.tRRD_L = 10;     // 6 ns
  s.tFAW = 48;       // 30 ns
  s.tWTR_S = 10;     // 6 ns
  s.tWTR_L = 13;     // 8 ns
  s.tWR = 26;        // 16 ns
  s.tRTP = 10;       // 6 ns
  s.tRFC = 560;      // 350 ns (as HBM2)
  s.tREFI = 6240;    // 3.9 us
  s.tBURST = 2;
  return s;
}

DramSpec make_hbm3() {
  DramSpec s;
  s.name = "HBM3";
  s.channels = 16;        // [REF] 16 ch x 2 pseudo-ch x 32 b
  s.pseudo_channels = 2;  // [REF]
  s.bank_groups = 4;      // [REF] 4 BG x 4 banks
  s.banks_per_group = 4;  // [REF]
  s.rows = 32768;         // [R2] HBM3_8Gb org preset: 1<<15 rows
  s.columns = 256;        // 1 KiB page per pseudo-channel / 4 B per column
  s.bus_bits = 32;        // [REF]
  s.burst_length = 8;     // [REF] BL 8 -> 32 B per column command
  s.tck_ps = 625.0;       // [REF] 0.625 ns; data at 6.4 Gb/s = 4 beats per tCK
  s.tCL = 20;             // [REF]
  s.tCWL = 10;            // [R2] hbm3.py nCWL = 10 (missing in REF)
  s.tRCD_rd = 31;         // [REF] 31 rd
  s.tRCD_wr = 15;         // [REF] 15 wr
  s.tRP = 26;             // [REF]
  s.tRAS = 45;            // [REF]
  s.tRC = 72;             // [REF]
  s.tCCD_S = 2;           // [REF]
  s.tCCD_L = 4;           // [REF]
  s.tRRD_S = 4;           // [REF]
  s.tRRD_L = 5;           // [REF]
  s.tFAW = 24;            // [REF]
  s.tWTR_S = 7;           // [R2] nWTRS = 7 (missing in REF)
  s.tWTR_L = 10;          // [R2] nWTRL = 10
  s.tWR = 33;             // [R2] nWR = 33
  s.tRTP = 9;             // [R2] nRTPS = nRTPL = 9
  s.tRFC = 560;           // [REF] 350 ns (8 Gb channel); R2's hbm3.py uses 320 cycles (200 ns)
  s.tREFI = 6240;         // [REF] 3.9 us
  s.tBURST = 2;           // BL8 at 4 beats per tCK ([R2] nBL = 2)
  return s;
}

DramSpec make_ddr4_3200() {
  DramSpec s;
  s.name = "DDR4-3200";
  s.channels = 1;  // one 64 b channel; instantiate more by the host
  s.pseudo_channels = 1;
  s.bank_groups = 4;      // [REF] 4 BG x 4 banks (x8)
  s.banks_per_group = 4;  // [REF]
  s.rows = 65536;         // 8 Gb x8 device: 64 K rows (JESD79-4)
  s.columns = 1024;       // 8 Gb x8: 1 K columns -> 8 KiB rank page
  s.bus_bits = 64;        // [REF]
  s.burst_length = 8;     // [REF]
  s.tck_ps = 625.0;       // [REF]
  s.tCL = 22;             // [REF] [R2] DDR4_3200AA
  s.tCWL = 16;            // [R2] nCWL = 16
  s.tRCD_rd = 22;         // [REF]
  s.tRCD_wr = 22;         // [REF] (DDR4 has one tRCD)
  s.tRP = 22;             // [REF]
  s.tRAS = 52;            // [REF]
  s.tRC = 74;             // [REF]
  s.tCCD_S = 4;           // [REF]
  s.tCCD_L = 8;           // [REF]
  s.tRRD_S = 9;           // [REF] 9/11 (these are the 2 KiB-page JEDEC values; an x8 part
  s.tRRD_L = 11;          // would allow 4/8 -- REF's more conservative numbers are kept)
  s.tFAW = 34;            // [REF] x8
  s.tWTR_S = 4;           // [R2] nWTRS = 4
  s.tWTR_L = 12;          // [R2] nWTRL = 12
  s.tWR = 24;             // [R2] nWR = 24 (15 ns)
  s.tRTP = 12;            // [R2] nRTP = 12 (7.5 ns)
  s.tRFC = 560;           // [REF] 350-360 ns: 350 ns = tRFC1 of an 8 Gb die (JESD79-4)
  s.tREFI = 12480;        // [REF] 7.8 us
  s.tBURST = 4;           // BL/2
  return s;
}

DramSpec make_ddr5_4800() {
  DramSpec s;
  s.name = "DDR5-4800";
  s.channels = 1;           // one DIMM channel ...
  s.pseudo_channels = 2;    // ... of two independent 32 b sub-channels [REF]
  s.bank_groups = 8;        // [REF] 8 BG x 4 banks
  s.banks_per_group = 4;    // [REF]
  s.rows = 65536;           // 16 Gb x8 device: 64 K rows (JESD79-5)
  s.columns = 1024;         // 16 Gb x8: 1 K columns -> 4 KiB sub-channel page
  s.bus_bits = 32;          // [REF]
  s.burst_length = 16;      // [REF]
  s.tck_ps = 1e6 / 2400.0;  // [REF] 0.416 ns (exactly 1/2.4 GHz, so the peak is 19.2 GB/s)
  s.tCL = 34;               // [REF] (DDR5-4800A bin; R2's 4800B uses 40)
  s.tCWL = 32;              // JESD79-5 CWL = CL - 2 (missing in REF)
  s.tRCD_rd = 34;           // [REF]
  s.tRCD_wr = 34;           // [REF]
  s.tRP = 34;               // [REF]
  s.tRAS = 77;              // [REF]
  s.tRC = 111;              // [REF]
  s.tCCD_S = 8;             // [JEDEC] 8 nCK (BL16)
  s.tCCD_L = 12;            // [JEDEC] max(8 nCK, 5 ns)
  s.tRRD_S = 8;             // [JEDEC] 8 nCK
  s.tRRD_L = 12;            // [JEDEC] max(8 nCK, 5 ns)
  s.tFAW = 32;              // [JEDEC] x8 1 KiB page: max(32 nCK, 13.333 ns)
  s.tWTR_S = 6;             // [JEDEC] max(4 nCK, 2.5 ns)
  s.tWTR_L = 24;            // [JEDEC] max(16 nCK, 10 ns)
  s.tWR = 72;               // [R2] nWR = 72 (30 ns)
  s.tRTP = 18;              // [R2] nRTP = 18 (7.5 ns)
  s.tRFC = 708;             // [REF] 195/295/410 ns: 295 ns = 16 Gb die, matching rows/columns
  s.tREFI = 9360;           // [REF] 3.9 us
  s.tBURST = 8;             // BL/2
  return s;
}

const std::map<std::string, DramSpec>& presets() {
  static const std::map<std::string, DramSpec> kPresets = [] {
    std::map<std::string, DramSpec> m;
    for (const DramSpec& s :
         {make_hbm2(), make_hbm2e(), make_hbm3(), make_ddr4_3200(), make_ddr5_4800()}) {
      s.validate();
      m.emplace(s.name, s);
    }
    return m;
  }();
  return kPresets;
}

}  // namespace

uint64_t DramSpec::capacity_bytes() const {
  return static_cast<uint64_t>(units()) * banks() * static_cast<uint64_t>(rows) *
         static_cast<uint64_t>(row_bytes());
}

double DramSpec::peak_bytes_per_s_per_pseudo_channel() const {
  // One column command moves burst_bytes() in tBURST cycles of tCK.
  return burst_bytes() / (tBURST * tck_ps * 1e-12);
}

double DramSpec::peak_bytes_per_s_per_channel() const {
  return peak_bytes_per_s_per_pseudo_channel() * pseudo_channels;
}

double DramSpec::peak_bytes_per_s() const {
  return peak_bytes_per_s_per_channel() * channels;
}

void DramSpec::validate() const {
  auto fail = [&](const std::string& what) {
    throw InputError(fmt::format("dram spec '{}': {}", name, what));
  };
  if (!is_pow2(channels) || !is_pow2(pseudo_channels) || !is_pow2(bank_groups) ||
      !is_pow2(banks_per_group) || !is_pow2(rows) || !is_pow2(columns))
    fail(
        "channels, pseudo_channels, bank_groups, banks_per_group, rows and columns must be "
        "powers of two");
  if (bus_bits % 8 != 0 || burst_length <= 0 || !is_pow2(atom_bytes))
    fail("bus_bits must be a multiple of 8, burst_length positive, atom_bytes a power of two");
  if (atom_bytes % burst_bytes() != 0)
    fail(fmt::format("atom_bytes ({}) must be a multiple of the burst ({} B)", atom_bytes,
                     burst_bytes()));
  if (row_bytes() < atom_bytes) fail("a row must hold at least one atom");
  if (tck_ps <= 0) fail("tck_ps must be positive");
  const int must_be_positive[] = {tCL, tCWL,   tRCD_rd, tRCD_wr, tRP,    tRAS,
                                  tRC, tCCD_S, tCCD_L,  tRRD_S,  tRRD_L, tFAW,
                                  tWR, tRTP,   tRFC,    tREFI,   tBURST};
  for (int v : must_be_positive)
    if (v <= 0) fail("every timing must be a positive number of cycles");
  if (tWTR_S < 0 || tWTR_L < 0 || tRTW_bubble < 0 || max_postponed_refresh < 0)
    fail("tWTR_S, tWTR_L, tRTW_bubble and max_postponed_refresh must not be negative");
  if (tRC < tRAS + tRP) fail(fmt::format("tRC ({}) < tRAS + tRP ({})", tRC, tRAS + tRP));
  if (tREFI <= tRFC) fail("tREFI must exceed tRFC");
}

const DramSpec& dram_preset(const std::string& name) {
  const auto& m = presets();
  auto it = m.find(name);
  if (it == m.end()) {
    throw InputError(fmt::format("unknown DRAM preset '{}' (known: {})", name,
                                 fmt::join(dram_preset_names(), ", ")));
  }
  return it->second;
}

std::vector<std::string> dram_preset_names() {
  return {"HBM2", "HBM2e", "HBM3", "DDR4-3200", "DDR5-4800"};
}

}  // namespace moesim
