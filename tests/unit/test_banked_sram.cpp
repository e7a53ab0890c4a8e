// BankedSram (the `banked_sram` memory model) under SystemC: completion times of lone,
// concurrent and staggered transfers at the chip clock, latency, and its statistics.
// One SystemC simulation in this process; the tests check what it recorded.

#include <gtest/gtest.h>

#include <map>

#include <systemc>

#include "hw_models/memory/banked_sram.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/sc_thread.hpp"

namespace moesim {
namespace {

struct Recorder : MemoryClient {
  std::map<uint64_t, double> done_ns;
  void transfer_done(uint64_t tag) override {
    done_ns[tag] = sc_core::sc_time_stamp().to_seconds() * 1e9;
  }
};

constexpr uint64_t kMiB = 1 << 20;

struct Driver : sc_core::sc_module {
  SC_HAS_PROCESS(Driver);
  Driver(sc_core::sc_module_name n, BankedSram& m, Recorder& r) : sc_module(n), mem(m), rec(r) {
    MOESIM_SC_THREAD(run);
  }
  void run() {
    using sc_core::SC_NS;
    mem.transfer(kMiB, false, &rec, 1);  // alone
    wait(10000, SC_NS);
    mem.transfer(kMiB, false, &rec, 2);  // two at once, same banks
    mem.transfer(kMiB, true, &rec, 3);
    wait(10000, SC_NS);
    mem.transfer(kMiB, false, &rec, 4);  // staggered by 500 cycles
    wait(500, SC_NS);
    mem.transfer(kMiB, false, &rec, 5);
    wait(9500, SC_NS);
    mem.transfer(0, false, &rec, 6);  // nothing to move: the latency only
    wait(10000, SC_NS);
    mem.transfer_at(0, 100 * 64, false, &rec, 7, 16 * 64);  // one bank, 100 accesses
  }
  BankedSram& mem;
  Recorder& rec;
};

Recorder g_rec;
StatGroup g_stats("test");
BankedSram* g_mem = nullptr;

// 16 banks x 64 B at 1 GHz (1 KiB per cycle: 1 MiB in 1024 cycles), latency 2 cycles.
TEST(BankedSram, LoneTransferTakesItsCyclesPlusLatency) {
  EXPECT_DOUBLE_EQ(g_rec.done_ns.at(1), 1024 + 2);
}

TEST(BankedSram, ConcurrentTransfersOnTheSameBanksAlternate) {
  // The first has priority in even cycles, the second in odd ones: 2046 and 2047.
  EXPECT_DOUBLE_EQ(g_rec.done_ns.at(2), 10000 + 2047 + 2);
  EXPECT_DOUBLE_EQ(g_rec.done_ns.at(3), 10000 + 2048 + 2);
}

TEST(BankedSram, StaggeredTransfersShareOnlyWhileBothAreActive) {
  // 4 runs alone for 500 cycles (8000 of its 16384 accesses), then the two alternate from
  // cycle 20500 with 4 first: 4 needs 524 more turns (last in cycle 21546); 5 has had 523
  // by then and runs its other 501 alone (last in cycle 22047).
  EXPECT_DOUBLE_EQ(g_rec.done_ns.at(4), 21547 + 2);
  EXPECT_DOUBLE_EQ(g_rec.done_ns.at(5), 22048 + 2);
}

TEST(BankedSram, EmptyTransferCompletesAfterTheLatency) {
  EXPECT_DOUBLE_EQ(g_rec.done_ns.at(6), 30000 + 2);
}

TEST(BankedSram, OneBankStrideMovesOneAccessPerCycle) {
  EXPECT_DOUBLE_EQ(g_rec.done_ns.at(7), 40000 + 100 + 2);
}

TEST(BankedSram, CountsBytesAccessesConflictsAndPorts) {
  const BankedSramStats& s = g_mem->sram_stats();
  EXPECT_EQ(s.full_name(), "test.sram");
  EXPECT_EQ(s.read_bytes.get(), 4 * kMiB + 6400);
  EXPECT_EQ(s.write_bytes.get(), kMiB);
  EXPECT_EQ(s.reads.get(), 6u);
  EXPECT_EQ(s.writes.get(), 1u);
  EXPECT_EQ(s.accesses.get(), 5 * kMiB / 64 + 100);
  const uint64_t active = 1024 + 2048 + 2048 + 100;
  EXPECT_EQ(s.active_cycles.get(), active);
  EXPECT_DOUBLE_EQ(s.busy_s.get(), active * 1e-9);
  // The second transfer of a pair, in every cycle both are active (2047 and 1047 cycles),
  // and the strided one in every cycle but its last.
  EXPECT_EQ(s.bank_conflicts.get(), 2047u + 1047u + 99u);
  EXPECT_EQ(s.conflict_stall_cycles.get(), 2047u + 1047u + 99u);
  ASSERT_EQ(s.ports.size(), 2u);
  EXPECT_EQ(s.ports[0]->full_name(), "test.sram.port0");
  // Only one transfer moves per cycle here, always through the first port granted.
  EXPECT_EQ(s.ports[0]->busy_cycles.get() + s.ports[1]->busy_cycles.get(), active);
  EXPECT_EQ(s.ports[0]->bytes.get() + s.ports[1]->bytes.get(), 5 * kMiB + 6400);
  const double end_cycles = sc_core::sc_time_stamp().to_seconds() * 1e9;
  EXPECT_NEAR(s.ports[0]->utilisation.value(),
              static_cast<double>(s.ports[0]->busy_cycles.get()) / end_cycles, 1e-12);
  EXPECT_DOUBLE_EQ(s.peak_bandwidth.value(), 16 * 64 * 1e9);
}

TEST(BankedSram, IsRegisteredWithItsKeys) {
  const auto* e = Registry<Memory>::instance().find("banked_sram");
  ASSERT_NE(e, nullptr);
  for (const char* k : {"capacity", "banks", "bank_width", "bank_ports", "ports", "read_ports",
                        "write_ports", "port_accesses", "interleave", "latency"})
    EXPECT_NE(e->schema.find(k), nullptr) << k;
}

}  // namespace
}  // namespace moesim

int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  using moesim::ParamValue;
  using moesim::Quantity;
  const moesim::Params params("chip.sram", {{"capacity", Quantity{1 << 30, false}},
                                            {"banks", int64_t{16}},
                                            {"bank_width", int64_t{64}},
                                            {"bank_ports", int64_t{1}},
                                            {"ports", int64_t{2}},
                                            {"read_ports", int64_t{0}},
                                            {"write_ports", int64_t{0}},
                                            {"port_accesses", int64_t{0}},
                                            {"interleave", std::string("word")},
                                            {"latency", Quantity{2, true}}});
  moesim::BankedSram mem(moesim::Memory::Args{"sram", params, 1e9, &moesim::g_stats});
  moesim::g_mem = &mem;
  moesim::Driver driver("driver", mem, moesim::g_rec);
  sc_core::sc_start();
  return RUN_ALL_TESTS();
}
