#pragma once
/// The typed description of one run, built from a Config with every key checked.

#include <cstdint>
#include <memory>
#include <string>

#include "hw_models/chip/chip.hpp"
#include "hw_models/interconnect/collective.hpp"
#include "hw_models/memory/residency/residency.hpp"
#include "sim/config/config.hpp"
#include "sim/engine/energy_config.hpp"
#include "sim/engine/system_config.hpp"
#include "sim/plan/kernels.hpp"
#include "sim/plan/model.hpp"
#include "sim/plan/plan.hpp"
#include "sim/plan/system_plan.hpp"
#include "workloads/trace/coe_requests.hpp"
#include "workloads/trace/gen_spec.hpp"
#include "workloads/trace/layer_fill.hpp"
#include "workloads/trace/synthetic.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim {

/// Where the routing trace comes from: the `[workload]` type's WorkloadSource
/// (sim/engine/workloads/) fills this in and opens the trace.
struct WorkloadSpec {
  enum class Source { kTrace, kSynthetic, kGenerator, kCoeRequests };
  std::string type = "trace";      ///< the registered WorkloadSource that opens the trace
  Source source = Source::kTrace;  ///< the built-in kind (set by the built-in sources)
  std::string trace_path;          ///< kTrace, kGenerator: path relative to the working directory
  SourceLoc trace_path_loc;        ///< where the path was set, for messages
  SyntheticSpec synthetic;         ///< kSynthetic
  GeneratorSpec generator;         ///< kGenerator: read from the generator config at trace_path
  CoeRequestSpec coe;              ///< kCoeRequests
  uint64_t max_steps = 0;          ///< 0 = the whole trace
  /// kTrace: `unlogged_layers`, and for a partial trace (metadata real_layers) with a mode
  /// other than as_traced, the plan its reader follows (null otherwise).
  UnloggedLayers unlogged = UnloggedLayers::kAsTraced;
  std::shared_ptr<const LayerFillPlan> layer_fill;
  uint32_t trace_moe_layers = 0;  ///< kSkip: the trace's MoE layers (the model is cut to fewer)
  Params params;                  ///< the `[workload]` table as read (for any source's own keys)
};

/// Everything a run needs.
struct RunSpec {
  std::string name;  ///< config name (file name without extension)
  uint64_t seed = 1;
  ModelSpec model;
  ChipSpec chip;
  PlanOptions plan;
  ResidencySpec residency;  ///< expert caches over the weights tier (`[mapping.cache.*]`)
  WorkloadSpec workload;
  SystemSpec system;         ///< `[system]`: chips, topology, network (one chip when absent)
  ParallelMapping parallel;  ///< `[mapping.parallel]` and `[mapping.placement]`
  CollectiveAlgo dispatch_algo = CollectiveAlgo::kDirect;  ///< dispatch and combine
  CollectiveAlgo reduce_algo = CollectiveAlgo::kRing;      ///< tensor-parallel all-reduce
  FusionSpec fusion;  ///< `[mapping.fusion]`: kernels and launch (disabled when absent)
  EnergySpec energy;  ///< per-event energies (`[chip.energy]`, memories' `energy`, links)
};

/// Reads and validates every section of `cfg` (then check_all_consumed()). Throws
/// InputError naming file:line:column and the key for any problem.
RunSpec build_run_spec(Config& cfg);

/// Room for the KV cache on one chip: its tier's capacity less the weights when they share
/// it. Requests are on data-parallel group `request % groups`, whose chips each hold
/// `bytes_per_token` of every token of theirs.
struct KvBudget {
  std::string workload;          ///< the trace's path, else the workload type (for messages)
  std::string tier;              ///< mapping.kv_cache
  uint64_t capacity = 0;         ///< the tier's capacity
  uint64_t weights = 0;          ///< weight bytes per chip in the same tier (else 0)
  uint64_t bytes_per_token = 0;  ///< every layer's KV of one token on one chip; 0: no KV cache
  uint32_t groups = 1;           ///< data-parallel groups (chips / tensor_parallel)
  bool multi_chip = false;

  uint64_t room() const { return capacity > weights ? capacity - weights : 0; }
  /// Whether `tokens` of KV cache on one chip fit.
  bool fits(uint64_t tokens) const;
  /// "<tokens> tokens of KV cache need N B (..) per chip, more than chip.memory.T.capacity ..."
  std::string overflow(uint64_t tokens) const;
};

KvBudget kv_budget(const RunSpec& spec);

/// Opens the workload's trace and checks it against the model. Throws InputError.
std::unique_ptr<TraceReader> open_workload(const RunSpec& spec);

/// Schemas of the fixed sections, for `moesim list`.
ParamSchema sim_schema();
ParamSchema mapping_schema();
ParamSchema parallel_schema();
ParamSchema fusion_schema();
/// `[workload]` of a registered type: max_steps, then the type's own keys.
ParamSchema workload_schema(const std::string& type);

}  // namespace moesim
