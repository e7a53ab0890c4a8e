// Group-limited routing: tokens choose among the experts of their best groups only.

#include <algorithm>
#include <limits>
#include <numeric>

#include "sim/core/registry.hpp"
#include "workloads/trace/routing/routing_rule.hpp"

namespace moesim {

namespace {

/// Group-limited top-k: every expert's arrival time; a group scores its best weight (or
/// its best two summed); the top_groups groups stay and the first k arrivals among their
/// experts are chosen (ties: lower index).
class Grouped : public RoutingRule {
 public:
  explicit Grouped(const Args&) {}
  static void declare(ParamSchema& s) {
    declare_common(s);
    s.add("n_groups", ParamType::kInt, "expert groups").range(1, 1 << 20);
    s.add("top_groups", ParamType::kInt, "groups kept per token").range(1, 1 << 20);
    s.add("group_score", ParamType::kEnum, "group score: its best expert, or its best two summed")
        .one_of({"max", "top2_sum"})
        .default_value(std::string("max"));
  }

  void choose(RaceState& race, uint32_t l) override {
    const GeneratorSpec& spec = race.spec;
    const std::vector<double>& rate = race.rate[l];
    const uint32_t size = spec.experts / spec.n_groups;
    const double inf = std::numeric_limits<double>::infinity();
    m_group_score.assign(spec.n_groups, inf);   // best (smallest) time of the group
    m_group_second.assign(spec.n_groups, inf);  // second best
    for (uint32_t c = 0; c < spec.experts; ++c) {
      const double x = race.rng.exponential();
      const double time = rate[c] > 0 ? x / rate[c] : inf;
      race.time[c] = time;
      const uint32_t g = c / size;
      if (time < m_group_score[g]) {
        m_group_second[g] = m_group_score[g];
        m_group_score[g] = time;
      } else if (time < m_group_second[g]) {
        m_group_second[g] = time;
      }
    }
    m_groups.resize(spec.n_groups);
    std::iota(m_groups.begin(), m_groups.end(), 0u);
    auto score = [&](uint32_t g) {
      return race.weight_of(m_group_score[g]) +
             (spec.group_top2_sum ? race.weight_of(m_group_second[g]) : 0);
    };
    std::stable_sort(m_groups.begin(), m_groups.end(),
                     [&](uint32_t a, uint32_t b) { return score(a) > score(b); });
    uint32_t n = 0;
    m_group_kept.assign(spec.n_groups, 0);
    for (uint32_t i = 0; i < spec.top_groups; ++i) m_group_kept[m_groups[i]] = 1;
    for (uint32_t c = 0; c < spec.experts; ++c) {
      if (m_group_kept[c / size] && race.time[c] < inf) race.order[n++] = c;
    }
    const uint32_t k = std::min(spec.top_k, n);
    const std::vector<double>& t = race.time;
    std::partial_sort(
        race.order.begin(), race.order.begin() + k, race.order.begin() + n,
        [&](uint32_t a, uint32_t b) { return t[a] < t[b] || (t[a] == t[b] && a < b); });
    for (uint32_t i = 0; i < k; ++i) {
      race.sel.push_back(static_cast<int32_t>(race.order[i]));
      race.sel_w.push_back(race.weight_of(t[race.order[i]]));
    }
  }

 private:
  std::vector<double> m_group_score, m_group_second;
  std::vector<uint32_t> m_groups;
  std::vector<uint8_t> m_group_kept;
};

}  // namespace

MOESIM_REGISTER(RoutingRule, Grouped, "grouped",
                "group-limited top-k: tokens choose among the experts of their top_groups groups");

}  // namespace moesim
