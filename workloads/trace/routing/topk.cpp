// Top-k routing: each token takes the first k arrivals of the race.

#include <algorithm>

#include "sim/core/registry.hpp"
#include "workloads/trace/routing/routing_rule.hpp"

namespace moesim {

namespace {

/// First k arrivals of the race: forced candidates first, then successive alias draws
/// avoiding marked candidates; arrival times by the memoryless increments X / (mass left).
class TopK : public RoutingRule {
 public:
  explicit TopK(const Args&) {}
  static void declare(ParamSchema& s) { declare_common(s); }

  void choose(RaceState& race, uint32_t l) override {
    const std::vector<double>& rate = race.rate[l];
    double left = 1.0;
    for (uint32_t c : race.excluded) left -= rate[c];
    double time = 0;
    auto pick = [&](uint32_t c) {
      time += race.rng.exponential() / std::max(left, 1e-300);
      left -= rate[c];
      race.sel.push_back(static_cast<int32_t>(c));
      race.sel_w.push_back(race.weight_of(time));
    };
    for (uint32_t c : race.forced) pick(c);
    for (uint32_t i = static_cast<uint32_t>(race.forced.size()); i < race.spec.top_k; ++i) {
      uint32_t c = 0;
      int tries = 0;
      do {
        c = race.table[l].draw(race.rng);
      } while (race.mark[c] == race.stamp && ++tries < 32);
      if (race.mark[c] == race.stamp) c = race.draw_unmarked(rate);
      race.mark[c] = race.stamp;
      pick(c);
    }
  }
};

}  // namespace

MOESIM_REGISTER(RoutingRule, TopK, "topk", "each token takes the first top_k arrivals of the race");

}  // namespace moesim
