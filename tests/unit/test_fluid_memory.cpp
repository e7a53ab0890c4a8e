// FluidMemory: bandwidth, latency and fair sharing between concurrent transfers.
// One SystemC simulation in this process; the tests check what it recorded.

#include <gtest/gtest.h>

#include <map>

#include <systemc>

#include "hw_models/memory/fluid_memory.hpp"
#include "sim/core/sc_thread.hpp"

namespace moesim {
namespace {

struct Recorder : MemoryClient {
  std::map<uint64_t, double> done_s;
  void transfer_done(uint64_t tag) override { done_s[tag] = sc_core::sc_time_stamp().to_seconds(); }
};

struct Driver : sc_core::sc_module {
  SC_HAS_PROCESS(Driver);
  Driver(sc_core::sc_module_name n, Memory& m, Recorder& r) : sc_module(n), mem(m), rec(r) {
    MOESIM_SC_THREAD(run);
  }
  void run() {
    using sc_core::SC_MS;
    using sc_core::SC_US;
    mem.transfer(1'000'000, false, &rec, 1);  // alone
    wait(1, SC_MS);
    mem.transfer(1'000'000, false, &rec, 2);  // two at once
    mem.transfer(1'000'000, true, &rec, 3);
    wait(1, SC_MS);
    mem.transfer(1'000'000, false, &rec, 4);  // staggered by 5 us
    wait(5, SC_US);
    mem.transfer(1'000'000, false, &rec, 5);
    wait(1, SC_MS);
    for (uint64_t i = 0; i < 100; ++i) mem.transfer(1000, false, &rec, 100 + i);  // 100 small
  }
  Memory& mem;
  Recorder& rec;
};

Recorder g_rec;
StatGroup g_stats("test");
FluidMemory* g_mem = nullptr;

constexpr double kBw = 100e9;  // 100 GB/s: 1 MB takes 10 us alone
constexpr double kLat = 10e-9;

TEST(FluidMemory, SingleTransferTakesBytesOverBandwidthPlusLatency) {
  EXPECT_NEAR(g_rec.done_s.at(1), 10e-6 + kLat, 1e-12);
}

TEST(FluidMemory, TwoConcurrentStreamsShareTheBandwidth) {
  // The latency overlaps with the other transfer's bytes: nothing is added after 20 us.
  EXPECT_NEAR(g_rec.done_s.at(2), 1e-3 + 20e-6, 1e-12);
  EXPECT_NEAR(g_rec.done_s.at(3), 1e-3 + 20e-6, 1e-12);
}

TEST(FluidMemory, LatencyIsPipelinedUnderManySmallTransfers) {
  // 100 x 1 kB at once (at 3.005 ms): 1 us of bytes, against 10 ns + 10 ns for one alone; the
  // latency is hidden (the previous model, latency after the bytes, finished them at 1.01 us).
  for (uint64_t i = 0; i < 100; ++i) EXPECT_NEAR(g_rec.done_s.at(100 + i), 3.005e-3 + 1e-6, 1e-12);
}

TEST(FluidMemory, StaggeredStreamsShareOnlyWhileBothAreActive) {
  // A moves 0.5 MB alone in 5 us, then both move at 50 GB/s until A finishes 10 us later
  // (B has 0.5 MB left), then B alone for 5 us. Both end after their lone time + latency.
  EXPECT_NEAR(g_rec.done_s.at(4), 2e-3 + 15e-6, 1e-12);
  EXPECT_NEAR(g_rec.done_s.at(5), 2e-3 + 20e-6, 1e-12);
}

TEST(FluidMemory, CountsBytesAndBusyTime) {
  const MemoryStats& s = g_mem->stats();
  EXPECT_EQ(s.read_bytes.get(), 4'100'000u);
  EXPECT_EQ(s.write_bytes.get(), 1'000'000u);
  EXPECT_EQ(s.reads.get(), 104u);
  EXPECT_EQ(s.writes.get(), 1u);
  EXPECT_NEAR(s.busy_s.get(), 10e-6 + 20e-6 + 20e-6 + 1e-6, 1e-12);
  EXPECT_EQ(s.full_name(), "test.mem");
}

}  // namespace
}  // namespace moesim

int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  moesim::FluidMemory mem("mem", &moesim::g_stats, moesim::kBw,
                          sc_core::sc_time(10, sc_core::SC_NS), 1 << 30);
  moesim::g_mem = &mem;
  moesim::Driver driver("driver", mem, moesim::g_rec);
  sc_core::sc_start();
  return RUN_ALL_TESTS();
}
