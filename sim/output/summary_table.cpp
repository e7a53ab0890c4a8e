#include "sim/output/summary_table.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "sim/engine/residency_config.hpp"
#include "sim/output/human_text.hpp"

namespace moesim {

namespace {

/// Joules with an SI prefix, milli and micro included: "39.5 J", "154 mJ".
std::string joules_text(double j) {
  if (j != 0 && std::fabs(j) < 1e-3) return fmt::format("{:.3g} uJ", j * 1e6);
  if (j != 0 && std::fabs(j) < 1) return fmt::format("{:.3g} mJ", j * 1e3);
  return si_text(j, "J");
}

/// The multi-chip part of the console table: traffic, balance, the busiest links.
std::string system_rows(const System& sys, const Network& net) {
  std::string out = "  system\n";
  const SystemStats& st = sys.stats();
  for (int r = 0; r < kNumCommRoles; ++r) {
    const uint64_t b = st.role_bytes[r]->get();
    if (b == 0) continue;
    out += fmt::format("    {:<20}{} between chips\n", comm_role_name(static_cast<CommRole>(r)),
                       si_text(static_cast<double>(b), "B"));
  }
  out += fmt::format("    {:<20}{:.3f} (max / mean routed copies per chip; 1 = balanced)\n",
                     "expert load", st.routed_imbalance.value());
  double wait = 0;
  std::string who;
  for (ChipId c = 0; c < sys.chips(); ++c) {
    const double w = sys.slot(c).comm->comm_stats().collective_time.get();
    if (w > wait || who.empty()) {
      wait = w;
      who = sys.chip(c).stats().full_name();
    }
  }
  out += fmt::format("    {:<20}{} in collectives ({}, the most of any chip)\n", "comm time",
                     seconds_text(wait), who);
  std::vector<uint32_t> order(net.topology().links().size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return net.link_stats(a).bytes.get() > net.link_stats(b).bytes.get();
  });
  out += "  busiest links\n";
  for (size_t k = 0; k < std::min<size_t>(3, order.size()); ++k) {
    const LinkStats& l = net.link_stats(order[k]);
    out +=
        fmt::format("    {:<20}{}, {:.1f}% of peak {}, mean queueing {}\n", l.full_name(),
                    si_text(static_cast<double>(l.bytes.get()), "B"), 100 * l.utilisation.value(),
                    si_text(l.peak, "B/s"), seconds_text(l.mean_queueing_delay.value()));
  }
  return out;
}

}  // namespace

std::string summary_table_text(const RunView& run, const Summary& s) {
  const RunSpec& spec = run.spec;
  const System& sys = run.system;
  Chip& chip = sys.chip(0);
  const ResidencyManager* residency = sys.slot(0).residency.get();
  std::string out;
  if (sys.chips() == 1) {
    out += fmt::format("moesim: {} ({} on chip0 at {})\n", spec.name, spec.model.name,
                       si_text(spec.chip.clock_hz, "Hz"));
  } else {
    out += fmt::format("moesim: {} ({} on {} chips at {}, {} topology, {} links)\n", spec.name,
                       spec.model.name, sys.chips(), si_text(spec.chip.clock_hz, "Hz"),
                       spec.system.topology_type, spec.system.network.type);
  }
  out +=
      fmt::format("  {:<22}{} ({} cycles)\n", "simulated time", seconds_text(s.time_s), s.cycles);
  out += fmt::format("  {:<22}{} steps, {} tokens, {} assignments\n", "workload", s.steps, s.tokens,
                     s.assignments);
  if (const TraceLayers t = trace_layers(run); t.partial) {
    const uint32_t others = t.moe_layers - t.real_count;
    out += fmt::format("  {:<22}{} of {} MoE layers; the other {}: {} (set by {}){}\n",
                       "real layers", t.real, t.moe_layers, others, t.rule, t.set_by,
                       t.rule == "skipped"
                           ? fmt::format(", {} transformer layers simulated", spec.model.layers)
                           : "");
  }
  out += fmt::format("  {:<22}{:.6g} tokens/s\n", "throughput", s.tokens_per_s);
  out += fmt::format("  {:<22}{} ({}, {:.1f}% utilised)\n", "bottleneck", s.bottleneck,
                     s.bottleneck_kind, 100 * s.bottleneck_utilisation);
  out += "  unit utilisation\n";
  auto unit_row = [&](const Unit& u) {
    const UnitStats& st = u.unit_stats();
    out += fmt::format("    {:<20}{:6.1f}% busy   idle waiting for memory {}, for other units {}\n",
                       st.full_name(), 100 * st.utilisation.value(),
                       seconds_text(st.wait_load_s.get()), seconds_text(st.wait_other_s.get()));
  };
  unit_row(chip.compute());
  unit_row(chip.vector());
  unit_row(chip.dma());
  if (const Unit* u = chip.attention_unit()) unit_row(*u);
  if (const Unit* u = chip.activation_unit()) unit_row(*u);
  out += "  memory traffic\n";
  auto mem_row = [&](const Memory& m) {
    const MemoryStats& st = m.stats();
    out += fmt::format("    {:<20}read {}, written {}, {:.1f}% of peak {}\n", st.full_name(),
                       si_text(static_cast<double>(st.read_bytes.get()), "B"),
                       si_text(static_cast<double>(st.write_bytes.get()), "B"),
                       100 * st.bandwidth_utilisation.value(), si_text(st.peak, "B/s"));
  };
  mem_row(chip.sram());
  for (const auto& [name, mem] : chip.tiers()) mem_row(*mem);
  out +=
      fmt::format("  {:<22}{} (compute idle waiting for weight loads{})\n", "weight stall",
                  seconds_text(s.weight_stall_s), sys.chips() > 1 ? ", the most of any chip" : "");
  if (const Network* net = sys.network()) out += system_rows(sys, *net);
  if (residency) {
    out += "  expert caches\n";
    for (size_t i = 0; i < residency->spec().levels.size(); ++i) {
      const CacheLevelStats& c = residency->level_stats(i);
      const CacheLevelSpec& l = residency->spec().levels[i];
      out += fmt::format("    {:<20}{} {} experts: {:.1f}% hits ({} / {}), {} evictions",
                         c.full_name(), cache_policy_name(l.policy),
                         residency->level_cache(i).capacity(), 100 * c.hit_rate.value(),
                         c.hits.get(), c.accesses.get(), c.evictions.get());
      if (l.prefetch) {
        out +=
            fmt::format(", prefetch accuracy {:.1f}%, {} wasted", 100 * c.prefetch_accuracy.value(),
                        si_text(static_cast<double>(c.prefetch_wasted_bytes.get()), "B"));
      }
      out += "\n";
    }
  }
  out += fmt::format("  {:<22}{} ({} per token, {} average)\n", "energy", joules_text(s.energy_j),
                     joules_text(s.energy_per_token_j), si_text(s.average_power_w, "W"));
  for (ChipId c = 0; c < sys.chips(); ++c) {
    const ChipEnergy& ce = run.energy.chip(c);
    std::string parts;
    for (const auto& [label, f] : ce.components()) {
      parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", label, joules_text(f->value()));
    }
    out += fmt::format("    {:<20}{}\n", ce.full_name(), parts);
    if (c == 0 && sys.chips() > 2) {
      out += fmt::format("    {:<20}(chip1 .. chip{}: chipN.energy.* in stats.json)\n", "",
                         sys.chips() - 1);
      break;
    }
  }
  if (sys.network()) {
    out += fmt::format("    {:<20}{}\n", "links", joules_text(run.energy.links_j()));
  }
  const double rate = run.wall_s > 0 ? static_cast<double>(s.assignments) / run.wall_s : 0.0;
  out += fmt::format("  {:<22}{:.3f} s ({} assignments/s)\n", "wall time", run.wall_s,
                     si_text(rate, ""));
  return out;
}

}  // namespace moesim
