// The synthetic generator: determinism, token structure, route invariants, popularity
// statistics and spec validation.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/trace/trace_test_util.hpp"
#include "workloads/trace/synthetic.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim::test {
namespace {

SyntheticSpec base_spec() {
  SyntheticSpec s;
  s.model = "test-model";
  s.layers = 4;
  s.experts = 16;
  s.top_k = 2;
  s.steps = 6;
  s.batch = 8;
  s.context = 100;
  s.dist = SyntheticSpec::Dist::kZipf;
  s.zipf_s = 1.1;
  s.seed = 42;
  return s;
}

std::vector<TraceStep> generate(const SyntheticSpec& spec) {
  auto r = make_synthetic_trace(spec);
  return read_all(*r);
}

/// FNV-1a over experts and weight bits of all steps.
uint64_t fingerprint(const std::vector<TraceStep>& steps) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      h ^= (v >> (8 * i)) & 0xFF;
      h *= 1099511628211ull;
    }
  };
  for (const auto& s : steps) {
    for (int32_t e : s.experts) mix(static_cast<uint32_t>(e));
    for (float w : s.weights) {
      uint32_t u;
      std::memcpy(&u, &w, 4);
      mix(u);
    }
  }
  return h;
}

TEST(Synthetic, SameSeedGivesIdenticalSteps) {
  const auto a = generate(base_spec());
  const auto b = generate(base_spec());
  ASSERT_EQ(a.size(), 6u);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) expect_steps_equal(a[i], b[i]);
}

TEST(Synthetic, DifferentSeedsDiffer) {
  SyntheticSpec other = base_spec();
  other.seed = 43;
  const auto a = generate(base_spec());
  const auto b = generate(other);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_NE(a[0].experts, b[0].experts);
  EXPECT_NE(a[0].weights, b[0].weights);
  EXPECT_NE(fingerprint(a), fingerprint(b));
}

TEST(Synthetic, OutputIsPinned) {
  // Own PRNG and sampling (no std:: distributions): this value must not change between
  // standard libraries; the only library math is std::pow and std::log (correctly rounded
  // in glibc). Update it only when the generator is changed on purpose.
  EXPECT_EQ(fingerprint(generate(base_spec())), 2380008124723191639ull);
}

TEST(Synthetic, MetadataRecordsTheGenerator) {
  auto r = make_synthetic_trace(base_spec());
  const TraceMeta& m = r->meta();
  EXPECT_EQ(m.model, "test-model");
  EXPECT_EQ(m.layers, 4u);
  EXPECT_EQ(m.experts, 16u);
  EXPECT_EQ(m.top_k, 2u);
  EXPECT_EQ(m.source, "synthetic");
  const std::map<std::string, std::string> want = {
      {"generator", "zipf"}, {"zipf_s", "1.1"}, {"seed", "42"},    {"phase", "decode"},
      {"batch", "8"},        {"steps", "6"},    {"context", "100"}};
  EXPECT_EQ(m.extra, want);

  SyntheticSpec u = base_spec();
  u.dist = SyntheticSpec::Dist::kUniform;
  u.phase = SyntheticSpec::Phase::kPrefill;
  u.prompt_tokens = 3;
  auto ru = make_synthetic_trace(u);
  EXPECT_EQ(ru->meta().extra.at("generator"), "uniform");
  EXPECT_EQ(ru->meta().extra.count("zipf_s"), 0u);
  EXPECT_EQ(ru->meta().extra.at("phase"), "prefill");
  EXPECT_EQ(ru->meta().extra.at("prompt_tokens"), "3");
}

TEST(Synthetic, DecodeTokens) {
  const auto steps = generate(base_spec());
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].index, i);
    EXPECT_EQ(steps[i].layers, 4u);
    ASSERT_EQ(steps[i].tokens.size(), 8u);
    for (uint32_t b = 0; b < 8; ++b) {
      EXPECT_EQ(steps[i].tokens[b].request, b);
      EXPECT_EQ(steps[i].tokens[b].position, 100 + i);
    }
  }
}

TEST(Synthetic, PrefillTokens) {
  SyntheticSpec s = base_spec();
  s.phase = SyntheticSpec::Phase::kPrefill;
  s.prompt_tokens = 5;
  s.batch = 3;
  const auto steps = generate(s);
  ASSERT_EQ(steps.size(), 6u);
  for (size_t i = 0; i < steps.size(); ++i) {
    ASSERT_EQ(steps[i].tokens.size(), 15u);
    for (uint32_t t = 0; t < 15; ++t) {
      EXPECT_EQ(steps[i].tokens[t].request, i * 3 + t / 5);
      EXPECT_EQ(steps[i].tokens[t].position, t % 5);
    }
    EXPECT_EQ(steps[i].assignments(), 15u * 4 * 2);
  }
}

TEST(Synthetic, RoutesAreDistinctWithSortedWeightsSummingToOne) {
  for (auto dist : {SyntheticSpec::Dist::kUniform, SyntheticSpec::Dist::kZipf}) {
    SyntheticSpec s = base_spec();
    s.dist = dist;
    s.zipf_s = 3.0;  // very skewed: exercises the draws that hit already-picked experts
    s.experts = 6;
    s.top_k = 6;
    s.batch = 200;
    uint64_t checked = 0;
    for (const auto& step : generate(s)) {
      ASSERT_EQ(step.offsets.size(), 4u * 200 + 1);
      for (uint32_t l = 0; l < step.layers; ++l) {
        for (uint32_t t = 0; t < step.num_tokens(); ++t) {
          const uint32_t b = step.route_begin(l, t);
          const uint32_t e = step.route_end(l, t);
          ASSERT_EQ(e - b, 6u);
          std::set<int32_t> seen;
          double sum = 0;
          for (uint32_t i = b; i < e; ++i) {
            EXPECT_GE(step.experts[i], 0);
            EXPECT_LT(step.experts[i], 6);
            seen.insert(step.experts[i]);
            EXPECT_GT(step.weights[i], 0.0f);
            if (i > b) {
              EXPECT_GE(step.weights[i - 1], step.weights[i]);
            }
            sum += step.weights[i];
          }
          EXPECT_EQ(seen.size(), 6u);
          EXPECT_NEAR(sum, 1.0, 1e-5);
          ++checked;
        }
      }
    }
    EXPECT_EQ(checked, 6u * 4 * 200);
  }
}

/// Per-layer counts: counts[l][e] over all steps; `first_only` counts only the top route.
std::vector<std::vector<double>> frequencies(const SyntheticSpec& spec, bool first_only,
                                             uint64_t& tokens) {
  std::vector<std::vector<double>> f(spec.layers, std::vector<double>(spec.experts, 0.0));
  tokens = 0;
  auto r = make_synthetic_trace(spec);
  TraceStep s;
  while (r->next(s)) {
    tokens += s.num_tokens();
    for (uint32_t l = 0; l < s.layers; ++l) {
      for (uint32_t t = 0; t < s.num_tokens(); ++t) {
        const uint32_t b = s.route_begin(l, t);
        const uint32_t e = first_only ? b + 1 : s.route_end(l, t);
        for (uint32_t i = b; i < e; ++i) f[l][s.experts[i]] += 1;
      }
    }
  }
  for (auto& layer : f) {
    for (double& x : layer) x /= static_cast<double>(tokens);
  }
  return f;
}

std::vector<double> zipf_pmf(uint32_t n, double s) {
  std::vector<double> p(n);
  double total = 0;
  for (uint32_t r = 0; r < n; ++r) total += p[r] = std::pow(r + 1.0, -s);
  for (double& x : p) x /= total;
  return p;
}

/// Sorted empirical frequencies match sorted expected probabilities within 5 standard errors
/// of a binomial proportion over `n` tokens (plus 1e-4 for the sort of near-equal values).
void expect_matches(std::vector<double> got, std::vector<double> want, uint64_t n,
                    const std::string& what) {
  std::sort(got.rbegin(), got.rend());
  std::sort(want.rbegin(), want.rend());
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = 5 * std::sqrt(want[i] * (1 - want[i]) / static_cast<double>(n)) + 1e-4;
    EXPECT_NEAR(got[i], want[i], tol) << what << ", rank " << i;
  }
}

TEST(Synthetic, ZipfTop1FrequenciesMatchThePopularity) {
  SyntheticSpec s = base_spec();
  s.experts = 16;
  s.top_k = 1;
  s.zipf_s = 1.0;
  s.batch = 1000;
  s.steps = 100;  // 10^5 tokens per layer
  uint64_t n = 0;
  const auto f = frequencies(s, false, n);
  ASSERT_EQ(n, 100000u);
  const auto p = zipf_pmf(16, 1.0);
  for (uint32_t l = 0; l < s.layers; ++l) expect_matches(f[l], p, n, "layer " + std::to_string(l));
  // Each layer ranks the experts by its own permutation.
  std::set<size_t> favourites;
  for (const auto& layer : f) {
    favourites.insert(std::max_element(layer.begin(), layer.end()) - layer.begin());
  }
  EXPECT_GT(favourites.size(), 1u);
}

TEST(Synthetic, ZipfTopKFollowsSamplingWithoutReplacement) {
  // k = 2 distinct experts: the first pick (largest weight) follows the popularity p, and
  // expert i is in the set with probability p_i + sum_{j != i} p_j p_i / (1 - p_j).
  SyntheticSpec s = base_spec();
  s.experts = 8;
  s.top_k = 2;
  s.zipf_s = 1.5;
  s.batch = 1000;
  s.steps = 100;
  const auto p = zipf_pmf(8, 1.5);
  std::vector<double> inclusion(8);
  for (size_t i = 0; i < 8; ++i) {
    inclusion[i] = p[i];
    for (size_t j = 0; j < 8; ++j) {
      if (j != i) inclusion[i] += p[j] * p[i] / (1 - p[j]);
    }
  }
  uint64_t n = 0;
  const auto first = frequencies(s, true, n);
  const auto all = frequencies(s, false, n);
  for (uint32_t l = 0; l < s.layers; ++l) {
    expect_matches(first[l], p, n, "first pick, layer " + std::to_string(l));
    expect_matches(all[l], inclusion, n, "inclusion, layer " + std::to_string(l));
  }
}

TEST(Synthetic, UniformIsFlat) {
  SyntheticSpec s = base_spec();
  s.dist = SyntheticSpec::Dist::kUniform;
  s.experts = 8;
  s.top_k = 2;
  s.batch = 1000;
  s.steps = 50;
  uint64_t n = 0;
  const auto f = frequencies(s, false, n);
  for (uint32_t l = 0; l < s.layers; ++l) {
    expect_matches(f[l], std::vector<double>(8, 0.25), n, "layer " + std::to_string(l));
  }
}

TEST(Synthetic, RejectsBadSpecs) {
  auto err = [](const std::function<void(SyntheticSpec&)>& edit) {
    SyntheticSpec s = base_spec();
    edit(s);
    return input_error([&] { make_synthetic_trace(s); });
  };
  EXPECT_EQ(err([](SyntheticSpec& s) { s.layers = 0; }),
            "synthetic trace: layers must be at least 1");
  EXPECT_EQ(err([](SyntheticSpec& s) { s.experts = 0; }),
            "synthetic trace: experts must be at least 1");
  EXPECT_EQ(err([](SyntheticSpec& s) { s.steps = 0; }),
            "synthetic trace: steps must be at least 1");
  EXPECT_EQ(err([](SyntheticSpec& s) { s.batch = 0; }),
            "synthetic trace: batch must be at least 1");
  EXPECT_EQ(err([](SyntheticSpec& s) { s.top_k = 0; }),
            "synthetic trace: top_k must be at least 1");
  EXPECT_EQ(err([](SyntheticSpec& s) { s.top_k = 17; }),
            "synthetic trace: top_k = 17 exceeds experts = 16 (a token's experts are distinct)");
  EXPECT_EQ(err([](SyntheticSpec& s) { s.zipf_s = 0; }),
            "synthetic trace: zipf_s must be a positive number (got 0)");
  EXPECT_EQ(err([](SyntheticSpec& s) { s.zipf_s = -1.5; }),
            "synthetic trace: zipf_s must be a positive number (got -1.5)");
  EXPECT_EQ(err([](SyntheticSpec& s) {
              s.phase = SyntheticSpec::Phase::kPrefill;
              s.prompt_tokens = 0;
            }),
            "synthetic trace: prefill needs prompt_tokens of at least 1");
  EXPECT_EQ(err([](SyntheticSpec& s) { s.context = 4294967295u; }),
            "synthetic trace: context + steps exceeds the 32-bit position range");
  EXPECT_EQ(err([](SyntheticSpec& s) {
              s.phase = SyntheticSpec::Phase::kPrefill;
              s.prompt_tokens = 1;
              s.batch = 1u << 31;
              s.steps = 3;
            }),
            "synthetic trace: steps * batch exceeds the 32-bit request id range");
  EXPECT_EQ(err([](SyntheticSpec& s) { s.batch = 1u << 30; }),
            "synthetic trace: a step would hold 8589934592 routes (at most 4294967295)");
  EXPECT_EQ(err([](SyntheticSpec& s) { s.experts = 1u << 31; }),
            "synthetic trace: experts = 2147483648 is too large");
  // zipf_s is not used by the uniform generator.
  SyntheticSpec u = base_spec();
  u.dist = SyntheticSpec::Dist::kUniform;
  u.zipf_s = 0;
  EXPECT_EQ(generate(u).size(), 6u);
}

}  // namespace
}  // namespace moesim::test
