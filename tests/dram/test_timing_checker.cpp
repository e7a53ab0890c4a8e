// Hand-made command sequences: each legal prefix passes, each illegal command is rejected with
// the name of the constraint it breaks. Numbers are DDR4-3200's: CL 22, CWL 16, tRCD 22,
// tRP 22, tRAS 52, tRC 74, tCCD 4/8, tRRD 9/11, tFAW 34, tWTR 4/12, tWR 24, tRTP 12,
// tRFC 560, tREFI 12480, tBURST 4.
#include <gtest/gtest.h>

#include "hw_models/memory/dram/timing_checker.hpp"

namespace moesim {
namespace {

using T = DramCommandType;

DramCommand C(T type, uint64_t cycle, int bg = 0, int ba = 0, int64_t row = 0, int pc = 0) {
  DramCommand c;
  c.type = type;
  c.cycle = cycle;
  c.pseudo_channel = pc;
  c.bank_group = bg;
  c.bank = ba;
  c.row = row;
  return c;
}

class CheckerTest : public ::testing::Test {
 protected:
  DramSpec spec = dram_preset("DDR4-3200");

  // Feeds `legal` (all must pass), then `bad`, which must fail naming `constraint`; then
  // checks on a fresh checker that `bad` moved one cycle later passes.
  void expect_rejects(const std::vector<DramCommand>& legal, DramCommand bad,
                      const std::string& constraint) {
    {
      TimingChecker chk(spec);
      for (const auto& c : legal) ASSERT_TRUE(chk.observe(c)) << chk.first_violation();
      EXPECT_FALSE(chk.observe(bad)) << "accepted an illegal " << to_string(bad.type);
      EXPECT_NE(chk.first_violation().find(constraint), std::string::npos)
          << "wanted " << constraint << ", got: " << chk.first_violation();
    }
    {
      TimingChecker chk(spec);
      for (const auto& c : legal) ASSERT_TRUE(chk.observe(c));
      bad.cycle += 1;
      EXPECT_TRUE(chk.observe(bad)) << "one cycle later must be legal: " << chk.first_violation();
    }
  }
};

TEST_F(CheckerTest, tRCDRead) {
  expect_rejects({C(T::kAct, 0)}, C(T::kRd, 21), "tRCD (read)");
}

TEST_F(CheckerTest, tRCDWriteSeparateFromRead) {
  spec = dram_preset("HBM3");  // tRCD 31 rd / 15 wr
  expect_rejects({C(T::kAct, 0)}, C(T::kWr, 14), "tRCD (write)");
  expect_rejects({C(T::kAct, 0)}, C(T::kRd, 30), "tRCD (read)");
}

TEST_F(CheckerTest, tRP) {
  expect_rejects({C(T::kAct, 0), C(T::kPre, 60)}, C(T::kAct, 81), "tRP");
}

TEST_F(CheckerTest, tRAS) {
  expect_rejects({C(T::kAct, 0)}, C(T::kPre, 51), "tRAS");
}

TEST_F(CheckerTest, tRC) {
  spec.tRC = 80;  // make tRC bind after tRAS + tRP = 74
  expect_rejects({C(T::kAct, 0), C(T::kPre, 52)}, C(T::kAct, 79), "tRC");
}

TEST_F(CheckerTest, tCCDLong) {
  expect_rejects({C(T::kAct, 0, 0, 0), C(T::kAct, 11, 0, 1), C(T::kRd, 33, 0, 0)},
                 C(T::kRd, 40, 0, 1), "tCCD_L");
}

TEST_F(CheckerTest, tCCDShort) {
  spec.tCCD_S = 6;  // above tBURST so the data bus does not catch it first
  expect_rejects({C(T::kAct, 0, 0), C(T::kAct, 9, 1), C(T::kRd, 31, 0)}, C(T::kRd, 36, 1),
                 "tCCD_S");
}

TEST_F(CheckerTest, tCCDLongForWrites) {
  expect_rejects({C(T::kAct, 0, 0, 0), C(T::kAct, 11, 0, 1), C(T::kWr, 33, 0, 0)},
                 C(T::kWr, 40, 0, 1), "tCCD_L");
}

TEST_F(CheckerTest, tRRDLong) {
  expect_rejects({C(T::kAct, 0, 0, 0)}, C(T::kAct, 10, 0, 1), "tRRD_L");
}

TEST_F(CheckerTest, tRRDShort) {
  expect_rejects({C(T::kAct, 0, 0)}, C(T::kAct, 8, 1), "tRRD_S");
}

TEST_F(CheckerTest, tFAW) {
  spec.tFAW = 40;  // REF's DDR4 tRRD_S x 4 = 36 > 34, so widen tFAW to make it bind
  expect_rejects({C(T::kAct, 0, 0), C(T::kAct, 9, 1), C(T::kAct, 18, 2), C(T::kAct, 27, 3)},
                 C(T::kAct, 39, 0, 1), "tFAW");
}

TEST_F(CheckerTest, tWTRLong) {
  // WR at 33: data ends 33 + 16 + 4 = 53; RD same group needs 53 + 12 = 65.
  expect_rejects({C(T::kAct, 0, 0, 0), C(T::kAct, 11, 0, 1), C(T::kWr, 33, 0, 0)},
                 C(T::kRd, 64, 0, 1), "tWTR_L");
}

TEST_F(CheckerTest, tWTRShort) {
  // WR at 31: data ends 51; RD other group needs 51 + 4 = 55.
  expect_rejects({C(T::kAct, 0, 0), C(T::kAct, 9, 1), C(T::kWr, 31, 1)}, C(T::kRd, 54, 0),
                 "tWTR_S");
}

TEST_F(CheckerTest, tWR) {
  // WR at 22: data ends 42; PRE needs 42 + 24 = 66.
  expect_rejects({C(T::kAct, 0), C(T::kWr, 22)}, C(T::kPre, 65), "tWR");
}

TEST_F(CheckerTest, tRTP) {
  expect_rejects({C(T::kAct, 0), C(T::kRd, 45)}, C(T::kPre, 56), "tRTP");
}

TEST_F(CheckerTest, tRFCBeforeAct) {
  expect_rejects({C(T::kRef, 100)}, C(T::kAct, 659), "tRFC");
}

TEST_F(CheckerTest, tRFCBeforeRef) {
  expect_rejects({C(T::kRef, 100)}, C(T::kRef, 659), "tRFC");
}

TEST_F(CheckerTest, tRPBeforeRef) {
  expect_rejects({C(T::kAct, 0), C(T::kPre, 60)}, C(T::kRef, 81), "tRP");
}

TEST_F(CheckerTest, tRCBeforeRef) {
  spec.tRC = 90;
  expect_rejects({C(T::kAct, 0), C(T::kPre, 52)}, C(T::kRef, 89), "tRC");
}

TEST_F(CheckerTest, DataBusOverlapReadThenWrite) {
  // RD at 31: data [53, 57). WR (other group) at 40: data [56, 60) overlaps.
  expect_rejects({C(T::kAct, 0, 0), C(T::kAct, 9, 1), C(T::kRd, 31, 0)}, C(T::kWr, 40, 1),
                 "data bus overlap");
}

TEST_F(CheckerTest, DataBusOverlapReadThenRead) {
  spec.tCCD_S = 1;  // so only the burst length protects the bus
  expect_rejects({C(T::kAct, 0, 0), C(T::kAct, 9, 1), C(T::kRd, 31, 0)}, C(T::kRd, 34, 1),
                 "data bus overlap");
}

TEST_F(CheckerTest, tREFIPostponedTooOften) {
  // 8 REFs may be owed; at 9 x tREFI without any REF the 9th is one too many.
  TimingChecker ok(spec);
  EXPECT_TRUE(ok.observe(C(T::kAct, 9 * 12480 - 1))) << ok.first_violation();
  TimingChecker late(spec);
  EXPECT_FALSE(late.observe(C(T::kAct, 9 * 12480)));
  EXPECT_NE(late.first_violation().find("tREFI"), std::string::npos) << late.first_violation();
}

TEST_F(CheckerTest, tREFIAtEndOfRun) {
  TimingChecker chk(spec);
  EXPECT_TRUE(chk.finish(9 * 12480 - 1));
  EXPECT_FALSE(chk.finish(9 * 12480));
  EXPECT_NE(chk.first_violation().find("tREFI"), std::string::npos);
  TimingChecker with_refs(spec);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(with_refs.observe(C(T::kRef, 100 + i * 12480ull)));
  EXPECT_TRUE(with_refs.finish(21 * 12480));
}

TEST(Checker, RdOnlyToOpenRow) {
  TimingChecker a(dram_preset("DDR4-3200"));
  EXPECT_FALSE(a.observe(C(T::kRd, 5)));
  EXPECT_NE(a.first_violation().find("precharged bank"), std::string::npos);
  TimingChecker b(dram_preset("DDR4-3200"));
  ASSERT_TRUE(b.observe(C(T::kAct, 0, 0, 0, 5)));
  EXPECT_FALSE(b.observe(C(T::kWr, 40, 0, 0, 6)));
  EXPECT_NE(b.first_violation().find("row 6 but row 5 is open"), std::string::npos)
      << b.first_violation();
}

TEST(Checker, ActOnlyToPrechargedBank) {
  TimingChecker chk(dram_preset("DDR4-3200"));
  ASSERT_TRUE(chk.observe(C(T::kAct, 0, 0, 0, 5)));
  EXPECT_FALSE(chk.observe(C(T::kAct, 200, 0, 0, 7)));
  EXPECT_NE(chk.first_violation().find("still open"), std::string::npos);
}

TEST(Checker, RefOnlyWithAllBanksClosed) {
  TimingChecker chk(dram_preset("DDR4-3200"));
  ASSERT_TRUE(chk.observe(C(T::kAct, 0, 2, 1)));
  EXPECT_FALSE(chk.observe(C(T::kRef, 200)));
  EXPECT_NE(chk.first_violation().find("REF with bank 9 open"), std::string::npos)
      << chk.first_violation();
}

TEST(Checker, PrechargeAllClosesEveryBank) {
  TimingChecker chk(dram_preset("DDR4-3200"));
  ASSERT_TRUE(chk.observe(C(T::kAct, 0, 0, 0)));
  ASSERT_TRUE(chk.observe(C(T::kAct, 11, 1, 0)));
  EXPECT_FALSE(chk.observe(C(T::kPreA, 60)));  // second bank opened at 11: tRAS until 63
  TimingChecker ok(dram_preset("DDR4-3200"));
  ASSERT_TRUE(ok.observe(C(T::kAct, 0, 0, 0)));
  ASSERT_TRUE(ok.observe(C(T::kAct, 11, 1, 0)));
  ASSERT_TRUE(ok.observe(C(T::kPreA, 63)));
  EXPECT_TRUE(ok.observe(C(T::kRef, 85))) << ok.first_violation();
}

TEST(Checker, OneCommandPerCycleOnEachPseudoChannel) {
  const DramSpec& s = dram_preset("DDR5-4800");  // two sub-channels
  TimingChecker chk(s);
  ASSERT_TRUE(chk.observe(C(T::kAct, 0, 0, 0, 0, 0)));
  EXPECT_TRUE(chk.observe(C(T::kAct, 0, 0, 0, 0, 1))) << "other sub-channel, own bus";
  EXPECT_FALSE(chk.observe(C(T::kAct, 0, 1, 0, 0, 1)));
  EXPECT_NE(chk.first_violation().find("second command in one cycle"), std::string::npos);
  TimingChecker order(s);
  ASSERT_TRUE(order.observe(C(T::kAct, 10)));
  EXPECT_FALSE(order.observe(C(T::kAct, 5, 1)));
  EXPECT_NE(order.first_violation().find("out of order"), std::string::npos);
}

TEST(Checker, ALegalSequencePasses) {
  // ACT, two reads, a write after turnaround, a precharge, a refresh.
  TimingChecker chk(dram_preset("DDR4-3200"));
  for (const auto& c : {C(T::kAct, 0, 0, 0, 3), C(T::kRd, 22, 0, 0, 3), C(T::kRd, 30, 0, 0, 3),
                        C(T::kWr, 45, 0, 0, 3), C(T::kPre, 110), C(T::kRef, 132)})
    EXPECT_TRUE(chk.observe(c)) << chk.first_violation();
  EXPECT_EQ(chk.commands(), 6u);
  EXPECT_TRUE(chk.finish(1000));
}

}  // namespace
}  // namespace moesim
