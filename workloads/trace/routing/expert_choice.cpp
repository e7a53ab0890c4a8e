// Expert-choice routing: each expert takes the tokens it scores best, up to its capacity.

#include <algorithm>
#include <cmath>
#include <numeric>

#include "sim/core/registry.hpp"
#include "workloads/trace/routing/routing_rule.hpp"

namespace moesim {

namespace {

/// Expert choice: every token's gate probabilities over the experts (race weights,
/// normalised per token); each expert takes its top `capacity` tokens (ties: lower token).
class ExpertChoice : public RoutingRule {
 public:
  explicit ExpertChoice(const Args&) {}
  static void declare(ParamSchema& s) {
    declare_common(s);
    s.add("capacity_factor", ParamType::kFloat, "capacity = factor * tokens * top_k / experts")
        .range(1e-6, 1e6)
        .default_value(1.0);
  }

  bool token_choice() const override { return false; }

  void route_layer(RaceState& race, uint32_t l, uint32_t T) override {
    const uint32_t E = race.spec.experts;
    m_score.resize(static_cast<size_t>(T) * E);
    for (uint32_t t = 0; t < T; ++t) {
      double total = 0;
      for (uint32_t e = 0; e < E; ++e) {
        const double w = race.weight_of(race.rng.exponential() / race.rate[l][e]);
        m_score[static_cast<size_t>(t) * E + e] = w;
        total += w;
      }
      for (uint32_t e = 0; e < E; ++e) m_score[static_cast<size_t>(t) * E + e] /= total;
    }
    const uint32_t cap = capacity(race.spec, T);
    m_routes.assign(T, {});
    std::vector<uint32_t> idx(T);
    for (uint32_t e = 0; e < E; ++e) {
      std::iota(idx.begin(), idx.end(), 0u);
      auto better = [&](uint32_t a, uint32_t b) {
        const double sa = m_score[static_cast<size_t>(a) * E + e],
                     sb = m_score[static_cast<size_t>(b) * E + e];
        return sa > sb || (sa == sb && a < b);
      };
      std::nth_element(idx.begin(), idx.begin() + (cap - 1), idx.end(), better);
      for (uint32_t i = 0; i < cap; ++i) m_routes[idx[i]].push_back(e);
    }
    for (uint32_t t = 0; t < T; ++t) {
      auto& r = m_routes[t];
      const double* s = &m_score[static_cast<size_t>(t) * E];
      std::sort(r.begin(), r.end(),
                [&](uint32_t a, uint32_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
      for (uint32_t e : r) {
        race.sel.push_back(static_cast<int32_t>(e));
        race.sel_w.push_back(s[e]);
      }
      race.sel_off.push_back(static_cast<uint32_t>(race.sel.size()));
    }
  }

 private:
  /// floor(capacity_factor * tokens * k / experts), at least 1, at most `tokens`.
  static uint32_t capacity(const GeneratorSpec& spec, uint32_t T) {
    const double c = std::floor(spec.ec_capacity_factor * T * spec.top_k / spec.experts);
    return static_cast<uint32_t>(std::clamp(c, 1.0, static_cast<double>(T)));
  }

  std::vector<double> m_score;
  std::vector<std::vector<uint32_t>> m_routes;
};

}  // namespace

MOESIM_REGISTER(RoutingRule, ExpertChoice, "expert_choice",
                "each expert takes the capacity_factor * tokens * top_k / experts tokens it "
                "scores best");

}  // namespace moesim
