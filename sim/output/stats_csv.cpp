#include "sim/output/stats_csv.hpp"

#include <fmt/format.h>

#include "sim/core/stats.hpp"

namespace moesim {

std::string stats_csv_text(const RunView& run, const Summary& s) {
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
  out += fmt::format("summary.energy_j,{},J\n", format_stat_number(s.energy_j, false));
  out += fmt::format("summary.energy_per_token_j,{},J/token\n",
                     format_stat_number(s.energy_per_token_j, false));
  out +=
      fmt::format("summary.average_power_w,{},W\n", format_stat_number(s.average_power_w, false));
  auto emit = [&](const std::string& name, const Stat& st) {
    out +=
        fmt::format("{},{},{}\n", name, format_stat_number(st.value(), st.is_integer()), st.unit());
  };
  run.driver.stats().visit(emit);
  run.system.visit(emit);
  run.energy.visit(emit);
  return out;
}

}  // namespace moesim
