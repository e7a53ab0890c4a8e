#include "hw_models/interconnect/topology.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "sim/core/error.hpp"

namespace moesim {

namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

}  // namespace

uint32_t Topology::add_switch(SwitchSpec s) {
  m_switches.push_back(std::move(s));
  return nodes() - 1;
}

uint32_t Topology::add_link(LinkSpec l) {
  if (l.from >= nodes() || l.to >= nodes() || l.from == l.to) {
    throw InternalError(fmt::format("Topology::add_link('{}'): bad ends {} -> {} ({} nodes)",
                                    l.name, l.from, l.to, nodes()));
  }
  if (!(l.bytes_per_s > 0) || !(l.latency_s >= 0)) {
    throw InternalError(fmt::format("Topology::add_link('{}'): bandwidth {} and latency {}", l.name,
                                    l.bytes_per_s, l.latency_s));
  }
  m_links.push_back(std::move(l));
  return static_cast<uint32_t>(m_links.size() - 1);
}

void Topology::add_duplex(uint32_t a, uint32_t b, double bytes_per_s, double latency_s,
                          const std::string& name_ab, const std::string& name_ba) {
  add_link({a, b, bytes_per_s, latency_s, name_ab});
  add_link({b, a, bytes_per_s, latency_s, name_ba});
}

double Topology::node_latency_s(uint32_t n) const {
  if (n < m_chips) return 0.0;
  return m_switches.at(n - m_chips).latency_s;
}

std::string Topology::node_name(uint32_t n) const {
  if (n < m_chips) return fmt::format("chip{}", n);
  return m_switches.at(n - m_chips).name;
}

void Topology::compute_routes() {
  // Link names are stat group names: they must be unique.
  {
    std::vector<const std::string*> names;
    names.reserve(m_links.size());
    for (const LinkSpec& l : m_links) names.push_back(&l.name);
    std::sort(names.begin(), names.end(),
              [](const std::string* a, const std::string* b) { return *a < *b; });
    for (size_t i = 1; i < names.size(); ++i) {
      if (*names[i] == *names[i - 1]) {
        throw TopologyError{"", fmt::format("two links are named '{}'", *names[i])};
      }
    }
  }

  // Out-links of every node, in increasing link index (CSR).
  const uint32_t n = nodes();
  std::vector<uint32_t> out_offsets(n + 1, 0);
  for (const LinkSpec& l : m_links) ++out_offsets[l.from + 1];
  for (uint32_t i = 0; i < n; ++i) out_offsets[i + 1] += out_offsets[i];
  std::vector<uint32_t> out_links(m_links.size());
  {
    std::vector<uint32_t> fill(out_offsets.begin(), out_offsets.end() - 1);
    for (uint32_t i = 0; i < m_links.size(); ++i) out_links[fill[m_links[i].from]++] = i;
  }

  const uint64_t pairs = static_cast<uint64_t>(m_chips) * m_chips;
  m_route_offsets.assign(pairs + 1, 0);
  m_route_links.clear();
  if (m_override.size() != pairs) m_override.assign(pairs, {});

  // Breadth-first search from each chip. Scanning the queue in order and each node's
  // out-links by increasing index makes each node's first-found parent give the
  // lexicographically smallest link sequence among its fewest-hop routes. Phase 1 never
  // forwards through a chip (only switches relay); phase 2, for destinations phase 1 did
  // not reach (rings, meshes), lets chips relay too.
  std::vector<uint32_t> parent_link(n);
  std::vector<uint32_t> queue;
  queue.reserve(n);
  std::vector<uint32_t> path;
  auto bfs = [&](uint32_t src, bool through_chips) {
    std::fill(parent_link.begin(), parent_link.end(), kNone);
    queue.clear();
    queue.push_back(src);
    for (size_t head = 0; head < queue.size(); ++head) {
      const uint32_t u = queue[head];
      if (u != src && u < m_chips && !through_chips) continue;
      for (uint32_t k = out_offsets[u]; k < out_offsets[u + 1]; ++k) {
        const uint32_t li = out_links[k];
        const uint32_t v = m_links[li].to;
        if (v == src || parent_link[v] != kNone) continue;
        parent_link[v] = li;
        queue.push_back(v);
      }
    }
  };
  std::vector<uint32_t> phase1(n);
  for (ChipId src = 0; src < m_chips; ++src) {
    bfs(src, false);
    phase1 = parent_link;
    bool need_phase2 = false;
    for (ChipId dst = 0; dst < m_chips; ++dst) {
      if (dst != src && phase1[dst] == kNone) need_phase2 = true;
    }
    if (need_phase2) bfs(src, true);
    for (ChipId dst = 0; dst < m_chips; ++dst) {
      const uint64_t pair = static_cast<uint64_t>(src) * m_chips + dst;
      if (dst != src) {
        const std::vector<uint32_t>& parents = phase1[dst] != kNone ? phase1 : parent_link;
        if (parents[dst] == kNone) {
          throw TopologyError{"", fmt::format("chip{} cannot reach chip{}", src, dst)};
        }
        path.clear();
        for (uint32_t v = dst; v != src; v = m_links[parents[v]].from) path.push_back(parents[v]);
        m_route_links.insert(m_route_links.end(), path.rbegin(), path.rend());
      }
      m_route_offsets[pair + 1] = static_cast<uint32_t>(m_route_links.size());
    }
  }
}

void Topology::set_route(ChipId src, ChipId dst, const std::vector<uint32_t>& links) {
  auto fail = [&](const std::string& why) {
    throw InternalError(fmt::format("Topology::set_route(chip{} -> chip{}): {}", src, dst, why));
  };
  if (m_route_offsets.empty()) fail("call compute_routes() first");
  if (src >= m_chips || dst >= m_chips || src == dst) fail("bad chips");
  if (links.empty()) fail("empty route");
  uint32_t at = src;
  for (uint32_t li : links) {
    if (li >= m_links.size()) fail(fmt::format("no link {}", li));
    if (m_links[li].from != at) {
      fail(fmt::format("link '{}' starts at {}, not at {}", m_links[li].name,
                       node_name(m_links[li].from), node_name(at)));
    }
    at = m_links[li].to;
  }
  if (at != dst) fail(fmt::format("route ends at {}", node_name(at)));
  m_override[static_cast<uint64_t>(src) * m_chips + dst] = links;
}

const uint32_t* Topology::route_begin(ChipId src, ChipId dst) const {
  if (m_route_offsets.empty()) throw InternalError("Topology: routes read before compute_routes()");
  const uint64_t pair = static_cast<uint64_t>(src) * m_chips + dst;
  const std::vector<uint32_t>& o = m_override[pair];
  if (!o.empty()) return o.data();
  return m_route_links.data() + m_route_offsets[pair];
}

const uint32_t* Topology::route_end(ChipId src, ChipId dst) const {
  if (m_route_offsets.empty()) throw InternalError("Topology: routes read before compute_routes()");
  const uint64_t pair = static_cast<uint64_t>(src) * m_chips + dst;
  const std::vector<uint32_t>& o = m_override[pair];
  if (!o.empty()) return o.data() + o.size();
  return m_route_links.data() + m_route_offsets[pair + 1];
}

}  // namespace moesim
