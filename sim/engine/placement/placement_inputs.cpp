#include "sim/engine/placement/placement_inputs.hpp"

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/engine/residency_config.hpp"
#include "sim/engine/run_spec.hpp"

namespace moesim {

std::vector<double> count_expert_load(TraceReader& reader, uint32_t layers, uint32_t experts,
                                      uint64_t max_steps) {
  std::vector<double> load(size_t{layers} * experts, 0.0);
  TraceStep step;
  uint64_t steps = 0;
  while ((max_steps == 0 || steps < max_steps) && reader.next(step)) {
    ++steps;
    const uint32_t t = step.num_tokens();
    for (uint32_t l = 0; l < layers; ++l) {
      for (uint32_t i = 0; i < t; ++i) {
        for (uint32_t r = step.route_begin(l, i); r < step.route_end(l, i); ++r) {
          const int32_t e = step.experts[r];
          if (e >= 0 && static_cast<uint32_t>(e) < experts) load[size_t{l} * experts + e] += 1;
        }
      }
    }
  }
  return load;
}

std::vector<double> count_expert_transitions(TraceReader& reader, uint32_t layers, uint32_t experts,
                                             uint64_t max_steps) {
  const size_t sq = size_t{experts} * experts;
  std::vector<double> tr(layers > 1 ? (layers - 1) * sq : 0, 0.0);
  TraceStep step;
  uint64_t steps = 0;
  auto real = [&](int32_t e) { return e >= 0 && static_cast<uint32_t>(e) < experts; };
  while ((max_steps == 0 || steps < max_steps) && reader.next(step)) {
    ++steps;
    const uint32_t t = step.num_tokens();
    for (uint32_t l = 0; l + 1 < layers; ++l) {
      double* m = tr.data() + l * sq;
      for (uint32_t i = 0; i < t; ++i) {
        for (uint32_t r = step.route_begin(l, i); r < step.route_end(l, i); ++r) {
          const int32_t a = step.experts[r];
          if (!real(a)) continue;
          for (uint32_t q = step.route_begin(l + 1, i); q < step.route_end(l + 1, i); ++q) {
            const int32_t b = step.experts[q];
            if (real(b)) m[size_t(a) * experts + static_cast<uint32_t>(b)] += 1;
          }
        }
      }
    }
  }
  return tr;
}

std::vector<double> read_expert_load(const std::string& path, uint32_t layers, uint32_t experts) {
  const std::vector<uint64_t> c = load_expert_counts(path, layers, experts);
  return std::vector<double>(c.begin(), c.end());
}

Placement run_placement(const PlacementPolicy& policy, PlacementInput in) {
  if (policy.slots() != 0) in.slots = policy.slots();
  if (in.load.empty()) in.load.assign(size_t{in.layers} * in.experts, 1.0);
  Placement p;
  policy.place(in, p);
  if (p.layers != in.layers || p.experts != in.experts || p.chips != in.chips) {
    throw InternalError("placement policy returned the wrong shape");
  }
  for (uint32_t l = 0; l < p.layers; ++l) {
    uint64_t sum = 0;
    for (uint32_t e = 0; e < p.experts; ++e) {
      if (p.replica_count(l, e) == 0) throw InternalError("placement: an expert without replica");
      sum += p.replica_count(l, e);
    }
    if (sum != p.slots) throw InternalError("placement: replica counts do not sum to the slots");
  }
  return p;
}

void resolve_placement(RunSpec& spec) {
  ParallelMapping& m = spec.parallel;
  if (m.chips == 1 || m.placement.layers != 0) return;  // placed already
  const auto& reg = Registry<PlacementPolicy>::instance();
  const auto policy =
      reg.find(m.placement_policy)->create(PlacementPolicy::Args{m.placement_params});
  PlacementInput in;
  in.layers = spec.model.moe_layers();
  in.experts = spec.model.experts;
  in.chips = m.expert_parallel;
  in.chips_per_node = m.chips_per_node;
  const std::unique_ptr<TraceReader> reader = open_workload(spec);
  if (policy->needs_load()) {
    in.load = count_expert_load(*reader, in.layers, in.experts, spec.workload.max_steps);
  }
  if (policy->needs_transitions()) {
    const std::unique_ptr<TraceReader> again = open_workload(spec);
    in.transitions =
        count_expert_transitions(*again, in.layers, in.experts, spec.workload.max_steps);
  }
  m.placement = run_placement(*policy, std::move(in));
}

}  // namespace moesim
