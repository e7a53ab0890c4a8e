// The compute unit's cycle contracts (hw_models/compute/systolic_timing.hpp): the ping-pong
// (double-buffered weight) formula against the single-buffered one and the compute bound.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "hw_models/compute/attention_timing.hpp"
#include "hw_models/compute/gelu.hpp"
#include "hw_models/compute/systolic_timing.hpp"

namespace moesim {
namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) {
  return (a + b - 1) / b;
}

TEST(PingPongTiming, OneFoldCostsWhatItCostsSingleBuffered) {
  for (uint64_t r : {2, 4, 16})
    for (uint64_t c : {2, 3, 16})
      for (uint64_t m : {1, 5, 129})
        EXPECT_EQ(systolic_gemm_cycles_pingpong(r, c, m, r, c),
                  systolic_gemm_cycles(Dataflow::kWeightStationary, r, c, m, r, c));
}

TEST(PingPongTiming, ExactValues) {
  // 16x16, M = 129 (one M3ViT image), K = N = 192: 12 x 12 = 144 folds.
  EXPECT_EQ(systolic_gemm_cycles_pingpong(16, 16, 129, 192, 192),
            (2 * 16 + 16 + 129 - 2) + 143 * 129);
  // M < R: each further fold waits for its R weight rows.
  EXPECT_EQ(systolic_gemm_cycles_pingpong(16, 16, 4, 32, 16), (2 * 16 + 16 + 4 - 2) + 1 * 16);
  EXPECT_EQ(systolic_gemm_cycles_pingpong(4, 4, 0, 8, 8), 0u);
  EXPECT_EQ(systolic_gemm_cycles_parallel_pingpong(4, 4, 1, 0, 8, 8, 3), 0u);
}

TEST(PingPongTiming, NeverSlowerThanSingleBufferedNeverFasterThanComputeBound) {
  uint64_t checked = 0;
  for (uint64_t r : {2, 4, 8, 16})
    for (uint64_t c : {2, 5, 16})
      for (uint64_t m = 1; m <= 40; m += 3)
        for (uint64_t k = 1; k <= 3 * r + 1; k += 2)
          for (uint64_t n = 1; n <= 3 * c + 1; n += 3) {
            const uint64_t folds = ceil_div(k, r) * ceil_div(n, c);
            const uint64_t pp = systolic_gemm_cycles_pingpong(r, c, m, k, n);
            const uint64_t single =
                systolic_gemm_cycles(Dataflow::kWeightStationary, r, c, m, k, n);
            EXPECT_LE(pp, single);
            EXPECT_GE(pp, folds * m);  // every fold streams its M rows
            if (folds > 1) {
              EXPECT_LT(pp, single);
            }
            ++checked;
          }
  EXPECT_GT(checked, 1000u);
}

TEST(PingPongTiming, ParallelDealsFoldsOutAndOverlapsAcrossRepeats) {
  // 3 copies of a 2x2-fold GEMM on 2 arrays: 12 folds, 6 per array.
  const uint64_t r = 4, c = 4, m = 7;
  EXPECT_EQ(systolic_gemm_cycles_parallel_pingpong(r, c, 2, m, 8, 8, 3),
            (2 * r + c + m - 2) + 5 * std::max(m, r));
  // One array, one copy: the plain formula.
  EXPECT_EQ(systolic_gemm_cycles_parallel_pingpong(r, c, 1, m, 9, 13, 1),
            systolic_gemm_cycles_pingpong(r, c, m, 9, 13));
  // Never slower than the single-buffered parallel formula.
  for (uint64_t arrays : {1, 2, 3, 8})
    for (uint64_t rep : {1, 2, 5})
      EXPECT_LE(
          systolic_gemm_cycles_parallel_pingpong(r, c, arrays, m, 17, 9, rep),
          systolic_gemm_cycles_parallel(Dataflow::kWeightStationary, r, c, arrays, m, 17, 9, rep));
}

TEST(AttentionTiming, GroupCyclesAreTheSoftmaxContractWhenOneCyclePerKey) {
  // rtl/softmax: online 2L + 2 cycles, three-pass 3L + 2, with one score per cycle.
  for (uint64_t L : {2, 16, 129, 1024}) {
    AttentionDesign a;
    a.dot_width = 64;
    EXPECT_EQ(attention_group_cycles(a, L, 64), 2 * L + 2);
    a.online_softmax = false;
    EXPECT_EQ(attention_group_cycles(a, L, 64), 3 * L + 2);
  }
  AttentionDesign a;  // W = 16: 4 cycles per key and pass for d = 64
  EXPECT_EQ(attention_group_cycles(a, 129, 64), 2 * 129 * 4 + 2);
}

TEST(AttentionTiming, ReorderedTrafficIsIndependentOfPNaiveIsPerGroup) {
  const uint64_t rows = 129, keys = 129, d = 64, heads = 3, b = 4;
  const uint64_t kv_once = heads * 2 * keys * d * b;
  for (uint64_t p = 1; p <= 160; ++p) {
    AttentionDesign a;
    a.parallel_rows = p;
    const AttentionCost re = attention_cost(a, rows, keys, d, heads, b);
    a.reorder = false;
    const AttentionCost nv = attention_cost(a, rows, keys, d, heads, b);
    const uint64_t groups = (rows + p - 1) / p;
    EXPECT_EQ(re.kv_bytes, kv_once);
    EXPECT_EQ(nv.kv_bytes, groups * kv_once);
    EXPECT_EQ(re.q_bytes, heads * rows * d * b);
    EXPECT_EQ(re.cycles, nv.cycles);
    EXPECT_EQ(re.cycles, heads * groups * (2 * keys * 4 + 2));
    EXPECT_EQ(re.groups, heads * groups);
    EXPECT_EQ(re.score_reads, heads * rows * 2 * keys);
    EXPECT_EQ(re.flops, 4 * rows * keys * d * heads);
  }
  AttentionDesign a;
  a.online_softmax = false;
  EXPECT_EQ(attention_cost(a, rows, keys, d, heads, b).score_reads, heads * rows * 3 * keys);
  EXPECT_EQ(attention_cost(a, 0, keys, d, heads, b).cycles, 0u);
}

TEST(Gelu, TableHas177EntriesOfStepOneThirtySecond) {
  const auto& t = gelu_correction_table();
  ASSERT_EQ(t.size(), 177u);
  EXPECT_DOUBLE_EQ(t[0], 0.0);
  // c(a) = a Phi(-a) = ReLU(a) - GELU(a) at a = i / 32.
  for (int i = 0; i < 177; ++i) EXPECT_NEAR(t[i], i / 32.0 - gelu_exact(i / 32.0), 1e-12) << i;
}

TEST(Gelu, ApproximationErrorIsBoundedAndExactAtTheNodes) {
  double worst = 0;
  for (int i = -8000; i <= 8000; ++i) {
    const double x = i / 1000.0;
    worst = std::max(worst, std::fabs(gelu_lut(x) - gelu_exact(x)));
  }
  // Linear interpolation error <= h^2/8 max|c''| (h = 1/32, |c''| <= 2 phi(0) ~ 0.8) ~ 1e-4,
  // and the truncation beyond 5.5 is c(5.5) ~ 1e-7.
  EXPECT_LT(worst, 1e-4);
  EXPECT_GT(worst, 0.0);
  for (int i = -175; i <= 175; ++i)
    EXPECT_NEAR(gelu_lut(i / 32.0), gelu_exact(i / 32.0), 1e-12) << i;
  // From the last node (5.5) on the correction is dropped: ReLU, off by c(5.5) ~ 1e-7.
  EXPECT_EQ(gelu_lut(5.5), 5.5);
  EXPECT_NEAR(gelu_lut(5.5), gelu_exact(5.5), 2e-7);
  EXPECT_EQ(gelu_lut(100.0), 100.0);
  EXPECT_EQ(gelu_lut(-100.0), 0.0);
}

TEST(Gelu, ActivationCycles) {
  EXPECT_EQ(activation_cycles(0, 16, 1, 4), 0u);
  EXPECT_EQ(activation_cycles(1, 16, 1, 4), 5u);
  EXPECT_EQ(activation_cycles(33, 16, 1, 4), 7u);
  EXPECT_EQ(activation_cycles(33, 16, 3, 40), 49u);
}

}  // namespace
}  // namespace moesim
