#include "sim/plan/plan.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sim/core/error.hpp"

namespace moesim {

namespace {
constexpr uint32_t kNone = UINT32_MAX;

uint64_t ceil_div(uint64_t a, uint64_t b) {
  return (a + b - 1) / b;
}

/// Splits `total` into `parts` near-equal pieces and returns piece i.
uint32_t piece(uint32_t total, uint32_t parts, uint32_t i) {
  const uint32_t base = total / parts;
  const uint32_t extra = total % parts;
  return base + (i < extra ? 1 : 0);
}
}  // namespace

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::kLoad:
      return "load";
    case OpKind::kStore:
      return "store";
    case OpKind::kCopy:
      return "copy";
    case OpKind::kGemm:
      return "gemm";
    case OpKind::kVector:
      return "vector";
    case OpKind::kComm:
      return "comm";
    case OpKind::kAttention:
      return "attention";
  }
  return "?";
}

const char* op_class_name(OpClass c) {
  switch (c) {
    case OpClass::kAttention:
      return "attention";
    case OpClass::kGating:
      return "gating";
    case OpClass::kExperts:
      return "experts";
    case OpClass::kShared:
      return "shared_experts";
    case OpClass::kDense:
      return "dense_ffn";
    case OpClass::kCombine:
      return "combine";
    case OpClass::kNorm:
      return "norm";
  }
  return "?";
}

const char* comm_role_name(CommRole r) {
  switch (r) {
    case CommRole::kDispatch:
      return "dispatch";
    case CommRole::kCombine:
      return "combine";
    case CommRole::kAllReduce:
      return "all_reduce";
    case CommRole::kAllGather:
      return "all_gather";
    case CommRole::kRebalance:
      return "rebalance";
  }
  return "?";
}

const char* vec_fn_name(VecFn f) {
  switch (f) {
    case VecFn::kSoftmax:
      return "softmax";
    case VecFn::kActivation:
      return "activation";
    case VecFn::kNorm:
      return "norm";
    case VecFn::kTopK:
      return "topk";
    case VecFn::kCombine:
      return "combine";
  }
  return "?";
}

void StepPlan::clear() {
  ops.clear();
  deps.clear();
  gemms.clear();
  tokens = 0;
  assignments = 0;
  flops = 0;
  weight_bytes = 0;
  kv_read_bytes = 0;
  kv_write_bytes = 0;
  experts_run = 0;
  step = nullptr;
  act_bytes = 0;
}

Planner::Planner(const ModelSpec& model, const PlanOptions& options)
    : m_model(model), m_options(options) {
  if (m_options.weight_tile_bytes == 0 || m_options.weight_buffers == 0 ||
      m_options.attention_q_tile == 0) {
    throw InternalError("Planner: tile size, buffer count and q tile must be positive");
  }
  m_expert_tokens.resize(model.experts);
}

uint32_t Planner::tiles_for(uint32_t units, uint64_t unit_bytes) const {
  // Whole columns (or FFN rows) per tile, so no tile exceeds the buffer unless a single
  // column already does.
  const uint64_t per_tile = std::max<uint64_t>(1, m_options.weight_tile_bytes / unit_bytes);
  return static_cast<uint32_t>(ceil_div(units, per_tile));
}

uint32_t Planner::add_op_deps(const Op& op, const std::vector<uint32_t>& deps) {
  Op o = op;
  if (o.expert == kNoExpert) o.expert = m_expert;
  o.dep_begin = static_cast<uint32_t>(m_out->deps.size());
  for (uint32_t d : deps) {
    if (d != kNone) m_out->deps.push_back(d);
  }
  o.dep_count = static_cast<uint32_t>(m_out->deps.size()) - o.dep_begin;
  o.ffn = m_ffn;
  m_out->ops.push_back(o);
  return static_cast<uint32_t>(m_out->ops.size() - 1);
}

uint32_t Planner::add_op(const Op& op, std::initializer_list<uint32_t> deps) {
  return add_op_deps(op, std::vector<uint32_t>(deps));
}

uint32_t Planner::add_gemm_op(OpClass cls, uint32_t layer, std::vector<GemmShape> shapes,
                              uint64_t weight_bytes, std::vector<uint32_t> deps) {
  Op op;
  op.kind = OpKind::kGemm;
  op.cls = cls;
  op.layer = layer;
  op.gemm_begin = static_cast<uint32_t>(m_out->gemms.size());
  uint64_t act_elems = 0;
  for (const GemmShape& s : shapes) {
    op.out_bytes += uint64_t{s.repeat} * s.m * s.n * m_model.act_bytes;
    if (!m_out->gemms.empty() && m_out->gemms.size() > op.gemm_begin) {
      GemmShape& last = m_out->gemms.back();
      if (last.m == s.m && last.k == s.k && last.n == s.n) {
        last.repeat += s.repeat;
        op.flops += 2ull * s.m * s.k * s.n * s.repeat;
        act_elems += uint64_t{s.repeat} * (uint64_t{s.m} * s.k + uint64_t{s.m} * s.n);
        continue;
      }
    }
    m_out->gemms.push_back(s);
    op.flops += 2ull * s.m * s.k * s.n * s.repeat;
    act_elems += uint64_t{s.repeat} * (uint64_t{s.m} * s.k + uint64_t{s.m} * s.n);
  }
  op.gemm_count = static_cast<uint32_t>(m_out->gemms.size()) - op.gemm_begin;
  op.bytes = weight_bytes + act_elems * m_model.act_bytes;
  m_out->flops += op.flops;
  return add_op_deps(op, deps);
}

uint32_t Planner::add_vector_op(OpClass cls, VecFn fn, uint32_t layer, uint64_t elements,
                                std::vector<uint32_t> deps, uint64_t out_elements) {
  Op op;
  op.kind = OpKind::kVector;
  op.cls = cls;
  op.vfn = fn;
  op.layer = layer;
  op.elements = elements;
  op.bytes = 2 * elements * m_model.act_bytes;  // read and write each element once
  op.out_bytes = (out_elements == UINT64_MAX ? elements : out_elements) * m_model.act_bytes;
  return add_op_deps(op, deps);
}

uint32_t Planner::add_weight_load(OpClass cls, uint32_t layer, uint64_t bytes, uint8_t tier,
                                  const std::vector<uint32_t>& extra_deps) {
  Op op;
  op.kind = OpKind::kLoad;
  op.cls = cls;
  op.mem = MemRole::kWeights;
  op.src_tier = tier;
  op.layer = layer;
  op.bytes = bytes;
  m_out->weight_bytes += bytes;
  const size_t j = m_ring.size();
  // The tile ring: load j reuses the buffer of load j - buffers, so it waits until that
  // tile's consumer is done. With 2 buffers this is classic double buffering.
  const uint32_t slot_dep =
      j >= m_options.weight_buffers ? m_ring[j - m_options.weight_buffers] : kNone;
  m_ring.push_back(kNone);
  std::vector<uint32_t> deps = extra_deps;
  deps.push_back(slot_dep);
  return add_op_deps(op, deps);
}

std::vector<uint32_t>& Planner::touching(uint8_t tier, uint32_t key) {
  return m_touching[(uint64_t{tier} << 32) | key];
}

void Planner::add_copies(const std::vector<TierCopy>& copies, uint32_t layer, uint32_t after) {
  for (const TierCopy& c : copies) {
    Op op;
    op.kind = OpKind::kCopy;
    op.cls = OpClass::kExperts;
    op.mem = MemRole::kWeights;
    op.src_tier = c.src_tier;
    op.dst_tier = c.dst_tier;
    op.layer = layer;
    op.expert = c.key % m_model.experts;
    op.bytes = m_model.expert_bytes();
    // After the routing that asked for it, after the ops still using the source copy or the
    // victim's space, and after whatever is writing this expert's slot.
    std::vector<uint32_t> deps{after};
    const std::vector<uint32_t>& src = touching(c.src_tier, c.key);
    deps.insert(deps.end(), src.begin(), src.end());
    if (c.victim != UINT32_MAX) {
      std::vector<uint32_t>& v = touching(c.dst_tier, c.victim);
      deps.insert(deps.end(), v.begin(), v.end());
      v.clear();
    }
    std::vector<uint32_t>& dst = touching(c.dst_tier, c.key);
    deps.insert(deps.end(), dst.begin(), dst.end());
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    const uint32_t id = add_op_deps(op, deps);
    touching(c.src_tier, c.key).push_back(id);
    touching(c.dst_tier, c.key).assign(1, id);
  }
}

void Planner::set_ring_consumer(uint32_t op) {
  m_ring.back() = op;
}

std::vector<uint32_t> Planner::add_streamed_gemm(OpClass cls, uint32_t layer, uint32_t m,
                                                 uint32_t k, uint32_t n,
                                                 const std::vector<uint32_t>& deps) {
  const auto tiles = tiles_for(n, uint64_t{k} * m_model.weight_bytes);
  std::vector<uint32_t> out;
  for (uint32_t t = 0; t < tiles; ++t) {
    const uint32_t nt = piece(n, tiles, t);
    const uint64_t bytes = uint64_t{k} * nt * m_model.weight_bytes;
    const uint32_t load = add_weight_load(cls, layer, bytes, m_dense_tier, {});
    std::vector<uint32_t> d = deps;
    d.push_back(load);
    const uint32_t g = add_gemm_op(cls, layer, {{m, k, nt, 1}}, bytes, d);
    set_ring_consumer(g);
    out.push_back(g);
  }
  return out;
}

std::vector<uint32_t> Planner::add_ffn(OpClass cls, uint32_t layer, uint32_t tokens, uint32_t ffn,
                                       const std::vector<uint32_t>& deps, uint8_t tier,
                                       const std::vector<uint32_t>& load_deps,
                                       std::vector<uint32_t>* loads) {
  const uint32_t h = m_model.hidden;
  const uint32_t mats = m_model.ffn_matrices;
  const auto tiles = tiles_for(ffn, uint64_t{mats} * h * m_model.weight_bytes);
  std::vector<uint32_t> out;
  m_ffn = ++m_ffns;
  for (uint32_t t = 0; t < tiles; ++t) {
    const uint32_t ft = piece(ffn, tiles, t);
    const uint64_t up_bytes = uint64_t{mats - 1} * h * ft * m_model.weight_bytes;
    const uint64_t down_bytes = uint64_t{h} * ft * m_model.weight_bytes;
    const uint32_t load = add_weight_load(cls, layer, up_bytes + down_bytes, tier, load_deps);
    if (loads) loads->push_back(load);
    std::vector<uint32_t> d = deps;
    d.push_back(load);
    const uint32_t up = add_gemm_op(cls, layer, {{tokens, h, (mats - 1) * ft, 1}}, up_bytes, d);
    const uint32_t act = add_vector_op(cls, VecFn::kActivation, layer, uint64_t{tokens} * ft, {up});
    const uint32_t down = add_gemm_op(cls, layer, {{tokens, ft, h, 1}}, down_bytes, {act});
    set_ring_consumer(down);
    out.push_back(down);
  }
  m_ffn = 0;
  return out;
}

uint32_t Planner::add_attention(uint32_t layer, uint32_t prev, uint32_t& kv_dep) {
  const ModelSpec& md = m_model;
  const uint32_t t = m_part_tokens;
  const uint32_t group = md.heads / md.kv_heads;
  const uint64_t o_params = uint64_t{md.heads} * md.head_dim * md.hidden;
  const auto qkv_n = static_cast<uint32_t>(std::max<uint64_t>(
      1, (md.attention_params - std::min(o_params, md.attention_params)) / md.hidden));

  // KV cache of earlier positions, read one layer ahead (after the previous layer's AV
  // frees the KV buffer).
  uint32_t kv_load = kNone;
  if (md.causal) {
    uint64_t past = 0;
    for (const RequestSlice& r : m_requests) past += r.first_pos;
    if (past > 0) {
      Op op;
      op.kind = OpKind::kLoad;
      op.cls = OpClass::kAttention;
      op.mem = MemRole::kKvCache;
      op.layer = layer;
      op.bytes = past * md.kv_dim * md.act_bytes;
      m_out->kv_read_bytes += op.bytes;
      kv_load = add_op(op, {kv_dep});
    }
  }

  std::vector<uint32_t> qkv =
      add_streamed_gemm(OpClass::kAttention, layer, t, md.hidden, qkv_n, {prev});
  if (m_options.fused_attention) return add_fused_attention(layer, t, qkv, kv_dep);
  if (md.causal) {
    Op op;
    op.kind = OpKind::kStore;
    op.cls = OpClass::kAttention;
    op.mem = MemRole::kKvCache;
    op.layer = layer;
    op.bytes = uint64_t{t} * md.kv_dim * md.act_bytes;
    m_out->kv_write_bytes += op.bytes;
    add_op(op, {qkv.back()});
  }

  // Scores and AV per request, in causal blocks of q rows.
  std::vector<GemmShape> scores;
  std::vector<GemmShape> av;
  uint64_t softmax_elems = 0;
  for (const RequestSlice& r : m_requests) {
    uint32_t done = 0;
    while (done < r.q_tokens) {
      const uint32_t q =
          md.causal ? std::min(m_options.attention_q_tile, r.q_tokens - done) : r.q_tokens;
      const uint32_t keys = md.causal ? r.first_pos + done + q : r.q_tokens;
      scores.push_back({q * group, md.head_dim, keys, md.kv_heads});
      av.push_back({q * group, keys, md.head_dim, md.kv_heads});
      softmax_elems += uint64_t{q} * md.heads * keys;
      done += q;
    }
  }
  std::vector<uint32_t> sdeps = qkv;
  sdeps.push_back(kv_load);
  const uint32_t s_op = add_gemm_op(OpClass::kAttention, layer, scores, 0, sdeps);
  const uint32_t sm =
      add_vector_op(OpClass::kAttention, VecFn::kSoftmax, layer, softmax_elems, {s_op});
  const uint32_t av_op = add_gemm_op(OpClass::kAttention, layer, av, 0, {sm});
  kv_dep = av_op;
  std::vector<uint32_t> o =
      add_streamed_gemm(OpClass::kAttention, layer, t, md.heads * md.head_dim, md.hidden, {av_op});
  if (m_work && m_work->attn_reduce[layer] != ChipWork::kNoCollective) {
    o = {add_comm(CommRole::kAllReduce, layer, m_work->attn_reduce[layer], o)};
  }
  return add_vector_op(OpClass::kNorm, VecFn::kNorm, layer, 2ull * t * md.hidden, o,
                       uint64_t{t} * md.hidden);
}

uint32_t Planner::add_fused_attention(uint32_t layer, uint32_t t, const std::vector<uint32_t>& qkv,
                                      uint32_t& kv_dep) {
  const ModelSpec& md = m_model;
  const uint32_t group = md.heads / md.kv_heads;
  // The QKV projection's output goes to the KV tier, where the attention unit streams it from
  // (for a causal model this is also the KV-cache write of the new tokens).
  Op st;
  st.kind = OpKind::kStore;
  st.cls = OpClass::kAttention;
  st.mem = MemRole::kKvCache;
  st.layer = layer;
  st.bytes = uint64_t{t} * (uint64_t{md.heads} + 2ull * md.kv_heads) * md.head_dim * md.act_bytes;
  m_out->kv_write_bytes += st.bytes;
  const uint32_t store = add_op_deps(st, qkv);
  Op op;
  op.kind = OpKind::kAttention;
  op.cls = OpClass::kAttention;
  op.layer = layer;
  op.gemm_begin = static_cast<uint32_t>(m_out->gemms.size());
  for (const RequestSlice& r : m_requests) {
    uint32_t done = 0;
    while (done < r.q_tokens) {
      const uint32_t q =
          md.causal ? std::min(m_options.attention_q_tile, r.q_tokens - done) : r.q_tokens;
      const uint32_t keys = md.causal ? r.first_pos + done + q : r.q_tokens;
      m_out->gemms.push_back({q * group, md.head_dim, keys, md.kv_heads});
      op.elements += uint64_t{q} * md.heads * keys;
      op.flops += 4ull * q * group * keys * md.head_dim * md.kv_heads;
      done += q;
    }
  }
  op.gemm_count = static_cast<uint32_t>(m_out->gemms.size()) - op.gemm_begin;
  m_out->flops += op.flops;
  const uint32_t attn = add_op(op, {store, kv_dep});
  kv_dep = attn;
  std::vector<uint32_t> o =
      add_streamed_gemm(OpClass::kAttention, layer, t, md.heads * md.head_dim, md.hidden, {attn});
  if (m_work && m_work->attn_reduce[layer] != ChipWork::kNoCollective) {
    o = {add_comm(CommRole::kAllReduce, layer, m_work->attn_reduce[layer], o)};
  }
  return add_vector_op(OpClass::kNorm, VecFn::kNorm, layer, 2ull * t * md.hidden, o);
}

uint32_t Planner::add_comm(CommRole role, uint32_t layer, uint32_t collective,
                           const std::vector<uint32_t>& deps) {
  Op op;
  op.kind = OpKind::kComm;
  op.cls = role == CommRole::kAllReduce ? OpClass::kAttention : OpClass::kExperts;
  op.layer = layer;
  op.collective = collective;
  op.comm_role = role;
  return add_op_deps(op, deps);
}

void Planner::plan(const TraceStep& step, StepPlan& out) {
  plan_impl(step, out, nullptr, 1);
}

void Planner::plan(const TraceStep& step, StepPlan& out, const std::vector<ChipWork>& parts) {
  if (parts.empty()) throw InternalError("Planner::plan: at least one part expected");
  plan_impl(step, out, parts.data(), parts.size());
}

void Planner::set_requests(const TraceStep& step, const ChipWork* work) {
  // Requests in this step with their query tokens and positions.
  m_requests.clear();
  std::vector<TraceToken> sorted;
  if (work) {
    for (uint32_t i : work->tokens) sorted.push_back(step.tokens[i]);
  } else {
    sorted = step.tokens;
  }
  std::sort(sorted.begin(), sorted.end(), [](const TraceToken& a, const TraceToken& b) {
    return a.request != b.request ? a.request < b.request : a.position < b.position;
  });
  for (const TraceToken& tok : sorted) {
    if (!m_requests.empty() && m_requests.back().request == tok.request) {
      RequestSlice& r = m_requests.back();
      ++r.q_tokens;
      r.last_pos = tok.position;
    } else {
      m_requests.push_back({tok.request, 1, tok.position, tok.position});
    }
  }
}

void Planner::plan_impl(const TraceStep& step, StepPlan& out, const ChipWork* parts,
                        size_t nparts) {
  out.clear();
  m_out = &out;
  m_step = &step;
  m_ring.clear();
  m_touching.clear();
  m_ffns = 0;
  m_ffn = 0;
  m_dense_tier = m_store ? m_store->dense_tier() : kRoleTier;
  const ModelSpec& md = m_model;
  if (step.layers != md.moe_layers()) {
    throw InternalError(fmt::format("step {} has {} layers, model has {} MoE layers", step.index,
                                    step.layers, md.moe_layers()));
  }
  // One part per micro-batch (one chip: the whole step); each keeps its own chain of ops,
  // and the parts' layers interleave, so one part's collectives overlap another's compute.
  std::vector<PartState> state(nparts);
  out.tokens = 0;
  for (size_t p = 0; p < nparts; ++p) {
    const ChipWork* work = parts ? &parts[p] : nullptr;
    set_requests(step, work);
    state[p].requests.swap(m_requests);
    state[p].t = work ? static_cast<uint32_t>(work->tokens.size()) : step.num_tokens();
    out.tokens += state[p].t;
  }
  out.step = &step;
  out.experts = md.experts;
  out.top_k = md.top_k;
  out.act_bytes = md.act_bytes;
  out.assignments = step.assignments();

  // Experts moving to this chip or from it (a rebalanced placement) start with the step.
  m_rebalance_op.assign(md.layers, UINT32_MAX);
  if (parts && !parts[0].rebalance.empty()) {
    for (uint32_t layer = 0; layer < md.layers; ++layer) {
      const uint32_t id = parts[0].rebalance[layer];
      if (id != ChipWork::kNoCollective) {
        m_rebalance_op[layer] = add_comm(CommRole::kRebalance, layer, id, {});
      }
    }
  }
  uint32_t moe_index = 0;
  for (uint32_t layer = 0; layer < md.layers; ++layer) {
    const uint32_t l = moe_index;
    if (md.is_moe_layer(layer)) ++moe_index;
    for (size_t p = 0; p < nparts; ++p) {
      PartState& ps = state[p];
      m_work = parts ? &parts[p] : nullptr;
      m_requests.swap(ps.requests);
      plan_layer(layer, l, ps.t, ps.prev, ps.kv_dep);
      m_requests.swap(ps.requests);
    }
  }
  m_out = nullptr;
  m_step = nullptr;
  m_work = nullptr;
}

void Planner::plan_layer(uint32_t layer, uint32_t l, uint32_t t, uint32_t& prev, uint32_t& kv_dep) {
  const ModelSpec& md = m_model;
  const TraceStep& step = *m_step;
  StepPlan& out = *m_out;
  const ChipWork* work = m_work;
  m_part_tokens = t;
  // A data-parallel group with no request in this step only serves its experts.
  const bool idle = work && t == 0;
  uint32_t norm2 = prev;
  if (!idle) {
    const uint32_t norm1 =
        add_vector_op(OpClass::kNorm, VecFn::kNorm, layer, uint64_t{t} * md.hidden, {prev});
    norm2 = add_attention(layer, norm1, kv_dep);
  }
  if (!md.is_moe_layer(layer)) {
    if (idle) return;
    std::vector<uint32_t> downs =
        add_ffn(OpClass::kDense, layer, t, md.dense_ffn, {norm2}, m_dense_tier);
    if (work && work->ffn_reduce[layer] != ChipWork::kNoCollective) {
      downs = {add_comm(CommRole::kAllReduce, layer, work->ffn_reduce[layer], downs)};
    }
    prev = add_vector_op(OpClass::kDense, VecFn::kCombine, layer, uint64_t{t} * md.hidden, downs);
    return;
  }
  // Tensor-parallel experts: no dispatch or combine, an all-reduce of the slices' outputs.
  const bool tp_experts = work && work->dispatch[layer] == ChipWork::kNoCollective;
  if (tp_experts && idle) return;
  // Tokens this chip routes (with tensor parallelism, its share of the group's tokens).
  const uint32_t tm = work ? work->moe_tokens : t;
  uint32_t topk = norm2;
  if (!work || tm > 0) {
    std::vector<uint32_t> router =
        add_streamed_gemm(OpClass::kGating, layer, tm, md.hidden, md.experts, {norm2});
    // Its result: each token's expert ids and gate weights.
    topk = add_vector_op(OpClass::kGating, VecFn::kTopK, layer, uint64_t{tm} * md.experts, router,
                         2ull * tm * md.top_k);
  }
  // Several chips: the tokens cross to their experts' chips before the experts run.
  std::vector<uint32_t> dispatch_deps = {topk};
  if (m_rebalance_op[layer] != UINT32_MAX) dispatch_deps.push_back(m_rebalance_op[layer]);
  const uint32_t ready = work && !tp_experts ? add_comm(CommRole::kDispatch, layer,
                                                        work->dispatch[layer], dispatch_deps)
                                             : topk;

  std::fill(m_expert_tokens.begin(), m_expert_tokens.end(), 0);
  uint64_t combined = 0;
  if (work) {
    std::copy_n(work->expert_tokens.begin() + size_t{l} * md.experts, md.experts,
                m_expert_tokens.begin());
    combined = work->combined[l];
  }
  for (uint32_t tok = 0; tok < (work ? 0 : t); ++tok) {
    for (uint32_t r = step.route_begin(l, tok); r < step.route_end(l, tok); ++r) {
      const int32_t e = step.experts[r];
      if (e >= 0) {
        if (static_cast<uint32_t>(e) >= md.experts) {
          throw InternalError(fmt::format("expert id {} out of range in step {}", e, step.index));
        }
        ++m_expert_tokens[static_cast<uint32_t>(e)];
      }
      if (e != kNullExpert) ++combined;
    }
  }
  std::vector<uint32_t> ends;
  // One run of expert e for `tokens` tokens: its weights stream in, then its FFN.
  auto run_expert = [&](uint32_t e, uint32_t tokens) {
    ++out.experts_run;
    m_expert = e;
    if (!m_store) {
      std::vector<uint32_t> downs =
          add_ffn(OpClass::kExperts, layer, tokens, md.expert_ffn, {ready});
      ends.insert(ends.end(), downs.begin(), downs.end());
      m_expert = kNoExpert;
      return;
    }
    // Fill the cache tiers on a miss, then stream the tiles from the tier holding it.
    m_fetch.copies.clear();
    m_store->fetch(l, e, m_fetch);
    add_copies(m_fetch.copies, layer, topk);
    const uint32_t key = l * md.experts + e;
    std::vector<uint32_t>& held = touching(m_fetch.stream_tier, key);
    const std::vector<uint32_t> wait = held;
    std::vector<uint32_t> loads;
    std::vector<uint32_t> downs = add_ffn(OpClass::kExperts, layer, tokens, md.expert_ffn, {ready},
                                          m_fetch.stream_tier, wait, &loads);
    held.insert(held.end(), loads.begin(), loads.end());
    ends.insert(ends.end(), downs.begin(), downs.end());
    m_expert = kNoExpert;
  };
  if (m_options.per_token_experts && !work) {
    // Per-token baseline: each token's experts in turn, one token each, weights loaded for
    // every run.
    for (uint32_t tok = 0; tok < t; ++tok) {
      for (uint32_t r = step.route_begin(l, tok); r < step.route_end(l, tok); ++r) {
        if (step.experts[r] >= 0) run_expert(static_cast<uint32_t>(step.experts[r]), 1);
      }
    }
  } else {
    // Patch reordering: experts one by one, each with exactly its routed tokens, so its
    // weights load once.
    for (uint32_t e = 0; e < md.experts; ++e) {
      if (m_expert_tokens[e] > 0) run_expert(e, m_expert_tokens[e]);
    }
  }
  if (m_store) {
    // Prefetch for the next layer while this one runs.
    m_prefetch.clear();
    m_store->prefetch(step, l, m_prefetch);
    add_copies(m_prefetch, layer, topk);
  }
  if (tp_experts) {
    // The partial outputs of every chip's slices are summed over the group.
    ends.push_back(ready);
    ends = {add_comm(CommRole::kAllReduce, layer, work->ffn_reduce[layer], ends)};
  } else if (work) {
    // The expert outputs return to their tokens' chips (after every local expert).
    ends.push_back(ready);
    ends = {add_comm(CommRole::kCombine, layer, work->combine[layer], ends)};
  }
  if (work && tm == 0) {
    prev = ends.front();  // no token of its own to combine
  } else {
    for (uint32_t s = 0; s < md.shared_experts; ++s) {
      std::vector<uint32_t> downs =
          add_ffn(OpClass::kShared, layer, tm, md.shared_ffn, {norm2}, m_dense_tier);
      ends.insert(ends.end(), downs.begin(), downs.end());
    }
    ends.push_back(topk);
    const uint64_t combine_elems =
        (combined + uint64_t{md.shared_experts} * tm + tm) * md.hidden;  // + residual
    prev = add_vector_op(OpClass::kCombine, VecFn::kCombine, layer, combine_elems, ends,
                         uint64_t{tm} * md.hidden);
  }
  if (work && work->gather[layer] != ChipWork::kNoCollective) {
    // Tensor parallel: every chip of the group needs all its tokens for the next layer.
    prev = add_comm(CommRole::kAllGather, layer, work->gather[layer], {prev});
  }
}

}  // namespace moesim
