// Reference-model properties of the RTL blocks: softmax error bound against double precision,
// systolic folds summing to the GEMM, top-k ordering and group limit. The RTL is bit-exact
// to these models (checked by the cosim_* tests), so the bounds hold for the RTL.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "hw_models/compute/attention_timing.hpp"
#include "rtl/attention/attention_ref.hpp"
#include "rtl/softmax/softmax_ref.hpp"
#include "rtl/systolic_tile/systolic_tile_ref.hpp"
#include "rtl/topk_gate/topk_gate_ref.hpp"

namespace moesim::rtl {
namespace {

// Documented in rtl/softmax/README.md.
constexpr double kSoftmaxAbsBound = 2.5e-4;

std::vector<int16_t> random_scores(int n, std::mt19937_64& rng) {
  std::vector<int16_t> x(n);
  const int mode = static_cast<int>(rng() % 3);
  for (auto& v : x) {
    if (mode == 0) v = static_cast<int16_t>(rng());
    if (mode == 1) v = static_cast<int16_t>(int(rng() % 4096) - 2048);
    if (mode == 2) v = static_cast<int16_t>(int(rng() % 256) - 128);
  }
  return x;
}

TEST(SoftmaxRef, ErrorBoundAgainstDouble) {
  std::mt19937_64 rng(7);
  for (bool three_pass : {false, true}) {
    for (int len : {2, 3, 16, 100, 1024}) {
      double worst = 0, worst_sum = 0;
      const int cases = len >= 1000 ? 200 : 2000;
      for (int c = 0; c < cases; ++c) {
        const auto x = random_scores(len, rng);
        const auto y = softmax_ref(x, {len, three_pass});
        const auto d = softmax_double(x);
        double sum = 0;
        for (int i = 0; i < len; ++i) {
          worst = std::max(worst, std::fabs(y[i] / 65536.0 - d[i]));
          sum += y[i] / 65536.0;
        }
        worst_sum = std::max(worst_sum, std::fabs(sum - 1.0));
      }
      EXPECT_LE(worst, kSoftmaxAbsBound) << "L=" << len << " three_pass=" << three_pass;
      // Each output truncates (<= 1 LSB) on top of the per-element error.
      EXPECT_LE(worst_sum, len * (1.0 / 65536 + 1e-5) + 1e-4) << "L=" << len;
      std::printf("softmax L=%d %s: max |p - p_double| = %.3g\n", len,
                  three_pass ? "three-pass" : "online", worst);
      RecordProperty("L" + std::to_string(len) + (three_pass ? "_3p" : "_1p"),
                     std::to_string(worst));
    }
  }
}

TEST(SoftmaxRef, ExpAndRecipUnits) {
  EXPECT_EQ(softmax_exp(0), 65536u);
  EXPECT_EQ(softmax_exp(-65535), 0u);
  double worst = 0;
  for (int32_t d = -65535; d <= 0; ++d)
    worst = std::max(worst, std::fabs(softmax_exp(d) / 65536.0 - std::exp(d / 256.0)));
  EXPECT_LE(worst, 1e-4);
  double worst_rel = 0;
  for (uint64_t s = 65536; s <= 1024ull * 65536; s += 97) {
    const double want = 65536.0 / static_cast<double>(s);
    worst_rel = std::max(worst_rel, std::fabs(softmax_recip(s) / 16777216.0 - want) / want);
  }
  EXPECT_LE(worst_rel, 1e-4);
}

TEST(SoftmaxRef, OnlineAndThreePassAgreeOnEasyInputs) {
  // All-equal scores: no rescaling, both give 1/L up to the reciprocal error.
  for (int len : {2, 16, 1024}) {
    const std::vector<int16_t> x(len, 100);
    EXPECT_EQ(softmax_ref(x, {len, false}), softmax_ref(x, {len, true}));
  }
}

TEST(SystolicRef, FoldsSumToGemm) {
  std::mt19937_64 rng(3);
  for (const SystolicTileParams p : {SystolicTileParams{2, 2, 16}, SystolicTileParams{4, 4, 32},
                                     SystolicTileParams{16, 16, 32}}) {
    for (int c = 0; c < 50; ++c) {
      const int m = 1 + rng() % 9, k = 1 + rng() % (3 * p.rows), n = 1 + rng() % (3 * p.cols);
      Int8Matrix a{m, k, {}}, b{k, n, {}};
      for (int i = 0; i < m * k; ++i) a.v.push_back(static_cast<int8_t>(rng()));
      for (int i = 0; i < k * n; ++i) b.v.push_back(static_cast<int8_t>(rng()));
      const auto folds = systolic_folds(a, b, p);
      const int kt = (k + p.rows - 1) / p.rows;
      ASSERT_EQ(folds.size(), static_cast<size_t>(kt * ((n + p.cols - 1) / p.cols)));
      std::vector<std::vector<int64_t>> sum(m, std::vector<int64_t>(n));
      for (size_t f = 0; f < folds.size(); ++f) {
        const auto out = systolic_fold_ref(folds[f].a, folds[f].w, p.acc_w);
        const int nf = static_cast<int>(f) / kt;
        for (int r = 0; r < m; ++r)
          for (int j = 0; j < p.cols && nf * p.cols + j < n; ++j)
            sum[r][nf * p.cols + j] = wrap_acc(sum[r][nf * p.cols + j] + out[r][j], p.acc_w);
      }
      EXPECT_EQ(sum, gemm_ref(a, b, p.acc_w));
    }
  }
}

TEST(SystolicRef, Int16AccumulatorWraps) {
  Int8Matrix a{1, 2, {-128, -128}}, w{2, 1, {-128, -128}};
  EXPECT_EQ(systolic_fold_ref(a, w, 16)[0][0], -32768);  // 2 * 16384 wraps
  EXPECT_EQ(systolic_fold_ref(a, w, 32)[0][0], 32768);
}

TEST(TopkRef, SortedTiesToLowerId) {
  const std::vector<int16_t> s = {5, 9, 9, -3, 9, 0, 5, 1};
  const auto r = topk_gate_ref(s, {8, 4, 1, 1});
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0], (TopkEntry{1, 9}));
  EXPECT_EQ(r[1], (TopkEntry{2, 9}));
  EXPECT_EQ(r[2], (TopkEntry{4, 9}));
  EXPECT_EQ(r[3], (TopkEntry{0, 5}));
}

TEST(TopkRef, GroupLimitUsesTop2Sum) {
  // 4 groups of 4. Group 3 holds the single best score but its top-2 sum loses.
  std::vector<int16_t> s(16, 0);
  s[12] = 1000;            // group 3: 1000 + 0
  s[0] = 600, s[1] = 600;  // group 0: 1200
  s[4] = 550, s[5] = 550;  // group 1: 1100
  s[8] = 500, s[9] = 499;  // group 2: 999
  const auto r = topk_gate_ref(s, {16, 2, 4, 2});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].id, 0u);
  EXPECT_EQ(r[1].id, 1u);
  EXPECT_STREQ(topk_gate_check({16, 2, 4, 2}), "");
  EXPECT_STRNE(topk_gate_check({16, 8, 4, 1}), "");
}

}  // namespace
}  // namespace moesim::rtl

namespace moesim::rtl {
namespace {

AttentionCase random_attention(const AttentionParams& p, std::mt19937_64& rng, int span) {
  AttentionCase c;
  c.rows = 1 + static_cast<int>(rng() % p.rmax);
  c.keys = 1 + static_cast<int>(rng() % p.lmax);
  c.slices = 1 + static_cast<int>(rng() % (p.d / p.w));
  c.naive = rng() % 2 != 0;
  c.q.resize(static_cast<size_t>(c.rows) * p.d);
  c.k.resize(static_cast<size_t>(c.keys) * p.d);
  c.v.resize(static_cast<size_t>(c.keys) * p.d);
  for (auto* m : {&c.q, &c.k, &c.v})
    for (auto& x : *m) x = static_cast<int8_t>(static_cast<int>(rng() % (2 * span + 1)) - span);
  return c;
}

// The block's contract is the attention unit's (attention_timing.hpp) with the block's P and
// W, one head, head dim c W and 1-byte elements (K/V slices = kv_bytes / W).
TEST(AttentionRef, ContractIsTheModelsContract) {
  const AttentionParams p{4, 8, 2, 8, 256};
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    const AttentionCase c = random_attention(p, rng, 16);
    const AttentionContract k = attention_contract(c, p);
    AttentionDesign a;
    a.parallel_rows = 4;
    a.dot_width = 2;
    a.reorder = !c.naive;
    const AttentionCost m =
        attention_cost(a, static_cast<uint64_t>(c.rows), static_cast<uint64_t>(c.keys),
                       static_cast<uint64_t>(c.slices * 2), 1, 1);
    ASSERT_EQ(k.compute_cycles, m.cycles);
    ASSERT_EQ(k.kv_reads, m.kv_bytes / 2);
    ASSERT_EQ(k.score_reads, m.score_reads);
    ASSERT_EQ(k.groups, m.groups);
  }
}

// Against double precision on inputs whose scores do not saturate (|q|, |k| <= 1.0): the
// error is the softmax's (<= 2.5e-4 per probability, rtl/softmax) times sum |v| <= L x 1.0,
// plus the output truncation to Q8.8 (1/256). Documented bound: 1/256 + L x 2.5e-4.
TEST(AttentionRef, ErrorBoundAgainstDouble) {
  const AttentionParams p{4, 8, 2, 8, 256};
  std::mt19937_64 rng(9);
  double worst = 0;
  for (int i = 0; i < 3000; ++i) {
    const AttentionCase c = random_attention(p, rng, 16);
    const auto got = attention_ref(c, p);
    const auto want = attention_double(c, p);
    for (size_t e = 0; e < got.size(); ++e) {
      const double err = std::fabs(got[e] / 256.0 - want[e]);
      worst = std::max(worst, err);
      ASSERT_LE(err, 1.0 / 256 + c.keys * 2.5e-4) << "case " << i << " element " << e;
    }
  }
  std::printf("attention: worst |error| vs double %.3g (Q8.8 LSB = %.3g)\n", worst, 1.0 / 256);
}

}  // namespace
}  // namespace moesim::rtl
