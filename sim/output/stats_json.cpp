#include "sim/output/stats_json.hpp"

#include <fmt/format.h>

#include "sim/core/json_text.hpp"
#include "sim/core/stats.hpp"

namespace moesim {

namespace {

/// stats.json has always written '\r' as \u000d (plain JSON otherwise).
constexpr EscapeStyle kStatsEscape{true, false};

std::string stats_escape(const std::string& s) {
  return moesim::json_escape(s, kStatsEscape);
}

}  // namespace

std::string stats_json_text(const RunView& run, const Summary& s) {
  const RunSpec& spec = run.spec;
  std::string out = "{\n  \"schema_version\": 1,\n";
  out += fmt::format("  \"moesim_version\": \"{}\",\n", MOESIM_VERSION);
  out += fmt::format("  \"config\": \"{}\",\n", stats_escape(spec.name));
  out += fmt::format("  \"model\": \"{}\",\n", stats_escape(spec.model.name));
  out += fmt::format("  \"seed\": {},\n", spec.seed);
  // Only for a partial trace (one imported with --layers): which layers were real and what
  // the run did with the others.
  if (const TraceLayers t = trace_layers(run); t.partial) {
    out += fmt::format(
        "  \"trace_layers\": {{\"moe_layers\": {}, \"real_layers\": \"{}\", \"real_count\": {}, "
        "\"unlogged_rule\": \"{}\", \"rule_set_by\": \"{}\", \"simulated_moe_layers\": {}}},\n",
        t.moe_layers, stats_escape(t.real), t.real_count, stats_escape(t.rule),
        stats_escape(t.set_by), spec.model.moe_layers());
  }
  out += "  \"summary\": {\n";
  out += fmt::format("    \"cycles\": {},\n", s.cycles);
  out += fmt::format("    \"clock_hz\": {},\n", format_stat_number(spec.chip.clock_hz, false));
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
  out += fmt::format("    \"bottleneck_utilisation\": {},\n",
                     format_stat_number(s.bottleneck_utilisation, false));
  out += fmt::format("    \"energy_j\": {},\n", format_stat_number(s.energy_j, false));
  out += fmt::format("    \"energy_per_token_j\": {},\n",
                     format_stat_number(s.energy_per_token_j, false));
  out += fmt::format("    \"average_power_w\": {}\n", format_stat_number(s.average_power_w, false));
  out += "  },\n";
  out +=
      "  \"summary_units\": {\"cycles\": \"cycles\", \"clock_hz\": \"Hz\", \"time_s\": \"s\", "
      "\"steps\": \"steps\", \"tokens\": \"tokens\", \"assignments\": \"assignments\", "
      "\"tokens_per_s\": \"tokens/s\", \"weight_stall_time\": \"s\", \"expert_hit_rate\": \"1\", "
      "\"bottleneck_utilisation\": \"1\", \"energy_j\": \"J\", \"energy_per_token_j\": "
      "\"J/token\", "
      "\"average_power_w\": \"W\"},\n";
  out += "  \"stats\": {";
  bool first = true;
  auto emit = [&](const std::string& name, const Stat& st) {
    out += first ? "\n" : ",\n";
    first = false;
    out += fmt::format("    \"{}\": {{\"value\": {}, \"unit\": \"{}\", \"description\": \"{}\"}}",
                       stats_escape(name), format_stat_number(st.value(), st.is_integer()),
                       stats_escape(st.unit()), stats_escape(st.description()));
  };
  run.driver.stats().visit(emit);
  run.system.visit(emit);
  run.energy.visit(emit);
  out += "\n  }\n}\n";
  return out;
}

}  // namespace moesim
