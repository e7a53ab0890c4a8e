#include "sim/output/expert_load.hpp"

#include <iterator>

#include <fmt/format.h>

namespace moesim {

std::string expert_load_csv_text(const RunView& run) {
  std::string out = "moe_layer,expert,tokens\n";
  const std::vector<uint64_t>& load = run.driver.expert_load();
  const uint32_t experts = run.driver.experts();
  if (experts == 0) return out;
  for (size_t i = 0; i < load.size(); ++i) {
    fmt::format_to(std::back_inserter(out), "{},{},{}\n", i / experts, i % experts, load[i]);
  }
  return out;
}

}  // namespace moesim
