// The generator's routing features, each checked against the statistic it promises:
// determinism, Zipf slope, reuse fraction, top-p k histogram, expert-choice loads,
// group-limited selection, capacity drops, null and zero-computation shares, permutation
// affinity, and the race calibration.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "tests/trace/gen_test_util.hpp"
#include "workloads/trace/gen_calibrate.hpp"

namespace moesim::test {
namespace {

using G = GeneratorSpec;

G base() {
  G s;
  s.model = "test";
  s.layers = 4;
  s.experts = 16;
  s.top_k = 2;
  s.mode = G::Mode::kDecode;
  s.batch = 100;
  s.steps = 10;
  s.seed = 7;
  return s;
}

uint64_t fingerprint(const std::vector<TraceStep>& steps) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      h ^= (v >> (8 * i)) & 0xFF;
      h *= 1099511628211ull;
    }
  };
  for (const auto& s : steps) {
    for (const auto& t : s.tokens) mix(t.request), mix(t.position);
    for (int32_t e : s.experts) mix(static_cast<uint32_t>(e));
    for (float w : s.weights) {
      uint32_t u;
      std::memcpy(&u, &w, 4);
      mix(u);
    }
  }
  return h;
}

TEST(GenRouting, EveryFeatureIsDeterministicAndSeeded) {
  std::vector<G> specs;
  G a = base();
  a.popularity = G::Popularity::kZipf;
  a.reuse = 0.5;
  specs.push_back(a);
  G b = base();
  b.routing = G::Routing::kTopP;
  b.top_p = 0.7;
  b.null_experts = 2;
  b.null_rate = 0.2;
  b.zero_rate = 0.1;
  specs.push_back(b);
  G c = base();
  c.routing = G::Routing::kExpertChoice;
  specs.push_back(c);
  G d = base();
  d.routing = G::Routing::kGrouped;
  d.n_groups = 4;
  d.top_groups = 2;
  d.capacity_factor = 1.0;
  specs.push_back(d);
  G e = base();
  e.affinity = G::Affinity::kPermutation;
  e.affinity_strength = 0.5;
  e.mode = G::Mode::kServing;
  e.serving.requests = 20;
  e.serving.arrival_rate = 50;
  e.serving.max_tokens = 64;
  e.serving.max_requests = 8;
  e.serving.prompt = LengthDist{LengthDist::Kind::kUniform, 1, 10, 100, 1, 0};
  e.serving.output = LengthDist{LengthDist::Kind::kFixed, 5, 1, 1, 1, 0};
  specs.push_back(e);
  for (const G& s : specs) {
    const auto x = generate_all(s);
    const auto y = generate_all(s);
    ASSERT_EQ(x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i) expect_steps_equal(x[i], y[i]);
    G other = s;
    other.seed = 8;
    EXPECT_NE(fingerprint(x), fingerprint(generate_all(other)));
  }
}

TEST(GenRouting, WeightsAreSortedPositiveAndNormalised) {
  G s = base();
  s.popularity = G::Popularity::kZipf;
  s.gate_temperature = 0.5;
  for (const auto& step : generate_all(s)) {
    for (uint32_t l = 0; l < step.layers; ++l) {
      for (uint32_t t = 0; t < step.num_tokens(); ++t) {
        double sum = 0;
        for (uint32_t i = step.route_begin(l, t); i < step.route_end(l, t); ++i) {
          EXPECT_GT(step.weights[i], 0.0f);
          if (i > step.route_begin(l, t)) {
            EXPECT_GE(step.weights[i - 1], step.weights[i]);
          }
          sum += step.weights[i];
        }
        EXPECT_NEAR(sum, 1.0, 1e-5);
      }
    }
  }
}

TEST(GenRouting, ZipfRankFrequencySlope) {
  // First choices follow the popularity exactly: the least-squares slope of log frequency on
  // log rank is -zipf_s. Tolerance 0.03 over 2*10^5 tokens (the rarest rank has ~1500).
  for (double zs : {0.8, 1.2}) {
    G s = base();
    s.experts = 32;
    s.layers = 1;
    s.popularity = G::Popularity::kZipf;
    s.zipf_s = zs;
    s.batch = 1000;
    s.steps = 200;
    auto f = layer_counts(s, true)[0];
    std::sort(f.rbegin(), f.rend());
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    const double n = static_cast<double>(f.size());
    for (size_t r = 0; r < f.size(); ++r) {
      const double x = std::log(r + 1.0), y = std::log(f[r]);
      sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    std::cout << "zipf_s " << zs << ": measured slope " << slope << "\n";
    EXPECT_NEAR(slope, -zs, 0.03);
  }
}

/// Fraction of a request's previous-token experts (same layer) that reappear.
double reuse_fraction(const G& s) {
  std::map<std::pair<uint32_t, uint32_t>, std::set<int32_t>> prev;  // (request, layer)
  uint64_t kept = 0, total = 0;
  for (const auto& step : generate_all(s)) {
    for (uint32_t l = 0; l < step.layers; ++l) {
      for (uint32_t t = 0; t < step.num_tokens(); ++t) {
        std::set<int32_t> now(step.experts.begin() + step.route_begin(l, t),
                              step.experts.begin() + step.route_end(l, t));
        auto& p = prev[{step.tokens[t].request, l}];
        for (int32_t e : p) {
          ++total;
          kept += now.count(e);
        }
        p = now;
      }
    }
  }
  return static_cast<double>(kept) / static_cast<double>(total);
}

TEST(GenRouting, ReuseFractionMatchesTheProbability) {
  // Each previous expert is kept with probability p and otherwise excluded from the fresh
  // draw, so the measured reuse fraction is p; tolerance 0.02 over 1.6*10^5 pairs.
  for (double p : {0.0, 0.3, 0.8}) {
    G s = base();
    s.popularity = G::Popularity::kZipf;
    s.reuse = p;
    s.batch = 200;
    s.steps = 100;
    const double f = reuse_fraction(s);
    std::cout << "reuse " << p << ": measured " << f << "\n";
    if (p > 0) {
      EXPECT_NEAR(f, p, 0.02);
    } else {
      EXPECT_GT(f, 0.05);  // without reuse, popular experts recur by chance
    }
  }
  // Prefill tokens: the previous position of the same request.
  G s = base();
  s.mode = G::Mode::kPrefill;
  s.batch = 4;
  s.prompt_tokens = 500;
  s.steps = 20;
  s.reuse = 0.6;
  EXPECT_NEAR(reuse_fraction(s), 0.6, 0.02);
  // Top-p: re-selected experts always stay in the set.
  G p = base();
  p.routing = G::Routing::kTopP;
  p.top_p = 0.6;
  p.popularity = G::Popularity::kZipf;
  p.reuse = 0.5;
  p.batch = 200;
  p.steps = 100;
  EXPECT_NEAR(reuse_fraction(p), 0.5, 0.02);
}

/// Histogram of per-token k (index = k).
std::vector<double> k_histogram(const G& s, uint32_t max_k) {
  std::vector<double> h(max_k + 1, 0.0);
  double n = 0;
  for (const auto& step : generate_all(s)) {
    for (uint32_t l = 0; l < step.layers; ++l) {
      for (uint32_t t = 0; t < step.num_tokens(); ++t) {
        h[step.route_end(l, t) - step.route_begin(l, t)] += 1;
        n += 1;
      }
    }
  }
  for (double& x : h) x /= n;
  return h;
}

TEST(GenRouting, TopPWithTwoExpertsMatchesTheClosedForm) {
  // Uniform rates, two experts: the larger gate probability is uniform on [0.5, 1], so a
  // token stops at one expert with probability 2 (1 - top_p) for top_p >= 0.5.
  for (double p : {0.6, 0.8, 0.95}) {
    G s = base();
    s.experts = 2;
    s.top_k = 1;
    s.routing = G::Routing::kTopP;
    s.top_p = p;
    s.batch = 1000;
    s.steps = 25;
    const auto h = k_histogram(s, 2);
    EXPECT_NEAR(h[1], 2 * (1 - p), 0.01) << p;
    EXPECT_NEAR(h[1] + h[2], 1.0, 1e-12);
  }
}

TEST(GenRouting, TopPHistogramMatchesAnIndependentModel) {
  // Zipf(1) over 8 experts, top_p 0.7, k in [1, 5]: the reference histogram comes from an
  // independent simulation of the documented model (std::mt19937_64, std::exponential_
  // distribution; 4*10^5 draws). Tolerance 0.01 per bin.
  G s = base();
  s.experts = 8;
  s.top_k = 2;
  s.popularity = G::Popularity::kZipf;
  s.zipf_s = 1.0;
  s.routing = G::Routing::kTopP;
  s.top_p = 0.7;
  s.min_k = 1;
  s.max_k = 5;
  s.batch = 1000;
  s.steps = 50;
  const auto got = k_histogram(s, 5);
  std::vector<double> rate(8);
  double total = 0;
  for (int r = 0; r < 8; ++r) total += rate[r] = 1.0 / (r + 1);
  for (double& x : rate) x /= total;
  std::mt19937_64 rng(123);
  std::exponential_distribution<double> ex(1.0);
  std::vector<double> want(6, 0.0);
  const int n = 400000;
  for (int i = 0; i < n; ++i) {
    std::vector<double> w(8);
    double sum = 0;
    for (int e = 0; e < 8; ++e) sum += w[e] = rate[e] / ex(rng);  // 1 / (Exp / rate)
    std::sort(w.rbegin(), w.rend());
    double cum = 0;
    int k = 0;
    while (k < 5 && (k < 1 || cum < 0.7)) cum += w[k++] / sum;
    want[k] += 1.0 / n;
  }
  for (int k = 1; k <= 5; ++k) {
    std::cout << "top-p k=" << k << ": generated " << got[k] << ", reference " << want[k] << "\n";
    EXPECT_NEAR(got[k], want[k], 0.01) << "k = " << k;
  }
  EXPECT_EQ(got[0], 0.0);
}

TEST(GenRouting, ExpertChoiceLoadEqualsCapacity) {
  G s = base();
  s.routing = G::Routing::kExpertChoice;
  s.popularity = G::Popularity::kZipf;
  s.batch = 50;
  s.ec_capacity_factor = 1.25;
  const uint32_t cap = static_cast<uint32_t>(std::floor(1.25 * 50 * 2 / 16));  // 7
  bool zero = false, many = false;
  for (const auto& step : generate_all(s)) {
    for (uint32_t l = 0; l < step.layers; ++l) {
      std::vector<uint32_t> load(16, 0);
      for (uint32_t t = 0; t < step.num_tokens(); ++t) {
        const uint32_t k = step.route_end(l, t) - step.route_begin(l, t);
        zero |= k == 0;
        many |= k > 2;
        for (uint32_t i = step.route_begin(l, t); i < step.route_end(l, t); ++i)
          ++load[step.experts[i]];
      }
      for (uint32_t e = 0; e < 16; ++e) EXPECT_EQ(load[e], cap) << "expert " << e;
    }
  }
  EXPECT_TRUE(zero);
  EXPECT_TRUE(many);
}

TEST(GenRouting, GroupLimitedStaysInsideTheChosenGroups) {
  for (bool top2 : {false, true}) {
    G s = base();
    s.experts = 64;
    s.top_k = 6;
    s.n_groups = 8;
    s.top_groups = 3;
    s.group_top2_sum = top2;
    s.routing = G::Routing::kGrouped;
    s.popularity = G::Popularity::kZipf;
    uint64_t tokens = 0;
    std::map<size_t, uint64_t> spread;
    for (const auto& step : generate_all(s)) {
      for (uint32_t l = 0; l < step.layers; ++l) {
        for (uint32_t t = 0; t < step.num_tokens(); ++t) {
          std::set<int32_t> experts, groups;
          for (uint32_t i = step.route_begin(l, t); i < step.route_end(l, t); ++i) {
            experts.insert(step.experts[i]);
            groups.insert(step.experts[i] / 8);
          }
          EXPECT_EQ(experts.size(), 6u);
          EXPECT_LE(groups.size(), 3u);
          ++spread[groups.size()];
          ++tokens;
        }
      }
    }
    // Without the limit 6 picks from 8 groups would span 4+ groups most of the time.
    EXPECT_GT(spread[3], tokens / 2);
  }
}

TEST(GenRouting, CapacityDropsExactlyTheExcess) {
  // Dropping is applied after routing, so the unlimited trace with the same seed holds the
  // same routes: the drop count is sum over (step, layer, expert) of max(0, load - capacity).
  for (double factor : {0.5, 1.0, 1.5}) {
    G s = base();
    s.popularity = G::Popularity::kZipf;
    s.zipf_s = 1.2;
    s.batch = 40;
    const auto unlimited = generate_all(s);
    const uint32_t cap = static_cast<uint32_t>(std::max(1.0, std::floor(factor * 40 * 2 / 16)));
    uint64_t excess = 0, before = 0;
    for (const auto& step : unlimited) {
      before += step.assignments();
      for (uint32_t l = 0; l < step.layers; ++l) {
        std::vector<uint32_t> load(16, 0);
        for (uint32_t i = step.route_begin(l, 0); i < step.route_end(l, step.num_tokens() - 1);
             ++i) {
          ++load[step.experts[i]];
        }
        for (uint32_t x : load) excess += x > cap ? x - cap : 0;
      }
    }
    s.capacity_factor = factor;
    auto r = make_generated_trace(s);
    EXPECT_EQ(r->meta().extra.at("dropped_routes"), std::to_string(excess));
    uint64_t after = 0;
    TraceStep step;
    while (r->next(step)) {
      after += step.assignments();
      for (uint32_t l = 0; l < step.layers; ++l) {
        std::vector<uint32_t> load(16, 0);
        for (uint32_t i = step.route_begin(l, 0); i < step.route_end(l, step.num_tokens() - 1);
             ++i) {
          EXPECT_LE(++load[step.experts[i]], cap);
        }
      }
    }
    EXPECT_EQ(before - after, excess);
    std::cout << "capacity factor " << factor << ": dropped " << excess << " of " << before << "\n";
    if (factor < 1.5) {
      EXPECT_GT(excess, 0u);
    }
  }
}

TEST(GenRouting, NullAndZeroComputationShares) {
  // First choices follow the rates exactly (null 0.2 over 4 slots, zero 0.1, copy 0.05,
  // const 0.05); the mean number of real experts per token equals the race inclusion
  // probabilities summed over the routed experts. Tolerances 0.01 and 0.02.
  G s = base();
  s.experts = 8;
  s.top_k = 3;
  s.null_experts = 4;
  s.null_rate = 0.2;
  s.zero_rate = 0.1;
  s.copy_rate = 0.05;
  s.const_rate = 0.05;
  s.batch = 1000;
  s.steps = 25;
  std::map<int32_t, double> first;
  double real = 0, tokens = 0;
  for (const auto& step : generate_all(s)) {
    for (uint32_t l = 0; l < step.layers; ++l) {
      for (uint32_t t = 0; t < step.num_tokens(); ++t) {
        const uint32_t b = step.route_begin(l, t);
        ASSERT_EQ(step.route_end(l, t) - b, 3u);
        first[std::min(step.experts[b], 0)] += 1;
        for (uint32_t i = b; i < b + 3; ++i) real += step.experts[i] >= 0;
        tokens += 1;
      }
    }
  }
  EXPECT_NEAR(first[kNullExpert] / tokens, 0.2, 0.01);
  EXPECT_NEAR(first[kZeroExpert] / tokens, 0.1, 0.01);
  EXPECT_NEAR(first[kCopyExpert] / tokens, 0.05, 0.01);
  EXPECT_NEAR(first[kConstantExpert] / tokens, 0.05, 0.01);
  std::vector<double> rates(8, 0.6 / 8);
  for (int i = 0; i < 4; ++i) rates.push_back(0.05);
  rates.insert(rates.end(), {0.1, 0.05, 0.05});
  const auto pi = race_inclusion(rates, 3);
  double want = 0;
  for (int e = 0; e < 8; ++e) want += pi[e];
  std::cout << "real experts per token: " << real / tokens << " (expected " << want << ")\n";
  EXPECT_NEAR(real / tokens, want, 0.02);
}

TEST(GenRouting, PermutationAffinityFollowsWithTheStrength) {
  // Identity permutation, uniform popularity: top-1 repeats with probability s + (1-s)/E.
  for (double strength : {0.3, 0.9}) {
    G s = base();
    s.affinity = G::Affinity::kPermutation;
    s.identity_permutation = true;
    s.affinity_strength = strength;
    s.batch = 1000;
    s.steps = 20;
    double same = 0, n = 0;
    for (const auto& step : generate_all(s)) {
      for (uint32_t l = 1; l < step.layers; ++l) {
        for (uint32_t t = 0; t < step.num_tokens(); ++t) {
          same += step.experts[step.route_begin(l, t)] == step.experts[step.route_begin(l - 1, t)];
          n += 1;
        }
      }
    }
    EXPECT_NEAR(same / n, strength + (1 - strength) / 16, 0.01);
  }
}

TEST(GenCalibrate, RaceInclusionMatchesTheClosedFormForTwo) {
  // k = 2: pi_i = p_i + sum_{j != i} p_j p_i / (1 - p_j).
  const std::vector<double> p = {0.4, 0.25, 0.15, 0.1, 0.06, 0.04};
  const auto pi = race_inclusion(p, 2);
  for (size_t i = 0; i < p.size(); ++i) {
    double want = p[i];
    for (size_t j = 0; j < p.size(); ++j) {
      if (j != i) want += p[j] * p[i] / (1 - p[j]);
    }
    EXPECT_NEAR(pi[i], want, 1e-9) << i;
  }
  double sum = 0;
  for (double x : race_inclusion(p, 4)) sum += x;
  EXPECT_NEAR(sum, 4.0, 1e-9);
}

TEST(GenCalibrate, CalibratedRatesReproduceTheTarget) {
  std::vector<double> q(64);
  double total = 0;
  for (int i = 0; i < 64; ++i) total += q[i] = std::pow(i + 1.0, -0.7);
  for (double& x : q) x /= total;
  const auto p = calibrate_inclusion(q, 8);
  const auto pi = race_inclusion(p, 8);
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(pi[i] / 8, q[i], 1e-8) << i;
  // The rates are more skewed than the target (inclusion flattens them).
  EXPECT_GT(p[0], q[0]);
}

}  // namespace
}  // namespace moesim::test
