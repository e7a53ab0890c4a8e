// Top-p routing: each token takes arrivals until their gate probability reaches top_p.

#include <algorithm>

#include "sim/core/registry.hpp"
#include "workloads/trace/routing/routing_rule.hpp"

namespace moesim {

namespace {

/// Every candidate's arrival; forced candidates always stay, then arrivals are taken until
/// the cumulative gate probability reaches top_p (at least min_k, at most max_k).
class TopP : public RoutingRule {
 public:
  explicit TopP(const Args&) {}
  static void declare(ParamSchema& s) {
    declare_common(s);
    s.add("top_p", ParamType::kFloat, "cumulative gate probability to reach").range(1e-6, 1);
    s.add("min_k", ParamType::kInt, "fewest experts per token")
        .range(1, 1 << 20)
        .default_value(int64_t{1});
    s.add("max_k", ParamType::kInt, "most experts per token (0 = all)")
        .range(0, 1 << 20)
        .default_value(int64_t{0});
  }

  uint32_t max_selected(const GeneratorSpec& spec, uint32_t candidates) const override {
    return spec.max_k == 0 ? candidates : spec.max_k;
  }

  void choose(RaceState& race, uint32_t l) override {
    const uint32_t n = race.full_race(l, race.cands);
    double total = 0;
    for (uint32_t i = 0; i < n; ++i) total += race.weight_of(race.time[race.order[i]]);
    double cum = 0;
    for (uint32_t i = 0; i < n && i < race.max_sel; ++i) {
      // Re-selected (forced) experts always stay; then stop at top_p (at least min_k).
      if (i >= std::max<size_t>(race.spec.min_k, race.forced.size()) && cum >= race.spec.top_p)
        break;
      const double w = race.weight_of(race.time[race.order[i]]);
      cum += w / total;
      race.sel.push_back(static_cast<int32_t>(race.order[i]));
      race.sel_w.push_back(w);
    }
  }
};

}  // namespace

MOESIM_REGISTER(RoutingRule, TopP, "top_p",
                "each token takes arrivals until their gate probability reaches top_p");

}  // namespace moesim
