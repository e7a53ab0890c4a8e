#pragma once
/// The system planner: turns one trace step into one StepPlan per chip. Pure C++.
///
/// With one chip it is the chip's Planner. With several, it decides where each token's
/// attention runs (data-parallel groups of `tensor_parallel` chips, a request's tokens
/// always on the same group so its KV cache stays there) and which chip holds each expert
/// (the placement), then plans every chip's ops with the collectives that join them:
/// dispatch and combine (all-to-all-v inside each expert-parallel group), and for tensor
/// parallelism an all-reduce after attention and dense FFNs and an all-gather after the MoE
/// combine.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hw_models/interconnect/topology.hpp"
#include "sim/plan/placement.hpp"
#include "sim/plan/plan.hpp"

namespace moesim {

/// How a model is spread over the chips (validated by the config layer).
struct ParallelMapping {
  uint32_t chips = 1;
  uint32_t tensor_parallel = 1;  ///< chips sharing one attention / dense FFN (heads split)
  uint32_t expert_parallel = 1;  ///< chips the experts of a layer are spread over
  /// Experts tensor parallel (expert_parallel must be 1): every chip of a tensor-parallel
  /// group holds a 1/tensor_parallel column/row slice of every expert and shared expert and
  /// runs it for all the group's routed tokens (no dispatch or combine; an all-reduce of the
  /// expert outputs instead, in ChipWork::ffn_reduce).
  bool expert_tensor_parallel = false;
  /// A token bound for several experts on one chip crosses the links once (as DeepEP does);
  /// false: once per expert.
  bool dedup_dispatch = true;
  /// Which expert each physical slot of an expert-parallel group holds, per MoE layer, and
  /// the chip of each slot (every group has the same placement). Indexed.
  Placement placement;
  /// Route a token copy to a replica on its own chip, else in its node, else the
  /// least-loaded one (false: the least-loaded replica so far in the step and layer, ties
  /// to the lower slot). Only matters with replicas.
  bool locality = false;
  /// The `[mapping.placement]` policy and its parameters (for a placement computed once the
  /// workload is known, from a first pass over its trace: `placement.layers` is 0 until then).
  std::string placement_policy = "round_robin";
  Params placement_params;
  /// Chips per node of the system (Topology::chips_per_node; 0: one node).
  uint32_t chips_per_node = 0;
  /// Micro-batches per step (1: no overlap). Each has its own chain of ops and collectives;
  /// their layers interleave, so one's dispatch and combine overlap another's compute (as
  /// DeepSeek-V3 does with two).
  uint32_t micro_batches = 1;
  /// Dynamic rebalancing: every `rebalance_every` steps (0: never) `replan` recomputes the
  /// placement from a moving average of the routed copies per (MoE layer, expert), the newest
  /// step weighted `rebalance_alpha`. Chips are relabelled (inside their node) to keep as
  /// many experts where they are as possible; each expert copy a chip gains crosses the links
  /// from a chip holding it (a kRebalance collective at the start of that step, which the
  /// layer's dispatch waits for).
  uint32_t rebalance_every = 0;
  double rebalance_alpha = 0.5;
  std::function<Placement(const std::vector<double>& load)> replan;
  /// Data-parallel attention groups (chips / tensor_parallel).
  uint32_t dp_groups() const { return chips / tensor_parallel; }
};

/// Load balance of one step (for the system's imbalance statistics).
struct StepBalance {
  /// Per chip: routed token copies its experts ran, summed over the MoE layers.
  std::vector<uint64_t> routed;
  /// Per MoE layer: max over chips / mean over chips of routed copies (1 = balanced).
  std::vector<double> layer_imbalance;
  /// Routed copies; those whose replica is on another chip / node than the dispatching chip.
  uint64_t copies = 0, leave_chip = 0, leave_node = 0;
  /// Link hops (one message per token, MoE layer and destination chip, as `moesim place`
  /// counts them: 1 inside the node, 2 to another) and (token, MoE layer) with a copy.
  uint64_t hops = 0, token_layers = 0;
  /// Pairs (a token's copy at MoE layer l, its copy at l + 1), and those on two chips.
  uint64_t transitions = 0, cross = 0;
  /// The placement was recomputed before this step; expert copies moved to new chips.
  bool rebalanced = false;
  uint64_t moved = 0;
};

/// Plans a step for every chip of the system.
class SystemPlanner {
 public:
  /// One chip: `mapping` may be default. Several: ModelSpec slices for tensor parallelism.
  SystemPlanner(const ModelSpec& model, const PlanOptions& options, const ParallelMapping& mapping);
  SystemPlanner(const SystemPlanner&) = delete;  // m_router points into m_map
  SystemPlanner& operator=(const SystemPlanner&) = delete;
  uint32_t chips() const { return static_cast<uint32_t>(m_planners.size()); }
  const ParallelMapping& mapping() const { return m_map; }
  /// Expert weights of chip `chip` come from `store` (not owned; see Planner::set_store).
  void set_store(ChipId chip, ExpertStore* store) { m_planners.at(chip).set_store(store); }
  /// Plans `step`: `out[c]` (cleared first) receives chip c's plan; `collectives` (cleared)
  /// the step's collectives, indexed by Op::collective.
  void plan(const TraceStep& step, const std::vector<StepPlan*>& out,
            std::vector<CollectiveRequest>& collectives);
  /// Load balance of the step planned last.
  const StepBalance& balance() const { return m_balance; }
  /// The model as one chip of a tensor-parallel group plans its attention and dense FFNs
  /// (and, with `experts`, its routed and shared experts).
  static ModelSpec tensor_slice(const ModelSpec& model, uint32_t tp, bool experts = false);

 private:
  uint32_t new_collective(std::vector<CollectiveRequest>& out, CommRole role, uint32_t layer,
                          std::vector<uint32_t> group, std::vector<uint64_t> bytes);
  /// Plans micro-batch `part` of `step` into m_work[*][part].
  void plan_part(const TraceStep& step, uint32_t part, std::vector<CollectiveRequest>& out);
  /// Tensor-parallel experts: MoE layer `l` (transformer layer `layer`) of micro-batch `part`.
  void plan_tp_experts(const TraceStep& step, uint32_t part, uint32_t l, uint32_t layer,
                       std::vector<CollectiveRequest>& collectives);
  /// Recomputes the placement from m_load_avg and plans the moves into m_rebalance.
  void rebalance(std::vector<CollectiveRequest>& out);

  ModelSpec m_model;
  ParallelMapping m_map;
  std::vector<Planner> m_planners;            // by ChipId
  std::vector<std::vector<ChipWork>> m_work;  // [ChipId][micro-batch]
  std::vector<uint64_t> m_layer_routed;       // [moe layer * chips + chip] of this step
  StepBalance m_balance;
  ReplicaRouter m_router;            // over m_map.placement
  std::vector<uint32_t> m_owner;     // per step token: chip that dispatches it
  std::vector<uint32_t> m_part_of;   // per step token: its micro-batch
  std::vector<uint64_t> m_seen;      // per chip: m_stamp of the last token that reached it
  std::vector<uint64_t> m_hop_seen;  // the same for the hop count
  std::vector<std::vector<uint32_t>> m_prev, m_cur;  // per step token: its chips at l - 1, l
  uint64_t m_stamp = 0;            // one per (token, MoE layer) ever planned (dedup)
  uint64_t m_steps = 0;            // steps planned so far
  std::vector<double> m_load_avg;  // [moe layer * experts + expert]
  std::vector<std::vector<uint32_t>> m_rebalance;  // [ChipId][layer] of this step
};

}  // namespace moesim
