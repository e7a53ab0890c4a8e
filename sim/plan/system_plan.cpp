#include "sim/plan/system_plan.hpp"

#include <algorithm>
#include <numeric>

#include "sim/core/error.hpp"

namespace moesim {

ModelSpec SystemPlanner::tensor_slice(const ModelSpec& model, uint32_t tp) {
  ModelSpec m = model;
  if (tp <= 1) return m;
  m.heads = model.heads / tp;
  m.kv_heads = std::max<uint32_t>(1, model.kv_heads / tp);
  m.kv_dim = static_cast<uint32_t>(uint64_t{model.kv_dim} * m.kv_heads / model.kv_heads);
  m.attention_params = model.attention_params / tp;
  m.dense_ffn = model.dense_ffn / tp;
  return m;
}

SystemPlanner::SystemPlanner(const ModelSpec& model, const PlanOptions& options,
                             const ParallelMapping& mapping)
    : m_model(model), m_map(mapping) {
  const uint32_t n = mapping.chips;
  if (n == 0 || mapping.tensor_parallel == 0 || mapping.expert_parallel == 0 ||
      n % mapping.tensor_parallel != 0 || n % mapping.expert_parallel != 0) {
    throw InternalError("SystemPlanner: parallel degrees must divide the chips");
  }
  if (n > 1 && mapping.expert_chip.size() != size_t{model.moe_layers()} * model.experts) {
    throw InternalError("SystemPlanner: one chip per (MoE layer, expert) expected");
  }
  const ModelSpec slice = tensor_slice(model, mapping.tensor_parallel);
  m_planners.assign(n, Planner(n == 1 ? model : slice, options));
  m_work.resize(n);
  m_seen.assign(n, 0);
}

uint32_t SystemPlanner::new_collective(std::vector<CollectiveRequest>& out, CommRole role,
                                       uint32_t layer, std::vector<uint32_t> group,
                                       std::vector<uint64_t> bytes) {
  const auto id = static_cast<uint32_t>(out.size());
  const size_t g = group.size();
  for (ChipWork& w : m_work) w.comm_bytes.push_back(0);
  // What each member sends: its row of an all-to-all-v (not to itself); for reductions
  // and gathers the ring algorithm's 2(n-1)/n and (n-1)/n of the per-chip bytes.
  for (size_t i = 0; i < g; ++i) {
    uint64_t sent = 0;
    if (role == CommRole::kDispatch || role == CommRole::kCombine) {
      for (size_t j = 0; j < g; ++j) sent += j == i ? 0 : bytes[i * g + j];
    } else {
      const uint64_t factor = role == CommRole::kAllReduce ? 2 : 1;
      sent = bytes[0] * factor * (g - 1) / g;
    }
    m_work[group[i]].comm_bytes[id] = sent;
  }
  out.push_back({role, layer, std::move(group), std::move(bytes)});
  return id;
}

void SystemPlanner::plan(const TraceStep& step, const std::vector<StepPlan*>& out,
                         std::vector<CollectiveRequest>& collectives) {
  if (out.size() != m_planners.size()) {
    throw InternalError("SystemPlanner::plan: one plan per chip expected");
  }
  collectives.clear();
  if (m_planners.size() == 1) {
    m_planners[0].plan(step, *out[0]);
    return;
  }
  const ModelSpec& md = m_model;
  const uint32_t n = chips();
  const uint32_t tp = m_map.tensor_parallel;
  const uint32_t ep = m_map.expert_parallel;
  const uint32_t dp = m_map.dp_groups();
  const uint32_t layers = md.moe_layers();
  const uint32_t experts = md.experts;
  constexpr uint32_t kNo = ChipWork::kNoCollective;
  for (ChipWork& w : m_work) {
    w.tokens.clear();
    w.moe_tokens = 0;
    w.expert_tokens.assign(size_t{layers} * experts, 0);
    w.combined.assign(layers, 0);
    w.attn_reduce.assign(md.layers, kNo);
    w.ffn_reduce.assign(md.layers, kNo);
    w.dispatch.assign(md.layers, kNo);
    w.combine.assign(md.layers, kNo);
    w.gather.assign(md.layers, kNo);
    w.comm_bytes.clear();
  }
  // Attention: a request's tokens on data-parallel group request % dp (its KV cache stays
  // there); inside a group, tokens dispatch from its chips in turn.
  const uint32_t t = step.num_tokens();
  m_owner.resize(t);
  for (uint32_t i = 0; i < t; ++i) {
    const uint32_t g = step.tokens[i].request % dp;
    std::vector<uint32_t>& toks = m_work[g * tp].tokens;
    const auto idx = static_cast<uint32_t>(toks.size());
    for (uint32_t k = 0; k < tp; ++k) m_work[g * tp + k].tokens.push_back(i);
    m_owner[i] = g * tp + idx % tp;
    ++m_work[m_owner[i]].moe_tokens;
  }
  m_balance.routed.assign(n, 0);
  m_balance.layer_imbalance.assign(layers, 1.0);
  const uint64_t row_bytes = uint64_t{md.hidden} * md.act_bytes;
  std::vector<uint64_t> sends(size_t{n} * n);  // [src * n + dst]: tokens (or copies)
  std::vector<uint64_t> layer_routed(n);
  uint64_t stamp = 0;
  auto tp_collective = [&](CommRole role, uint32_t layer, std::vector<uint32_t> ChipWork::*slot) {
    if (tp == 1) return;
    for (uint32_t g = 0; g < dp; ++g) {
      const uint64_t tg = m_work[g * tp].tokens.size();
      if (tg == 0) continue;
      std::vector<uint32_t> group(tp);
      std::iota(group.begin(), group.end(), g * tp);
      const uint32_t id = new_collective(collectives, role, layer, group, {tg * row_bytes});
      for (uint32_t k = 0; k < tp; ++k) (m_work[g * tp + k].*slot)[layer] = id;
    }
  };
  uint32_t l = 0;
  for (uint32_t layer = 0; layer < md.layers; ++layer) {
    tp_collective(CommRole::kAllReduce, layer, &ChipWork::attn_reduce);
    if (!md.is_moe_layer(layer)) {
      tp_collective(CommRole::kAllReduce, layer, &ChipWork::ffn_reduce);
      continue;
    }
    std::fill(sends.begin(), sends.end(), 0);
    std::fill(layer_routed.begin(), layer_routed.end(), 0);
    for (uint32_t i = 0; i < t; ++i) {
      const uint32_t s = m_owner[i];
      const uint32_t base = s / ep * ep;
      ++stamp;
      for (uint32_t r = step.route_begin(l, i); r < step.route_end(l, i); ++r) {
        const int32_t e = step.experts[r];
        if (e != kNullExpert) ++m_work[s].combined[l];
        if (e < 0) continue;  // null, zero, copy and constant experts run nowhere
        if (static_cast<uint32_t>(e) >= experts) {
          throw InternalError("expert id out of range in step " + std::to_string(step.index));
        }
        const size_t key = size_t{l} * experts + static_cast<uint32_t>(e);
        const uint32_t d = base + m_map.expert_chip[key];
        ++m_work[d].expert_tokens[key];
        ++layer_routed[d];
        if (!m_map.dedup_dispatch || m_seen[d] != stamp) {
          m_seen[d] = stamp;
          ++sends[size_t{s} * n + d];
        }
      }
    }
    // One dispatch and one combine per expert-parallel group.
    for (uint32_t base = 0; base < n; base += ep) {
      std::vector<uint32_t> group(ep);
      std::iota(group.begin(), group.end(), base);
      std::vector<uint64_t> there(size_t{ep} * ep);
      std::vector<uint64_t> back(size_t{ep} * ep);
      for (uint32_t i = 0; i < ep; ++i) {
        for (uint32_t j = 0; j < ep; ++j) {
          const uint64_t b = sends[size_t{base + i} * n + base + j] * row_bytes;
          there[size_t{i} * ep + j] = b;
          back[size_t{j} * ep + i] = b;
        }
      }
      const uint32_t dis = new_collective(collectives, CommRole::kDispatch, layer, group, there);
      const uint32_t com =
          new_collective(collectives, CommRole::kCombine, layer, group, std::move(back));
      for (uint32_t c : group) {
        m_work[c].dispatch[layer] = dis;
        m_work[c].combine[layer] = com;
      }
    }
    tp_collective(CommRole::kAllGather, layer, &ChipWork::gather);
    uint64_t max_r = 0;
    uint64_t sum_r = 0;
    for (uint32_t c = 0; c < n; ++c) {
      m_balance.routed[c] += layer_routed[c];
      max_r = std::max(max_r, layer_routed[c]);
      sum_r += layer_routed[c];
    }
    if (sum_r > 0) {
      m_balance.layer_imbalance[l] = static_cast<double>(max_r) * n / static_cast<double>(sum_r);
    }
    ++l;
  }
  for (ChipId c = 0; c < n; ++c) m_planners[c].plan(step, *out[c], m_work[c]);
}

}  // namespace moesim
