/// Collective schedules: the messages of each algorithm, with their dependencies.

#include <algorithm>

#include <fmt/format.h>

#include "hw_models/interconnect/collective.hpp"
#include "sim/core/error.hpp"

namespace moesim {

const char* collective_kind_name(CollectiveKind k) {
  switch (k) {
    case CollectiveKind::kAllToAllV:
      return "all_to_all_v";
    case CollectiveKind::kAllReduce:
      return "all_reduce";
    case CollectiveKind::kAllGather:
      return "all_gather";
    case CollectiveKind::kReduceScatter:
      return "reduce_scatter";
  }
  return "?";
}

const char* collective_algo_name(CollectiveAlgo a) {
  switch (a) {
    case CollectiveAlgo::kDirect:
      return "direct";
    case CollectiveAlgo::kRing:
      return "ring";
    case CollectiveAlgo::kHierarchical:
      return "hierarchical";
    case CollectiveAlgo::kTree:
      return "tree";
  }
  return "?";
}

uint64_t slice_bytes(uint64_t bytes, uint32_t n, uint32_t k) {
  return bytes / n + (k < bytes % n ? 1 : 0);
}

namespace {

/// Appends messages to a schedule.
class Builder {
 public:
  Builder(CollectiveKind kind, CollectiveAlgo algo, const std::vector<ChipId>& group,
          uint64_t bytes_per_chip) {
    m_s.kind = kind;
    m_s.algo = algo;
    m_s.group = group;
    m_s.bytes_per_chip = bytes_per_chip;
  }
  /// Adds a message; returns its index.
  uint32_t add(ChipId src, ChipId dst, uint64_t bytes, const std::vector<uint32_t>& deps,
               const std::vector<Payload>& payloads = {}, uint32_t chunk = 0) {
    ScheduledMessage m;
    m.src = src;
    m.dst = dst;
    m.bytes = bytes;
    m.dep_begin = static_cast<uint32_t>(m_s.deps.size());
    m.dep_count = static_cast<uint32_t>(deps.size());
    m_s.deps.insert(m_s.deps.end(), deps.begin(), deps.end());
    m.payload_begin = static_cast<uint32_t>(m_s.payloads.size());
    m.payload_count = static_cast<uint32_t>(payloads.size());
    m_s.payloads.insert(m_s.payloads.end(), payloads.begin(), payloads.end());
    m.chunk = chunk;
    m.final_hop = true;
    for (const Payload& p : payloads) m.final_hop = m.final_hop && p.final_dst == dst;
    m_s.messages.push_back(m);
    return static_cast<uint32_t>(m_s.messages.size() - 1);
  }
  CollectiveSchedule take() { return std::move(m_s); }

 private:
  CollectiveSchedule m_s;
};

void check_group(const Topology& topo, const std::vector<ChipId>& group, const char* what) {
  std::vector<bool> seen(topo.chips(), false);
  for (ChipId c : group) {
    if (c >= topo.chips() || seen[c])
      throw InternalError(
          fmt::format("{}: chip {} is not a distinct chip of the topology", what, c));
    seen[c] = true;
  }
}

[[noreturn]] void bad_algo(CollectiveKind k, CollectiveAlgo a) {
  throw InternalError(
      fmt::format("{} has no {} algorithm", collective_kind_name(k), collective_algo_name(a)));
}

/// One pair's data along the ring: `hops` messages from group[i] stepping by `step` (+1 or
/// -1, mod n); each hop depends on the previous one.
void ring_path(Builder& b, const std::vector<ChipId>& g, uint32_t i, uint32_t hops, int step,
               uint64_t bytes, ChipId final_dst) {
  const uint32_t n = static_cast<uint32_t>(g.size());
  uint32_t at = i;
  std::vector<uint32_t> deps;
  for (uint32_t h = 0; h < hops; ++h) {
    const uint32_t next = step > 0 ? (at + 1) % n : (at + n - 1) % n;
    const uint32_t m = b.add(g[at], g[next], bytes, deps, {{g[i], final_dst, bytes}});
    deps = {m};
    at = next;
  }
}

/// The ring reduce-scatter steps (n-1); returns, per group position, the index of the last
/// message it received (the one completing its slice).
std::vector<uint32_t> ring_reduce_scatter(Builder& b, const std::vector<ChipId>& g,
                                          uint64_t bytes) {
  const uint32_t n = static_cast<uint32_t>(g.size());
  std::vector<uint32_t> received(n, UINT32_MAX);
  for (uint32_t s = 0; s + 1 < n; ++s) {
    std::vector<uint32_t> now(n);
    for (uint32_t i = 0; i < n; ++i) {
      // Step s: group[i] sends slice (i - s - 1) mod n, which it received at step s-1.
      const uint32_t k = (i + 2 * n - s - 1) % n;
      std::vector<uint32_t> deps;
      if (s > 0) deps.push_back(received[i]);
      now[(i + 1) % n] = b.add(g[i], g[(i + 1) % n], slice_bytes(bytes, n, k), deps, {}, k);
    }
    received = now;
  }
  return received;
}

/// The ring all-gather steps (n-1): group[i] starts with slice i (after `after[i]` when set)
/// and forwards what it received.
void ring_all_gather(Builder& b, const std::vector<ChipId>& g, uint64_t bytes,
                     std::vector<uint32_t> after, bool payloads) {
  const uint32_t n = static_cast<uint32_t>(g.size());
  for (uint32_t s = 0; s + 1 < n; ++s) {
    std::vector<uint32_t> now(n);
    for (uint32_t i = 0; i < n; ++i) {
      // Step s: group[i] sends slice (i - s) mod n (its own at step 0).
      const uint32_t k = (i + n - s) % n;
      const uint32_t j = (i + 1) % n;
      const uint64_t sz = slice_bytes(bytes, n, k);
      std::vector<uint32_t> deps;
      if (after[i] != UINT32_MAX) deps.push_back(after[i]);
      std::vector<Payload> p;
      if (payloads && sz > 0) p.push_back({g[k], g[j], sz});
      now[j] = b.add(g[i], g[j], sz, deps, p, k);
    }
    after = now;
  }
}

}  // namespace

CollectiveSchedule all_to_all_v(const Topology& topo, const std::vector<ChipId>& group,
                                const std::vector<uint64_t>& bytes, CollectiveAlgo algo) {
  check_group(topo, group, "all_to_all_v");
  const uint32_t n = static_cast<uint32_t>(group.size());
  if (bytes.size() != static_cast<size_t>(n) * n)
    throw InternalError(
        fmt::format("all_to_all_v: {} sizes for a group of {} chips", bytes.size(), n));
  uint64_t most = 0;
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t row = 0;
    for (uint32_t j = 0; j < n; ++j) row += bytes[static_cast<size_t>(i) * n + j];
    most = std::max(most, row);
  }
  Builder b(CollectiveKind::kAllToAllV, algo, group, most);
  auto at = [&](uint32_t i, uint32_t j) { return bytes[static_cast<size_t>(i) * n + j]; };
  switch (algo) {
    case CollectiveAlgo::kDirect:
      for (uint32_t i = 0; i < n; ++i) {
        for (uint32_t k = 1; k < n; ++k) {
          const uint32_t j = (i + k) % n;
          if (at(i, j) > 0)
            b.add(group[i], group[j], at(i, j), {}, {{group[i], group[j], at(i, j)}});
        }
      }
      break;
    case CollectiveAlgo::kRing:
      for (uint32_t i = 0; i < n; ++i) {
        for (uint32_t k = 1; k < n; ++k) {
          const uint32_t j = (i + k) % n;
          const uint64_t v = at(i, j);
          if (v == 0) continue;
          if (2 * k < n) {
            ring_path(b, group, i, k, +1, v, group[j]);
          } else if (2 * k > n) {
            ring_path(b, group, i, n - k, -1, v, group[j]);
          } else {
            ring_path(b, group, i, k, +1, v - v / 2, group[j]);
            if (v / 2 > 0) ring_path(b, group, i, k, -1, v / 2, group[j]);
          }
        }
      }
      break;
    case CollectiveAlgo::kHierarchical: {
      // Group members per node, in group order.
      std::vector<uint32_t> node_ids;
      std::vector<std::vector<uint32_t>> members;
      std::vector<uint32_t> node_index(n);
      for (uint32_t i = 0; i < n; ++i) {
        const uint32_t nd = topo.node_of(group[i]);
        auto it = std::find(node_ids.begin(), node_ids.end(), nd);
        if (it == node_ids.end()) {
          node_ids.push_back(nd);
          members.emplace_back();
          it = node_ids.end() - 1;
        }
        node_index[i] = static_cast<uint32_t>(it - node_ids.begin());
        members[node_index[i]].push_back(i);
      }
      // Inside a node: direct.
      for (uint32_t i = 0; i < n; ++i) {
        for (uint32_t k = 1; k < n; ++k) {
          const uint32_t j = (i + k) % n;
          if (node_index[i] == node_index[j] && at(i, j) > 0)
            b.add(group[i], group[j], at(i, j), {}, {{group[i], group[j], at(i, j)}});
        }
      }
      const uint32_t nodes = static_cast<uint32_t>(node_ids.size());
      for (uint32_t a = 0; a < nodes; ++a) {
        for (uint32_t off = 1; off < nodes; ++off) {
          const uint32_t bn = (a + off) % nodes;
          const auto& src = members[a];
          const auto& dst = members[bn];
          const uint32_t r_out = src[(node_ids[a] + node_ids[bn]) % src.size()];
          const uint32_t r_in = dst[(node_ids[a] + node_ids[bn]) % dst.size()];
          std::vector<uint32_t> gathers;
          std::vector<Payload> cross;
          uint64_t cross_bytes = 0;
          for (uint32_t s : src) {
            std::vector<Payload> p;
            uint64_t sum = 0;
            for (uint32_t d : dst) {
              if (at(s, d) == 0) continue;
              p.push_back({group[s], group[d], at(s, d)});
              sum += at(s, d);
            }
            if (sum == 0) continue;
            cross.insert(cross.end(), p.begin(), p.end());
            cross_bytes += sum;
            if (s != r_out) gathers.push_back(b.add(group[s], group[r_out], sum, {}, p));
          }
          if (cross_bytes == 0) continue;
          // Pieces grouped by destination so the scatter reads them in order.
          std::stable_sort(cross.begin(), cross.end(), [&](const Payload& x, const Payload& y) {
            return std::find(group.begin(), group.end(), x.final_dst) <
                   std::find(group.begin(), group.end(), y.final_dst);
          });
          const uint32_t c = b.add(group[r_out], group[r_in], cross_bytes, gathers, cross);
          for (uint32_t d : dst) {
            if (d == r_in) continue;
            std::vector<Payload> p;
            uint64_t sum = 0;
            for (const Payload& x : cross) {
              if (x.final_dst != group[d]) continue;
              p.push_back(x);
              sum += x.bytes;
            }
            if (sum > 0) b.add(group[r_in], group[d], sum, {c}, p);
          }
        }
      }
      break;
    }
    default:
      bad_algo(CollectiveKind::kAllToAllV, algo);
  }
  return b.take();
}

CollectiveSchedule all_reduce(const Topology& topo, const std::vector<ChipId>& group,
                              uint64_t bytes, CollectiveAlgo algo) {
  check_group(topo, group, "all_reduce");
  const uint32_t n = static_cast<uint32_t>(group.size());
  Builder b(CollectiveKind::kAllReduce, algo, group, bytes);
  if (n < 2) return b.take();
  if (algo == CollectiveAlgo::kRing) {
    ring_all_gather(b, group, bytes, ring_reduce_scatter(b, group, bytes), false);
  } else if (algo == CollectiveAlgo::kTree) {
    // Reduce: a chip sends its partial sum up once all its children's have arrived.
    std::vector<std::vector<uint32_t>> from_children(n);
    std::vector<uint32_t> up(n, UINT32_MAX);
    for (uint32_t i = n; i-- > 1;) {
      up[i] = b.add(group[i], group[(i - 1) / 2], bytes, from_children[i]);
      from_children[(i - 1) / 2].push_back(up[i]);
    }
    // Broadcast: the root starts once every child's sum has arrived; others forward.
    std::vector<uint32_t> down(n, UINT32_MAX);
    for (uint32_t i = 1; i < n; ++i) {
      const uint32_t parent = (i - 1) / 2;
      const std::vector<uint32_t> deps =
          parent == 0 ? from_children[0] : std::vector<uint32_t>{down[parent]};
      down[i] = b.add(group[parent], group[i], bytes, deps);
    }
  } else {
    bad_algo(CollectiveKind::kAllReduce, algo);
  }
  return b.take();
}

CollectiveSchedule all_gather(const Topology& topo, const std::vector<ChipId>& group,
                              uint64_t bytes, CollectiveAlgo algo) {
  check_group(topo, group, "all_gather");
  if (algo != CollectiveAlgo::kRing) bad_algo(CollectiveKind::kAllGather, algo);
  const uint32_t n = static_cast<uint32_t>(group.size());
  Builder b(CollectiveKind::kAllGather, algo, group, bytes);
  if (n >= 2) ring_all_gather(b, group, bytes, std::vector<uint32_t>(n, UINT32_MAX), true);
  return b.take();
}

CollectiveSchedule reduce_scatter(const Topology& topo, const std::vector<ChipId>& group,
                                  uint64_t bytes, CollectiveAlgo algo) {
  check_group(topo, group, "reduce_scatter");
  if (algo != CollectiveAlgo::kRing) bad_algo(CollectiveKind::kReduceScatter, algo);
  const uint32_t n = static_cast<uint32_t>(group.size());
  Builder b(CollectiveKind::kReduceScatter, algo, group, bytes);
  if (n >= 2) ring_reduce_scatter(b, group, bytes);
  return b.take();
}

std::vector<uint64_t> delivered_matrix(const CollectiveSchedule& s) {
  const size_t n = s.group.size();
  std::vector<uint64_t> out(n * n, 0);
  auto pos = [&](ChipId c) {
    return static_cast<size_t>(std::find(s.group.begin(), s.group.end(), c) - s.group.begin());
  };
  for (const ScheduledMessage& m : s.messages) {
    for (uint32_t p = m.payload_begin; p < m.payload_begin + m.payload_count; ++p) {
      const Payload& x = s.payloads[p];
      if (x.final_dst == m.dst) out[pos(x.final_src) * n + pos(x.final_dst)] += x.bytes;
    }
  }
  return out;
}

}  // namespace moesim
