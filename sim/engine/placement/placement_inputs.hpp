#pragma once
/// What the placement policies are computed from: expert loads counted in a first pass over
/// a trace (or read from a counts file), inter-layer transitions, and the placement of a run.

#include <cstdint>
#include <string>
#include <vector>

#include "sim/plan/placement.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim {

struct RunSpec;

/// Routed token copies per (MoE layer, expert) over at most `max_steps` steps (0: all) of
/// `reader` (special experts, id < 0, are not counted).
std::vector<double> count_expert_load(TraceReader& reader, uint32_t layers, uint32_t experts,
                                      uint64_t max_steps);

/// Inter-layer transitions over at most `max_steps` steps of `reader`: (layers - 1) x
/// experts x experts counts of (token, expert i at MoE layer l, expert j at l + 1), every
/// pair of a token's routed experts at the two layers.
std::vector<double> count_expert_transitions(TraceReader& reader, uint32_t layers, uint32_t experts,
                                             uint64_t max_steps);

/// A counts file (CSV layer,expert,count) as loads. Throws InputError "path:line: what".
std::vector<double> read_expert_load(const std::string& path, uint32_t layers, uint32_t experts);

/// Runs `policy` on `in` (in.slots from the policy when it asks for replicas) and checks the
/// result: every expert at least one replica, replica counts summing to the slots.
Placement run_placement(const PlacementPolicy& policy, PlacementInput in);

/// The placement of a run whose policy needs loads from its own trace (build_run_spec calls
/// it once the workload is known; nothing to do otherwise).
void resolve_placement(RunSpec& spec);

}  // namespace moesim
