// Calibration of the fast memory model against the detailed DRAM model.
//
// SystemC elaborates once per process, so sc_main builds every (preset, pattern, model) pair
// up front, simulates them all side by side in one sc_start(), and then runs the tests on the
// measurements. Each detailed run (`type = "dram"`, the default `fidelity = "detailed"`) is
// matched by the same tier at `fidelity = "fast"`, whose efficiency and latency come from the
// calibration table (dram_calibration_table(), mirrored in hw_models/memory/README.md); the
// tests check the detailed model still achieves the table's efficiency and that the fast
// fidelity agrees with it within the stated tolerances. MOESIM_PRINT_CALIBRATION=1 prints the
// measured table.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "hw_models/memory/detailed_dram.hpp"
#include "hw_models/memory/mem_driver.hpp"
#include "sim/config/config.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/sc_thread.hpp"

namespace moesim {
namespace {

/// Tolerances the calibrated fast model must meet.
constexpr double kBandwidthTolerance = 0.01;  // relative, loaded bandwidth
constexpr double kLatencyTolerance = 0.10;    // relative, unloaded mean latency
constexpr double kTableTolerance = 0.02;      // absolute, detailed efficiency vs the table
constexpr uint64_t kBulkBytes = 1 << 20;      // "streaming": 1 MiB DMA transfers ...
constexpr uint64_t kBulkChannels = 4;         // ... four in flight, as the chip's DMA
constexpr uint64_t kStrideBytes = 256;
constexpr double kLoadedSeconds = 60e-6;

// The calibration table (hw_models/memory/dram/mem_calibration_table.inc, measured with this
// test: MOESIM_PRINT_CALIBRATION=1; mirrored in hw_models/memory/README.md).
using Calibration = DramCalibration;

struct ModelRun {
  std::unique_ptr<Memory> mem;
  std::unique_ptr<MemDriver> host;
};

struct Pair {
  const Calibration* cal;
  ModelRun dram_loaded, fast_loaded;
  ModelRun dram_unloaded, fast_unloaded;  // window 1 (not for streaming)
  double peak = 0;
};

StatGroup g_stats("calibration");
std::vector<std::unique_ptr<Pair>> g_pairs;

std::unique_ptr<Memory> make_memory(const std::string& name, const std::string& toml) {
  Config cfg = Config::from_string(toml, name);
  const auto& reg = Registry<Memory>::instance();
  const std::string type = cfg.choose("memory.type", reg.names());
  const Params p = cfg.section("memory", reg.find(type)->schema);
  cfg.check_all_consumed();
  return reg.find(type)->create(Memory::Args{name.c_str(), p, 1e9, &g_stats});
}

std::string module_name(const Calibration& c, const char* what) {
  std::string n = fmt::format("{}_{}_{}", c.preset, c.pattern, what);
  for (char& ch : n)
    if (ch == '-') ch = '_';
  return n;
}

enum class Mode { kPattern, kUnloaded, kBulk };

ModelRun make_run(const Calibration& c, const char* what, const std::string& toml, Mode mode) {
  ModelRun r;
  r.mem = make_memory(module_name(c, what), toml);
  const std::string pat = c.pattern;
  DramPatternSpec spec;
  spec.pattern = pat == "random"    ? DramPattern::kRandom
                 : pat == "strided" ? DramPattern::kStrided
                                    : DramPattern::kSequential;
  spec.stride_bytes = kStrideBytes;
  // Loaded runs cover about 60 us of full-speed traffic: many tREFI, so refresh is counted.
  const DramSpec& ds = dram_preset(c.preset);
  const double bytes = ds.peak_bytes_per_s() * kLoadedSeconds;
  uint64_t window = 1;
  uint64_t size = 64;
  switch (mode) {
    case Mode::kPattern:
      spec.requests = static_cast<uint64_t>(bytes / 64);
      window = static_cast<uint64_t>(ds.units()) * 32;  // every read-queue slot
      break;
    case Mode::kUnloaded:
      spec.requests = 4000;
      break;
    case Mode::kBulk:
      spec.pattern = DramPattern::kSequential;
      spec.requests = std::max<uint64_t>(16, static_cast<uint64_t>(bytes / kBulkBytes));
      window = kBulkChannels;
      size = kBulkBytes;
      break;
  }
  auto* dram = dynamic_cast<DetailedDram*>(r.mem.get());
  const uint64_t footprint = dram ? dram->device_bytes() : r.mem->capacity_bytes();
  r.host = std::make_unique<MemDriver>((module_name(c, what) + "_host").c_str(), *r.mem,
                                       make_pattern_source(spec, footprint), window, 1e-9, size,
                                       mode != Mode::kBulk);
  return r;
}

void build() {
  for (const Calibration& c : dram_calibration_table()) {
    auto p = std::make_unique<Pair>();
    p->cal = &c;
    const DramSpec& spec = dram_preset(c.preset);
    p->peak = spec.peak_bytes_per_s();
    const std::string dram_toml =
        fmt::format("[memory]\ntype = \"dram\"\npreset = \"{}\"\ncapacity = \"{}B\"\n", c.preset,
                    spec.capacity_bytes());
    // The same tier at fast fidelity: the table's row for this pattern sets it.
    const std::string fast_toml = fmt::format(
        "[memory]\ntype = \"dram\"\nfidelity = \"fast\"\nfast_calibration = \"{}\"\n"
        "preset = \"{}\"\ncapacity = \"{}B\"\n",
        c.pattern, c.preset, spec.capacity_bytes());
    const bool streaming = std::string(c.pattern) == "streaming";
    // Both models run the same stream: the pattern's 64-byte requests with every read-queue
    // slot busy (the fast model ignores addresses; its pipelined latency lets a full window
    // of small requests reach its bandwidth, as the DRAM does), or bulk transfers.
    const Mode loaded = streaming ? Mode::kBulk : Mode::kPattern;
    p->dram_loaded = make_run(c, "dram", dram_toml, loaded);
    p->fast_loaded = make_run(c, "fast", fast_toml, loaded);
    if (!streaming) {
      p->dram_unloaded = make_run(c, "dram1", dram_toml, Mode::kUnloaded);
      p->fast_unloaded = make_run(c, "fast1", fast_toml, Mode::kUnloaded);
    }
    g_pairs.push_back(std::move(p));
  }
}

// Behaviour of the detailed model through the Memory interface (built with the rest).
struct Probe : sc_core::sc_module, MemoryClient {
  SC_HAS_PROCESS(Probe);
  Probe(const sc_core::sc_module_name& n, Memory& m, std::vector<std::pair<double, uint64_t>> plan)
      : sc_core::sc_module(n), mem(m), starts(std::move(plan)) {
    MOESIM_SC_THREAD(run);
  }
  void run() {
    double t = 0;
    for (size_t i = 0; i < starts.size(); ++i) {
      if (starts[i].first > t) {
        wait(sc_core::sc_time(starts[i].first - t, sc_core::SC_SEC));
        t = starts[i].first;
      }
      mem.transfer(starts[i].second, false, this, i);
    }
  }
  void transfer_done(uint64_t tag) override {
    done.resize(starts.size(), -1.0);
    done[tag] = sc_core::sc_time_stamp().to_seconds();
  }
  Memory& mem;
  std::vector<std::pair<double, uint64_t>> starts;  // (start time s, bytes)
  std::vector<double> done;
};

struct Behaviour {
  std::unique_ptr<Memory> solo, pair, idle;
  std::unique_ptr<Probe> solo_p, pair_p, idle_p;
};
Behaviour g_beh;

void build_behaviour() {
  const std::string toml = "[memory]\ntype = \"dram\"\npreset = \"HBM3\"\ncapacity = \"16GiB\"\n";
  g_beh.solo = make_memory("beh_solo", toml);
  g_beh.pair = make_memory("beh_pair", toml);
  g_beh.idle = make_memory("beh_idle", toml);
  g_beh.solo_p = std::make_unique<Probe>("beh_solo_p", *g_beh.solo,
                                         std::vector<std::pair<double, uint64_t>>{{0.0, 1 << 20}});
  g_beh.pair_p = std::make_unique<Probe>(
      "beh_pair_p", *g_beh.pair,
      std::vector<std::pair<double, uint64_t>>{{0.0, 1 << 20}, {0.0, 1 << 20}, {0.0, 0}});
  g_beh.idle_p =
      std::make_unique<Probe>("beh_idle_p", *g_beh.idle,
                              std::vector<std::pair<double, uint64_t>>{{0.0, 4096}, {1e-3, 4096}});
}

TEST(DetailedDram, ConcurrentTransfersInterleaveAndShareBandwidth) {
  const double solo = g_beh.solo_p->done.at(0);
  const auto& d = g_beh.pair_p->done;
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[2], 0.0);  // an empty transfer completes at once
  // Round-robin: neither finishes near the solo time (that would be serialisation), and
  // together they take about twice as long (row conflicts between them cost a little more).
  EXPECT_GT(std::min(d[0], d[1]), 1.6 * solo);
  EXPECT_LT(std::max(d[0], d[1]), 2.6 * solo);
  EXPECT_GT(solo, (1 << 20) / 819.2e9);  // never faster than the peak
}

TEST(DetailedDram, IdleGapCostsNoEventsButRefreshIsCounted) {
  const auto& d = g_beh.idle_p->done;
  ASSERT_EQ(d.size(), 2u);
  EXPECT_GT(d[1], 1e-3);
  EXPECT_LT(d[1], 1.001e-3);
  auto* dram = dynamic_cast<DetailedDram*>(g_beh.idle.get());
  // About 1 ms / tREFI (3.9 us) all-bank refreshes per pseudo-channel, 32 of them ...
  EXPECT_NEAR(static_cast<double>(dram->dram_stats().refreshes.get()) / 32, 1e-3 / 3.9e-6, 2);
  // ... yet the process did not wake for them: only for the two transfers' own events.
  EXPECT_LT(dram->wakeups(), 200u) << dram->wakeups();
  EXPECT_EQ(dram->dram_stats().requests.get(), 2u * 4096 / 64);
  // busy_time counts only time with a transfer in flight.
  EXPECT_LT(dram->stats().busy_s.get(), 2e-6);
}

double rel(double a, double b) {
  return std::fabs(a - b) / b;
}

void print_table() {
  std::printf("| preset | pattern | detailed GB/s | efficiency | unloaded latency ns |\n");
  for (const auto& p : g_pairs) {
    const MemDriverResult d = p->dram_loaded.host->result();
    double lat = 0;
    if (p->dram_unloaded.host) {
      // The fast model adds its latency to the request's own transfer time at e x peak.
      lat = p->dram_unloaded.host->result().mean_latency_s * 1e9 -
            64 / (p->peak * d.bytes_per_s / p->peak) * 1e9;
    }
    const double f = p->fast_loaded.host->result().bytes_per_s;
    std::printf("    {\"%s\", \"%s\", %.3f, %.1f},  // %.1f GB/s (fast: %+.2f %%)\n",
                p->cal->preset, p->cal->pattern, d.bytes_per_s / p->peak, lat, d.bytes_per_s / 1e9,
                100 * (f - d.bytes_per_s) / d.bytes_per_s);
  }
}

TEST(MemCalibration, EveryPresetHasEveryPattern) {
  // fidelity = "fast" looks its row up by preset and fast_calibration.
  for (const std::string& preset : dram_preset_names()) {
    for (const char* pattern : {"sequential", "strided", "random", "streaming"}) {
      EXPECT_NE(find_dram_calibration(preset, pattern), nullptr) << preset << " " << pattern;
    }
  }
  EXPECT_EQ(find_dram_calibration("HBM3", "diagonal"), nullptr);
}

TEST(MemCalibration, FastFidelityIsTheFluidModelAtTheCalibratedBandwidth) {
  for (const auto& p : g_pairs) {
    EXPECT_EQ(dynamic_cast<DetailedDram*>(p->fast_loaded.mem.get()), nullptr);
    EXPECT_DOUBLE_EQ(p->fast_loaded.mem->peak_bytes_per_s(), p->peak * p->cal->efficiency)
        << p->cal->preset << " " << p->cal->pattern;
  }
}

TEST(MemCalibration, EveryRunFinished) {
  for (const auto& p : g_pairs) {
    for (const ModelRun* r :
         {&p->dram_loaded, &p->fast_loaded, &p->dram_unloaded, &p->fast_unloaded}) {
      if (r->host) {
        EXPECT_TRUE(r->host->finished()) << p->cal->preset << " " << p->cal->pattern;
      }
    }
  }
}

TEST(MemCalibration, DetailedModelAchievesTheTablesEfficiency) {
  for (const auto& p : g_pairs) {
    const double eff = p->dram_loaded.host->result().bytes_per_s / p->peak;
    EXPECT_NEAR(eff, p->cal->efficiency, kTableTolerance)
        << p->cal->preset << " " << p->cal->pattern;
  }
}

TEST(MemCalibration, CalibratedFastModelMatchesBandwidth) {
  for (const auto& p : g_pairs) {
    const double d = p->dram_loaded.host->result().bytes_per_s;
    const double f = p->fast_loaded.host->result().bytes_per_s;
    EXPECT_LT(rel(f, d), kBandwidthTolerance)
        << p->cal->preset << " " << p->cal->pattern << ": fast " << f / 1e9 << " GB/s, detailed "
        << d / 1e9 << " GB/s";
  }
}

TEST(MemCalibration, CalibratedFastModelMatchesUnloadedLatency) {
  for (const auto& p : g_pairs) {
    if (!p->dram_unloaded.host) continue;
    const double d = p->dram_unloaded.host->result().mean_latency_s;
    const double f = p->fast_unloaded.host->result().mean_latency_s;
    EXPECT_LT(rel(f, d), kLatencyTolerance) << p->cal->preset << " " << p->cal->pattern << ": fast "
                                            << f * 1e9 << " ns, detailed " << d * 1e9 << " ns";
  }
}

TEST(MemCalibration, LoadedDetailedLatencyFollowsLittlesLaw) {
  // With the window always full, mean latency = window x 64 B / bandwidth (the fast model
  // instead adds its latency on top; README.md).
  for (const auto& p : g_pairs) {
    if (std::string(p->cal->pattern) == "streaming") continue;
    const MemDriverResult r = p->dram_loaded.host->result();
    const double window = dram_preset(p->cal->preset).units() * 32.0;
    EXPECT_LT(rel(r.mean_latency_s, window * 64 / r.bytes_per_s), kLatencyTolerance)
        << p->cal->preset << " " << p->cal->pattern;
  }
}

TEST(MemCalibration, UncalibratedFastModelIsOffForNonStreamingPatterns) {
  // The point of the table: efficiency 1 would overstate random bandwidth (by 12 % on DDR5,
  // whose 32 banks hide most of the ACT cost, and by 1.8-3.5x elsewhere).
  for (const auto& p : g_pairs) {
    if (std::string(p->cal->pattern) != "random") continue;
    const double d = p->dram_loaded.host->result().bytes_per_s;
    EXPECT_GT(rel(p->peak, d), 0.1) << p->cal->preset;
  }
}

TEST(MemCalibration, DetailedStatsAreConsistent) {
  for (const auto& p : g_pairs) {
    auto* dram = dynamic_cast<DetailedDram*>(p->dram_loaded.mem.get());
    ASSERT_NE(dram, nullptr);
    const DetailedDramStats& st = dram->dram_stats();
    const MemDriverResult r = p->dram_loaded.host->result();
    EXPECT_EQ(st.read_bytes.get(), r.bytes);
    EXPECT_EQ(st.requests.get() * 64, r.bytes);
    EXPECT_EQ(st.reads.get(), r.requests);
    EXPECT_EQ(st.row_hits.get() + st.row_misses.get() + st.row_conflicts.get(), st.requests.get());
    EXPECT_GT(st.refreshes.get(), 0u);
    EXPECT_GT(dram->refresh_overhead(), 0.0);
    EXPECT_LT(dram->refresh_overhead(), 0.15);
    EXPECT_GT(st.busy_s.get(), 0.0);
  }
}

}  // namespace
}  // namespace moesim

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  if (::testing::GTEST_FLAG(list_tests)) return RUN_ALL_TESTS();
  moesim::build();
  moesim::build_behaviour();
  sc_core::sc_start();
  if (const char* e = std::getenv("MOESIM_PRINT_CALIBRATION"); e && *e == '1')
    moesim::print_table();
  return RUN_ALL_TESTS();
}
