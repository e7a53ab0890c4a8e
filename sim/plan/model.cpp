#include "sim/plan/model.hpp"

#include <fmt/format.h>

namespace moesim {

uint32_t ModelSpec::moe_layers() const {
  uint32_t n = 0;
  for (uint32_t l = 0; l < layers; ++l) n += is_moe_layer(l) ? 1 : 0;
  return n;
}

bool ModelSpec::is_moe_layer(uint32_t l) const {
  return l >= first_dense_layers && (l - first_dense_layers) % moe_every == 0;
}

ModelSpec ModelSpec::with_moe_layers(uint32_t kept, bool keeps_last) const {
  ModelSpec m = *this;
  const uint32_t last_moe = first_dense_layers + (moe_layers() - 1) * moe_every;
  m.layers = first_dense_layers + (kept - (keeps_last ? 1 : 0)) * moe_every +
             (keeps_last ? layers - last_moe : 0);
  return m;
}

uint64_t ModelSpec::expert_bytes() const {
  return uint64_t{ffn_matrices} * hidden * expert_ffn * weight_bytes;
}
uint64_t ModelSpec::shared_expert_bytes() const {
  return uint64_t{ffn_matrices} * hidden * shared_ffn * weight_bytes;
}
uint64_t ModelSpec::dense_ffn_bytes() const {
  return uint64_t{ffn_matrices} * hidden * dense_ffn * weight_bytes;
}
uint64_t ModelSpec::attention_bytes() const {
  return attention_params * weight_bytes;
}
uint64_t ModelSpec::router_bytes() const {
  return uint64_t{hidden} * experts * weight_bytes;
}

uint64_t ModelSpec::total_weight_bytes() const {
  uint64_t total = 0;
  for (uint32_t l = 0; l < layers; ++l) {
    total += attention_bytes();
    total += is_moe_layer(l) ? router_bytes() + uint64_t{experts} * expert_bytes() +
                                   uint64_t{shared_experts} * shared_expert_bytes()
                             : dense_ffn_bytes();
  }
  return total;
}

void ModelSpec::declare(ParamSchema& s) {
  s.add("name", ParamType::kString, "model name, recorded in outputs");
  s.add("layers", ParamType::kInt, "transformer layers in total").range(1, 1024);
  s.add("first_dense_layers", ParamType::kInt, "leading layers with a dense FFN")
      .range(0, 1024)
      .default_value(int64_t{0});
  s.add("moe_every", ParamType::kInt, "after the dense layers, every n-th layer is MoE")
      .range(1, 64)
      .default_value(int64_t{1});
  s.add("hidden", ParamType::kInt, "hidden size (model dimension)").range(1, 1 << 20);
  s.add("heads", ParamType::kInt, "attention (query) heads").range(1, 4096);
  s.add("kv_heads", ParamType::kInt, "key/value heads (GQA groups)").range(1, 4096);
  s.add("head_dim", ParamType::kInt, "dimension of one attention head").range(1, 4096);
  s.add("kv_dim", ParamType::kInt,
        "KV-cache elements per token per layer; 0 = 2 * kv_heads * head_dim (MLA sets its "
        "compressed size)")
      .range(0, 1 << 20)
      .default_value(int64_t{0});
  s.add("attention_params", ParamType::kInt,
        "attention weights per layer in elements; 0 = hidden * (heads + 2 * kv_heads) * "
        "head_dim + heads * head_dim * hidden")
      .at_least(0)
      .default_value(int64_t{0});
  s.add("causal", ParamType::kBool,
        "decoder with causal attention and a KV cache (false: "
        "bidirectional encoder, attention within the step)")
      .default_value(true);
  s.add("experts", ParamType::kInt, "routed experts per MoE layer").range(1, 65536);
  s.add("top_k", ParamType::kInt, "routed experts per token").range(1, 256);
  s.add("expert_ffn", ParamType::kInt, "intermediate size of a routed expert").range(1, 1 << 20);
  s.add("shared_experts", ParamType::kInt, "shared experts per MoE layer")
      .range(0, 64)
      .default_value(int64_t{0});
  s.add("shared_ffn", ParamType::kInt, "intermediate size of a shared expert; 0 = expert_ffn")
      .range(0, 1 << 20)
      .default_value(int64_t{0});
  s.add("dense_ffn", ParamType::kInt, "intermediate size of a dense FFN layer; 0 = expert_ffn")
      .range(0, 1 << 20)
      .default_value(int64_t{0});
  s.add("ffn_matrices", ParamType::kInt, "weight matrices per FFN: 3 gated (SwiGLU), 2 plain")
      .range(2, 3)
      .default_value(int64_t{3});
  s.add("weight_bytes", ParamType::kInt, "bytes per weight element (2 = bf16, 1 = fp8/int8)")
      .range(1, 8);
  s.add("act_bytes", ParamType::kInt, "bytes per activation and KV-cache element").range(1, 8);
  s.add("tasks", ParamType::kInt,
        "tasks of a multi-task model, each with its own gate (a request's task picks the "
        "gate that routes it)")
      .range(1, 1024)
      .default_value(int64_t{1});
}

ModelSpec ModelSpec::from_params(const Params& p) {
  ModelSpec m;
  auto u32 = [&](const char* k) { return static_cast<uint32_t>(p.get_int(k)); };
  m.name = p.get_string("name");
  m.layers = u32("layers");
  m.first_dense_layers = u32("first_dense_layers");
  m.moe_every = u32("moe_every");
  m.hidden = u32("hidden");
  m.heads = u32("heads");
  m.kv_heads = u32("kv_heads");
  m.head_dim = u32("head_dim");
  m.kv_dim = u32("kv_dim");
  m.attention_params = static_cast<uint64_t>(p.get_int("attention_params"));
  m.causal = p.get_bool("causal");
  m.experts = u32("experts");
  m.top_k = u32("top_k");
  m.expert_ffn = u32("expert_ffn");
  m.shared_experts = u32("shared_experts");
  m.shared_ffn = u32("shared_ffn");
  m.dense_ffn = u32("dense_ffn");
  m.ffn_matrices = u32("ffn_matrices");
  m.weight_bytes = u32("weight_bytes");
  m.act_bytes = u32("act_bytes");
  m.tasks = u32("tasks");
  if (m.kv_dim == 0) m.kv_dim = 2 * m.kv_heads * m.head_dim;
  if (m.attention_params == 0) {
    m.attention_params = uint64_t{m.hidden} * (m.heads + 2ull * m.kv_heads) * m.head_dim +
                         uint64_t{m.heads} * m.head_dim * m.hidden;
  }
  if (m.shared_ffn == 0) m.shared_ffn = m.expert_ffn;
  if (m.dense_ffn == 0) m.dense_ffn = m.expert_ffn;
  return m;
}

std::optional<ModelSpec::Problem> ModelSpec::check() const {
  if (heads % kv_heads != 0) {
    return Problem{"kv_heads", fmt::format("{} does not divide heads = {}", kv_heads, heads)};
  }
  if (top_k > experts) {
    return Problem{"top_k", fmt::format("{} is more than experts = {}", top_k, experts)};
  }
  if (moe_layers() == 0) {
    return Problem{"first_dense_layers",
                   fmt::format("{} leaves no MoE layer (layers = {})", first_dense_layers, layers)};
  }
  return std::nullopt;
}

}  // namespace moesim
