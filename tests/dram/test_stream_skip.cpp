// The approximate stream skip of the detailed DRAM (`stream_skip = "approximate"`,
// hw_models/memory/README.md): the same transfers through the same tier with the skip off and
// on, compared transfer by transfer and counter by counter.
//
// SystemC elaborates once per process, so sc_main builds every scenario's pair of memories up
// front and simulates them side by side in one sc_start(); the tests then read the results.
// MOESIM_PRINT_SKIP=1 prints each scenario's errors and cost.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "hw_models/memory/detailed_dram.hpp"
#include "sim/config/config.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "tests/dram/skip_harness.hpp"

namespace moesim {
namespace {

using skip_harness::Chain;
using skip_harness::Host;
using skip_harness::make_dram;
using skip_harness::repeat;
using skip_harness::Xfer;

constexpr uint64_t kMiB = 1 << 20;
// Bounds the skip must meet on these streams (the errors measured are printed with
// MOESIM_PRINT_SKIP=1 and quoted in the README).
constexpr double kTimeTolerance = 0.01;  // completion time, relative to the chain's duration
// Row hits, misses, conflicts, ACT, PRE: every switch between simulating and skipping closes
// the open rows (up to one ACT and PRE per bank, 1,024 banks in two HBM3 stacks), which on these
// short streams is a few percent.
constexpr double kCounterTolerance = 0.05;
constexpr double kLatencyTolerance = 0.05;  // mean request latency

struct Scenario {
  std::string name;
  std::string preset;
  int stacks;
  std::vector<Chain> chains;
  double min_skipped;  // share of requests the skip must advance; 0: none at all
};

StatGroup g_stats("skip");

std::unique_ptr<Memory> make_memory(const std::string& name, const Scenario& s, bool skip) {
  const std::string toml = fmt::format(
      "[memory]\ntype = \"dram\"\npreset = \"{}\"\nstacks = {}\ncapacity = \"16GiB\"\n"
      "stream_skip = \"{}\"\n",
      s.preset, s.stacks, skip ? "approximate" : "off");
  return make_dram(name, toml, &g_stats);
}

struct SkipRun {
  Scenario scenario;
  std::unique_ptr<Memory> off, on, on_again;
  std::unique_ptr<Host> off_host, on_host, on_again_host;
};
std::vector<std::unique_ptr<SkipRun>> g_runs;

std::vector<Scenario> scenarios() {
  return {
      // One long read crossing about 13 refresh intervals, then the same as a write.
      {"one_read", "HBM3", 2, {{0.0, {{64 * kMiB, false}}}}, 0.7},
      {"one_write", "HBM3", 2, {{0.0, {{32 * kMiB, true}}}}, 0.5},
      // Two interleaved reads, started together and started apart.
      {"two_reads", "HBM3", 2, {{0.0, {{32 * kMiB, false}}}, {0.0, {{32 * kMiB, false}}}}, 0.7},
      {"staggered", "HBM3", 2, {{0.0, {{48 * kMiB, false}}}, {20e-6, {{16 * kMiB, false}}}}, 0.5},
      // A read and a write stream at once (write drain, bus turnarounds).
      {"read_write", "HBM3", 2, {{0.0, {{32 * kMiB, false}}}, {0.0, {{16 * kMiB, true}}}}, 0.3},
      // A chain of tile loads: the one-stream mix recurs, at new addresses, so its measured
      // rates are reused; a short read and a short write join it in between.
      {"ring",
       "HBM3",
       2,
       {{0.0, repeat(8, 16 * kMiB, false)}, {30e-6, {{kMiB, false}, {256 << 10, true}}}},
       0.8},
      // An idle millisecond between two reads (refreshes over the gap are applied at once).
      {"idle_gap", "HBM3", 1, {{0.0, {{16 * kMiB, false}}}, {1e-3, {{16 * kMiB, false}}}}, 0.7},
      // DDR4: another mapping period and refresh interval.
      {"ddr4", "DDR4-3200", 2, {{0.0, {{8 * kMiB, false}}}, {0.0, {{4 * kMiB, true}}}}, 0.3},
      // Short transfers never reach a steady state: nothing is skipped.
      {"short", "HBM3", 2, {{0.0, repeat(40, 64 << 10, false)}}, 0.0},
  };
}

void build() {
  for (const Scenario& s : scenarios()) {
    auto r = std::make_unique<SkipRun>();
    r->scenario = s;
    r->off = make_memory(s.name + "_off", r->scenario, false);
    r->on = make_memory(s.name + "_on", r->scenario, true);
    r->on_again = make_memory(s.name + "_on2", r->scenario, true);
    r->off_host =
        std::make_unique<Host>((s.name + "_off_host").c_str(), *r->off, r->scenario.chains);
    r->on_host = std::make_unique<Host>((s.name + "_on_host").c_str(), *r->on, r->scenario.chains);
    r->on_again_host =
        std::make_unique<Host>((s.name + "_on2_host").c_str(), *r->on_again, r->scenario.chains);
    g_runs.push_back(std::move(r));
  }
}

const DetailedDramStats& dram_stats(const std::unique_ptr<Memory>& m) {
  return dynamic_cast<const DetailedDram&>(*m).dram_stats();
}

// Largest completion-time error over the scenario, relative to each chain's duration.
double time_error(const SkipRun& r) {
  double worst = 0;
  for (size_t c = 0; c < r.scenario.chains.size(); ++c) {
    const double start = r.scenario.chains[c].start;
    const double span = r.off_host->done_s[c].back() - start;
    for (size_t i = 0; i < r.off_host->done_s[c].size(); ++i)
      worst = std::max(worst, std::fabs(r.on_host->done_s[c][i] - r.off_host->done_s[c][i]) / span);
  }
  return worst;
}

double rel(double a, double b) {
  return b == 0 ? std::fabs(a) : std::fabs(a - b) / b;
}

class StreamSkip : public ::testing::TestWithParam<size_t> {};

TEST_P(StreamSkip, EveryTransferCompletes) {
  const SkipRun& r = *g_runs[GetParam()];
  for (const Host* h : {r.off_host.get(), r.on_host.get()})
    for (const auto& chain : h->done_s)
      for (const double t : chain) EXPECT_GE(t, 0.0) << r.scenario.name;
}

TEST_P(StreamSkip, CompletionTimesWithinTolerance) {
  const SkipRun& r = *g_runs[GetParam()];
  EXPECT_LE(time_error(r), kTimeTolerance) << r.scenario.name;
}

TEST_P(StreamSkip, RequestCountsAreExactAndCountersClose) {
  const SkipRun& r = *g_runs[GetParam()];
  const DetailedDramStats& off = dram_stats(r.off);
  const DetailedDramStats& on = dram_stats(r.on);
  // Every request of every transfer is counted once, skipped or simulated.
  EXPECT_EQ(on.requests.get(), off.requests.get());
  EXPECT_EQ(on.read_bytes.get(), off.read_bytes.get());
  EXPECT_EQ(on.write_bytes.get(), off.write_bytes.get());
  const auto close = [&](const Counter& a, const Counter& b, const char* what) {
    EXPECT_LE(rel(static_cast<double>(a.get()), static_cast<double>(b.get())), kCounterTolerance)
        << r.scenario.name << " " << what << ": on " << a.get() << " off " << b.get();
  };
  close(on.row_hits, off.row_hits, "row_hits");
  close(on.activates, off.activates, "activates");
  close(on.precharges, off.precharges, "precharges");
  // Conflicts and misses are few on these streams: compare them as shares of all requests.
  EXPECT_NEAR(
      static_cast<double>(on.row_conflicts.get() + on.row_misses.get()) / on.requests.get(),
      static_cast<double>(off.row_conflicts.get() + off.row_misses.get()) / off.requests.get(),
      kCounterTolerance)
      << r.scenario.name;
  EXPECT_LE(rel(on.mean_latency.get(), off.mean_latency.get()), kLatencyTolerance)
      << r.scenario.name;
  // Refreshes follow the clock: at most one per pseudo-channel apart (the last one's deadline
  // may fall either side of the end).
  const auto& dd = dynamic_cast<const DetailedDram&>(*r.on);
  const double units = static_cast<double>(dd.spec().units() * dd.stacks());
  EXPECT_NEAR(static_cast<double>(on.refreshes.get()), static_cast<double>(off.refreshes.get()),
              units)
      << r.scenario.name;
}

TEST_P(StreamSkip, SkipsLongStreamsOnlyWhenAsked) {
  const SkipRun& r = *g_runs[GetParam()];
  EXPECT_EQ(dynamic_cast<const DetailedDram&>(*r.off).skip_stats(), nullptr);
  const StreamSkipStats* s = dynamic_cast<const DetailedDram&>(*r.on).skip_stats();
  ASSERT_NE(s, nullptr);
  const double fraction =
      static_cast<double>(s->requests.get()) / static_cast<double>(dram_stats(r.on).requests.get());
  EXPECT_DOUBLE_EQ(s->fraction.get(), fraction);
  if (r.scenario.min_skipped > 0) {
    EXPECT_GT(fraction, r.scenario.min_skipped) << r.scenario.name;
    EXPECT_GE(s->measured.get(), 1u);
    EXPECT_GE(s->entries.get(), s->measured.get());
  } else {
    EXPECT_EQ(s->requests.get(), 0u) << r.scenario.name;
  }
}

TEST_P(StreamSkip, IsDeterministic) {
  const SkipRun& r = *g_runs[GetParam()];
  EXPECT_EQ(r.on_host->done_s, r.on_again_host->done_s);
  EXPECT_EQ(dram_stats(r.on).row_hits.get(), dram_stats(r.on_again).row_hits.get());
}

INSTANTIATE_TEST_SUITE_P(Scenarios, StreamSkip, ::testing::Range<size_t>(0, scenarios().size()),
                         [](const ::testing::TestParamInfo<size_t>& i) {
                           return scenarios()[i.param].name;
                         });

TEST(StreamSkipReuse, RecurringMixesReuseTheirRates) {
  // The ring's tile loads recur: fewer mixes are measured than skipped.
  for (const auto& r : g_runs) {
    if (r->scenario.name != "ring") continue;
    const StreamSkipStats* s = dynamic_cast<const DetailedDram&>(*r->on).skip_stats();
    EXPECT_LT(s->measured.get(), s->entries.get());
  }
}

TEST(StreamSkipConfig, ToleranceOutsideItsRangeIsRefused) {
  const std::string toml =
      "[memory]\ntype = \"dram\"\npreset = \"HBM3\"\ncapacity = \"16GiB\"\n"
      "stream_skip = \"approximate\"\nstream_skip_tolerance = 2.0\n";
  Config cfg = Config::from_string(toml, "skip.toml");
  (void)cfg.choose("memory.type", Registry<Memory>::instance().names());
  try {
    (void)cfg.section("memory", Registry<Memory>::instance().find("dram")->schema);
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("memory.stream_skip_tolerance"), std::string::npos)
        << e.what();
  }
}

void print_table() {
  std::printf("| scenario | time error | skipped | measured | entries | requests |\n");
  for (const auto& r : g_runs) {
    const StreamSkipStats* s = dynamic_cast<const DetailedDram&>(*r->on).skip_stats();
    std::printf("| %s | %.4f %% | %.4f | %llu | %llu | %llu |\n", r->scenario.name.c_str(),
                100 * time_error(*r), s->fraction.get(),
                static_cast<unsigned long long>(s->measured.get()),
                static_cast<unsigned long long>(s->entries.get()),
                static_cast<unsigned long long>(dram_stats(r->on).requests.get()));
  }
}

}  // namespace
}  // namespace moesim

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  if (::testing::GTEST_FLAG(list_tests)) return RUN_ALL_TESTS();
  moesim::build();
  sc_core::sc_start();
  if (const char* e = std::getenv("MOESIM_PRINT_SKIP"); e && *e == '1') moesim::print_table();
  return RUN_ALL_TESTS();
}
