// The --cc runners the full-system simulation uses (rtl/cc): random transactions through each
// baked block, outputs equal to the bit-exact reference and cycles equal to the contract.
// With --bench it also prints each block's co-simulation speed in cycles/s (not a test).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include <systemc>

#include "hw_models/compute/attention_timing.hpp"
#include "hw_models/compute/systolic_timing.hpp"
#include "rtl/cc/rtl_runners.hpp"

namespace moesim::rtl {
namespace {

bool g_bench = false;

using Clock = std::chrono::steady_clock;

void report(const char* what, uint64_t cycles, Clock::time_point t0) {
  if (!g_bench) return;
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("%-34s %10llu cycles in %.3f s = %.3g cycles/s\n", what,
              static_cast<unsigned long long>(cycles), s, static_cast<double>(cycles) / s);
}

Int8Matrix random_matrix(int rows, int cols, std::mt19937_64& rng) {
  Int8Matrix x{rows, cols, std::vector<int8_t>(static_cast<size_t>(rows) * cols)};
  for (auto& v : x.v) v = static_cast<int8_t>(rng());
  return x;
}

void tile_case(int rc, int gemms) {
  const SystolicTileParams p{rc, rc, 32};
  auto runner = make_systolic_tile_runner(p);
  ASSERT_TRUE(runner);
  std::mt19937_64 rng(7);
  const auto t0 = Clock::now();
  for (int i = 0; i < gemms; ++i) {
    const int m = 1 + static_cast<int>(rng() % 64), k = 1 + static_cast<int>(rng() % (3 * rc)),
              n = 1 + static_cast<int>(rng() % (3 * rc));
    const auto r = runner->run_gemm(random_matrix(m, k, rng), random_matrix(k, n, rng));
    ASSERT_TRUE(r.values_match) << "M=" << m << " K=" << k << " N=" << n;
    ASSERT_EQ(r.cycles, systolic_gemm_cycles(Dataflow::kWeightStationary, rc, rc, m, k, n))
        << "M=" << m << " K=" << k << " N=" << n;
  }
  const std::string what = "systolic_tile " + std::to_string(rc) + "x" + std::to_string(rc);
  report(what.c_str(), runner->cycles_simulated(), t0);
}

TEST(RtlCc, SystolicTile4x4MatchesReferenceAndFormula) {
  tile_case(4, 300);
}
TEST(RtlCc, SystolicTile16x16MatchesReferenceAndFormula) {
  tile_case(16, 60);
}

TEST(RtlCc, TopkGateN8K2MatchesReferenceAndContract) {
  TopkGateParams p;
  p.n = 8;
  p.k = 2;
  auto runner = make_topk_gate_runner(p);
  ASSERT_TRUE(runner);
  std::mt19937_64 rng(3);
  std::vector<int16_t> s(8);
  const auto t0 = Clock::now();
  for (int i = 0; i < 3000; ++i) {
    for (auto& x : s) x = static_cast<int16_t>(i % 2 ? rng() : int(rng() % 5) - 2);  // ties too
    const auto r = runner->run(s);
    ASSERT_TRUE(r.values_match);
    ASSERT_EQ(r.cycles, 8u + 2u - 1u);
  }
  report("topk_gate N=8 K=2", runner->cycles_simulated(), t0);
}

TEST(RtlCc, SoftmaxL256AndL1024MatchReferenceAndContract) {
  for (const uint32_t len : {256u, 1024u}) {
    SoftmaxParams p;
    p.length = static_cast<int>(len);
    auto runner = make_softmax_runner(p);
    ASSERT_TRUE(runner);
    std::mt19937_64 rng(5);
    std::vector<int16_t> s(len);
    const auto t0 = Clock::now();
    for (int i = 0; i < 40; ++i) {
      for (auto& x : s) x = static_cast<int16_t>(int(rng() % 4096) - 2048);
      const auto r = runner->run(s);
      ASSERT_TRUE(r.values_match);
      ASSERT_EQ(r.cycles, 2u * len + 2u);
      ASSERT_EQ(r.reads, 2u * len);
    }
    report(("softmax online L=" + std::to_string(len)).c_str(), runner->cycles_simulated(), t0);
  }
}

TEST(RtlCc, AttentionP4MatchesReferenceContractAndReadCounts) {
  auto runner = make_attention_runner(4);
  ASSERT_TRUE(runner);
  const AttentionParams& p = runner->params();
  std::mt19937_64 rng(11);
  const auto t0 = Clock::now();
  for (int i = 0; i < 200; ++i) {
    AttentionCase c;
    c.rows = 1 + static_cast<int>(rng() % p.rmax);
    c.keys = 1 + static_cast<int>(rng() % (i < 20 ? p.lmax : 40));  // a few up to 256 keys
    c.slices = 1 + static_cast<int>(rng() % (p.d / p.w));
    c.naive = i % 2 != 0;
    c.q.resize(static_cast<size_t>(c.rows) * p.d);
    c.k.resize(static_cast<size_t>(c.keys) * p.d);
    c.v.resize(static_cast<size_t>(c.keys) * p.d);
    for (auto* m : {&c.q, &c.k, &c.v})
      for (auto& x : *m) x = static_cast<int8_t>(rng());
    const auto r = runner->run(c);
    AttentionDesign a;
    a.parallel_rows = 4;
    a.dot_width = static_cast<uint64_t>(p.w);
    a.reorder = !c.naive;
    const AttentionCost k =
        attention_cost(a, static_cast<uint64_t>(c.rows), static_cast<uint64_t>(c.keys),
                       static_cast<uint64_t>(c.slices * p.w), 1, 1);
    const std::string what = "rows=" + std::to_string(c.rows) + " L=" + std::to_string(c.keys) +
                             " c=" + std::to_string(c.slices) + (c.naive ? " naive" : "");
    ASSERT_TRUE(r.values_match) << what;
    ASSERT_EQ(r.compute_cycles, k.cycles) << what;
    ASSERT_EQ(r.total_cycles, 1u + static_cast<uint64_t>(c.rows) + k.cycles) << what;
    ASSERT_EQ(r.kv_reads, k.kv_bytes / static_cast<uint64_t>(p.w)) << what;
    ASSERT_EQ(r.score_reads, k.score_reads) << what;
  }
  report("attention P=4 D=8 W=2 L<=256", runner->cycles_simulated(), t0);
}

TEST(RtlCc, AttentionReadsOfKvIndependentOfRowsWithReordering) {
  // Reordered: 2 L c K/V slices whatever the number of groups; naive: groups x that.
  auto runner = make_attention_runner(4);
  ASSERT_TRUE(runner);
  for (const bool naive : {false, true}) {
    for (int rows = 1; rows <= 8; ++rows) {
      AttentionCase c;
      c.rows = rows;
      c.keys = 20;
      c.slices = 4;
      c.naive = naive;
      c.q.assign(static_cast<size_t>(rows) * 8, 16);
      c.k.assign(20 * 8, 3);
      c.v.assign(20 * 8, -5);
      const auto r = runner->run(c);
      ASSERT_TRUE(r.values_match);
      EXPECT_EQ(r.kv_reads, (naive ? uint64_t((rows + 3) / 4) : 1u) * 2u * 20u * 4u) << rows;
    }
  }
  EXPECT_FALSE(make_attention_runner(2));
}

TEST(RtlCc, ShapesWithoutABakedVariantGiveNoRunner) {
  EXPECT_FALSE(make_systolic_tile_runner({8, 8, 32}));
  TopkGateParams t;
  t.n = 64;
  t.k = 8;
  EXPECT_FALSE(make_topk_gate_runner(t));
  SoftmaxParams s;
  s.length = 16;
  EXPECT_FALSE(make_softmax_runner(s));
}

}  // namespace
}  // namespace moesim::rtl

int sc_main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) moesim::rtl::g_bench |= std::strcmp(argv[i], "--bench") == 0;
  return RUN_ALL_TESTS();
}
