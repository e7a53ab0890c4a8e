// Calibration on the real routing counts (../shared/data/routing-stats): per-layer marginals
// within 0.05 nats of KL divergence of the measured ones for Mixtral and OLMoE over several
// domains and checkpoints, layer mapping and fill, and inter-layer affinity reproducing the
// measured conditional top-1 distribution.

#include <cmath>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/trace/gen_test_util.hpp"
#include "workloads/trace/gen_calibrate.hpp"

namespace moesim::test {
namespace {

using G = GeneratorSpec;

std::string calibrated_config(const std::string& model, const std::string& checkpoint,
                              const std::string& domain, uint32_t experts, uint32_t k,
                              uint32_t layers, const std::string& selection,
                              const std::string& extra = "") {
  return fmt::format(R"([trace]
layers = {}
experts = {}
top_k = {}
[decode]
batch = 1000
steps = 20
[popularity]
type = "calibrated"
selection = "{}"
[data]
model = "{}"
checkpoint = "{}"
domain = "{}"
layer_map = "absolute"
{})",
                     layers, experts, k, selection, model, checkpoint, domain, extra);
}

struct Case {
  const char* model;
  const char* checkpoint;
  const char* domain;
  uint32_t experts;
  uint32_t k;
};

const Case kCases[] = {
    {"Mixtral-8x7B", "base", "arxiv", 8, 2},     {"Mixtral-8x7B", "base", "book", 8, 2},
    {"Mixtral-8x7B", "base", "c4", 8, 2},        {"Mixtral-8x7B", "base", "github", 8, 2},
    {"Mixtral-8x7B", "base", "wikipedia", 8, 2}, {"OLMoE-1B-7B", "base", "arxiv", 64, 8},
    {"OLMoE-1B-7B", "base", "book", 64, 8},      {"OLMoE-1B-7B", "base", "c4", 64, 8},
    {"OLMoE-1B-7B", "base", "github", 64, 8},    {"OLMoE-1B-7B", "base", "wikipedia", 64, 8},
    {"OLMoE-1B-7B", "sft", "tulu", 64, 8},       {"OLMoE-1B-7B", "dpo", "tulu", 64, 8},
};

TEST(GenCalibrated, AllKMarginalsWithinKlOfTheRealCounts) {
  // 2*10^4 tokens per layer; KL(real || generated) of the all-k marginals at every measured
  // layer must be below 0.05 nats (sampling noise alone is about (E-1) / (2 N k) ~ 2e-4).
  for (const Case& c : kCases) {
    const G s =
        spec_from(calibrated_config(c.model, c.checkpoint, c.domain, c.experts, c.k, 16, "topk"));
    const auto counts = layer_counts(s, false);
    for (size_t i = 0; i < s.data.layers.size(); ++i) {
      const uint32_t l = s.data.layers[i];
      const double d = kl(to_distribution(s.data.counts[i]), smoothed(counts[l]));
      std::cout << "KL " << c.model << "/" << c.checkpoint << "/" << c.domain << " layer " << l
                << " topk: " << std::setprecision(3) << d << "\n";
      EXPECT_LT(d, 0.05) << c.model << " " << c.domain << " layer " << l;
      // Without calibration (rates = the marginal) OLMoE's all-k marginals are flatter.
    }
    // Unmeasured layers use the nearest measured one.
    EXPECT_LT(kl(to_distribution(s.data.counts[1]), smoothed(counts[8])), 0.05);
    EXPECT_LT(kl(to_distribution(s.data.counts[2]), smoothed(counts[12])), 0.05);
  }
}

TEST(GenCalibrated, FirstChoiceMarginalsMatchTheTop1Counts) {
  for (const Case& c : kCases) {
    if (std::string(c.domain) == "tulu") continue;  // no top1 counts for tulu
    const G s =
        spec_from(calibrated_config(c.model, c.checkpoint, c.domain, c.experts, c.k, 16, "top1"));
    const auto counts = layer_counts(s, true);
    for (size_t i = 0; i < s.data.layers.size(); ++i) {
      const uint32_t l = s.data.layers[i];
      const double d = kl(to_distribution(s.data.counts[i]), smoothed(counts[l]));
      std::cout << "KL " << c.model << "/" << c.domain << " layer " << l
                << " top1: " << std::setprecision(3) << d << "\n";
      EXPECT_LT(d, 0.05);
    }
  }
}

TEST(GenCalibrated, CalibrationIsNeededForOlmoeAllK) {
  // Using the measured marginal itself as race rates would flatten the all-k marginal by
  // a KL well above the calibrated one's: a check that the calibration does work.
  G s = spec_from(calibrated_config("OLMoE-1B-7B", "base", "github", 64, 8, 16, "topk"));
  const auto target = to_distribution(s.data.counts[0]);
  auto per_k = [](std::vector<double> pi) {
    for (double& x : pi) x /= 8;
    return pi;
  };
  const double raw = kl(target, per_k(race_inclusion(target, 8)));
  const double calibrated = kl(target, per_k(race_inclusion(generator_popularity(s)[0], 8)));
  std::cout << "OLMoE github layer 0: KL uncalibrated " << raw << ", calibrated " << calibrated
            << "\n";
  EXPECT_GT(raw, 100 * calibrated);
  EXPECT_LT(calibrated, 1e-6);
}

TEST(GenCalibrated, LayerMappingAndFill) {
  // Mixtral data (32-layer model, measured 0, 7, 15). Absolute: model layer 3 lies between
  // 0 and 7 (nearest 0; interpolated 4/7 * m0 + 3/7 * m7); layers past 15 use 15.
  G s = spec_from(calibrated_config("Mixtral-8x7B", "base", "c4", 8, 2, 32, "topk"));
  const auto m0 = to_distribution(s.data.counts[0]), m7 = to_distribution(s.data.counts[1]),
             m15 = to_distribution(s.data.counts[2]);
  EXPECT_EQ(calibration_target(s, 3), m0);
  EXPECT_EQ(calibration_target(s, 4), m7);
  EXPECT_EQ(calibration_target(s, 11), m7);
  EXPECT_EQ(calibration_target(s, 12), m15);
  EXPECT_EQ(calibration_target(s, 31), m15);
  s.fill = G::Fill::kInterpolate;
  const auto q3 = calibration_target(s, 3);
  for (size_t e = 0; e < 8; ++e) EXPECT_NEAR(q3[e], 4.0 / 7 * m0[e] + 3.0 / 7 * m7[e], 1e-15);
  EXPECT_EQ(calibration_target(s, 20), m15);
  // Relative: an 8-layer model spans the 32-layer depth: layer 7 -> 31 (m15), layer 2 ->
  // 8.86 (nearest 7), layer 1 -> 4.43 (nearest 7).
  G r = s;
  r.layer_map = G::LayerMap::kRelative;
  r.fill = G::Fill::kNearest;
  r.layers = 8;
  EXPECT_EQ(calibration_target(r, 7), m15);
  EXPECT_EQ(calibration_target(r, 2), m7);
  EXPECT_EQ(calibration_target(r, 1), m7);
  EXPECT_EQ(calibration_target(r, 0), m0);
}

/// Joint counts of (top-1 at `from`, top-1 at from+1).
std::vector<double> top1_pairs(const G& s, uint32_t from) {
  std::vector<double> j(static_cast<size_t>(s.experts) * s.experts, 0.0);
  auto r = make_generated_trace(s);
  TraceStep step;
  while (r->next(step)) {
    for (uint32_t t = 0; t < step.num_tokens(); ++t) {
      const int32_t a = step.experts[step.route_begin(from, t)];
      const int32_t b = step.experts[step.route_begin(from + 1, t)];
      j[static_cast<size_t>(a) * s.experts + b] += 1;
    }
  }
  return j;
}

TEST(GenCalibrated, AffinityReproducesTheMeasuredConditionalTop1) {
  // Mixtral: model layer 0 -> 1 follows the measured 0 -> 7 matrix, 7 -> 8 the 7 -> 15 one.
  // Every conditional probability P(b | a) of a row with at least 5000 samples is within
  // 0.015 of the measured row (about 4 standard errors).
  const std::string extra = "[affinity]\ntype = \"calibrated\"\n";
  G s = spec_from(calibrated_config("Mixtral-8x7B", "base", "arxiv", 8, 2, 16, "topk", "") + extra);
  s.batch = 2000;
  s.steps = 50;
  for (uint32_t from : {0u, 7u}) {
    const auto j = top1_pairs(s, from);
    const auto& m = s.data.transitions[from == 0 ? 0 : 1];
    double worst = 0;
    for (uint32_t a = 0; a < 8; ++a) {
      double n = 0, mn = 0;
      for (uint32_t b = 0; b < 8; ++b) n += j[a * 8 + b], mn += m[a * 8 + b];
      if (n < 5000) continue;
      for (uint32_t b = 0; b < 8; ++b) {
        const double diff = std::fabs(j[a * 8 + b] / n - m[a * 8 + b] / mn);
        worst = std::max(worst, diff);
        EXPECT_LT(diff, 0.015) << "layer " << from << " row " << a << " col " << b;
      }
    }
    std::cout << "Mixtral arxiv affinity " << from << "->" << from + 1
              << ": largest conditional error " << worst << "\n";
  }
  // OLMoE (64 x 64): KL between the generated joint and the joint the measured rows imply
  // for the generated layer-0 top-1 counts, below 0.03 nats over 2*10^5 tokens (sampling
  // noise ~ cells / 2N ~ 0.01).
  G o = spec_from(calibrated_config("OLMoE-1B-7B", "base", "c4", 64, 8, 2, "topk", "") + extra);
  o.batch = 2000;
  o.steps = 100;
  const auto j = top1_pairs(o, 0);
  const auto& m = o.data.transitions[0];
  std::vector<double> got, want;
  for (uint32_t a = 0; a < 64; ++a) {
    double n = 0, mn = 0;
    for (uint32_t b = 0; b < 64; ++b) n += j[a * 64 + b], mn += m[a * 64 + b];
    if (mn == 0) continue;
    for (uint32_t b = 0; b < 64; ++b) {
      got.push_back(j[a * 64 + b]);
      want.push_back(n * m[a * 64 + b] / mn);
    }
  }
  const double d = kl(to_distribution(got), to_distribution(want));
  std::cout << "OLMoE c4 affinity 0->1: joint KL " << d << "\n";
  EXPECT_LT(d, 0.03);
  // Without affinity the same joint is far from the measured one.
  o.affinity = G::Affinity::kNone;
  const auto free = top1_pairs(o, 0);
  std::vector<double> got_free, want_free;
  for (uint32_t a = 0; a < 64; ++a) {
    double n = 0, mn = 0;
    for (uint32_t b = 0; b < 64; ++b) n += free[a * 64 + b], mn += m[a * 64 + b];
    if (mn == 0) continue;
    for (uint32_t b = 0; b < 64; ++b) {
      got_free.push_back(free[a * 64 + b]);
      want_free.push_back(n * m[a * 64 + b] / mn + 1e-12);
    }
  }
  EXPECT_GT(kl(to_distribution(got_free), to_distribution(want_free)), 0.3);
}

}  // namespace
}  // namespace moesim::test
