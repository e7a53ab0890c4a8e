#include "sim/output/summary.hpp"

#include <algorithm>
#include <cmath>

#include <systemc>

#include "workloads/trace/layer_fill.hpp"

namespace moesim {

Summary summarise(const RunView& run) {
  Summary s;
  s.time_s = sc_core::sc_time_stamp().to_seconds();
  s.cycles = static_cast<uint64_t>(std::ceil(s.time_s * run.spec.chip.clock_hz - 1e-6));
  const WorkloadStats& w = run.driver.stats();
  s.steps = w.steps.get();
  s.tokens = w.tokens.get();
  s.assignments = w.assignments.get();
  s.tokens_per_s = s.time_s > 0 ? static_cast<double>(s.tokens) / s.time_s : 0.0;
  const ChipSlot& c0 = run.system.slot(0);
  if (c0.residency) s.expert_hit_rate = c0.residency->level_stats(0).hit_rate.value();
  auto consider = [&](const std::string& name, const char* kind, double u) {
    if (s.bottleneck.empty() || u > s.bottleneck_utilisation) {
      s.bottleneck = name;
      s.bottleneck_kind = kind;
      s.bottleneck_utilisation = u;
    }
  };
  for (ChipId c = 0; c < run.system.chips(); ++c) {
    Chip& chip = run.system.chip(c);
    consider(chip.compute().unit_stats().full_name(), "compute",
             chip.compute().unit_stats().utilisation.value());
    consider(chip.vector().unit_stats().full_name(), "vector",
             chip.vector().unit_stats().utilisation.value());
    if (Unit* u = chip.attention_unit())
      consider(u->unit_stats().full_name(), "attention", u->unit_stats().utilisation.value());
    if (Unit* u = chip.activation_unit())
      consider(u->unit_stats().full_name(), "activation", u->unit_stats().utilisation.value());
    consider(chip.sram().stats().full_name(), "memory bandwidth",
             chip.sram().stats().bandwidth_utilisation.value());
    for (const auto& [name, mem] : chip.tiers()) {
      consider(mem->stats().full_name(), "memory bandwidth",
               mem->stats().bandwidth_utilisation.value());
    }
    s.weight_stall_s =
        std::max(s.weight_stall_s, run.system.slot(c).tier_stats->weight_stall_time.get());
  }
  if (const Network* net = run.system.network()) {
    for (uint32_t i = 0; i < net->topology().links().size(); ++i) {
      const LinkStats& l = net->link_stats(i);
      consider(l.full_name(), "link bandwidth", l.utilisation.value());
    }
  }
  s.energy_j = run.energy.total_j();
  s.energy_per_token_j = run.energy.per_token_j();
  s.average_power_w = run.energy.average_power_w();
  return s;
}

TraceLayers trace_layers(const RunView& run) {
  TraceLayers t;
  if (run.trace == nullptr) return t;
  const auto& extra = run.trace->extra;
  const auto real = extra.find("real_layers");
  if (real == extra.end()) return t;
  t.partial = true;
  const WorkloadSpec& w = run.spec.workload;
  t.moe_layers = w.trace_moe_layers != 0 ? w.trace_moe_layers : run.trace->layers;
  // The reader checked the list when it planned the fill; count it against the full trace.
  TraceMeta full = *run.trace;
  full.layers = t.moe_layers;
  const std::vector<uint32_t> layers = trace_real_layers(full, w.trace_path);
  t.real = layer_list_text(layers);
  t.real_count = static_cast<uint32_t>(layers.size());
  const auto fill = extra.find("layer_fill");
  t.rule = fill == extra.end() ? "not recorded" : fill->second;
  const auto by = extra.find("layer_fill_by");
  t.set_by = by != extra.end() && by->second == "run" ? "workload.unlogged_layers" : "trace import";
  return t;
}

}  // namespace moesim
