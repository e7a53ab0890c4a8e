#include <gtest/gtest.h>

#include "hw_models/memory/dram/address_mapping.hpp"
#include "hw_models/memory/dram/dram_spec.hpp"
#include "sim/core/error.hpp"

namespace moesim {
namespace {

TEST(DramSpec, EveryPresetIsValid) {
  for (const auto& name : dram_preset_names()) {
    const DramSpec& s = dram_preset(name);
    EXPECT_EQ(s.name, name);
    EXPECT_NO_THROW(s.validate());
    EXPECT_EQ(s.atom_bytes % s.burst_bytes(), 0) << name;
  }
}

TEST(DramSpec, UnknownPresetListsTheKnownOnes) {
  try {
    dram_preset("HBM9");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("HBM9"), std::string::npos);
    for (const auto& n : dram_preset_names()) EXPECT_NE(m.find(n), std::string::npos) << m;
  }
}

// Peak bandwidth from REFERENCE.md's DRAM table.
TEST(DramSpec, PeakBandwidthMatchesReference) {
  EXPECT_NEAR(dram_preset("HBM2").peak_bytes_per_s(), 256e9, 1e6);  // per stack
  EXPECT_NEAR(dram_preset("HBM2").peak_bytes_per_s_per_channel(), 32e9, 1e6);
  EXPECT_NEAR(dram_preset("HBM2e").peak_bytes_per_s(), 409.6e9, 1e6);  // 3.2 Gb/s bin
  EXPECT_NEAR(dram_preset("HBM3").peak_bytes_per_s(), 819.2e9, 1e6);   // per stack
  EXPECT_NEAR(dram_preset("HBM3").peak_bytes_per_s_per_channel(), 51.2e9, 1e6);
  EXPECT_NEAR(dram_preset("DDR4-3200").peak_bytes_per_s_per_channel(), 25.6e9, 1e6);
  EXPECT_NEAR(dram_preset("DDR5-4800").peak_bytes_per_s_per_pseudo_channel(), 19.2e9, 1e6);
}

TEST(DramSpec, ValidateRejectsInconsistentTimings) {
  DramSpec s = dram_preset("DDR4-3200");
  s.tRC = s.tRAS;  // < tRAS + tRP
  EXPECT_THROW(s.validate(), InputError);
  s = dram_preset("DDR4-3200");
  s.banks_per_group = 3;
  EXPECT_THROW(s.validate(), InputError);
}

TEST(AddressMapping, RoundTripsEveryField) {
  for (const char* order :
       {"ro_ba_bg_ch_co", "ch_ro_ba_bg_co", "ro_co_ba_bg_ch", "ro_ba_bg_pc_ch_co"}) {
    for (const auto& name : dram_preset_names()) {
      const DramSpec& s = dram_preset(name);
      AddressMapping m(s, order);
      DramLocation l;
      l.channel = s.channels - 1;
      l.pseudo_channel = s.pseudo_channels - 1;
      l.bank_group = s.bank_groups - 1;
      l.bank = 1 % s.banks_per_group;
      l.row = s.rows - 3;
      l.atom = s.atoms_per_row() - 2;
      const DramLocation d = m.decode(m.encode(l) + 17);  // offset bits are ignored
      EXPECT_EQ(d.channel, l.channel) << order << " " << name;
      EXPECT_EQ(d.pseudo_channel, l.pseudo_channel) << order << " " << name;
      EXPECT_EQ(d.bank_group, l.bank_group);
      EXPECT_EQ(d.bank, l.bank);
      EXPECT_EQ(d.row, l.row);
      EXPECT_EQ(d.atom, l.atom);
    }
  }
}

TEST(AddressMapping, ColumnLowestKeepsARowContiguous) {
  const DramSpec& s = dram_preset("HBM3");
  AddressMapping m(s, "ro_ba_bg_ch_co");
  // 1 KiB page = 16 atoms: addresses 0..1023 share one row of one bank.
  for (uint64_t a = 0; a < 1024; a += 64) {
    const DramLocation l = m.decode(a);
    EXPECT_EQ(l.unit(s), 0);
    EXPECT_EQ(l.row, 0);
    EXPECT_EQ(l.atom, static_cast<int64_t>(a / 64));
  }
  EXPECT_EQ(m.decode(1024).unit(s), 1);  // next pseudo-channel
  AddressMapping inter(s, "ro_co_ba_bg_ch");
  EXPECT_EQ(inter.decode(64).unit(s), 1);  // consecutive atoms on consecutive units
}

TEST(AddressMapping, RejectsBadStrings) {
  const DramSpec& s = dram_preset("DDR4-3200");
  for (const char* bad : {"", "ro_ba_bg_ch", "ro_ba_bg_ch_co_co", "ro_ba_bg_ch_cx",
                          "ro__ba_bg_ch_co", "ro_ba_bg_ch_co_"}) {
    EXPECT_THROW(AddressMapping(s, bad), InputError) << "'" << bad << "'";
  }
  try {
    AddressMapping(s, "ro_ba_xx_ch_co");
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown field 'xx'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace moesim
