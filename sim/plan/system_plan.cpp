#include "sim/plan/system_plan.hpp"

#include <algorithm>
#include <numeric>

#include "sim/core/error.hpp"

namespace moesim {

ModelSpec SystemPlanner::tensor_slice(const ModelSpec& model, uint32_t tp, bool experts) {
  ModelSpec m = model;
  if (tp <= 1) return m;
  m.heads = model.heads / tp;
  m.kv_heads = std::max<uint32_t>(1, model.kv_heads / tp);
  m.kv_dim = static_cast<uint32_t>(uint64_t{model.kv_dim} * m.kv_heads / model.kv_heads);
  m.attention_params = model.attention_params / tp;
  m.dense_ffn = model.dense_ffn / tp;
  if (experts) {
    m.expert_ffn = model.expert_ffn / tp;
    m.shared_ffn = model.shared_ffn / tp;
  }
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
  const Placement& pl = m_map.placement;
  if (n > 1 && (pl.layers != model.moe_layers() || pl.experts != model.experts ||
                pl.chips != mapping.expert_parallel ||
                pl.slot_chip.size() != size_t{pl.layers} * pl.slots)) {
    throw InternalError("SystemPlanner: an indexed placement of every MoE layer expected");
  }
  if (n > 1)
    m_router =
        ReplicaRouter(&pl, n / mapping.expert_parallel, m_map.locality, m_map.chips_per_node);
  if (mapping.expert_tensor_parallel && mapping.expert_parallel != 1) {
    throw InternalError("SystemPlanner: tensor-parallel experts need expert_parallel = 1");
  }
  const ModelSpec slice =
      tensor_slice(model, mapping.tensor_parallel, mapping.expert_tensor_parallel);
  m_planners.assign(n, Planner(n == 1 ? model : slice, options));
  if (mapping.micro_batches == 0) throw InternalError("SystemPlanner: micro_batches >= 1");
  m_work.assign(n, std::vector<ChipWork>(mapping.micro_batches));
  m_seen.assign(n, 0);
  m_hop_seen.assign(n, 0);
}

uint32_t SystemPlanner::new_collective(std::vector<CollectiveRequest>& out, CommRole role,
                                       uint32_t layer, std::vector<uint32_t> group,
                                       std::vector<uint64_t> bytes) {
  const auto id = static_cast<uint32_t>(out.size());
  out.push_back({role, layer, std::move(group), std::move(bytes)});
  return id;
}

void SystemPlanner::plan_part(const TraceStep& step, uint32_t part,
                              std::vector<CollectiveRequest>& collectives) {
  auto W = [&](uint32_t chip) -> ChipWork& { return m_work[chip][part]; };
  const ModelSpec& md = m_model;
  const uint32_t n = chips();
  const uint32_t tp = m_map.tensor_parallel;
  const uint32_t ep = m_map.expert_parallel;
  const uint32_t dp = m_map.dp_groups();
  const uint32_t layers = md.moe_layers();
  const uint32_t experts = md.experts;
  constexpr uint32_t kNo = ChipWork::kNoCollective;
  for (std::vector<ChipWork>& chip_parts : m_work) {
    ChipWork& w = chip_parts[part];
    w.tokens.clear();
    w.moe_tokens = 0;
    w.expert_tokens.assign(size_t{layers} * experts, 0);
    w.combined.assign(layers, 0);
    w.attn_reduce.assign(md.layers, kNo);
    w.ffn_reduce.assign(md.layers, kNo);
    w.dispatch.assign(md.layers, kNo);
    w.combine.assign(md.layers, kNo);
    w.gather.assign(md.layers, kNo);
    w.rebalance.clear();
  }
  // Attention: a request's tokens on data-parallel group request % dp (its KV cache stays
  // there); inside a group, tokens dispatch from its chips in turn.
  const uint32_t t = step.num_tokens();
  m_owner.resize(t);
  for (uint32_t i = 0; i < t; ++i) {
    const uint32_t r = step.tokens[i].request;
    m_owner[i] = UINT32_MAX;
    if (m_part_of[i] != part) continue;  // another micro-batch's token
    const uint32_t g = r % dp;
    std::vector<uint32_t>& toks = W(g * tp).tokens;
    const auto idx = static_cast<uint32_t>(toks.size());
    for (uint32_t k = 0; k < tp; ++k) W(g * tp + k).tokens.push_back(i);
    m_owner[i] = g * tp + idx % tp;
    if (m_map.expert_tensor_parallel) {
      // Every chip of the group routes every token of the group (router replicated).
      for (uint32_t k = 0; k < tp; ++k) ++W(g * tp + k).moe_tokens;
    } else {
      ++W(m_owner[i]).moe_tokens;
    }
  }
  const uint64_t row_bytes = uint64_t{md.hidden} * md.act_bytes;
  std::vector<uint64_t> sends(size_t{n} * ep);  // [src * ep + dst - base]: tokens (or copies)
  auto tp_collective = [&](CommRole role, uint32_t layer, std::vector<uint32_t> ChipWork::*slot) {
    if (tp == 1) return;
    for (uint32_t g = 0; g < dp; ++g) {
      const uint64_t tg = W(g * tp).tokens.size();
      if (tg == 0) continue;
      std::vector<uint32_t> group(tp);
      std::iota(group.begin(), group.end(), g * tp);
      const uint32_t id = new_collective(collectives, role, layer, group, {tg * row_bytes});
      for (uint32_t k = 0; k < tp; ++k) (W(g * tp + k).*slot)[layer] = id;
    }
  };
  const uint32_t cpn = m_map.chips_per_node == 0 ? n : m_map.chips_per_node;
  StepBalance& bal = m_balance;
  for (uint32_t i = 0; i < t; ++i) m_prev[i].clear();
  uint32_t l = 0;
  for (uint32_t layer = 0; layer < md.layers; ++layer) {
    tp_collective(CommRole::kAllReduce, layer, &ChipWork::attn_reduce);
    if (!md.is_moe_layer(layer)) {
      tp_collective(CommRole::kAllReduce, layer, &ChipWork::ffn_reduce);
      continue;
    }
    if (m_map.expert_tensor_parallel) {
      plan_tp_experts(step, part, l, layer, collectives);
      ++l;
      continue;
    }
    std::fill(sends.begin(), sends.end(), 0);
    for (uint32_t i = 0; i < t; ++i) {
      const uint32_t s = m_owner[i];
      if (s == UINT32_MAX) continue;  // another micro-batch's token
      const uint32_t base = s / ep * ep;
      ++m_stamp;
      m_cur[i].clear();
      for (uint32_t r = step.route_begin(l, i); r < step.route_end(l, i); ++r) {
        const int32_t e = step.experts[r];
        if (e != kNullExpert) ++W(s).combined[l];
        if (e < 0) continue;  // null, zero, copy and constant experts run nowhere
        if (static_cast<uint32_t>(e) >= experts) {
          throw InternalError("expert id out of range in step " + std::to_string(step.index));
        }
        const size_t key = size_t{l} * experts + static_cast<uint32_t>(e);
        const uint32_t d = base + m_router.route(base / ep, l, static_cast<uint32_t>(e), s);
        ++W(d).expert_tokens[key];
        ++m_layer_routed[size_t{l} * n + d];
        ++bal.copies;
        m_cur[i].push_back(d);
        bal.transitions += m_prev[i].size();
        for (uint32_t c : m_prev[i]) bal.cross += c != d;
        if (d != s) {
          ++bal.leave_chip;
          const bool other_node = d / cpn != s / cpn;
          bal.leave_node += other_node;
          if (m_hop_seen[d] != m_stamp) {
            m_hop_seen[d] = m_stamp;
            bal.hops += other_node ? 2 : 1;
          }
        }
        if (!m_map.dedup_dispatch || m_seen[d] != m_stamp) {
          m_seen[d] = m_stamp;
          ++sends[size_t{s} * ep + (d - base)];
        }
      }
      bal.token_layers += !m_cur[i].empty();
    }
    std::swap(m_prev, m_cur);
    // One dispatch and one combine per expert-parallel group.
    for (uint32_t base = 0; base < n; base += ep) {
      std::vector<uint32_t> group(ep);
      std::iota(group.begin(), group.end(), base);
      std::vector<uint64_t> there(size_t{ep} * ep);
      std::vector<uint64_t> back(size_t{ep} * ep);
      for (uint32_t i = 0; i < ep; ++i) {
        for (uint32_t j = 0; j < ep; ++j) {
          const uint64_t b = sends[size_t{base + i} * ep + j] * row_bytes;
          there[size_t{i} * ep + j] = b;
          back[size_t{j} * ep + i] = b;
        }
      }
      const uint32_t dis = new_collective(collectives, CommRole::kDispatch, layer, group, there);
      const uint32_t com =
          new_collective(collectives, CommRole::kCombine, layer, group, std::move(back));
      for (uint32_t c : group) {
        W(c).dispatch[layer] = dis;
        W(c).combine[layer] = com;
      }
    }
    tp_collective(CommRole::kAllGather, layer, &ChipWork::gather);
    ++l;
  }
}

void SystemPlanner::plan_tp_experts(const TraceStep& step, uint32_t part, uint32_t l,
                                    uint32_t layer, std::vector<CollectiveRequest>& collectives) {
  auto W = [&](uint32_t chip) -> ChipWork& { return m_work[chip][part]; };
  const uint32_t tp = m_map.tensor_parallel;
  const uint32_t experts = m_model.experts;
  const uint32_t n = chips();
  StepBalance& bal = m_balance;
  for (uint32_t i = 0; i < step.num_tokens(); ++i) {
    const uint32_t s = m_owner[i];
    if (s == UINT32_MAX) continue;  // another micro-batch's token
    const uint32_t g0 = s / tp * tp;
    bool any = false;
    for (uint32_t r = step.route_begin(l, i); r < step.route_end(l, i); ++r) {
      const int32_t e = step.experts[r];
      // Every chip of the group combines every token's copies and runs its slice of each.
      if (e != kNullExpert) {
        for (uint32_t k = 0; k < tp; ++k) ++W(g0 + k).combined[l];
      }
      if (e < 0) continue;
      if (static_cast<uint32_t>(e) >= experts) {
        throw InternalError("expert id out of range in step " + std::to_string(step.index));
      }
      const size_t key = size_t{l} * experts + static_cast<uint32_t>(e);
      for (uint32_t k = 0; k < tp; ++k) {
        ++W(g0 + k).expert_tokens[key];
        ++m_layer_routed[size_t{l} * n + g0 + k];
      }
      ++bal.copies;
      any = true;
    }
    bal.token_layers += any;
  }
  // The slices' partial outputs are summed over the group (Megatron's row-parallel reduce).
  const uint64_t row_bytes = uint64_t{m_model.hidden} * m_model.act_bytes;
  for (uint32_t g = 0; g < m_map.dp_groups(); ++g) {
    const uint64_t tg = W(g * tp).tokens.size();
    if (tg == 0) continue;
    std::vector<uint32_t> group(tp);
    std::iota(group.begin(), group.end(), g * tp);
    const uint32_t id =
        new_collective(collectives, CommRole::kAllReduce, layer, group, {tg * row_bytes});
    for (uint32_t k = 0; k < tp; ++k) W(g * tp + k).ffn_reduce[layer] = id;
  }
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
  const uint32_t n = chips();
  const uint32_t parts = m_map.micro_batches;
  m_balance = StepBalance{};
  m_balance.routed.assign(n, 0);
  m_balance.layer_imbalance.assign(m_model.moe_layers(), 1.0);
  m_layer_routed.assign(size_t{m_model.moe_layers()} * n, 0);
  m_router.new_step();
  for (std::vector<uint32_t>& r : m_rebalance) r.clear();
  m_rebalance.resize(n);
  if (m_map.rebalance_every > 0 && m_steps > 0 && m_steps % m_map.rebalance_every == 0) {
    rebalance(collectives);
  }
  ++m_steps;
  // Micro-batches: each data-parallel group's tokens, in (request, position) order, cut into
  // `parts` consecutive chunks (whole requests in decode; a long prompt is split in prefill).
  const uint32_t dp = m_map.dp_groups();
  const uint32_t t = step.num_tokens();
  m_part_of.assign(t, 0);
  m_prev.resize(t);
  m_cur.resize(t);
  if (parts > 1) {
    std::vector<std::vector<uint32_t>> by_group(dp);
    for (uint32_t i = 0; i < t; ++i) by_group[step.tokens[i].request % dp].push_back(i);
    for (std::vector<uint32_t>& g : by_group) {
      std::stable_sort(g.begin(), g.end(), [&](uint32_t a, uint32_t b) {
        const TraceToken& x = step.tokens[a];
        const TraceToken& y = step.tokens[b];
        return x.request != y.request ? x.request < y.request : x.position < y.position;
      });
      for (size_t k = 0; k < g.size(); ++k) {
        m_part_of[g[k]] = static_cast<uint32_t>(k * parts / g.size());
      }
    }
  }
  for (uint32_t p = 0; p < parts; ++p) plan_part(step, p, collectives);
  // Imbalance of the whole step (all micro-batches) per MoE layer.
  for (uint32_t l = 0; l < m_model.moe_layers(); ++l) {
    uint64_t max_r = 0;
    uint64_t sum_r = 0;
    for (uint32_t c = 0; c < n; ++c) {
      const uint64_t r = m_layer_routed[size_t{l} * n + c];
      m_balance.routed[c] += r;
      max_r = std::max(max_r, r);
      sum_r += r;
    }
    if (sum_r > 0) {
      m_balance.layer_imbalance[l] = static_cast<double>(max_r) * n / static_cast<double>(sum_r);
    }
  }
  if (m_map.rebalance_every > 0) {
    // The moving average of the routed copies per (MoE layer, expert).
    const uint32_t experts = m_model.experts;
    const double a = m_map.rebalance_alpha;
    m_load_avg.resize(size_t{m_model.moe_layers()} * experts, 0.0);
    std::vector<double> load(m_load_avg.size(), 0.0);
    for (uint32_t l = 0; l < m_model.moe_layers(); ++l) {
      for (uint32_t i = 0; i < t; ++i) {
        for (uint32_t r = step.route_begin(l, i); r < step.route_end(l, i); ++r) {
          const int32_t e = step.experts[r];
          if (e >= 0) load[size_t{l} * experts + static_cast<uint32_t>(e)] += 1.0;
        }
      }
    }
    for (size_t k = 0; k < load.size(); ++k) {
      m_load_avg[k] = m_steps == 1 ? load[k] : a * load[k] + (1.0 - a) * m_load_avg[k];
    }
    for (ChipId c = 0; c < n; ++c) m_work[c][0].rebalance = m_rebalance[c];
  }
  for (ChipId c = 0; c < n; ++c) m_planners[c].plan(step, *out[c], m_work[c]);
}

namespace {

/// Rows `a` of `x` and `b` of `y` (k columns of 0/1): columns set in both.
uint32_t common(const std::vector<uint8_t>& x, uint32_t a, const std::vector<uint8_t>& y,
                uint32_t b, uint32_t k) {
  uint32_t n = 0;
  for (uint32_t e = 0; e < k; ++e) n += x[size_t{a} * k + e] & y[size_t{b} * k + e];
  return n;
}

/// A one-to-one map of n new items to n old ones: allowed pairs by decreasing weight (ties to
/// the lower new, then old item), each taken when both are still free.
template <class Weight, class Allowed>
std::vector<uint32_t> greedy_match(uint32_t n, Weight weight, Allowed allowed) {
  std::vector<std::pair<uint32_t, uint32_t>> pairs;  // (weight, a * n + b)
  for (uint32_t a = 0; a < n; ++a) {
    for (uint32_t b = 0; b < n; ++b) {
      if (allowed(a, b)) pairs.emplace_back(weight(a, b), a * n + b);
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
  std::vector<uint32_t> perm(n, UINT32_MAX);
  std::vector<uint8_t> used(n, 0);
  for (const auto& [w, k] : pairs) {
    (void)w;
    const uint32_t a = k / n;
    const uint32_t b = k % n;
    if (perm[a] != UINT32_MAX || used[b]) continue;
    perm[a] = b;
    used[b] = 1;
  }
  for (uint32_t a = 0; a < n; ++a) {
    if (perm[a] == UINT32_MAX) throw InternalError("greedy_match: no allowed partner");
  }
  return perm;
}

}  // namespace

void SystemPlanner::rebalance(std::vector<CollectiveRequest>& collectives) {
  if (!m_map.replan) throw InternalError("SystemPlanner: rebalancing without a policy");
  Placement next = m_map.replan(m_load_avg);
  const Placement& old = m_map.placement;
  if (next.layers != old.layers || next.experts != old.experts || next.chips != old.chips ||
      next.slots != old.slots) {
    throw InternalError("SystemPlanner: a rebalanced placement of another shape");
  }
  const uint32_t ep = old.chips;
  const uint32_t experts = old.experts;
  const uint32_t slots = old.slots;
  const uint32_t n = chips();
  // Nodes inside a group (chips are only relabelled inside their node).
  const uint32_t cpn = m_map.chips_per_node;
  const uint32_t gcpn = cpn == 0 || ep % cpn != 0 ? ep : cpn;
  const uint64_t expert_bytes = m_model.expert_bytes();
  std::vector<uint32_t> layer_of;  // MoE layer -> transformer layer
  for (uint32_t layer = 0; layer < m_model.layers; ++layer) {
    if (m_model.is_moe_layer(layer)) layer_of.push_back(layer);
  }
  for (std::vector<uint32_t>& r : m_rebalance) r.assign(m_model.layers, ChipWork::kNoCollective);
  std::vector<uint8_t> held_old(size_t{ep} * experts), held_new(size_t{ep} * experts);
  std::vector<uint32_t> perm(ep), sent(ep);
  bool any = false;
  for (uint32_t l = 0; l < old.layers; ++l) {
    std::fill(held_old.begin(), held_old.end(), 0);
    std::fill(held_new.begin(), held_new.end(), 0);
    for (uint32_t s = 0; s < slots; ++s) {
      held_old[size_t{old.chip_of_slot(l, s)} * experts + old.phy2log[size_t{l} * slots + s]] = 1;
      held_new[size_t{next.chip_of_slot(l, s)} * experts + next.phy2log[size_t{l} * slots + s]] = 1;
    }
    // Greedy matching of the new nodes to the old ones, then of the new chips to the old
    // chips of the matched node: most experts in common first (ties to the lower pair).
    const uint32_t nodes = ep / gcpn;
    std::vector<uint8_t> node_old(size_t{nodes} * experts, 0), node_new(size_t{nodes} * experts, 0);
    for (uint32_t c = 0; c < ep; ++c) {
      for (uint32_t e = 0; e < experts; ++e) {
        node_old[size_t{c / gcpn} * experts + e] |= held_old[size_t{c} * experts + e];
        node_new[size_t{c / gcpn} * experts + e] |= held_new[size_t{c} * experts + e];
      }
    }
    const std::vector<uint32_t> node_perm = greedy_match(
        nodes, [&](uint32_t a, uint32_t b) { return common(node_new, a, node_old, b, experts); },
        [](uint32_t, uint32_t) { return true; });
    perm = greedy_match(
        ep, [&](uint32_t a, uint32_t b) { return common(held_new, a, held_old, b, experts); },
        [&](uint32_t a, uint32_t b) { return node_perm[a / gcpn] == b / gcpn; });
    for (uint32_t s = 0; s < slots; ++s) {
      uint32_t& c = next.slot_chip[size_t{l} * slots + s];
      c = perm[c];
    }
    std::fill(held_new.begin(), held_new.end(), 0);
    for (uint32_t s = 0; s < slots; ++s) {
      held_new[size_t{next.chip_of_slot(l, s)} * experts + next.phy2log[size_t{l} * slots + s]] = 1;
    }
    // Every expert a chip gains comes from a chip that held it: in its node if one did, the
    // one that sent least so far, ties to the lower chip.
    std::vector<uint64_t> bytes(size_t{ep} * ep, 0);
    std::fill(sent.begin(), sent.end(), 0);
    uint64_t moved = 0;
    for (uint32_t c = 0; c < ep; ++c) {
      for (uint32_t e = 0; e < experts; ++e) {
        if (!held_new[size_t{c} * experts + e] || held_old[size_t{c} * experts + e]) continue;
        uint32_t src = UINT32_MAX;
        for (uint32_t b = 0; b < ep; ++b) {
          if (!held_old[size_t{b} * experts + e]) continue;
          auto key = [&](uint32_t x) { return std::make_pair(x / gcpn != c / gcpn, sent[x]); };
          if (src == UINT32_MAX || key(b) < key(src)) src = b;
        }
        ++sent[src];
        bytes[size_t{src} * ep + c] += expert_bytes;
        ++moved;
      }
    }
    if (moved == 0) continue;
    any = true;
    for (uint32_t base = 0; base < n; base += ep) {
      std::vector<uint32_t> group(ep);
      std::iota(group.begin(), group.end(), base);
      const uint32_t id =
          new_collective(collectives, CommRole::kRebalance, layer_of[l], group, bytes);
      for (uint32_t c : group) m_rebalance[c][layer_of[l]] = id;
      m_balance.moved += moved;
    }
  }
  m_balance.rebalanced = true;
  if (!any) {
    for (std::vector<uint32_t>& r : m_rebalance) r.clear();
  }
  const std::string err = next.index();
  if (!err.empty()) throw InternalError("rebalanced placement: " + err);
  m_map.placement = std::move(next);
}

}  // namespace moesim
