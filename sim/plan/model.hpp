#pragma once
/// The shape of an MoE transformer, as the planner needs it.

#include <cstdint>
#include <optional>
#include <string>

#include "sim/config/schema.hpp"

namespace moesim {

/// Layer shapes and data types of a model (from `[model]`; presets in workloads/models/).
struct ModelSpec {
  std::string name;
  uint32_t layers = 0;              ///< transformer layers in total
  uint32_t first_dense_layers = 0;  ///< leading layers with a dense FFN instead of MoE
  uint32_t moe_every = 1;           ///< after those, every n-th layer is MoE (others dense)
  uint32_t hidden = 0;
  uint32_t heads = 0;
  uint32_t kv_heads = 0;
  uint32_t head_dim = 0;
  uint32_t kv_dim = 0;            ///< KV-cache elements per token per layer
  uint64_t attention_params = 0;  ///< attention weights per layer (elements)
  bool causal = true;             ///< decoder (causal, KV cache) or encoder (bidirectional)
  uint32_t experts = 0;           ///< routed experts per MoE layer
  uint32_t top_k = 0;
  uint32_t expert_ffn = 0;  ///< intermediate size of one routed expert
  uint32_t shared_experts = 0;
  uint32_t shared_ffn = 0;    ///< intermediate size of one shared expert
  uint32_t dense_ffn = 0;     ///< intermediate size of a dense FFN layer
  uint32_t ffn_matrices = 3;  ///< 3 for gated (SwiGLU), 2 for plain (GELU)
  uint32_t weight_bytes = 2;  ///< bytes per weight element
  uint32_t act_bytes = 2;     ///< bytes per activation / KV element
  uint32_t tasks = 1;         ///< tasks of a multi-task model, one gate each (M3ViT: 2)

  /// Number of MoE layers (what a trace records per step).
  uint32_t moe_layers() const;
  /// True when transformer layer `l` has an MoE FFN.
  bool is_moe_layer(uint32_t l) const;
  /// Weight bytes of one routed expert, one shared expert, one dense FFN, one attention block.
  uint64_t expert_bytes() const;
  uint64_t shared_expert_bytes() const;
  uint64_t dense_ffn_bytes() const;
  uint64_t attention_bytes() const;
  /// Router weights of one MoE layer.
  uint64_t router_bytes() const;
  /// All weights of the model (attention, routers, experts, shared experts, dense FFNs).
  uint64_t total_weight_bytes() const;

  /// Declares the `[model]` keys.
  static void declare(ParamSchema& schema);
  /// Builds from validated `[model]` values (derived defaults resolved; see check()).
  static ModelSpec from_params(const Params& p);

  /// The model cut down to `kept` of its MoE layers (a partial trace's real layers, in
  /// order): the leading dense layers, then each kept MoE layer with the moe_every - 1
  /// dense layers after it (the model's last MoE layer with whatever follows it, when
  /// `keeps_last`). Everything else is unchanged. 1 <= kept <= moe_layers().
  ModelSpec with_moe_layers(uint32_t kept, bool keeps_last) const;

  /// A key whose value is inconsistent with the others, and why.
  struct Problem {
    std::string key;
    std::string message;
  };
  /// The first inconsistency between keys (each key's own range is checked by the schema).
  std::optional<Problem> check() const;
};

}  // namespace moesim
