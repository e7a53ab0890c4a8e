// The exact period skip of the detailed DRAM (`stream_skip = "exact"`, hw_models/memory/
// README.md): the same transfers through the same tier with the skip off and on must complete
// at the same picosecond and leave the same counters, and the long streams must be skipped.
//
// SystemC elaborates once per process, so sc_main builds every scenario's pair of memories up
// front and simulates them side by side in one sc_start(); the tests then read the results.
// MOESIM_PRINT_SKIP=1 prints how much of each scenario was skipped.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "hw_models/memory/detailed_dram.hpp"
#include "tests/dram/skip_harness.hpp"
#include "tests/support/sanitized.hpp"

namespace moesim {
namespace {

using skip_harness::Chain;
using skip_harness::Host;
using skip_harness::make_dram;
using skip_harness::repeat;
using skip_harness::Xfer;

constexpr uint64_t kMiB = 1 << 20;
// The transfers' unit of length: 1 MiB, or a quarter of it under the sanitizers (the
// comparisons stay; the shares skipped, which need the full length, are checked only in the
// main suite).
constexpr uint64_t kLen = testing_support::kSanitized ? kMiB / 4 : kMiB;

struct Scenario {
  std::string name;
  std::string preset;
  int stacks;
  std::vector<Chain> chains;
  double min_skipped;  // share of requests the skip must advance
  bool refresh = true;
  std::string extra = "";  // more keys of the [memory] table
};

StatGroup g_stats("exact");

std::unique_ptr<Memory> make_memory(const std::string& name, const Scenario& s, bool skip) {
  const std::string toml = fmt::format(
      "[memory]\ntype = \"dram\"\npreset = \"{}\"\nstacks = {}\ncapacity = \"16GiB\"\n"
      "stream_skip = \"{}\"\nrefresh = {}\n{}",
      s.preset, s.stacks, skip ? "exact" : "off", s.refresh ? "true" : "false", s.extra);
  return make_dram(name, toml, &g_stats);
}

struct PairRun {
  Scenario scenario;
  std::unique_ptr<Memory> off, on;
  std::unique_ptr<Host> off_host, on_host;
};
std::vector<std::unique_ptr<PairRun>> g_runs;

std::vector<Scenario> scenarios() {
  return {
      // Long reads and writes, each crossing refresh intervals.
      {"one_read", "HBM3", 2, {{0.0, {{96 * kLen, false}}}}, 0.1},
      {"one_write", "HBM3", 2, {{0.0, {{64 * kLen, true}}}}, 0.05},
      {"one_stack", "HBM3", 1, {{0.0, {{64 * kLen, false}}}}, 0.1},
      // Two interleaved streams, started together and apart, and a read with a write.
      {"two_reads", "HBM3", 2, {{0.0, {{48 * kLen, false}}}, {0.0, {{48 * kLen, false}}}}, 0.0},
      {"staggered", "HBM3", 2, {{0.0, {{64 * kLen, false}}}, {20e-6, {{16 * kLen, false}}}}, 0.0},
      {"read_write", "HBM3", 2, {{0.0, {{48 * kLen, false}}}, {0.0, {{24 * kLen, true}}}}, 0.0},
      // A chain of tile loads, with a short read and a short write joining in between.
      {"ring",
       "HBM3",
       2,
       {{0.0, repeat(8, 16 * kLen, false)}, {30e-6, {{kLen, false}, {256 << 10, true}}}},
       0.03},
      // An idle millisecond between two reads.
      {"idle_gap", "HBM3", 1, {{0.0, {{32 * kLen, false}}}, {1e-3, {{32 * kLen, false}}}}, 0.05},
      // Another mapping period and refresh interval.
      {"ddr4", "DDR4-3200", 2, {{0.0, {{16 * kLen, false}}}}, 0.0},
      // Without refresh nothing but the streams bound the skip.
      {"no_refresh", "HBM3", 2, {{0.0, {{64 * kLen, false}}}}, 0.8, false},
      // Two reads do repeat, once their transient is over: it outlasts a refresh interval.
      {"two_reads_no_refresh",
       "HBM3",
       2,
       {{0.0, {{48 * kLen, false}}}, {0.0, {{48 * kLen, false}}}},
       0.8,
       false},
      // Closed page, another preset, four stacks, and a mapping with no row step (the row is
      // not its top field: nothing can be skipped).
      {"closed_page",
       "HBM3",
       2,
       {{0.0, {{32 * kLen, false}}}},
       0.0,
       true,
       "page_policy = \"closed\"\n"},
      {"ddr5", "DDR5-4800", 2, {{0.0, {{16 * kLen, false}}}}, 0.0},
      {"four_stacks", "HBM3", 4, {{0.0, {{128 * kLen, false}}}}, 0.1},
      {"no_row_step",
       "HBM3",
       2,
       {{0.0, {{32 * kLen, false}}}},
       0.0,
       true,
       "address_mapping = \"ch_ro_ba_bg_co\"\n"},
      // Short transfers: nothing to skip, nothing changes.
      {"short", "HBM3", 2, {{0.0, repeat(40, 64 << 10, false)}}, 0.0},
  };
}

void build() {
  for (const Scenario& s : scenarios()) {
    auto r = std::make_unique<PairRun>();
    r->scenario = s;
    r->off = make_memory(s.name + "_off", r->scenario, false);
    r->on = make_memory(s.name + "_on", r->scenario, true);
    r->off_host =
        std::make_unique<Host>((s.name + "_off_host").c_str(), *r->off, r->scenario.chains);
    r->on_host = std::make_unique<Host>((s.name + "_on_host").c_str(), *r->on, r->scenario.chains);
    g_runs.push_back(std::move(r));
  }
}

const DetailedDram& dram(const std::unique_ptr<Memory>& m) {
  return dynamic_cast<const DetailedDram&>(*m);
}

class ExactSkip : public ::testing::TestWithParam<size_t> {};

TEST_P(ExactSkip, CompletionTimesAreIdentical) {
  const PairRun& r = *g_runs[GetParam()];
  EXPECT_EQ(r.on_host->done_at, r.off_host->done_at) << r.scenario.name;
  for (const auto& chain : r.on_host->done_at)
    for (const uint64_t t : chain) EXPECT_GT(t, 0u) << r.scenario.name;
}

TEST_P(ExactSkip, CountersAreIdentical) {
  const PairRun& r = *g_runs[GetParam()];
  const DetailedDramStats& off = dram(r.off).dram_stats();
  const DetailedDramStats& on = dram(r.on).dram_stats();
  const std::string& n = r.scenario.name;
  EXPECT_EQ(on.requests.get(), off.requests.get()) << n;
  EXPECT_EQ(on.read_bytes.get(), off.read_bytes.get()) << n;
  EXPECT_EQ(on.write_bytes.get(), off.write_bytes.get()) << n;
  EXPECT_EQ(on.row_hits.get(), off.row_hits.get()) << n;
  EXPECT_EQ(on.row_misses.get(), off.row_misses.get()) << n;
  EXPECT_EQ(on.row_conflicts.get(), off.row_conflicts.get()) << n;
  EXPECT_EQ(on.activates.get(), off.activates.get()) << n;
  EXPECT_EQ(on.precharges.get(), off.precharges.get()) << n;
  EXPECT_EQ(on.refreshes.get(), off.refreshes.get()) << n;
  EXPECT_EQ(on.mean_latency.get(), off.mean_latency.get()) << n;
  EXPECT_EQ(on.row_hit_rate.get(), off.row_hit_rate.get()) << n;
  EXPECT_EQ(on.busy_s.get(), off.busy_s.get()) << n;
  EXPECT_EQ(dram(r.on).refresh_overhead(), dram(r.off).refresh_overhead()) << n;
}

TEST_P(ExactSkip, LongStreamsAreSkipped) {
  const PairRun& r = *g_runs[GetParam()];
  EXPECT_EQ(dram(r.off).exact_stats(), nullptr);
  const ExactSkipStats* s = dram(r.on).exact_stats();
  ASSERT_NE(s, nullptr);
  const double fraction = static_cast<double>(s->requests.get()) /
                          static_cast<double>(dram(r.on).dram_stats().requests.get());
  EXPECT_DOUBLE_EQ(s->fraction.get(), fraction);
  if (r.scenario.min_skipped > 0) {
    if (!testing_support::kSanitized) {
      EXPECT_GT(fraction, r.scenario.min_skipped) << r.scenario.name;
    }
  } else if (r.scenario.name == "short" || r.scenario.name == "no_row_step") {
    EXPECT_EQ(s->requests.get(), 0u);
  }
  // Far fewer wake-ups would be a changed SystemC schedule: the skip keeps every one.
  EXPECT_EQ(dram(r.on).wakeups(), dram(r.off).wakeups()) << r.scenario.name;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, ExactSkip, ::testing::Range<size_t>(0, scenarios().size()),
                         [](const ::testing::TestParamInfo<size_t>& i) {
                           return scenarios()[i.param].name;
                         });

void print_table() {
  std::printf("| scenario | requests | skipped | skips |\n");
  for (const auto& r : g_runs) {
    const ExactSkipStats* s = dram(r->on).exact_stats();
    std::printf("| %s | %llu | %.4f | %llu |\n", r->scenario.name.c_str(),
                static_cast<unsigned long long>(dram(r->on).dram_stats().requests.get()),
                s->fraction.get(), static_cast<unsigned long long>(s->skips.get()));
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
