#pragma once
/// The headline numbers of a run and how they are found (bottleneck search included).

#include <cstdint>
#include <string>

#include "sim/output/run_view.hpp"

namespace moesim {

/// The headline numbers of a run.
struct Summary {
  uint64_t cycles = 0;  ///< chip clock cycles
  double time_s = 0;
  uint64_t steps = 0;
  uint64_t tokens = 0;
  uint64_t assignments = 0;
  double tokens_per_s = 0;
  double weight_stall_s = 0;    ///< compute idle waiting for weight loads
  double expert_hit_rate = -1;  ///< hit rate of the cache nearest the compute (-1: none)
  std::string bottleneck;       ///< hierarchical name of the most utilised resource
  std::string bottleneck_kind;  ///< "compute", "vector", "memory bandwidth"
  double bottleneck_utilisation = 0;
  double energy_j = 0;            ///< every chip and link (energy.total_j)
  double energy_per_token_j = 0;  ///< energy_j / tokens
  double average_power_w = 0;     ///< energy_j / time_s
};

/// The headline numbers at the current simulated time; the bottleneck is the most utilised
/// unit, memory or link of any chip (the first one found wins a tie).
Summary summarise(const RunView& run);

}  // namespace moesim
