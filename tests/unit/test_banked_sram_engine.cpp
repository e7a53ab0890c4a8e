// BankedSramEngine: known cycle counts for bank conflicts, port limits and sharing, byte
// conservation, and that replaying repeating periods gives exactly the cycle-by-cycle result.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "hw_models/memory/banked_sram_engine.hpp"

namespace moesim {
namespace {

constexpr uint64_t kW = 64;  // bank width in the tests

SramGeometry geom(uint32_t banks = 16, uint32_t ports = 1, uint32_t port_accesses = 0) {
  SramGeometry g;
  g.banks = banks;
  g.bank_width = kW;
  g.ports = ports;
  g.port_accesses = port_accesses;
  return g;
}

/// Runs until every stream is done; returns the cycle of each stream's last access by id.
std::map<uint64_t, uint64_t> run_all(BankedSramEngine& e) {
  std::map<uint64_t, uint64_t> last;
  std::vector<BankedSramEngine::Finished> done;
  while (e.active() > 0) e.run(UINT64_MAX, done);
  for (const auto& f : done) last[f.id] = f.cycle;
  return last;
}

uint64_t sum(const std::vector<uint64_t>& v) {
  uint64_t s = 0;
  for (const uint64_t x : v) s += x;
  return s;
}

TEST(BankedSramEngine, ContiguousTransferAloneTakesBytesOverBanksTimesWidth) {
  // ceil(N / (B * W)) cycles: 1 MiB over 16 x 64 B = 1024 cycles, last access in cycle 1023.
  BankedSramEngine e(geom());
  e.add(7, 0, 1 << 20, kW, false);
  EXPECT_EQ(run_all(e).at(7), 1023u);
  EXPECT_EQ(e.counters().accesses, (1u << 20) / kW);
  EXPECT_EQ(e.counters().conflicts, 0u);
  EXPECT_EQ(e.counters().port_busy_cycles[0], 1024u);
  // The whole transfer costs a few simulated cycles, not 1024.
  EXPECT_LE(e.simulated_cycles(), 6u);
}

TEST(BankedSramEngine, UnalignedStartAndPartialWordKeepFullBandwidth) {
  BankedSramEngine e(geom());
  e.add(1, 5 * kW, 1 << 20, kW, false);  // starts in bank 5: any 16 consecutive words differ
  EXPECT_EQ(run_all(e).at(1), 1023u);
  BankedSramEngine f(geom());
  f.add(2, 0, 1000, kW, true);  // 16 accesses (the last one partial): one cycle
  EXPECT_EQ(run_all(f).at(2), 0u);
  EXPECT_EQ(f.counters().port_bytes[0], 1000u);
}

TEST(BankedSramEngine, StrideOfBanksTimesWidthHitsOneBankAtOneOverBThroughput) {
  BankedSramEngine e(geom());
  e.add(1, 0, 1000 * kW, 16 * kW, false);  // 1000 accesses, all in bank 0
  EXPECT_EQ(run_all(e).at(1), 999u);       // one per cycle instead of 16
  EXPECT_EQ(e.counters().accesses, 1000u);
  EXPECT_EQ(e.counters().conflicts, 999u);  // every cycle but the last refuses the next access
  EXPECT_EQ(e.counters().stall_cycles, 999u);
}

TEST(BankedSramEngine, BankPortsMultiplyWhatOneBankServes) {
  SramGeometry g = geom();
  g.bank_ports = 2;
  BankedSramEngine e(g);
  e.add(1, 0, 1000 * kW, 16 * kW, false);
  EXPECT_EQ(run_all(e).at(1), 499u);
}

TEST(BankedSramEngine, XorInterleaveSpreadsThePowerOfTwoStride) {
  SramGeometry g = geom();
  g.interleave = SramInterleave::kXor;
  BankedSramEngine e(g);
  e.add(1, 0, 256 * kW, 16 * kW, false);  // row j, column 0 -> bank j mod 16
  EXPECT_EQ(run_all(e).at(1), 15u);       // 16 accesses per cycle
  EXPECT_EQ(e.counters().conflicts, 0u);
  // Contiguous transfers stay conflict-free when aligned to a row.
  BankedSramEngine f(g);
  f.add(2, 0, 1 << 20, kW, false);
  EXPECT_EQ(run_all(f).at(2), 1023u);
}

TEST(BankedSramEngine, XorOnNonPowerOfTwoBanksUsesTheLowBitsOnly) {
  // 12 banks: the largest power of two dividing 12 is 4, so a stride of one row cycles
  // through banks 0..3: four accesses per cycle.
  SramGeometry g = geom(12);
  g.interleave = SramInterleave::kXor;
  for (uint64_t j = 0; j < 8; ++j) EXPECT_EQ(sram_bank_of(g, j * 12 * kW), j % 4);
  BankedSramEngine e(g);
  e.add(1, 0, 96 * kW, 12 * kW, false);
  EXPECT_EQ(run_all(e).at(1), 23u);
}

TEST(BankedSramEngine, StreamsOnDisjointBanksDoNotInterfere) {
  // Even and odd banks, 8 accesses per port per cycle: 64 accesses take 8 cycles each,
  // alone or together (two ports).
  BankedSramEngine e(geom(16, 2, 8));
  e.add(1, 0, 64 * kW, 2 * kW, false);
  e.add(2, kW, 64 * kW, 2 * kW, true);
  const auto last = run_all(e);
  EXPECT_EQ(last.at(1), 7u);
  EXPECT_EQ(last.at(2), 7u);
  EXPECT_EQ(e.counters().conflicts, 0u);
}

TEST(BankedSramEngine, StreamsOnTheSameBanksShareTheArray) {
  // Two full-width contiguous streams: the one with priority takes every bank, so they
  // alternate; the pair takes 2 x 1024 cycles and the array stays fully used.
  BankedSramEngine e(geom(16, 2));
  e.add(1, 0, 1 << 20, kW, false);
  e.add(2, 1 << 20, 1 << 20, kW, true);
  const auto last = run_all(e);
  EXPECT_EQ(last.at(1), 2046u);
  EXPECT_EQ(last.at(2), 2047u);
  EXPECT_EQ(e.counters().accesses, 2u * (1u << 20) / kW);
  EXPECT_EQ(e.counters().conflicts, 2047u);  // the second stream, each cycle both are active
  EXPECT_EQ(e.counters().stall_cycles, 2047u);
}

TEST(BankedSramEngine, OnePortServesOneStreamPerCycle) {
  BankedSramEngine e(geom(16, 1, 8));
  e.add(1, 0, 64 * kW, 2 * kW, false);
  e.add(2, kW, 64 * kW, 2 * kW, false);
  const auto last = run_all(e);
  EXPECT_EQ(last.at(1), 14u);  // cycles 0, 2, ..., 14
  EXPECT_EQ(last.at(2), 15u);
  EXPECT_EQ(e.counters().port_waits, 15u);
  EXPECT_EQ(e.counters().conflicts, 0u);
}

TEST(BankedSramEngine, DedicatedReadAndWritePortsAddToTheSharedOnes) {
  // Four streams on disjoint banks (stride 4 words, offsets 0..3), 16 accesses each, 4 per
  // cycle. One read, one write and one shared port serve three a cycle: 16 stream-cycles
  // end in cycle 5 (worked out by hand in the rotating order R0 W0 R1 W1).
  auto four = [](BankedSramEngine& e) {
    e.add(1, 0 * kW, 16 * kW, 4 * kW, false);
    e.add(2, 1 * kW, 16 * kW, 4 * kW, true);
    e.add(3, 2 * kW, 16 * kW, 4 * kW, false);
    e.add(4, 3 * kW, 16 * kW, 4 * kW, true);
  };
  SramGeometry g = geom(16, 1, 4);
  g.read_ports = 1;
  g.write_ports = 1;
  BankedSramEngine e(g);
  four(e);
  const auto last = run_all(e);
  EXPECT_EQ(last.at(1), 4u);
  EXPECT_EQ(last.at(2), 4u);
  EXPECT_EQ(last.at(3), 4u);
  EXPECT_EQ(last.at(4), 5u);
  EXPECT_EQ(e.counters().port_waits, 5u);
  // Every port is busy in cycles 0-4; the last write alone takes the write port in cycle 5.
  EXPECT_EQ(e.counters().port_busy_cycles[0], 5u);  // read port
  EXPECT_EQ(e.counters().port_busy_cycles[1], 6u);  // write port
  EXPECT_EQ(e.counters().port_busy_cycles[2], 5u);  // shared port
  EXPECT_EQ(sum(e.counters().port_busy_cycles), 16u);
  // With only the shared port, one stream a cycle: 16 cycles.
  BankedSramEngine one(geom(16, 1, 4));
  four(one);
  uint64_t end = 0;
  for (const auto& [id, c] : run_all(one)) end = std::max(end, c);
  EXPECT_EQ(end, 15u);
}

TEST(BankedSramEngine, IdleTimeCostsNothing) {
  BankedSramEngine e(geom());
  std::vector<BankedSramEngine::Finished> done;
  e.run(1'000'000'000, done);
  EXPECT_EQ(e.cycle(), 1'000'000'000u);
  EXPECT_EQ(e.simulated_cycles(), 0u);
  EXPECT_EQ(e.counters().active_cycles, 0u);
}

TEST(BankedSramEngine, LargeTransferOnManyBanksIsReplayedNotSimulated) {
  // SN40L-like: 1,040 banks x 64 B; a 128 MiB weight tile and an operand read at once.
  BankedSramEngine e(geom(1040, 2));
  e.add(1, 0, 128ull << 20, kW, true);
  e.add(2, 200ull << 20, 128ull << 20, kW, false);
  const auto last = run_all(e);
  const uint64_t accesses = 2 * (128ull << 20) / kW;
  EXPECT_EQ(e.counters().accesses, accesses);
  // At least ceil(accesses / banks) = 4033 cycles; the alternating streams may leave part
  // of the array idle in the cycle one of them ends.
  const uint64_t cycles = std::max(last.at(1), last.at(2)) + 1;
  EXPECT_GE(cycles, (accesses + 1039) / 1040);
  EXPECT_LE(cycles, (accesses + 1039) / 1040 + 1);
  EXPECT_LT(e.simulated_cycles(), 100u);  // of about 4000
}

TEST(BankedSramEngine, ReplayIsExactAndBytesAreConserved) {
  // Random streams (addresses, strides, sizes, kinds, arrival times) on several geometries:
  // replaying periods must give the cycle-by-cycle completions and counters exactly.
  std::mt19937_64 rng(12345);
  for (int trial = 0; trial < 40; ++trial) {
    SramGeometry g = geom(static_cast<uint32_t>(1 + rng() % 24),
                          static_cast<uint32_t>(1 + rng() % 3), static_cast<uint32_t>(rng() % 10));
    g.bank_ports = static_cast<uint32_t>(1 + rng() % 2);
    g.read_ports = static_cast<uint32_t>(rng() % 2);
    g.write_ports = static_cast<uint32_t>(rng() % 2);
    g.interleave = rng() % 2 ? SramInterleave::kXor : SramInterleave::kWord;
    BankedSramEngine fast(g), slow(g);
    slow.set_replay(false);
    uint64_t bytes = 0, accesses = 0;
    std::vector<BankedSramEngine::Finished> done_fast, done_slow;
    uint64_t at = 0;
    for (uint64_t id = 0; id < 6; ++id) {
      const uint64_t addr = rng() % 100000;
      const uint64_t n = 1 + rng() % 50000;
      const uint64_t stride = rng() % 3 ? kW : kW * (1 + rng() % 40);
      const bool write = rng() % 2;
      at += rng() % 400;
      while (fast.cycle() < at) fast.run(at, done_fast);
      while (slow.cycle() < at) slow.run(at, done_slow);
      fast.add(id, addr, n, stride, write);
      slow.add(id, addr, n, stride, write);
      bytes += n;
      accesses += (n + kW - 1) / kW;
    }
    while (fast.active()) fast.run(UINT64_MAX, done_fast);
    while (slow.active()) slow.run(UINT64_MAX, done_slow);
    ASSERT_EQ(done_fast.size(), done_slow.size()) << "trial " << trial;
    for (size_t i = 0; i < done_fast.size(); ++i) {
      EXPECT_EQ(done_fast[i].id, done_slow[i].id) << "trial " << trial;
      EXPECT_EQ(done_fast[i].cycle, done_slow[i].cycle) << "trial " << trial;
    }
    const SramCounters& a = fast.counters();
    const SramCounters& b = slow.counters();
    EXPECT_EQ(a.accesses, b.accesses);
    EXPECT_EQ(a.conflicts, b.conflicts);
    EXPECT_EQ(a.stall_cycles, b.stall_cycles);
    EXPECT_EQ(a.port_waits, b.port_waits);
    EXPECT_EQ(a.active_cycles, b.active_cycles);
    EXPECT_EQ(a.port_busy_cycles, b.port_busy_cycles);
    EXPECT_EQ(a.port_bytes, b.port_bytes);
    EXPECT_EQ(sum(a.port_bytes), bytes) << "trial " << trial;
    EXPECT_EQ(a.accesses, accesses);
    EXPECT_EQ(sum(a.port_accesses), accesses);
  }
}

}  // namespace
}  // namespace moesim
