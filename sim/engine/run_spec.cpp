#include "sim/engine/run_spec.hpp"

#include <algorithm>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "sim/config/config_fail.hpp"
#include "sim/config/units.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/units_text.hpp"
#include "sim/engine/placement/placement_inputs.hpp"
#include "sim/engine/residency_config.hpp"
#include "sim/engine/rtl_impl_check.hpp"
#include "sim/engine/workloads/workload_source.hpp"
#include "sim/plan/placement.hpp"

namespace moesim {

ParamSchema sim_schema() {
  ParamSchema s("sim");
  s.add("seed", ParamType::kInt, "seed of every random choice (synthetic traces)")
      .range(0, 9.2e18)
      .default_value(int64_t{1});
  return s;
}

ParamSchema mapping_schema() {
  ParamSchema s("mapping");
  s.add("weights", ParamType::kString, "memory tier the weights stream from (a chip.memory name)");
  s.add("kv_cache", ParamType::kString, "memory tier holding the KV cache (a chip.memory name)");
  s.add("weight_buffer", ParamType::kSize,
        "SRAM reserved for streaming weight tiles; a tile is weight_buffer / weight_buffers")
      .at_least(1);
  s.add("weight_buffers", ParamType::kInt, "tile buffers in the ring (2 = double buffering)")
      .range(1, 64)
      .default_value(int64_t{2});
  s.add("attention_q_tile", ParamType::kInt, "query rows per block of causal attention")
      .range(1, 1 << 20)
      .default_value(int64_t{128});
  s.add("expert_order", ParamType::kEnum,
        "per_expert: each expert's weights load once per step and only its queued tokens run "
        "(patch reordering); per_token: each token's experts in turn, weights loaded for every "
        "token (one chip only)")
      .one_of({"per_expert", "per_token"})
      .default_value(std::string("per_expert"));
  return s;
}

ParamSchema parallel_schema() {
  ParamSchema s("mapping.parallel");
  s.add("tensor_parallel", ParamType::kInt,
        "chips sharing each attention and dense FFN (heads split, all-reduce after)")
      .range(1, 1 << 16)
      .default_value(int64_t{1});
  s.add("expert_parallel", ParamType::kInt,
        "chips the experts of a layer are spread over (0 = every chip); groups of this many "
        "chips each hold every expert")
      .range(0, 1 << 16)
      .default_value(int64_t{0});
  s.add("expert_tensor_parallel", ParamType::kBool,
        "every chip of a tensor-parallel group holds a 1/tensor_parallel slice of every routed "
        "and shared expert and runs it for all the group's tokens (an all-reduce after the "
        "experts, no dispatch or combine; expert_parallel = 1); false: experts are spread over "
        "chips by expert_parallel")
      .default_value(false);
  s.add("dedup_dispatch", ParamType::kBool,
        "a token bound for several experts on one chip crosses the links once (as DeepEP "
        "does); false: once per expert")
      .default_value(true);
  s.add("dispatch_algorithm", ParamType::kEnum, "all-to-all algorithm of dispatch and combine")
      .one_of({"direct", "ring", "hierarchical"})
      .default_value(std::string("direct"));
  s.add("all_reduce_algorithm", ParamType::kEnum, "tensor-parallel all-reduce algorithm")
      .one_of({"ring", "tree"})
      .default_value(std::string("ring"));
  s.add("overlap", ParamType::kEnum,
        "no_overlap: each chip's step is one chain of ops; micro_batch: the step's requests are "
        "split into micro_batches chains whose layers interleave, so one's dispatch and "
        "combine overlap another's compute (as DeepSeek-V3 does with two)")
      .one_of({"no_overlap", "micro_batch"})
      .default_value(std::string("no_overlap"));
  s.add("micro_batches", ParamType::kInt, "chains per step with overlap = \"micro_batch\"")
      .range(2, 64)
      .default_value(int64_t{2});
  return s;
}

ParamSchema fusion_schema() {
  ParamSchema s("mapping.fusion");
  s.add("kernels", ParamType::kString,
        "\"none\" (one kernel per GEMM or vector op), or comma-separated groups fused into "
        "kernels: presets attention_block, expert_ffn, decoder_layer, or segments joined by "
        "'+' (attn_norm, attention, ffn_norm, gating, experts, shared_experts, combine, "
        "dense_ffn); see docs/fusion.md");
  s.add("launch", ParamType::kEnum,
        "who launches kernels: host (a GPU's driver, per-kernel latency) or hardware (on-chip "
        "orchestration, as the SN40L)")
      .one_of({"host", "hardware"});
  s.add("host_launch_latency", ParamType::kTime,
        "launch = \"host\": latency of one kernel launch, the chip idle between two kernels "
        "(an assumption, see docs/fusion.md)")
      .at_least(0)
      .default_value(Quantity{5e-6, false});
  s.add("hardware_launch_latency", ParamType::kTime,
        "launch = \"hardware\": the same for on-chip orchestration (an assumption)")
      .at_least(0)
      .default_value(Quantity{100e-9, false});
  s.add("stage_shares", ParamType::kEnum,
        "how a fused kernel divides the compute arrays and vector lanes among its stages: "
        "proportional to each stage's work on the whole unit, or equal")
      .one_of({"proportional", "equal"})
      .default_value(std::string("proportional"));
  s.add("tile_tokens", ParamType::kInt, "tokens per tile flowing through a fused kernel's stages")
      .range(1, 1 << 24)
      .default_value(int64_t{16});
  s.add("hidden_chunk", ParamType::kInt,
        "each token tile flows in chunks of this many columns of the kernel's first GEMM's "
        "reduction (hidden) dimension, so tiles = ceil(tokens / tile_tokens) x ceil(hidden / "
        "hidden_chunk) (an assumption, see docs/fusion.md)")
      .range(1, 1 << 24)
      .default_value(int64_t{128});
  s.add("sram_budget", ParamType::kString,
        "an intermediate larger than this size, read by a later kernel, spills to spill_tier "
        "and back; \"auto\": chip.sram.capacity less mapping.weight_buffer")
      .default_value(std::string("auto"));
  s.add("spill_tier", ParamType::kString,
        "memory tier spilled intermediates go to (\"\": mapping.kv_cache)")
      .default_value(std::string(""));
  return s;
}

ParamSchema workload_schema(const std::string& type) {
  ParamSchema s("workload");
  s.add("max_steps", ParamType::kInt, "simulate at most this many steps (0 = all)")
      .at_least(0)
      .default_value(int64_t{0});
  const auto* entry = Registry<WorkloadSource>::instance().find(type);
  if (entry == nullptr) throw InternalError("workload type '" + type + "' is not registered");
  for (const ParamSpec& p : entry->schema.params()) s.add(p.name, p.type, p.description) = p;
  return s;
}

namespace {

template <class Interface>
ComponentSpec component(Config& cfg, const std::string& path) {
  const auto& reg = Registry<Interface>::instance();
  ComponentSpec c;
  c.type = cfg.choose(path + ".type", reg.names());
  c.params = cfg.section(path, reg.find(c.type)->schema);
  return c;
}

/// Weight bytes one chip holds: all of them on one chip; with several, the experts of its
/// expert-parallel share, attention and dense FFNs split by tensor parallelism, routers and
/// shared experts whole.
uint64_t chip_weight_bytes(const RunSpec& spec) {
  const ModelSpec& m = spec.model;
  const uint64_t total = m.total_weight_bytes();
  if (spec.system.chips == 1) return total;
  const ParallelMapping& p = spec.parallel;
  const uint64_t experts = uint64_t{m.moe_layers()} * m.experts * m.expert_bytes();
  const uint64_t split = uint64_t{m.layers} * m.attention_bytes() +
                         uint64_t{m.layers - m.moe_layers()} * m.dense_ffn_bytes();
  if (p.expert_tensor_parallel) {
    const uint64_t shared = uint64_t{m.moe_layers()} * m.shared_experts * m.shared_expert_bytes();
    return total - experts - split - shared + (split + experts + shared) / p.tensor_parallel;
  }
  return total - experts - split + split / p.tensor_parallel + experts / p.expert_parallel;
}

/// `[mapping.parallel]` and `[mapping.placement]`, checked against the system and model.
void read_parallel(Config& cfg, RunSpec& spec) {
  const Params p = cfg.section("mapping.parallel", parallel_schema());
  ParallelMapping& m = spec.parallel;
  const uint32_t n = spec.system.chips;
  m.chips = n;
  m.tensor_parallel = static_cast<uint32_t>(p.get_int("tensor_parallel"));
  m.expert_parallel = static_cast<uint32_t>(p.get_int("expert_parallel"));
  m.expert_tensor_parallel = p.get_bool("expert_tensor_parallel");
  if (m.expert_tensor_parallel) {
    if (m.expert_parallel > 1) {
      fail(cfg, "mapping.parallel.expert_parallel",
           fmt::format("{} with expert_tensor_parallel = true: every chip of a tensor-parallel "
                       "group holds a slice of every expert, so experts are not spread (set 1 or "
                       "leave it out)",
                       m.expert_parallel));
    }
    m.expert_parallel = 1;
  }
  if (m.expert_parallel == 0) m.expert_parallel = n;
  m.dedup_dispatch = p.get_bool("dedup_dispatch");
  if (p.get_string("overlap") == "micro_batch") {
    if (n == 1) {
      fail(cfg, "mapping.parallel.overlap",
           "micro-batch overlap hides collectives between chips: it needs a [system] of "
           "several chips");
    }
    m.micro_batches = static_cast<uint32_t>(p.get_int("micro_batches"));
  }
  const std::string da = p.get_string("dispatch_algorithm");
  spec.dispatch_algo = da == "ring"           ? CollectiveAlgo::kRing
                       : da == "hierarchical" ? CollectiveAlgo::kHierarchical
                                              : CollectiveAlgo::kDirect;
  spec.reduce_algo = p.get_string("all_reduce_algorithm") == "tree" ? CollectiveAlgo::kTree
                                                                    : CollectiveAlgo::kRing;
  const ModelSpec& md = spec.model;
  if (n % m.tensor_parallel != 0) {
    fail(cfg, "mapping.parallel.tensor_parallel",
         fmt::format("{} does not divide the system's {} chips", m.tensor_parallel, n));
  }
  if (md.heads % m.tensor_parallel != 0 ||
      (md.kv_heads % m.tensor_parallel != 0 && m.tensor_parallel % md.kv_heads != 0)) {
    fail(cfg, "mapping.parallel.tensor_parallel",
         fmt::format("{} does not divide model '{}''s {} heads and {} KV heads", m.tensor_parallel,
                     md.name, md.heads, md.kv_heads));
  }
  if (md.dense_ffn % m.tensor_parallel != 0) {
    fail(cfg, "mapping.parallel.tensor_parallel",
         fmt::format("{} does not divide model '{}''s dense FFN size {}", m.tensor_parallel,
                     md.name, md.dense_ffn));
  }
  if (m.expert_tensor_parallel &&
      (md.expert_ffn % m.tensor_parallel != 0 || md.shared_ffn % m.tensor_parallel != 0)) {
    fail(cfg, "mapping.parallel.tensor_parallel",
         fmt::format("{} does not divide both model '{}''s expert FFN size {} and its shared "
                     "expert FFN size {} (expert_tensor_parallel = true slices them)",
                     m.tensor_parallel, md.name, md.expert_ffn, md.shared_ffn));
  }
  if (n % m.expert_parallel != 0) {
    fail(cfg, "mapping.parallel.expert_parallel",
         fmt::format("{} does not divide the system's {} chips", m.expert_parallel, n));
  }
  if (md.experts % m.expert_parallel != 0) {
    fail(cfg, "mapping.parallel.expert_parallel",
         fmt::format("{} does not divide model '{}''s {} experts", m.expert_parallel, md.name,
                     md.experts));
  }
  std::string type = "round_robin";
  Params pp;
  const auto& reg = Registry<PlacementPolicy>::instance();
  if (cfg.has("mapping.placement")) {
    if (m.expert_tensor_parallel) {
      fail(cfg, "mapping.placement",
           "experts are not placed with mapping.parallel.expert_tensor_parallel = true (every "
           "chip of a tensor-parallel group holds a slice of every expert)");
    }
    type = cfg.choose("mapping.placement.type", reg.names());
    pp = cfg.section("mapping.placement", reg.find(type)->schema);
  }
  const uint32_t every =
      pp.has("rebalance_every") ? static_cast<uint32_t>(pp.get_int("rebalance_every")) : 0;
  if (every > 0 && n == 1) {
    fail(cfg, "mapping.placement.rebalance_every",
         "rebalancing moves experts between chips: it needs a [system] of several chips");
  }
  if (n > 1) {
    m.placement_policy = type;
    m.placement_params = pp;
    m.locality = pp.has("locality") && pp.get_bool("locality");
    m.chips_per_node = spec.system.topology.chips_per_node();
    const std::shared_ptr<const PlacementPolicy> policy =
        reg.find(type)->create(PlacementPolicy::Args{pp});
    const uint32_t slots = policy->slots();
    if (slots != 0 && (slots < md.experts || slots % m.expert_parallel != 0)) {
      fail(cfg, "mapping.placement.replicas",
           fmt::format("{} slots per layer: at least the model's {} experts and a multiple of "
                       "the {} chips of an expert-parallel group",
                       slots, md.experts, m.expert_parallel));
    }
    PlacementInput in;
    in.layers = md.moe_layers();
    in.experts = md.experts;
    in.chips = m.expert_parallel;
    in.chips_per_node = m.chips_per_node;
    if (every > 0) {
      if (!policy->needs_load()) {
        fail(cfg, "mapping.placement.rebalance_every",
             fmt::format("policy '{}' does not place by load: rebalancing needs a load-driven "
                         "policy (greedy, eplb_hierarchical, eplb_global)",
                         type));
      }
      const double alpha = pp.get_float("rebalance_alpha");
      if (!(alpha > 0)) {
        fail(cfg, "mapping.placement.rebalance_alpha",
             "the newest step's weight must be above 0 (and at most 1)");
      }
      m.rebalance_every = every;
      m.rebalance_alpha = alpha;
      m.replan = [shared = policy, in](const std::vector<double>& load) {
        PlacementInput next = in;
        next.load = load;
        return run_placement(*shared, std::move(next));
      };
    }
    if (policy->needs_load()) {
      const std::string counts = pp.get_string("counts");
      if (counts.empty()) return;  // resolve_placement() counts the run's trace
      in.load = read_expert_load(counts, in.layers, in.experts);
    }
    if (policy->needs_transitions()) return;  // resolve_placement() counts them
    try {
      m.placement = run_placement(*policy, std::move(in));
    } catch (const InputError& e) {
      // A table names its own file and line; a shape problem is the section's.
      const std::string what = e.what();
      if (type == "table") throw;
      fail(cfg, "mapping.placement.type", what);
    }
  }
}

/// Expert caches on several chips: each chip caches the experts it runs, with its own share of
/// each (tensor-parallel experts: 1/tensor_parallel of every expert, every chip seeing every
/// access; otherwise the whole experts placed on it, seeing only their accesses).
void check_multichip_cache(Config& cfg, const RunSpec& spec) {
  if (spec.system.chips == 1 || !spec.residency.enabled() || spec.parallel.expert_tensor_parallel) {
    return;
  }
  for (const CacheLevelSpec& l : spec.residency.levels) {
    const std::string path = "mapping.cache." + l.tier;
    const CacheReplacement::Facts facts = l.policy.facts();
    if (facts.sees_future || facts.pins_most_used) {
      fail(cfg, path + ".policy",
           fmt::format("'{}' ranks experts by the whole trace's accesses, not one chip's: with "
                       "experts spread over {} chips it needs "
                       "mapping.parallel.expert_tensor_parallel = true (every chip sees every "
                       "access)",
                       l.policy.name(), spec.system.chips));
    }
    if (l.prefetch) {
      fail(cfg, path + ".prefetch",
           fmt::format("affinity prefetch predicts from the whole step's routing, not one chip's "
                       "experts: with experts spread over {} chips it needs "
                       "mapping.parallel.expert_tensor_parallel = true",
                       spec.system.chips));
    }
  }
  if (spec.parallel.rebalance_every > 0) {
    fail(cfg, "mapping.placement.rebalance_every",
         "rebalancing moves experts between chips, which the expert caches ([mapping.cache]) do "
         "not follow");
  }
}

/// `[mapping.fusion]`.
void read_fusion(Config& cfg, RunSpec& spec, const std::vector<std::string>& tier_names,
                 uint64_t sram_left) {
  const Params p = cfg.section("mapping.fusion", fusion_schema());
  FusionSpec& f = spec.fusion;
  f.enabled = true;
  f.where = cfg.where("mapping.fusion.kernels");
  if (const auto problem = parse_kernel_groups(p.get_string("kernels"), f)) {
    fail(cfg, "mapping.fusion.kernels", *problem);
  }
  f.hardware_launch = p.get_string("launch") == "hardware";
  f.launch_s = p.get_seconds(f.hardware_launch ? "hardware_launch_latency" : "host_launch_latency",
                             spec.chip.clock_hz);
  f.shares = p.get_string("stage_shares") == "equal" ? ShareRule::kEqual : ShareRule::kProportional;
  f.tile_tokens = static_cast<uint32_t>(p.get_int("tile_tokens"));
  f.hidden_chunk = static_cast<uint32_t>(p.get_int("hidden_chunk"));
  const std::string budget = p.get_string("sram_budget");
  if (budget == "auto") {
    f.sram_budget = sram_left;
  } else {
    std::string err;
    const std::optional<Quantity> q = parse_quantity(budget, Dim::kSize, &err);
    if (!q || q->value < 0) {
      fail(cfg, "mapping.fusion.sram_budget",
           fmt::format("expected \"auto\" or {}, got '{}'", dim_example(Dim::kSize), budget));
    }
    f.sram_budget = static_cast<uint64_t>(q->value);
  }
  const std::string tier =
      p.get_string("spill_tier").empty() ? spec.chip.kv_cache_tier : p.get_string("spill_tier");
  const auto it = std::find(tier_names.begin(), tier_names.end(), tier);
  if (it == tier_names.end()) {
    const std::string hint = did_you_mean(tier, tier_names);
    fail(cfg, "mapping.fusion.spill_tier",
         fmt::format("'{}' is not a memory tier (tiers: {}){}", tier, fmt::join(tier_names, ", "),
                     hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  f.spill_tier = static_cast<uint8_t>(it - tier_names.begin());
  if (spec.parallel.micro_batches > 1) {
    fail(cfg, "mapping.fusion",
         "kernels run one at a time in one stream; micro-batch overlap "
         "(mapping.parallel.overlap = \"micro_batch\") is not modelled with them");
  }
}

}  // namespace

KvBudget kv_budget(const RunSpec& spec) {
  KvBudget b;
  b.workload = spec.workload.trace_path.empty() ? spec.workload.type + " workload"
                                                : spec.workload.trace_path;
  b.tier = spec.chip.kv_cache_tier;
  b.multi_chip = spec.system.chips > 1;
  for (const auto& [tname, tier] : spec.chip.tiers) {
    if (tname == b.tier) b.capacity = tier.facts<Memory>().capacity_bytes;
  }
  if (b.tier == spec.chip.weights_tier) b.weights = chip_weight_bytes(spec);
  const uint32_t tp = std::max<uint32_t>(1, spec.parallel.tensor_parallel);
  const ModelSpec m = b.multi_chip ? SystemPlanner::tensor_slice(spec.model, tp) : spec.model;
  if (m.causal) b.bytes_per_token = uint64_t{m.layers} * m.kv_dim * m.act_bytes;
  b.groups = b.multi_chip ? std::max<uint32_t>(1, spec.system.chips / tp) : 1;
  return b;
}

bool KvBudget::fits(uint64_t tokens) const {
  if (bytes_per_token == 0) return true;
  return tokens <= room() / bytes_per_token;
}

std::string KvBudget::overflow(uint64_t tokens) const {
  const double need = static_cast<double>(tokens) * static_cast<double>(bytes_per_token);
  const std::string weights_text =
      weights > 0 ? fmt::format(" less {} B ({}) of weights", weights, human_bytes(weights)) : "";
  return fmt::format(
      "{} tokens of KV cache need {:.0f} B ({}){}, more than chip.memory.{}.capacity = {} B "
      "({}){}",
      tokens, need, human_bytes(static_cast<uint64_t>(std::min(need, 1.8e19))),
      multi_chip ? " per chip" : "", tier, capacity, human_bytes(capacity), weights_text);
}

namespace {
/// build_run_spec() but for locating the errors of models' describe() (ParamError).
RunSpec read_run_spec(Config& cfg);
}  // namespace

RunSpec build_run_spec(Config& cfg) {
  try {
    return read_run_spec(cfg);
  } catch (const ParamError& e) {
    fail(cfg, e.key(), e.what_only());
  }
}

namespace {

/// Workloads that know their requests up front: the KV cache of their fullest step must fit
/// (the others are checked while they stream, by the step driver).
void check_kv_fit(Config& cfg, const RunSpec& spec) {
  const KvBudget b = kv_budget(spec);
  uint64_t batch = 0, tokens = 0;  // per request at the last step
  std::string key;
  if (spec.workload.source == WorkloadSpec::Source::kSynthetic) {
    const SyntheticSpec& s = spec.workload.synthetic;
    const bool decode = s.phase == SyntheticSpec::Phase::kDecode;
    batch = s.batch;
    tokens = decode ? uint64_t{s.context} + s.steps : s.prompt_tokens;
    key = decode ? "workload.context" : "workload.prompt_tokens";
  } else if (spec.workload.source == WorkloadSpec::Source::kGenerator &&
             spec.workload.generator.mode != GeneratorSpec::Mode::kServing) {
    // The generator config is its own file: the message names the workload that reads it.
    const GeneratorSpec& g = spec.workload.generator;
    const bool decode = g.mode == GeneratorSpec::Mode::kDecode;
    batch = g.batch;
    tokens = decode ? uint64_t{g.context} + g.steps : g.prompt_tokens;
    key = "workload.path";
  } else {
    return;
  }
  // Requests r go to group r % groups: the first group has the most.
  const uint64_t per_chip = (batch + b.groups - 1) / b.groups * tokens;
  if (b.fits(per_chip)) return;
  fail(cfg, key, fmt::format("{} requests x {} tokens: {}", batch, tokens, b.overflow(per_chip)));
}

RunSpec read_run_spec(Config& cfg) {
  RunSpec spec;
  spec.name = cfg.name();
  const Params sim = cfg.section("sim", sim_schema());
  spec.seed = static_cast<uint64_t>(sim.get_int("seed"));

  ParamSchema model_schema("model");
  ModelSpec::declare(model_schema);
  spec.model = ModelSpec::from_params(cfg.section("model", model_schema));
  if (const auto problem = spec.model.check()) {
    fail(cfg, "model." + problem->key, problem->message);
  }
  // The workload comes next: a partial trace simulated on its real layers only cuts the
  // model down, and everything after (weights, caches, placement) sees the model that runs.
  const std::string wtype = cfg.choose("workload.type", workload_types());
  const Params w = cfg.section("workload", workload_schema(wtype));
  spec.workload.type = wtype;
  spec.workload.max_steps = static_cast<uint64_t>(w.get_int("max_steps"));
  spec.workload.params = w;
  workload_source(wtype)->read(cfg, w, spec);

  ParamSchema chip_schema("chip");
  ChipSpec::declare(chip_schema);
  const Params chip = cfg.section("chip", chip_schema);
  spec.chip.clock_hz = chip.get_hz("frequency");
  spec.chip.compute = component<ComputeUnit>(cfg, "chip.compute");
  spec.chip.vector = component<VectorUnit>(cfg, "chip.vector");
  spec.chip.dma = component<DmaEngine>(cfg, "chip.dma");
  spec.chip.sram = component<Memory>(cfg, "chip.sram");
  std::vector<std::string> tier_names = cfg.subtables("chip.memory");
  if (tier_names.empty()) {
    // where() of a missing table is its deepest existing parent: the [chip] header.
    fail(cfg, "chip.memory", "no memory tier (expected a table such as [chip.memory.hbm])");
  }
  for (const std::string& t : tier_names) {
    spec.chip.tiers.emplace_back(t, component<Memory>(cfg, "chip.memory." + t));
  }
  // Optional units: absent tables leave the plan and the chip as they were.
  if (cfg.has("chip.attention")) {
    spec.chip.attention = component<AttentionUnit>(cfg, "chip.attention");
    spec.plan.fused_attention = true;
  }
  if (cfg.has("chip.activation"))
    spec.chip.activation = component<ActivationUnit>(cfg, "chip.activation");

  const Params map = cfg.section("mapping", mapping_schema());
  auto tier_of = [&](const char* key) {
    const std::string v = map.get_string(key);
    for (const std::string& t : tier_names) {
      if (t == v) return v;
    }
    const std::string hint = did_you_mean(v, tier_names);
    fail(cfg, std::string("mapping.") + key,
         fmt::format("'{}' is not a memory tier (tiers: {}){}", v, fmt::join(tier_names, ", "),
                     hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  };
  spec.chip.weights_tier = tier_of("weights");
  spec.chip.kv_cache_tier = tier_of("kv_cache");
  spec.plan.weight_buffers = static_cast<uint32_t>(map.get_int("weight_buffers"));
  spec.plan.weight_tile_bytes = map.get_bytes("weight_buffer") / spec.plan.weight_buffers;
  spec.plan.attention_q_tile = static_cast<uint32_t>(map.get_int("attention_q_tile"));
  spec.plan.per_token_experts = map.get_string("expert_order") == "per_token";
  const uint64_t sram_cap = spec.chip.sram.facts<Memory>().capacity_bytes;
  if (map.get_bytes("weight_buffer") > sram_cap) {
    fail(cfg, "mapping.weight_buffer",
         fmt::format("{} B ({}) does not fit in chip.sram.capacity = {} B ({})",
                     map.get_bytes("weight_buffer"), human_bytes(map.get_bytes("weight_buffer")),
                     sram_cap, human_bytes(sram_cap)));
  }
  if (spec.plan.weight_tile_bytes == 0) {
    fail(cfg, "mapping.weight_buffer", "smaller than weight_buffers");
  }
  spec.system = read_system_spec(cfg);
  spec.energy = read_energy(cfg, spec.model, spec.chip, spec.system.present);
  read_parallel(cfg, spec);
  // Each chip caches its own share: the model as one chip of the system holds it.
  spec.residency =
      read_residency(cfg,
                     spec.system.chips == 1
                         ? spec.model
                         : SystemPlanner::tensor_slice(spec.model, spec.parallel.tensor_parallel,
                                                       spec.parallel.expert_tensor_parallel),
                     spec.chip);
  check_multichip_cache(cfg, spec);
  if (cfg.has("mapping.fusion")) {
    // The kernel segments and the stage partition know the compute and vector units only.
    if (spec.plan.fused_attention)
      fail(cfg, "mapping.fusion",
           "kernels do not take a chip with an attention unit ([chip.attention])");
    read_fusion(cfg, spec, tier_names, sram_cap - map.get_bytes("weight_buffer"));
  }
  if (spec.plan.per_token_experts && spec.system.chips > 1)
    fail(cfg, "mapping.expert_order",
         fmt::format("\"per_token\" needs a one-chip system, got {} chips", spec.system.chips));
  for (const auto& [tname, tier] : spec.chip.tiers) {
    if (tname != spec.chip.weights_tier) continue;
    const uint64_t cap = tier.facts<Memory>().capacity_bytes;
    const uint64_t need = chip_weight_bytes(spec);
    if (need > cap) {
      fail(cfg, "mapping.weights",
           fmt::format("model '{}' has {} B ({}) of weights{}, more than "
                       "chip.memory.{}.capacity = {} B ({})",
                       spec.model.name, need, human_bytes(need),
                       spec.system.chips > 1 ? " per chip" : "", tname, cap, human_bytes(cap)));
    }
  }

  check_kv_fit(cfg, spec);
  check_rtl_impl(cfg, spec);
  cfg.check_all_consumed();
  resolve_placement(spec);
  return spec;
}

}  // namespace

std::unique_ptr<TraceReader> open_workload(const RunSpec& spec) {
  const WorkloadSource* source = workload_source(spec.workload.type);
  if (source == nullptr) {
    throw InternalError("workload type '" + spec.workload.type + "' is not registered");
  }
  std::unique_ptr<TraceReader> reader = source->open(spec);
  const TraceMeta& meta = reader->meta();
  const ModelSpec& m = spec.model;
  const std::string& path = spec.workload.trace_path;
  if (meta.layers != m.moe_layers()) {
    throw InputError(fmt::format("{}: trace has {} MoE layers but model '{}' has {} (set by {})",
                                 path, meta.layers, m.name, m.moe_layers(),
                                 spec.workload.trace_path_loc.str()));
  }
  if (meta.experts != m.experts) {
    throw InputError(
        fmt::format("{}: trace has {} experts per layer but model '{}' has {} "
                    "(set by {})",
                    path, meta.experts, m.name, m.experts, spec.workload.trace_path_loc.str()));
  }
  if (meta.tasks > m.tasks) {
    throw InputError(fmt::format("{}: trace has {} tasks but model '{}' has {} (set by {})", path,
                                 meta.tasks, m.name, m.tasks, spec.workload.trace_path_loc.str()));
  }
  return reader;
}

}  // namespace moesim
