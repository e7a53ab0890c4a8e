#include "workloads/trace/routing/routing_rule.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"

namespace moesim {

uint32_t RaceState::draw_unmarked(const std::vector<double>& r) {
  double total = 0;
  uint32_t last = 0;
  for (uint32_t c = 0; c < cands; ++c) {
    if (mark[c] != stamp) {
      total += r[c];
      last = c;
    }
  }
  double u = rng.uniform() * total;
  for (uint32_t c = 0; c < cands; ++c) {
    if (mark[c] == stamp) continue;
    if (u < r[c]) return c;
    u -= r[c];
  }
  return last;
}

uint32_t RaceState::full_race(uint32_t layer, uint32_t candidates) {
  const std::vector<double>& r = rate[layer];
  uint32_t n = 0;
  for (uint32_t c : forced) {
    time[c] = rng.exponential() / r[c];
    order[n++] = c;
  }
  const uint32_t first = n;
  for (uint32_t c = 0; c < candidates; ++c) {
    const double x = rng.exponential();
    if (mark[c] == stamp || r[c] <= 0) continue;
    time[c] = x / r[c];
    order[n++] = c;
  }
  std::sort(order.begin() + first, order.begin() + n, [&](uint32_t a, uint32_t b) {
    return time[a] < time[b] || (time[a] == time[b] && a < b);
  });
  return n;
}

void RoutingRule::declare_common(ParamSchema& s) {
  s.add("gate_temperature", ParamType::kFloat, "gate weight of a candidate is T^(-1/temperature)")
      .range(0.01, 100)
      .default_value(1.0);
}

const char* routing_name(GeneratorSpec::Routing routing) {
  switch (routing) {
    case GeneratorSpec::Routing::kTopK:
      return "topk";
    case GeneratorSpec::Routing::kTopP:
      return "top_p";
    case GeneratorSpec::Routing::kExpertChoice:
      return "expert_choice";
    case GeneratorSpec::Routing::kGrouped:
      return "grouped";
  }
  return "";
}

std::unique_ptr<RoutingRule> make_routing_rule(const GeneratorSpec& spec) {
  const auto* entry = Registry<RoutingRule>::instance().find(routing_name(spec.routing));
  if (entry == nullptr) {
    throw InternalError(
        fmt::format("routing rule '{}' is not registered", routing_name(spec.routing)));
  }
  return entry->create(RoutingRule::Args{spec});
}

const ParamSchema* routing_schema(const std::string& name) {
  const auto* entry = Registry<RoutingRule>::instance().find(name);
  return entry == nullptr ? nullptr : &entry->schema;
}

}  // namespace moesim
