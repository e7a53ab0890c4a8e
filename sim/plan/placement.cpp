#include "sim/plan/placement.hpp"

#include <algorithm>
#include <numeric>
#include <queue>

#include <fmt/format.h>

#include "sim/core/error.hpp"

namespace moesim {

std::string Placement::index() {
  if (chips == 0 || slots < experts || phy2log.size() != size_t{layers} * slots) {
    return fmt::format("{} layers x {} slots do not hold {} experts on {} chips", layers, slots,
                       experts, chips);
  }
  if (slot_chip.empty()) {
    if (slots % chips != 0) {
      return fmt::format("{} slots per layer do not split evenly over {} chips", slots, chips);
    }
    slot_chip.resize(phy2log.size());
    const uint32_t per = slots / chips;
    for (size_t i = 0; i < slot_chip.size(); ++i) {
      slot_chip[i] = static_cast<uint32_t>(i % slots) / per;
    }
  }
  m_rep_begin.assign(size_t{layers} * experts + 1, 0);
  for (uint32_t l = 0; l < layers; ++l) {
    for (uint32_t s = 0; s < slots; ++s) {
      const uint32_t e = phy2log[size_t{l} * slots + s];
      if (e >= experts) {
        return fmt::format("slot {} of layer {} holds expert {} (the model has {} experts)", s, l,
                           e, experts);
      }
      if (slot_chip[size_t{l} * slots + s] >= chips) {
        return fmt::format("slot {} of layer {} is on chip {} (the group has {} chips)", s, l,
                           slot_chip[size_t{l} * slots + s], chips);
      }
      ++m_rep_begin[size_t{l} * experts + e + 1];
    }
  }
  for (size_t k = 0; k + 1 < m_rep_begin.size(); ++k) {
    if (m_rep_begin[k + 1] == 0) {
      return fmt::format("expert {} of layer {} has no replica (every expert needs one)",
                         k % experts, k / experts);
    }
    m_rep_begin[k + 1] += m_rep_begin[k];
  }
  m_rep_slot.assign(phy2log.size(), 0);
  std::vector<uint32_t> fill(m_rep_begin.begin(), m_rep_begin.end() - 1);
  for (uint32_t l = 0; l < layers; ++l) {
    for (uint32_t s = 0; s < slots; ++s) {
      m_rep_slot[fill[size_t{l} * experts + phy2log[size_t{l} * slots + s]]++] = s;
    }
  }
  return {};
}

Placement Placement::round_robin(uint32_t layers, uint32_t experts, uint32_t chips) {
  Placement p;
  p.layers = layers;
  p.experts = experts;
  p.chips = chips;
  p.slots = experts;
  p.phy2log.resize(size_t{layers} * experts);
  const uint32_t per = experts / chips;
  for (size_t i = 0; i < p.phy2log.size(); ++i) {
    const auto s = static_cast<uint32_t>(i % experts);
    p.phy2log[i] = s / per + s % per * chips;
  }
  const std::string err = p.index();
  if (!err.empty()) throw InternalError("round_robin placement: " + err);
  return p;
}

void balanced_packing(const std::vector<double>& weight, uint32_t packs,
                      std::vector<uint32_t>& pack, std::vector<uint32_t>& rank) {
  const auto n = static_cast<uint32_t>(weight.size());
  pack.assign(n, 0);
  rank.assign(n, 0);
  const uint32_t per = n / packs;
  if (per == 1) {  // one item per pack: item i in pack i (as EPLB does)
    std::iota(pack.begin(), pack.end(), 0);
    return;
  }
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return weight[a] > weight[b]; });
  std::vector<double> load(packs, 0);
  std::vector<uint32_t> items(packs, 0);
  for (uint32_t i : order) {
    uint32_t best = UINT32_MAX;
    for (uint32_t p = 0; p < packs; ++p) {
      if (items[p] < per && (best == UINT32_MAX || load[p] < load[best])) best = p;
    }
    pack[i] = best;
    rank[i] = items[best]++;
    load[best] += weight[i];
  }
}

void replicate_experts(const std::vector<double>& weight, uint32_t phys,
                       std::vector<uint32_t>& phy2log, std::vector<uint32_t>& rank,
                       std::vector<uint32_t>& count) {
  const auto n = static_cast<uint32_t>(weight.size());
  phy2log.resize(phys);
  rank.assign(phys, 0);
  count.assign(n, 1);
  std::iota(phy2log.begin(), phy2log.begin() + n, 0);
  for (uint32_t s = n; s < phys; ++s) {
    uint32_t best = 0;
    for (uint32_t e = 1; e < n; ++e) {
      if (weight[e] / count[e] > weight[best] / count[best]) best = e;
    }
    phy2log[s] = best;
    rank[s] = count[best]++;
  }
}

namespace {

/// The inverse of a permutation.
std::vector<uint32_t> inverse(const std::vector<uint32_t>& perm) {
  std::vector<uint32_t> inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = static_cast<uint32_t>(i);
  return inv;
}

void check_shape(const PlacementInput& in, uint32_t slots) {
  if (slots < in.experts) {
    throw InputError(fmt::format("{} physical slots per layer are fewer than the {} experts", slots,
                                 in.experts));
  }
  if (slots % in.chips != 0) {
    throw InputError(fmt::format("{} physical slots per layer do not split evenly over {} chips",
                                 slots, in.chips));
  }
  if (in.load.size() != size_t{in.layers} * in.experts) {
    throw InternalError("placement: one load per (layer, expert) expected");
  }
}

void finish(const PlacementInput& in, uint32_t slots, Placement& out) {
  out.layers = in.layers;
  out.experts = in.experts;
  out.chips = in.chips;
  out.slots = slots;
  out.slot_chip.clear();
  const std::string err = out.index();
  if (!err.empty()) throw InternalError("placement: " + err);
}

}  // namespace

void eplb_rebalance(const PlacementInput& in, uint32_t groups, bool hierarchical, Placement& out) {
  const uint32_t slots = in.slots == 0 ? in.experts : in.slots;
  check_shape(in, slots);
  const uint32_t E = in.experts;
  uint32_t nodes = in.nodes();
  if (!hierarchical || groups == 0 || groups % nodes != 0 || E % groups != 0) {
    groups = 1;  // the global policy: one group, one node
    nodes = 1;
  }
  if (slots % nodes != 0 || E % nodes != 0) {
    throw InputError(
        fmt::format("{} slots and {} experts must split evenly over {} nodes", slots, E, nodes));
  }
  const uint32_t gsize = E / groups;
  const uint32_t gpn = groups / nodes;
  const uint32_t per_gpu = slots / in.chips;
  const uint32_t gpus_per_node = in.chips / nodes;
  const uint32_t log_per_node = E / nodes;
  const uint32_t phy_per_node = slots / nodes;
  out.phy2log.assign(size_t{in.layers} * slots, 0);
  std::vector<double> w(E), tpg(groups);
  std::vector<uint32_t> gpack, grank, log2mlog(E), p2m, prank, mcnt, pack, rank;
  for (uint32_t l = 0; l < in.layers; ++l) {
    std::copy_n(in.load.begin() + static_cast<ptrdiff_t>(size_t{l} * E), E, w.begin());
    // 1. Expert groups onto nodes.
    for (uint32_t g = 0; g < groups; ++g) {
      tpg[g] = std::accumulate(w.begin() + g * gsize, w.begin() + (g + 1) * gsize, 0.0);
    }
    balanced_packing(tpg, nodes, gpack, grank);
    for (uint32_t e = 0; e < E; ++e) {
      const uint32_t g = e / gsize;
      log2mlog[e] = (gpack[g] * gpn + grank[g]) * gsize + e % gsize;
    }
    const std::vector<uint32_t> mlog2log = inverse(log2mlog);
    for (uint32_t n = 0; n < nodes; ++n) {
      // 2. Replicas inside the node.
      std::vector<double> tm(log_per_node);
      for (uint32_t k = 0; k < log_per_node; ++k) tm[k] = w[mlog2log[n * log_per_node + k]];
      replicate_experts(tm, phy_per_node, p2m, prank, mcnt);
      // 3. Replicas onto the node's chips, equal counts.
      std::vector<double> tp(phy_per_node);
      for (uint32_t p = 0; p < phy_per_node; ++p) tp[p] = tm[p2m[p]] / mcnt[p2m[p]];
      balanced_packing(tp, gpus_per_node, pack, rank);
      for (uint32_t p = 0; p < phy_per_node; ++p) {
        const uint32_t q = pack[p] * per_gpu + rank[p];  // slot within the node
        out.phy2log[size_t{l} * slots + n * phy_per_node + q] = mlog2log[n * log_per_node + p2m[p]];
      }
    }
  }
  finish(in, slots, out);
}

void greedy_balanced(const PlacementInput& in, Placement& out) {
  const uint32_t slots = in.slots == 0 ? in.experts : in.slots;
  check_shape(in, slots);
  const uint32_t E = in.experts;
  const uint32_t per = slots / in.chips;
  out.phy2log.assign(size_t{in.layers} * slots, 0);
  std::vector<double> w(E);
  std::vector<uint32_t> p2l, rank, cnt, order(slots);
  std::vector<double> load(in.chips);
  std::vector<uint32_t> used(in.chips);
  for (uint32_t l = 0; l < in.layers; ++l) {
    std::copy_n(in.load.begin() + static_cast<ptrdiff_t>(size_t{l} * E), E, w.begin());
    replicate_experts(w, slots, p2l, rank, cnt);
    std::iota(order.begin(), order.end(), 0);
    auto weight = [&](uint32_t p) { return w[p2l[p]] / cnt[p2l[p]]; };
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return weight(a) > weight(b); });
    std::fill(load.begin(), load.end(), 0.0);
    std::fill(used.begin(), used.end(), 0);
    for (uint32_t p : order) {
      uint32_t best = UINT32_MAX;
      for (uint32_t c = 0; c < in.chips; ++c) {
        if (used[c] < per && (best == UINT32_MAX || load[c] < load[best])) best = c;
      }
      out.phy2log[size_t{l} * slots + best * per + used[best]++] = p2l[p];
      load[best] += weight(p);
    }
  }
  finish(in, slots, out);
}

ReplicaRouter::ReplicaRouter(const Placement* p, uint32_t groups, bool locality,
                             uint32_t chips_per_node)
    : m_p(p), m_locality(locality), m_cpn(chips_per_node) {
  m_load.assign(size_t{groups} * p->layers * p->slots, 0);
}

void ReplicaRouter::new_step() {
  std::fill(m_load.begin(), m_load.end(), 0);
}

uint32_t ReplicaRouter::route_many(uint32_t group, uint32_t layer, const uint32_t* b,
                                   const uint32_t* e, uint32_t src) {
  const Placement& p = *m_p;
  uint64_t* load = m_load.data() + (size_t{group} * p.layers + layer) * p.slots;
  const uint32_t base = group * p.chips;
  // Least-loaded slot among [b, e) that passes `ok` (ties to the lower slot).
  auto pick = [&](auto ok) {
    const uint32_t* best = nullptr;
    for (const uint32_t* s = b; s != e; ++s) {
      if (ok(p.chip_of_slot(layer, *s)) && (best == nullptr || load[*s] < load[*best])) best = s;
    }
    return best;
  };
  const uint32_t* chosen = nullptr;
  if (m_locality) {
    chosen = pick([&](uint32_t c) { return base + c == src; });
    if (chosen == nullptr && m_cpn != 0) {
      chosen = pick([&](uint32_t c) { return (base + c) / m_cpn == src / m_cpn; });
    }
  }
  if (chosen == nullptr) chosen = pick([](uint32_t) { return true; });
  ++load[*chosen];
  return p.chip_of_slot(layer, *chosen);
}

}  // namespace moesim

namespace moesim {

void affinity_placement(const PlacementInput& in, uint32_t swap_rounds, Placement& out,
                        AffinityStats* stats) {
  const uint32_t L = in.layers;
  const uint32_t E = in.experts;
  const uint32_t C = in.chips;
  if (in.slots != 0 && in.slots != E) {
    throw InputError(fmt::format("the affinity policy places no replicas ({} slots for {} experts)",
                                 in.slots, E));
  }
  if (E % C != 0) {
    throw InputError(fmt::format("{} experts do not split evenly over {} chips", E, C));
  }
  const size_t sq = size_t{E} * E;
  if (L > 1 && in.transitions.size() != size_t{L - 1} * sq) {
    throw InternalError(
        "affinity placement: (layers - 1) x experts x experts transitions expected");
  }
  const uint32_t cap = E / C;
  constexpr uint32_t kNone = UINT32_MAX;
  const size_t nodes = size_t{L} * E;
  auto tr = [&](uint32_t l, uint32_t i, uint32_t j) {
    return in.transitions[l * sq + size_t{i} * E + j];
  };
  std::vector<uint32_t> chip(nodes, kNone);
  std::vector<uint32_t> fill(size_t{L} * C, 0);
  std::vector<double> mass(nodes * C, 0.0);  // transition mass of a node to each chip
  // Greedy growth: the unplaced node with the most transition mass to a chip with room goes
  // there (a max-heap, stale entries skipped); a node with none starts a new cluster on the
  // least-filled chip of its layer (nodes by load, heaviest first).
  struct Entry {
    double w;
    uint32_t node, chip;
    bool operator<(const Entry& o) const {
      if (w != o.w) return w < o.w;
      return node != o.node ? node > o.node : chip > o.chip;
    }
  };
  std::priority_queue<Entry> heap;
  auto touch = [&](size_t nb, uint32_t c, double w) {
    if (w <= 0 || chip[nb] != kNone) return;
    mass[nb * C + c] += w;
    heap.push({mass[nb * C + c], static_cast<uint32_t>(nb), c});
  };
  auto assign = [&](size_t node, uint32_t c) {
    const auto l = static_cast<uint32_t>(node / E);
    const auto e = static_cast<uint32_t>(node % E);
    chip[node] = c;
    ++fill[size_t{l} * C + c];
    if (l + 1 < L)
      for (uint32_t j = 0; j < E; ++j) touch(size_t{l + 1} * E + j, c, tr(l, e, j));
    if (l > 0)
      for (uint32_t i = 0; i < E; ++i) touch(size_t{l - 1} * E + i, c, tr(l - 1, i, e));
  };
  std::vector<uint32_t> seeds(nodes);
  std::iota(seeds.begin(), seeds.end(), 0u);
  const bool loaded = in.load.size() == nodes;
  std::stable_sort(seeds.begin(), seeds.end(),
                   [&](uint32_t a, uint32_t b) { return loaded && in.load[a] > in.load[b]; });
  size_t next_seed = 0;
  for (size_t placed = 0; placed < nodes; ++placed) {
    size_t node = kNone;
    uint32_t c = 0;
    while (!heap.empty() && node == kNone) {
      const Entry t = heap.top();
      heap.pop();
      if (chip[t.node] != kNone || t.w != mass[size_t{t.node} * C + t.chip]) continue;  // stale
      const uint32_t l = t.node / E;
      if (fill[size_t{l} * C + t.chip] < cap) {
        node = t.node;
        c = t.chip;
        break;
      }
      // Its chip is full in this layer: its best chip with room, if any mass goes there.
      uint32_t best = kNone;
      for (uint32_t k = 0; k < C; ++k) {
        if (fill[size_t{l} * C + k] < cap &&
            (best == kNone || mass[size_t{t.node} * C + k] > mass[size_t{t.node} * C + best])) {
          best = k;
        }
      }
      if (best != kNone && mass[size_t{t.node} * C + best] > 0) {
        heap.push({mass[size_t{t.node} * C + best], t.node, best});
      }
    }
    if (node == kNone) {
      while (chip[seeds[next_seed]] != kNone) ++next_seed;
      node = seeds[next_seed];
      const size_t l = node / E;
      c = static_cast<uint32_t>(std::min_element(fill.begin() + l * C, fill.begin() + (l + 1) * C) -
                                (fill.begin() + l * C));
    }
    assign(node, c);
  }
  // Local search: in each layer, swap two experts on different chips when it raises the
  // co-located transition mass with both neighbouring layers (which stay fixed meanwhile).
  std::fill(mass.begin(), mass.end(), 0.0);
  for (uint32_t l = 0; l + 1 < L; ++l) {
    for (uint32_t i = 0; i < E; ++i) {
      for (uint32_t j = 0; j < E; ++j) {
        const double w = tr(l, i, j);
        mass[(size_t{l} * E + i) * C + chip[size_t{l + 1} * E + j]] += w;
        mass[(size_t{l + 1} * E + j) * C + chip[size_t{l} * E + i]] += w;
      }
    }
  }
  uint64_t swaps = 0;
  uint32_t rounds = 0;
  auto move = [&](uint32_t l, uint32_t e, uint32_t from, uint32_t to) {
    if (l + 1 < L) {
      for (uint32_t j = 0; j < E; ++j) {
        const double w = tr(l, e, j);
        mass[(size_t{l + 1} * E + j) * C + from] -= w;
        mass[(size_t{l + 1} * E + j) * C + to] += w;
      }
    }
    if (l > 0) {
      for (uint32_t i = 0; i < E; ++i) {
        const double w = tr(l - 1, i, e);
        mass[(size_t{l - 1} * E + i) * C + from] -= w;
        mass[(size_t{l - 1} * E + i) * C + to] += w;
      }
    }
    chip[size_t{l} * E + e] = to;
  };
  for (bool improved = C > 1 && L > 1; improved && rounds < swap_rounds; ++rounds) {
    improved = false;
    for (uint32_t l = 0; l < L; ++l) {
      for (uint32_t a = 0; a < E; ++a) {
        for (uint32_t b = a + 1; b < E; ++b) {
          const uint32_t ca = chip[size_t{l} * E + a];
          const uint32_t cb = chip[size_t{l} * E + b];
          if (ca == cb) continue;
          const double* ma = &mass[(size_t{l} * E + a) * C];
          const double* mb = &mass[(size_t{l} * E + b) * C];
          const double gain = ma[cb] + mb[ca] - ma[ca] - mb[cb];
          if (gain <= 1e-9 * (ma[ca] + mb[cb] + 1)) continue;
          move(l, a, ca, cb);
          move(l, b, cb, ca);
          ++swaps;
          improved = true;
        }
      }
    }
  }
  if (stats != nullptr) {
    stats->swaps = swaps;
    stats->rounds = rounds;
  }
  out = Placement{};
  out.phy2log.assign(nodes, 0);
  for (uint32_t l = 0; l < L; ++l) {
    std::vector<uint32_t> next(C, 0);
    for (uint32_t e = 0; e < E; ++e) {
      const uint32_t c = chip[size_t{l} * E + e];
      out.phy2log[size_t{l} * E + size_t{c} * cap + next[c]++] = e;
    }
  }
  finish(in, E, out);
}

double cross_chip_transitions(const Placement& p, const std::vector<double>& transitions) {
  const uint32_t E = p.experts;
  const size_t sq = size_t{E} * E;
  double all = 0;
  double cross = 0;
  for (uint32_t l = 0; l + 1 < p.layers; ++l) {
    for (uint32_t i = 0; i < E; ++i) {
      const uint32_t ci = p.chip_of_slot(l, *p.replicas_begin(l, i));
      for (uint32_t j = 0; j < E; ++j) {
        const double w = transitions[l * sq + size_t{i} * E + j];
        all += w;
        if (p.chip_of_slot(l + 1, *p.replicas_begin(l + 1, j)) != ci) cross += w;
      }
    }
  }
  return all == 0 ? 0.0 : cross / all;
}

}  // namespace moesim
