#pragma once
/// Reading the expert residency configuration (`[mapping.cache.<tier>]`) and the expert use
/// counts a static policy pins from.

#include <cstdint>
#include <string>
#include <vector>

#include "hw_models/chip/chip.hpp"
#include "hw_models/memory/residency/residency.hpp"
#include "sim/config/config.hpp"
#include "sim/plan/model.hpp"

namespace moesim {

struct RunSpec;

/// Schema of `[mapping.cache.<tier>]` for `policy` (lru, lfu, belady, static).
ParamSchema cache_schema(const std::string& policy);

/// Reads every `[mapping.cache.<tier>]` table into a chain over the home tier
/// (`chip.weights_tier`), nearest the compute first. Throws InputError (file:line:col, key).
ResidencySpec read_residency(Config& cfg, const ModelSpec& model, const ChipSpec& chip);

/// Per (moe_layer * experts + expert) use counts for a static level: its counts file's
/// (read with the config) or, when it names none, a first streaming pass over the workload
/// (steps in which the expert ran). Throws InputError.
std::vector<uint64_t> expert_use_counts(const RunSpec& spec, const CacheLevelSpec& level);

/// Reads a counts file: CSV with the header `layer,expert,count` (layer = MoE layer index),
/// repeated (layer, expert) rows add up. Throws InputError "path:line: what".
std::vector<uint64_t> load_expert_counts(const std::string& path, uint32_t layers,
                                         uint32_t experts);

}  // namespace moesim
