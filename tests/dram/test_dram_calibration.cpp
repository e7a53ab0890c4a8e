#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "hw_models/memory/dram/dram_calibration.hpp"
#include "sim/core/error.hpp"

namespace moesim {
namespace {

DramPatternSpec pattern(DramPattern p, uint64_t n, double read_ratio = 1.0) {
  DramPatternSpec s;
  s.pattern = p;
  s.requests = n;
  s.read_ratio = read_ratio;
  s.seed = 3;
  return s;
}

class PresetBandwidth : public ::testing::TestWithParam<std::string> {};

// Sequential reads stream at the peak minus refresh: we require > 85% of the peak bandwidth
// after refresh is taken out (peak x (1 - tRFC/tREFI)), i.e. about 78-81% of the raw peak.
TEST_P(PresetBandwidth, SequentialReadsApproachPeakRandomReadsDoNot) {
  const DramSpec& s = dram_preset(GetParam());
  const DramRunResult seq =
      run_dram_pattern(s, DramConfig{}, pattern(DramPattern::kSequential, 60000));
  const double refresh_free = s.peak_bytes_per_s() * (1.0 - double(s.tRFC) / s.tREFI);
  EXPECT_GT(seq.bytes_per_s, 0.85 * refresh_free)
      << "sequential " << seq.bytes_per_s / 1e9 << " GB/s of peak " << s.peak_bytes_per_s() / 1e9;
  EXPECT_LE(seq.bytes_per_s, s.peak_bytes_per_s());
  EXPECT_GT(seq.row_hit_rate, 0.9);

  // Random reads need one ACT each, so they cannot beat the ACT-rate bound
  // min(4/tFAW, 1/tRRD_S, banks/tRC) x data-bus cycles per request. Where that bound is well
  // below the peak (every preset but DDR5, whose 32 banks and BL16 let one ACT per burst
  // keep the bus busy) they must also be much slower than sequential reads.
  const DramRunResult rnd = run_dram_pattern(s, DramConfig{}, pattern(DramPattern::kRandom, 30000));
  const double act_rate = std::min({4.0 / s.tFAW, 1.0 / s.tRRD_S, double(s.banks()) / s.tRC});
  const double bound = std::min(1.0, act_rate * s.tBURST * s.bursts_per_atom());
  EXPECT_LE(rnd.bytes_per_s, s.peak_bytes_per_s() * bound * 1.01);
  if (bound < 0.9) {
    EXPECT_LT(rnd.bytes_per_s, 0.8 * seq.bytes_per_s)
        << "random " << rnd.bytes_per_s / 1e9 << " vs sequential " << seq.bytes_per_s / 1e9;
  } else {
    EXPECT_LT(rnd.bytes_per_s, seq.bytes_per_s);
  }
  EXPECT_LT(rnd.row_hit_rate, 0.1);
  EXPECT_LE(rnd.p50_latency_ns, rnd.p99_latency_ns);
}

TEST_P(PresetBandwidth, OpenPageHitsClosedPageDoesNot) {
  const DramSpec& s = dram_preset(GetParam());
  DramConfig open, closed;
  closed.page_policy = PagePolicy::kClosed;
  const DramRunResult o = run_dram_pattern(s, open, pattern(DramPattern::kSequential, 20000));
  const DramRunResult c = run_dram_pattern(s, closed, pattern(DramPattern::kSequential, 20000));
  // Open page: one miss per row, then hits (15/16 for a 1 KiB HBM page).
  EXPECT_GT(o.row_hit_rate, 0.9);
  EXPECT_LT(c.row_hit_rate, 0.01);
  // One ACT per request (a few more where a refresh closed a row before its access).
  EXPECT_GE(c.stats.activates, 20000u);
  EXPECT_LT(c.stats.activates, 20000u * 1.01);
  EXPECT_GT(o.bytes_per_s, c.bytes_per_s);
}

TEST_P(PresetBandwidth, RefreshOverheadIsRfcOverRefi) {
  const DramSpec& s = dram_preset(GetParam());
  // Long enough for ~20 refresh intervals of random traffic.
  DramPatternSpec p = pattern(DramPattern::kRandom, 0, 0.7);
  const double ns_per_req = 64.0 / (0.3 * s.peak_bytes_per_s()) * 1e9;
  p.requests = static_cast<uint64_t>(20 * s.tREFI * s.tck_ps * 1e-3 / ns_per_req);
  const DramRunResult r = run_dram_pattern(s, DramConfig{}, p);
  const double expected = double(s.tRFC) / s.tREFI;
  EXPECT_NEAR(r.refresh_overhead, expected, 0.15 * expected)
      << r.cycles << " cycles, " << r.stats.refreshes << " REFs";
}

INSTANTIATE_TEST_SUITE_P(Dram, PresetBandwidth, ::testing::ValuesIn(dram_preset_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(DramCalibration, Deterministic) {
  const DramSpec& s = dram_preset("HBM2");
  const auto p = pattern(DramPattern::kRandom, 20000, 0.6);
  const DramRunResult a = run_dram_pattern(s, DramConfig{}, p);
  const DramRunResult b = run_dram_pattern(s, DramConfig{}, p);
  EXPECT_EQ(a.cycles, b.cycles);
  EXPECT_EQ(a.stats.latency_sum, b.stats.latency_sum);
  EXPECT_EQ(a.stats.activates, b.stats.activates);
  EXPECT_EQ(a.stats.row_hits, b.stats.row_hits);
  EXPECT_EQ(a.stats.writes, b.stats.writes);
  auto p2 = p;
  p2.seed = 4;
  EXPECT_NE(run_dram_pattern(s, DramConfig{}, p2).stats.latency_sum, a.stats.latency_sum);
}

TEST(DramCalibration, ReadRatioIsHonoured) {
  const DramRunResult r = run_dram_pattern(dram_preset("DDR4-3200"), DramConfig{},
                                           pattern(DramPattern::kRandom, 10000, 0.7));
  EXPECT_NEAR(double(r.stats.reads) / r.requests, 0.7, 0.03);
  EXPECT_EQ(r.stats.reads + r.stats.writes, 10000u);
  EXPECT_EQ(r.bytes, 10000u * 64);
}

TEST(DramCalibration, PatternInputErrors) {
  const DramSpec& s = dram_preset("DDR4-3200");
  EXPECT_THROW(parse_dram_pattern("zigzag"), InputError);
  EXPECT_EQ(parse_dram_pattern("strided"), DramPattern::kStrided);
  auto p = pattern(DramPattern::kRandom, 10, 1.5);
  EXPECT_THROW(run_dram_pattern(s, DramConfig{}, p), InputError);
  p = pattern(DramPattern::kStrided, 10);
  p.stride_bytes = 0;
  EXPECT_THROW(run_dram_pattern(s, DramConfig{}, p), InputError);
}

// ---- Trace driver -----------------------------------------------------------------------

TEST(DramTrace, RunsAWellFormedTrace) {
  std::istringstream in(
      "# cycle address op\n"
      "0 0x0 R\n"
      "\n"
      "0 64 r   # same row\n"
      "10 0x1000 W\n"
      "5000 0x40 R\n");
  DramConfig cfg;
  cfg.refresh = false;
  const DramRunResult r = run_dram_trace(dram_preset("DDR4-3200"), cfg, in, "t.trace", true);
  EXPECT_EQ(r.requests, 4u);
  EXPECT_EQ(r.stats.reads, 3u);
  EXPECT_EQ(r.stats.writes, 1u);
  EXPECT_EQ(r.timing_violation, "");
  // The last read enters at cycle 5000 and hits the open row: CL + burst.
  EXPECT_EQ(r.cycles, 5000u + 22 + 4 + 1);
}

std::string trace_error(const std::string& text) {
  std::istringstream in(text);
  try {
    run_dram_trace(dram_preset("DDR4-3200"), DramConfig{}, in, "bad.trace");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(DramTrace, BadLinesNameFileAndLine) {
  EXPECT_NE(trace_error("0 0 R\n1 0x40 X\n").find("bad.trace:2: bad operation 'X'"),
            std::string::npos);
  EXPECT_NE(trace_error("# c\n0 0\n").find("bad.trace:2: missing fields"), std::string::npos);
  EXPECT_NE(trace_error("0 0 R extra\n").find("bad.trace:1: unexpected field 'extra'"),
            std::string::npos);
  EXPECT_NE(trace_error("x 0 R\n").find("bad.trace:1: bad cycle 'x'"), std::string::npos);
  EXPECT_NE(trace_error("-1 0 R\n").find("bad.trace:1: bad cycle"), std::string::npos);
  EXPECT_NE(trace_error("0 0xZZ R\n").find("bad.trace:1: bad address '0xZZ'"), std::string::npos);
  EXPECT_NE(trace_error("10 0 R\n5 0 R\n").find("bad.trace:2: cycle 5 is earlier"),
            std::string::npos);
}

TEST(DramTrace, ReadsAFile) {
  const std::string path = ::testing::TempDir() + "dram_trace_test.trace";
  {
    std::ofstream f(path);
    for (int i = 0; i < 1000; ++i) f << i << " " << i * 64 << (i % 4 ? " R\n" : " W\n");
  }
  const DramRunResult r = run_dram_trace(dram_preset("HBM3"), DramConfig{}, path, true);
  EXPECT_EQ(r.requests, 1000u);
  EXPECT_EQ(r.timing_violation, "");
  std::remove(path.c_str());
  EXPECT_THROW(run_dram_trace(dram_preset("HBM3"), DramConfig{}, "/nonexistent/x.trace"),
               InputError);
}

}  // namespace
}  // namespace moesim

#include "hw_models/memory/dram/latency_histogram.hpp"

namespace moesim {
namespace {

TEST(LatencyHistogram, ExactBelow1024AndWithin2PercentAbove) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile(0.5), 0.0);
  for (uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
  EXPECT_EQ(h.percentile(0.50), 50.0);
  EXPECT_EQ(h.percentile(0.99), 99.0);
  EXPECT_EQ(h.percentile(1.0), 100.0);
  LatencyHistogram big;
  for (uint64_t v = 1; v <= 100000; ++v) big.record(v);
  EXPECT_NEAR(big.percentile(0.5), 50000, 50000 * 0.02);
  EXPECT_NEAR(big.percentile(0.99), 99000, 99000 * 0.02);
  EXPECT_EQ(big.max(), 100000u);
  EXPECT_DOUBLE_EQ(big.mean(), 50000.5);
}

TEST(DramCalibration, SameBankDifferentRowsAreConflicts) {
  const DramSpec& s = dram_preset("HBM3");
  AddressMapping m(s, DramConfig{}.mapping);
  DramLocation l{};
  l.row = 1;
  DramPatternSpec p = pattern(DramPattern::kStrided, 2000);
  p.stride_bytes = m.encode(l);  // next row of the same bank every time
  const DramRunResult r = run_dram_pattern(s, DramConfig{}, p, true);
  EXPECT_EQ(r.timing_violation, "");
  EXPECT_GE(r.stats.row_conflicts, 1990u);
  EXPECT_EQ(r.stats.row_hits, 0u);
  // One bank: every request costs a full row cycle, tRC at best.
  EXPECT_GE(r.cycles, 2000u * s.tRC);
}

}  // namespace
}  // namespace moesim
