#pragma once
/// The plan: for each step of the trace, the operations the model and mapping imply, with
/// their dependencies and the bytes each moves. Pure C++: knows nothing of SystemC or of
/// how fast any unit is.

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "sim/plan/model.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim {

/// Which unit executes an op.
enum class OpKind : uint8_t {
  kLoad,    ///< DMA: memory tier -> SRAM
  kStore,   ///< DMA: SRAM -> memory tier
  kGemm,    ///< compute unit: one or more GEMM shapes
  kVector,  ///< vector unit: element-wise or reduction work
  kCopy,    ///< DMA: memory tier -> memory tier (an expert filling a cache tier)
  kComm,    ///< comm unit: this chip's part of a collective (dispatch, combine, all-reduce)
  /// attention unit: scores, softmax and A*V fused (a chip with [chip.attention])
  kAttention,
};
/// The kind's short name ("load", "gemm", ...), as in messages and timelines.
const char* op_kind_name(OpKind k);

/// What a collective op of a multi-chip plan does (statistics are broken down by it).
/// kRebalance: experts' weights moving to their new chips when the placement is recomputed.
enum class CommRole : uint8_t { kDispatch, kCombine, kAllReduce, kAllGather, kRebalance };
inline constexpr int kNumCommRoles = 5;
const char* comm_role_name(CommRole r);

/// What part of the layer an op belongs to (statistics are broken down by it).
enum class OpClass : uint8_t { kAttention, kGating, kExperts, kShared, kDense, kCombine, kNorm };
inline constexpr int kNumOpClasses = 7;
const char* op_class_name(OpClass c);

/// The function a vector op computes (each has its own per-element cost).
enum class VecFn : uint8_t { kSoftmax, kActivation, kNorm, kTopK, kCombine };
inline constexpr int kNumVecFns = 5;
const char* vec_fn_name(VecFn f);

/// Which logical memory a load/store addresses; the mapping binds each to a tier.
enum class MemRole : uint8_t { kWeights, kKvCache };

/// Op::src_tier / dst_tier value meaning "the tier the op's MemRole maps to".
inline constexpr uint8_t kRoleTier = 255;

/// Op::expert of ops that serve no single routed expert.
inline constexpr uint32_t kNoExpert = UINT32_MAX;

/// C[m,n] = A[m,k] * B[k,n], `repeat` times (e.g. once per KV head).
struct GemmShape {
  uint32_t m = 0;
  uint32_t k = 0;
  uint32_t n = 0;
  uint32_t repeat = 1;
};

/// One operation. Dependencies always point to lower indices (the plan is topologically
/// ordered), so any unit that serves ready ops lowest-index-first cannot deadlock.
struct Op {
  OpKind kind = OpKind::kGemm;
  OpClass cls = OpClass::kAttention;
  VecFn vfn = VecFn::kNorm;
  MemRole mem = MemRole::kWeights;
  uint8_t src_tier = kRoleTier;  ///< kLoad/kCopy: tier read (index into the chip's tiers)
  uint8_t dst_tier = kRoleTier;  ///< kCopy: tier written
  uint32_t layer = 0;
  uint32_t dep_begin = 0;  ///< into StepPlan::deps
  uint32_t dep_count = 0;
  uint32_t gemm_begin = 0;  ///< into StepPlan::gemms (kGemm)
  uint32_t gemm_count = 0;

  /// The routed expert an expert op serves (kNoExpert: none); fills padding before `bytes`.
  uint32_t expert = kNoExpert;

  uint64_t bytes = 0;       ///< kLoad/kStore: bytes moved; kGemm/kVector: SRAM operand bytes
  uint64_t elements = 0;    ///< kVector: elements processed
  uint64_t flops = 0;       ///< kGemm: 2*m*k*n*repeat summed
  uint32_t collective = 0;  ///< kComm: index into the step's collectives (same on every chip)
  CommRole comm_role = CommRole::kDispatch;  ///< kComm
  uint64_t out_bytes = 0;  ///< kGemm/kVector: bytes of its result (what a kernel may spill)
  uint32_t ffn = 0;        ///< ops of one FFN (an expert's, ...): its number in the step, from 1
};

/// One collective of a multi-chip step, as the planner describes it; the engine turns it
/// into a schedule of messages over the links.
struct CollectiveRequest {
  CommRole role = CommRole::kDispatch;
  uint32_t layer = 0;
  std::vector<uint32_t> group;  ///< participating chips (ChipId)
  /// kDispatch/kCombine: bytes[i * group.size() + j] from group[i] to group[j] (all-to-all-v);
  /// kAllReduce/kAllGather: one entry, the bytes per chip.
  std::vector<uint64_t> bytes;
};

/// All ops of one step.
struct StepPlan {
  std::vector<Op> ops;
  std::vector<uint32_t> deps;
  std::vector<GemmShape> gemms;
  uint32_t tokens = 0;
  uint64_t assignments = 0;   ///< token-expert assignments in the trace step
  uint64_t flops = 0;         ///< sum over GEMM ops
  uint64_t weight_bytes = 0;  ///< loaded from the weight tier
  uint64_t kv_read_bytes = 0;
  uint64_t kv_write_bytes = 0;
  uint64_t experts_run = 0;         ///< (layer, expert) pairs with at least one token
  const TraceStep* step = nullptr;  ///< the trace step planned (valid while it runs)
  uint32_t experts = 0;             ///< routed experts per MoE layer (router scores per token)
  uint32_t top_k = 0;               ///< the model's nominal experts per token
  uint32_t act_bytes = 0;           ///< bytes per activation element (the model's)
  void clear();
};

/// One move of an expert's weights between tiers, decided by an ExpertStore.
struct TierCopy {
  uint8_t src_tier = 0;          ///< tier read (index into the chip's tiers)
  uint8_t dst_tier = 0;          ///< tier written
  uint32_t key = 0;              ///< the expert: moe_layer * experts + expert
  uint32_t victim = UINT32_MAX;  ///< expert evicted from dst_tier to make room, if any
};

/// Where one expert's weights come from in a step: copies up the tier chain, then tiles
/// streamed into SRAM from `stream_tier`.
struct WeightFetch {
  uint8_t stream_tier = 0;
  std::vector<TierCopy> copies;  ///< in order (lowest tier first)
};

/// Expert residency across memory tiers (caches, prefetch), consulted by the planner in
/// plan order. Implemented in hw_models/memory/residency; the planner only emits the ops.
class ExpertStore {
 public:
  virtual ~ExpertStore() = default;
  /// The expert `expert` of MoE layer `moe_layer` is about to run: updates the caches and
  /// says where its weights come from.
  virtual void fetch(uint32_t moe_layer, uint32_t expert, WeightFetch& out) = 0;
  /// Layer `moe_layer`'s routing is known (its experts were fetched): the copies to start
  /// now for the experts predicted for the next layer.
  virtual void prefetch(const TraceStep& step, uint32_t moe_layer, std::vector<TierCopy>& out) = 0;
  /// Tier the non-expert weights (attention, routers, shared experts, dense FFNs) stream from.
  virtual uint8_t dense_tier() const = 0;
};

/// A chip's share of a multi-chip step, decided by the system planner (see system_plan.hpp).
struct ChipWork {
  std::vector<uint32_t> tokens;  ///< step token indices whose attention this chip runs
  /// Tokens this chip dispatches at each MoE layer (its share when tensor parallel).
  uint32_t moe_tokens = 0;
  /// Per MoE layer x experts: routed token copies this chip's expert runs (0: not held here).
  std::vector<uint32_t> expert_tokens;
  /// Per MoE layer: routed copies (non-null) of this chip's own tokens, combined here.
  std::vector<uint64_t> combined;
  static constexpr uint32_t kNoCollective = UINT32_MAX;
  /// Per transformer layer: collective ids (kNoCollective where there is none).
  std::vector<uint32_t> attn_reduce;  ///< after attention's output projection (TP)
  /// After a dense FFN (TP); at a MoE layer whose dispatch is kNoCollective (tensor-parallel
  /// experts), after the experts, whose partial outputs it sums.
  std::vector<uint32_t> ffn_reduce;
  std::vector<uint32_t> dispatch;  ///< MoE layers: tokens to the experts' chips
  std::vector<uint32_t> combine;   ///< MoE layers: expert outputs back
  std::vector<uint32_t> gather;    ///< MoE layers: all-gather of the TP group's tokens
  /// Per transformer layer (first micro-batch only; empty: none): experts of the layer moving
  /// to new chips, started with the step; the layer's dispatch waits for it.
  std::vector<uint32_t> rebalance;
};

/// Mapping choices the planner needs.
struct PlanOptions {
  uint64_t weight_tile_bytes = 0;   ///< weights stream in tiles of at most this size
  uint32_t weight_buffers = 2;      ///< SRAM tile buffers (2 = double buffering)
  uint32_t attention_q_tile = 128;  ///< query rows per causal attention block
  /// The chip has an attention unit: each layer's scores, softmax and A*V are one kAttention
  /// op (GemmShape m = query rows per KV head, k = head_dim, n = keys, repeat = KV heads),
  /// reading Q, K and V from the KV tier, where the QKV projection stores them.
  bool fused_attention = false;
  /// Expert FFNs run per token (each token's experts in turn, weights loaded for every one)
  /// instead of per expert (patch reordering: each expert's weights once, its tokens batched).
  bool per_token_experts = false;
};

/// Turns trace steps into op graphs.
class Planner {
 public:
  Planner(const ModelSpec& model, const PlanOptions& options);
  /// Plans `step` into `out` (cleared first). The step must have model.moe_layers() layers.
  void plan(const TraceStep& step, StepPlan& out);
  /// Plans a chip's share of a multi-chip step: one ChipWork per micro-batch (one without
  /// overlap); the micro-batches' layers interleave in the plan.
  void plan(const TraceStep& step, StepPlan& out, const std::vector<ChipWork>& parts);
  /// Expert weights come from `store` (not owned; null: everything streams from the
  /// weights tier, as the ops' MemRole says).
  void set_store(ExpertStore* store) { m_store = store; }

 private:
  struct RequestSlice {
    uint32_t request;
    uint32_t q_tokens;
    uint32_t first_pos;
    uint32_t last_pos;
  };
  /// Tiles needed to stream `units` columns of `unit_bytes` each through the tile buffers.
  uint32_t tiles_for(uint32_t units, uint64_t unit_bytes) const;
  uint32_t add_op(const Op& op, std::initializer_list<uint32_t> deps);
  uint32_t add_op_deps(const Op& op, const std::vector<uint32_t>& deps);
  uint32_t add_gemm_op(OpClass cls, uint32_t layer, std::vector<GemmShape> shapes,
                       uint64_t weight_bytes, std::vector<uint32_t> deps);
  /// `out_elements`: elements of its result (default: `elements`).
  uint32_t add_vector_op(OpClass cls, VecFn fn, uint32_t layer, uint64_t elements,
                         std::vector<uint32_t> deps, uint64_t out_elements = UINT64_MAX);
  /// Emits a weight load into the tile ring and returns its index; `consumer` must be set
  /// with set_ring_consumer() before the next load.
  uint32_t add_weight_load(OpClass cls, uint32_t layer, uint64_t bytes, uint8_t tier,
                           const std::vector<uint32_t>& extra_deps);
  void set_ring_consumer(uint32_t op);
  /// A GEMM whose weights (k x n, streamed from the weight tier) are tiled along n.
  std::vector<uint32_t> add_streamed_gemm(OpClass cls, uint32_t layer, uint32_t m, uint32_t k,
                                          uint32_t n, const std::vector<uint32_t>& deps);
  /// A gated/plain FFN for `tokens` tokens with intermediate size `ffn`, tiled along ffn.
  std::vector<uint32_t> add_ffn(OpClass cls, uint32_t layer, uint32_t tokens, uint32_t ffn,
                                const std::vector<uint32_t>& deps, uint8_t tier = kRoleTier,
                                const std::vector<uint32_t>& load_deps = {},
                                std::vector<uint32_t>* loads = nullptr);
  /// Emits the copy ops of `copies` (after `after`), tracking which ops touch which expert
  /// copy so an eviction waits for the readers of its victim.
  void add_copies(const std::vector<TierCopy>& copies, uint32_t layer, uint32_t after);
  /// Ops of this step that read or wrote the copy of expert `key` in `tier`.
  std::vector<uint32_t>& touching(uint8_t tier, uint32_t key);
  uint32_t add_attention(uint32_t layer, uint32_t prev, uint32_t& kv_dep);
  /// add_attention() with an attention unit: QKV store, one kAttention op, output projection.
  uint32_t add_fused_attention(uint32_t layer, uint32_t t, const std::vector<uint32_t>& qkv,
                               uint32_t& kv_dep);
  /// A collective op (kNoCollective: returns the deps' single op, or emits nothing).
  uint32_t add_comm(CommRole role, uint32_t layer, uint32_t collective,
                    const std::vector<uint32_t>& deps);
  /// Per-micro-batch state while planning.
  struct PartState {
    std::vector<RequestSlice> requests;
    uint32_t t = 0;
    uint32_t prev = UINT32_MAX;
    uint32_t kv_dep = UINT32_MAX;
  };
  void plan_impl(const TraceStep& step, StepPlan& out, const ChipWork* parts, size_t nparts);
  /// m_requests from the step's tokens (all, or `work`'s).
  void set_requests(const TraceStep& step, const ChipWork* work);
  /// Transformer layer `layer` (MoE layer index `l` if it is one) of the current part.
  void plan_layer(uint32_t layer, uint32_t l, uint32_t t, uint32_t& prev, uint32_t& kv_dep);

  ModelSpec m_model;
  PlanOptions m_options;
  StepPlan* m_out = nullptr;
  const TraceStep* m_step = nullptr;
  std::vector<RequestSlice> m_requests;
  std::vector<uint32_t> m_ring;  ///< consumer op of each weight load, in load order
  std::vector<uint32_t> m_expert_tokens;
  ExpertStore* m_store = nullptr;
  uint8_t m_dense_tier = kRoleTier;
  std::unordered_map<uint64_t, std::vector<uint32_t>> m_touching;  // (tier, key) -> ops
  WeightFetch m_fetch;
  std::vector<TierCopy> m_prefetch;
  std::vector<uint32_t> m_rebalance_op;  // per transformer layer: its rebalance op, or UINT32_MAX
  const ChipWork* m_work = nullptr;      ///< null in a one-chip system
  uint32_t m_part_tokens = 0;            ///< tokens of the micro-batch being planned
  uint32_t m_ffns = 0;                   ///< FFNs planned in this step
  uint32_t m_ffn = 0;                    ///< the FFN being planned (0: none)
  uint32_t m_expert = kNoExpert;         ///< Op::expert of the ops being added
};

}  // namespace moesim
