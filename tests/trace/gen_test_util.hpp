#pragma once
/// Helpers for the generator tests: building specs from config text, reading whole traces,
/// and small statistics (marginals, KL divergence).

#include <cmath>
#include <string>
#include <vector>

#include "sim/config/config.hpp"
#include "tests/trace/trace_test_util.hpp"
#include "workloads/trace/gen_config.hpp"
#include "workloads/trace/gen_trace.hpp"

namespace moesim::test {

/// A GeneratorSpec from generator-config text (file name "gen.toml" in messages).
inline GeneratorSpec spec_from(const std::string& toml) {
  Config cfg = Config::from_string(toml, "gen.toml");
  return read_generator_config(cfg);
}

/// The InputError message of reading `toml` as a generator config.
inline std::string config_error(const std::string& toml) {
  return input_error([&] { spec_from(toml); });
}

/// Every step of the generated trace.
inline std::vector<TraceStep> generate_all(const GeneratorSpec& spec) {
  auto r = make_generated_trace(spec);
  return read_all(*r);
}

/// KL(p || q) in nats over the entries where p > 0.
inline double kl(const std::vector<double>& p, const std::vector<double>& q) {
  double d = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] > 0) d += p[i] * std::log(p[i] / q[i]);
  }
  return d;
}

/// `c` scaled to sum 1.
inline std::vector<double> to_distribution(const std::vector<double>& c) {
  double total = 0;
  for (double x : c) total += x;
  std::vector<double> p(c);
  for (double& x : p) x /= total;
  return p;
}

/// Counts of a sample scaled to sum 1 after adding half a count to every cell (the usual
/// smoothing for a KL estimate: an expert the sample missed would otherwise give infinity).
inline std::vector<double> smoothed(std::vector<double> c) {
  for (double& x : c) x += 0.5;
  return to_distribution(c);
}

/// Per-layer counts of routed experts (first choice only when `first_only`).
inline std::vector<std::vector<double>> layer_counts(const GeneratorSpec& spec, bool first_only) {
  std::vector<std::vector<double>> c(spec.layers, std::vector<double>(spec.experts, 0.0));
  auto r = make_generated_trace(spec);
  TraceStep s;
  while (r->next(s)) {
    for (uint32_t l = 0; l < s.layers; ++l) {
      for (uint32_t t = 0; t < s.num_tokens(); ++t) {
        const uint32_t b = s.route_begin(l, t), e = s.route_end(l, t);
        for (uint32_t i = b; i < (first_only ? std::min(b + 1, e) : e); ++i) {
          if (s.experts[i] >= 0) c[l][s.experts[i]] += 1;
        }
      }
    }
  }
  return c;
}

}  // namespace moesim::test
