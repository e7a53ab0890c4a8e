#include "sim/engine/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "hw_models/memory/residency/lookahead.hpp"
#include "sim/core/error.hpp"
#include "sim/core/json_text.hpp"
#include "sim/engine/residency_config.hpp"

namespace moesim {

namespace {

using Clock = std::chrono::steady_clock;

/// stats.json has always written '\r' as \u000d (plain JSON otherwise).
constexpr EscapeStyle kStatsEscape{true, false};

std::string stats_escape(const std::string& s) {
  return moesim::json_escape(s, kStatsEscape);
}

std::string si(double v, const char* unit) {
  const char* prefixes[] = {"", "k", "M", "G", "T", "P"};
  int i = 0;
  while (std::fabs(v) >= 1000 && i < 5) {
    v /= 1000;
    ++i;
  }
  return fmt::format("{:.3g} {}{}", v, prefixes[i], unit);
}

std::string seconds_text(double s) {
  if (s >= 1) return fmt::format("{:.4g} s", s);
  if (s >= 1e-3) return fmt::format("{:.4g} ms", s * 1e3);
  if (s >= 1e-6) return fmt::format("{:.4g} us", s * 1e6);
  return fmt::format("{:.4g} ns", s * 1e9);
}

/// The multi-chip part of the console table: traffic, balance, the busiest links.
std::string system_rows(const System& sys, const Network& net) {
  std::string out = "  system\n";
  const SystemStats& st = sys.stats();
  for (int r = 0; r < kNumCommRoles; ++r) {
    const uint64_t b = st.role_bytes[r]->get();
    if (b == 0) continue;
    out += fmt::format("    {:<20}{} between chips\n", comm_role_name(static_cast<CommRole>(r)),
                       si(static_cast<double>(b), "B"));
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
    out += fmt::format("    {:<20}{}, {:.1f}% of peak {}, mean queueing {}\n", l.full_name(),
                       si(static_cast<double>(l.bytes.get()), "B"), 100 * l.utilisation.value(),
                       si(l.peak, "B/s"), seconds_text(l.mean_queueing_delay.value()));
  }
  return out;
}

}  // namespace

Simulation::Simulation(const RunSpec& spec, std::unique_ptr<TraceReader> trace, bool progress)
    : m_spec(spec), m_trace(std::move(trace)), m_progress(progress) {
  m_planner = std::make_unique<SystemPlanner>(m_spec.model, m_spec.plan, m_spec.parallel);
  m_system =
      std::make_unique<System>(m_spec, *m_planner, [this](ChipId c) { m_driver->chip_done(c); });
  if (m_system->needs_lookahead()) {
    System* sys = m_system.get();
    m_trace = std::make_unique<LookaheadReader>(
        std::move(m_trace), m_spec.residency.lookahead_steps(), m_spec.workload.max_steps,
        [sys](const TraceStep& st) { sys->step_entered(st); });
  }
  auto last = std::make_shared<Clock::time_point>(Clock::now());
  auto start = std::make_shared<Clock::time_point>(Clock::now());
  uint64_t total = m_spec.workload.max_steps;
  if (m_spec.workload.source == WorkloadSpec::Source::kSynthetic) {
    const uint64_t gen = m_spec.workload.synthetic.steps;
    total = total == 0 ? gen : std::min(total, gen);
  }
  StepDriver::Progress cb;
  if (m_progress) {
    cb = [last, start, total](uint64_t done) {
      const auto now = Clock::now();
      if (now - *last < std::chrono::seconds(2)) return;
      *last = now;
      const double el = std::chrono::duration<double>(now - *start).count();
      const double sim_s = sc_core::sc_time_stamp().to_seconds();
      if (total > 0) {
        const double eta =
            el * static_cast<double>(total - std::min(total, done)) / static_cast<double>(done);
        std::fprintf(stderr,
                     "moesim: step %llu/%llu (%.0f%%), simulated %s, elapsed %.1f s, ETA %.1f s\n",
                     static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                     100.0 * static_cast<double>(done) / static_cast<double>(total),
                     seconds_text(sim_s).c_str(), el, eta);
      } else {
        std::fprintf(stderr, "moesim: step %llu, simulated %s, elapsed %.1f s\n",
                     static_cast<unsigned long long>(done), seconds_text(sim_s).c_str(), el);
      }
    };
  }
  m_driver = std::make_unique<StepDriver>("driver", *m_system, *m_trace, *m_planner,
                                          m_spec.workload.max_steps, std::move(cb));
}

Simulation::~Simulation() = default;

void Simulation::run() {
  const auto t0 = Clock::now();
  sc_core::sc_start();
  m_wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (m_driver->error()) std::rethrow_exception(m_driver->error());
  m_system->finish();
}

Summary Simulation::summary() const {
  Summary s;
  s.time_s = sc_core::sc_time_stamp().to_seconds();
  s.cycles = static_cast<uint64_t>(std::ceil(s.time_s * m_spec.chip.clock_hz - 1e-6));
  const WorkloadStats& w = m_driver->stats();
  s.steps = w.steps.get();
  s.tokens = w.tokens.get();
  s.assignments = w.assignments.get();
  s.tokens_per_s = s.time_s > 0 ? static_cast<double>(s.tokens) / s.time_s : 0.0;
  const ChipSlot& c0 = m_system->slot(0);
  if (c0.residency) s.expert_hit_rate = c0.residency->level_stats(0).hit_rate.value();
  auto consider = [&](const std::string& name, const char* kind, double u) {
    if (s.bottleneck.empty() || u > s.bottleneck_utilisation) {
      s.bottleneck = name;
      s.bottleneck_kind = kind;
      s.bottleneck_utilisation = u;
    }
  };
  for (ChipId c = 0; c < m_system->chips(); ++c) {
    Chip& chip = m_system->chip(c);
    consider(chip.compute().unit_stats().full_name(), "compute",
             chip.compute().unit_stats().utilisation.value());
    consider(chip.vector().unit_stats().full_name(), "vector",
             chip.vector().unit_stats().utilisation.value());
    consider(chip.sram().stats().full_name(), "memory bandwidth",
             chip.sram().stats().bandwidth_utilisation.value());
    for (const auto& [name, mem] : chip.tiers()) {
      consider(mem->stats().full_name(), "memory bandwidth",
               mem->stats().bandwidth_utilisation.value());
    }
    s.weight_stall_s =
        std::max(s.weight_stall_s, m_system->slot(c).tier_stats->weight_stall_time.get());
  }
  if (const Network* net = m_system->network()) {
    for (uint32_t i = 0; i < net->topology().links().size(); ++i) {
      const LinkStats& l = net->link_stats(i);
      consider(l.full_name(), "link bandwidth", l.utilisation.value());
    }
  }
  return s;
}

std::string Simulation::stats_json() const {
  const Summary s = summary();
  std::string out = "{\n  \"schema_version\": 1,\n";
  out += fmt::format("  \"moesim_version\": \"{}\",\n", MOESIM_VERSION);
  out += fmt::format("  \"config\": \"{}\",\n", stats_escape(m_spec.name));
  out += fmt::format("  \"model\": \"{}\",\n", stats_escape(m_spec.model.name));
  out += fmt::format("  \"seed\": {},\n", m_spec.seed);
  out += "  \"summary\": {\n";
  out += fmt::format("    \"cycles\": {},\n", s.cycles);
  out += fmt::format("    \"clock_hz\": {},\n", format_stat_number(m_spec.chip.clock_hz, false));
  out += fmt::format("    \"time_s\": {},\n", format_stat_number(s.time_s, false));
  out += fmt::format("    \"steps\": {},\n", s.steps);
  out += fmt::format("    \"tokens\": {},\n", s.tokens);
  out += fmt::format("    \"assignments\": {},\n", s.assignments);
  out += fmt::format("    \"tokens_per_s\": {},\n", format_stat_number(s.tokens_per_s, false));
  out +=
      fmt::format("    \"weight_stall_time\": {},\n", format_stat_number(s.weight_stall_s, false));
  if (s.expert_hit_rate >= 0) {
    out +=
        fmt::format("    \"expert_hit_rate\": {},\n", format_stat_number(s.expert_hit_rate, false));
  }
  out += fmt::format("    \"bottleneck\": \"{}\",\n", stats_escape(s.bottleneck));
  out += fmt::format("    \"bottleneck_kind\": \"{}\",\n", stats_escape(s.bottleneck_kind));
  out += fmt::format("    \"bottleneck_utilisation\": {}\n",
                     format_stat_number(s.bottleneck_utilisation, false));
  out += "  },\n";
  out +=
      "  \"summary_units\": {\"cycles\": \"cycles\", \"clock_hz\": \"Hz\", \"time_s\": \"s\", "
      "\"steps\": \"steps\", \"tokens\": \"tokens\", \"assignments\": \"assignments\", "
      "\"tokens_per_s\": \"tokens/s\", \"weight_stall_time\": \"s\", \"expert_hit_rate\": \"1\", "
      "\"bottleneck_utilisation\": \"1\"},\n";
  out += "  \"stats\": {";
  bool first = true;
  auto emit = [&](const std::string& name, const Stat& st) {
    out += first ? "\n" : ",\n";
    first = false;
    out += fmt::format("    \"{}\": {{\"value\": {}, \"unit\": \"{}\", \"description\": \"{}\"}}",
                       stats_escape(name), format_stat_number(st.value(), st.is_integer()),
                       stats_escape(st.unit()), stats_escape(st.description()));
  };
  m_driver->stats().visit(emit);
  m_system->visit(emit);
  out += "\n  }\n}\n";
  return out;
}

std::string Simulation::stats_csv() const {
  const Summary s = summary();
  std::string out = "name,value,unit\n";
  out += fmt::format("summary.cycles,{},cycles\n", s.cycles);
  out += fmt::format("summary.time_s,{},s\n", format_stat_number(s.time_s, false));
  out += fmt::format("summary.steps,{},steps\n", s.steps);
  out += fmt::format("summary.tokens,{},tokens\n", s.tokens);
  out += fmt::format("summary.assignments,{},assignments\n", s.assignments);
  out +=
      fmt::format("summary.tokens_per_s,{},tokens/s\n", format_stat_number(s.tokens_per_s, false));
  out +=
      fmt::format("summary.weight_stall_time,{},s\n", format_stat_number(s.weight_stall_s, false));
  if (s.expert_hit_rate >= 0) {
    out +=
        fmt::format("summary.expert_hit_rate,{},1\n", format_stat_number(s.expert_hit_rate, false));
  }
  out += fmt::format("summary.bottleneck_utilisation,{},1\n",
                     format_stat_number(s.bottleneck_utilisation, false));
  auto emit = [&](const std::string& name, const Stat& st) {
    out +=
        fmt::format("{},{},{}\n", name, format_stat_number(st.value(), st.is_integer()), st.unit());
  };
  m_driver->stats().visit(emit);
  m_system->visit(emit);
  return out;
}

std::string Simulation::summary_table() const {
  const Summary s = summary();
  Chip& chip = m_system->chip(0);
  const ResidencyManager* residency = m_system->slot(0).residency.get();
  std::string out;
  if (m_system->chips() == 1) {
    out += fmt::format("moesim: {} ({} on chip0 at {})\n", m_spec.name, m_spec.model.name,
                       si(m_spec.chip.clock_hz, "Hz"));
  } else {
    out += fmt::format("moesim: {} ({} on {} chips at {}, {} topology, {} links)\n", m_spec.name,
                       m_spec.model.name, m_system->chips(), si(m_spec.chip.clock_hz, "Hz"),
                       m_spec.system.topology_type, m_spec.system.network.type);
  }
  out +=
      fmt::format("  {:<22}{} ({} cycles)\n", "simulated time", seconds_text(s.time_s), s.cycles);
  out += fmt::format("  {:<22}{} steps, {} tokens, {} assignments\n", "workload", s.steps, s.tokens,
                     s.assignments);
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
  out += "  memory traffic\n";
  auto mem_row = [&](const Memory& m) {
    const MemoryStats& st = m.stats();
    out += fmt::format("    {:<20}read {}, written {}, {:.1f}% of peak {}\n", st.full_name(),
                       si(static_cast<double>(st.read_bytes.get()), "B"),
                       si(static_cast<double>(st.write_bytes.get()), "B"),
                       100 * st.bandwidth_utilisation.value(), si(st.peak, "B/s"));
  };
  mem_row(chip.sram());
  for (const auto& [name, mem] : chip.tiers()) mem_row(*mem);
  out += fmt::format("  {:<22}{} (compute idle waiting for weight loads{})\n", "weight stall",
                     seconds_text(s.weight_stall_s),
                     m_system->chips() > 1 ? ", the most of any chip" : "");
  if (const Network* net = m_system->network()) out += system_rows(*m_system, *net);
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
                        si(static_cast<double>(c.prefetch_wasted_bytes.get()), "B"));
      }
      out += "\n";
    }
  }
  const double rate = m_wall_s > 0 ? static_cast<double>(s.assignments) / m_wall_s : 0.0;
  out += fmt::format("  {:<22}{:.3f} s ({} assignments/s)\n", "wall time", m_wall_s, si(rate, ""));
  return out;
}

void write_file_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) {
      throw InputError(fmt::format("{}: cannot write ({})", tmp, std::strerror(errno)));
    }
    f << text;
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      throw InputError(fmt::format("{}: write failed ({})", tmp, std::strerror(errno)));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw InputError(fmt::format("{}: cannot rename into place ({})", path, std::strerror(errno)));
  }
}

}  // namespace moesim
