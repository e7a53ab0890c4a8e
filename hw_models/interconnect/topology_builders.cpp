/// The registered topologies: ring, fully_connected, switch, mesh, torus, two_level, explicit.
///
/// Link names are stat group names, made from their ends: "link<a>_<b>" between chips,
/// "chip<a>_<switch>" and "<switch>_chip<a>" between a chip and a switch, "<sw1>_<sw2>"
/// between switches. Latencies are times: links have no clock, so "12cycles" is rejected.

#include <cstdlib>
#include <functional>
#include <limits>

#include <fmt/format.h>

#include "hw_models/interconnect/topology.hpp"
#include "sim/core/registry.hpp"

namespace moesim {

namespace {

constexpr uint32_t kNoLink = std::numeric_limits<uint32_t>::max();

std::string chip_name(uint32_t c) {
  return fmt::format("chip{}", c);
}
std::string link_name(uint32_t a, uint32_t b) {
  return fmt::format("link{}_{}", a, b);
}

/// Seconds of a kTime key; a value in cycles is an error (links and switches have no clock).
double time_of(const Params& p, const std::string& key) {
  const auto& v = p.values().at(key);
  if (const auto* q = std::get_if<Quantity>(&v); q != nullptr && q->cycles) {
    throw TopologyError{key,
                        "links and switches have no clock: give a time such as \"500ns\", "
                        "not cycles"};
  }
  return p.get_seconds(key, 0);
}

/// Rejects links given to a topology that does not take them.
void no_explicit_links(const std::vector<ExplicitLinkSpec>& links, const char* type) {
  if (!links.empty()) {
    throw TopologyError{"links." + links.front().name,
                        fmt::format("topology '{}' makes its own links; only type = "
                                    "\"explicit\" takes a list of links",
                                    type)};
  }
}

/// Chip-to-chip link indices by (from, to), for topologies of chips only.
class ChipLinks {
 public:
  explicit ChipLinks(uint32_t chips) : m_chips(chips), m_index(size_t{chips} * chips, kNoLink) {}
  /// Adds both directions a <-> b, named link<a>_<b> and link<b>_<a>.
  void duplex(Topology& t, uint32_t a, uint32_t b, double bw, double lat) {
    if (at(a, b) != kNoLink) return;  // a 2-long ring or torus dimension: one pair suffices
    m_index[size_t{a} * m_chips + b] = t.add_link({a, b, bw, lat, link_name(a, b)});
    m_index[size_t{b} * m_chips + a] = t.add_link({b, a, bw, lat, link_name(b, a)});
  }
  void one_way(Topology& t, uint32_t a, uint32_t b, double bw, double lat) {
    if (at(a, b) != kNoLink) return;
    m_index[size_t{a} * m_chips + b] = t.add_link({a, b, bw, lat, link_name(a, b)});
  }
  uint32_t at(uint32_t a, uint32_t b) const { return m_index[size_t{a} * m_chips + b]; }

  /// Sets every route by following `next(at, dst)`, the chip to go to from `at`.
  void route_all(Topology& t, const std::function<uint32_t(uint32_t, uint32_t)>& next) const {
    std::vector<uint32_t> route;
    for (uint32_t s = 0; s < m_chips; ++s) {
      for (uint32_t d = 0; d < m_chips; ++d) {
        if (s == d) continue;
        route.clear();
        for (uint32_t c = s; c != d;) {
          const uint32_t n = next(c, d);
          route.push_back(at(c, n));
          c = n;
        }
        t.set_route(s, d, route);
      }
    }
  }

 private:
  uint32_t m_chips;
  std::vector<uint32_t> m_index;
};

/// Steps from `a` towards `b` on a ring of `n` positions: the shorter way, +1 on a tie.
/// Returns the next position; `wrap` false means a line (no way around the end).
uint32_t ring_step(uint32_t a, uint32_t b, uint32_t n, bool wrap) {
  if (a == b) return a;
  if (!wrap) return b > a ? a + 1 : a - 1;
  const uint32_t up = (b + n - a) % n;  // hops going +1
  return up <= n - up ? (a + 1) % n : (a + n - 1) % n;
}

// ---------------------------------------------------------------------------------------

class RingBuilder final : public TopologyBuilder {
 public:
  static void declare(ParamSchema& s) {
    s.add("bandwidth", ParamType::kBandwidth,
          "bandwidth of each link direction between neighbouring chips, e.g. \"100GB/s\"")
        .at_least(1);
    s.add("latency", ParamType::kTime, "wire latency of one link traversal, e.g. \"500ns\"")
        .at_least(0);
    s.add("bidirectional", ParamType::kBool,
          "links both ways (true: chip c to c+1 and c+1 to c; false: only c to c+1)")
        .default_value(true);
  }
  explicit RingBuilder(const Args& a) : m_params(a.params) {}
  Topology build(uint32_t chips, const std::vector<ExplicitLinkSpec>& links) const override {
    no_explicit_links(links, "ring");
    const double bw = m_params.get_bytes_per_s("bandwidth");
    const double lat = time_of(m_params, "latency");
    const bool bidi = m_params.get_bool("bidirectional");
    Topology t(chips);
    ChipLinks cl(chips);
    for (uint32_t c = 0; chips > 1 && c < chips; ++c) {
      if (bidi) {
        cl.duplex(t, c, (c + 1) % chips, bw, lat);
      } else {
        cl.one_way(t, c, (c + 1) % chips, bw, lat);
      }
    }
    t.compute_routes();
    if (bidi)
      cl.route_all(t, [chips](uint32_t a, uint32_t b) { return ring_step(a, b, chips, true); });
    return t;
  }

 private:
  Params m_params;
};

MOESIM_REGISTER(TopologyBuilder, RingBuilder, "ring",
                "chips in a ring, chip c linked to chip c+1 (and back when bidirectional); "
                "messages take the shorter way, the increasing way on a tie");

// ---------------------------------------------------------------------------------------

class FullyConnectedBuilder final : public TopologyBuilder {
 public:
  static void declare(ParamSchema& s) {
    s.add("bandwidth", ParamType::kBandwidth,
          "bandwidth of each link direction between two chips, e.g. \"50GB/s\"")
        .at_least(1);
    s.add("latency", ParamType::kTime, "wire latency of one link traversal, e.g. \"500ns\"")
        .at_least(0);
  }
  explicit FullyConnectedBuilder(const Args& a) : m_params(a.params) {}
  Topology build(uint32_t chips, const std::vector<ExplicitLinkSpec>& links) const override {
    no_explicit_links(links, "fully_connected");
    const double bw = m_params.get_bytes_per_s("bandwidth");
    const double lat = time_of(m_params, "latency");
    Topology t(chips);
    for (uint32_t a = 0; a < chips; ++a) {
      for (uint32_t b = a + 1; b < chips; ++b) {
        t.add_duplex(a, b, bw, lat, link_name(a, b), link_name(b, a));
      }
    }
    t.compute_routes();
    return t;
  }

 private:
  Params m_params;
};

MOESIM_REGISTER(TopologyBuilder, FullyConnectedBuilder, "fully_connected",
                "a full-duplex link between every pair of chips; every route is one hop");

// ---------------------------------------------------------------------------------------

class SwitchBuilder final : public TopologyBuilder {
 public:
  static void declare(ParamSchema& s) {
    s.add("bandwidth", ParamType::kBandwidth,
          "bandwidth of each direction of a chip's port on the switch, e.g. \"450GB/s\"")
        .at_least(1);
    s.add("latency", ParamType::kTime,
          "wire latency of a chip-to-switch or switch-to-chip traversal, e.g. \"500ns\"")
        .at_least(0);
    s.add("switch_latency", ParamType::kTime,
          "latency of crossing the switch, paid once per route, e.g. \"100ns\"")
        .at_least(0);
  }
  explicit SwitchBuilder(const Args& a) : m_params(a.params) {}
  Topology build(uint32_t chips, const std::vector<ExplicitLinkSpec>& links) const override {
    no_explicit_links(links, "switch");
    const double bw = m_params.get_bytes_per_s("bandwidth");
    const double lat = time_of(m_params, "latency");
    Topology t(chips);
    const uint32_t sw = t.add_switch({"sw", time_of(m_params, "switch_latency")});
    for (uint32_t c = 0; c < chips; ++c) {
      t.add_duplex(c, sw, bw, lat, chip_name(c) + "_sw", "sw_" + chip_name(c));
    }
    t.compute_routes();
    return t;
  }

 private:
  Params m_params;
};

MOESIM_REGISTER(TopologyBuilder, SwitchBuilder, "switch",
                "every chip on one crossbar switch (\"sw\") by a full-duplex port link; "
                "every route is two hops, chip to switch to chip");

// ---------------------------------------------------------------------------------------

/// 2-D mesh or torus: chip r * cols + c at row r, column c; dimension order X (columns)
/// first, then Y (rows).
class GridBuilder : public TopologyBuilder {
 public:
  static void declare(ParamSchema& s) {
    s.add("rows", ParamType::kInt, "rows of the grid (rows x cols must equal the chips)")
        .range(1, 1 << 16);
    s.add("cols", ParamType::kInt, "columns of the grid; chip r * cols + c is at row r, column c")
        .range(1, 1 << 16);
    s.add("bandwidth", ParamType::kBandwidth,
          "bandwidth of each link direction between neighbouring chips, e.g. \"100GB/s\"")
        .at_least(1);
    s.add("latency", ParamType::kTime, "wire latency of one link traversal, e.g. \"500ns\"")
        .at_least(0);
  }
  GridBuilder(const Args& a, bool wrap) : m_params(a.params), m_wrap(wrap) {}
  Topology build(uint32_t chips, const std::vector<ExplicitLinkSpec>& links) const override {
    no_explicit_links(links, m_wrap ? "torus" : "mesh");
    const int64_t rows_i = m_params.get_int("rows");
    const int64_t cols_i = m_params.get_int("cols");
    if (rows_i * cols_i != static_cast<int64_t>(chips)) {
      throw TopologyError{"rows", fmt::format("rows x cols = {} x {} = {}, but the system has {} "
                                              "chips",
                                              rows_i, cols_i, rows_i * cols_i, chips)};
    }
    const auto rows = static_cast<uint32_t>(rows_i);
    const auto cols = static_cast<uint32_t>(cols_i);
    const double bw = m_params.get_bytes_per_s("bandwidth");
    const double lat = time_of(m_params, "latency");
    Topology t(chips);
    ChipLinks cl(chips);
    for (uint32_t r = 0; r < rows; ++r) {
      for (uint32_t c = 0; c < cols; ++c) {
        const uint32_t id = r * cols + c;
        if (c + 1 < cols) cl.duplex(t, id, id + 1, bw, lat);
        if (r + 1 < rows) cl.duplex(t, id, id + cols, bw, lat);
      }
    }
    if (m_wrap) {
      for (uint32_t r = 0; r < rows && cols > 2; ++r) {
        cl.duplex(t, r * cols + cols - 1, r * cols, bw, lat);
      }
      for (uint32_t c = 0; c < cols && rows > 2; ++c)
        cl.duplex(t, (rows - 1) * cols + c, c, bw, lat);
    }
    t.compute_routes();
    const bool wrap = m_wrap;
    cl.route_all(t, [rows, cols, wrap](uint32_t at, uint32_t dst) {
      const uint32_t r = at / cols, c = at % cols, dr = dst / cols, dc = dst % cols;
      if (c != dc) return r * cols + ring_step(c, dc, cols, wrap);
      return ring_step(r, dr, rows, wrap) * cols + c;
    });
    return t;
  }

 private:
  Params m_params;
  bool m_wrap;
};

class MeshBuilder final : public GridBuilder {
 public:
  using GridBuilder::declare;
  explicit MeshBuilder(const Args& a) : GridBuilder(a, false) {}
};

class TorusBuilder final : public GridBuilder {
 public:
  using GridBuilder::declare;
  explicit TorusBuilder(const Args& a) : GridBuilder(a, true) {}
};

MOESIM_REGISTER(TopologyBuilder, MeshBuilder, "mesh",
                "2-D mesh of rows x cols chips, links between neighbours; routes go along the "
                "row first (X), then along the column (Y)");
MOESIM_REGISTER(TopologyBuilder, TorusBuilder, "torus",
                "2-D torus (a mesh with wrap-around links); routes X then Y, each dimension "
                "the shorter way round, the increasing way on a tie");

// ---------------------------------------------------------------------------------------

class TwoLevelBuilder final : public TopologyBuilder {
 public:
  static void declare(ParamSchema& s) {
    s.add("node_chips", ParamType::kInt,
          "chips per node (chips must be a multiple), e.g. 8 GPUs of an HGX board")
        .range(1, 1 << 20);
    s.add("intra_bandwidth", ParamType::kBandwidth,
          "bandwidth of each direction of a chip's link to its node switch (NVLink to "
          "NVSwitch), e.g. \"450GB/s\"")
        .at_least(1);
    s.add("intra_latency", ParamType::kTime,
          "wire latency of a chip-to-node-switch traversal, e.g. \"500ns\"")
        .at_least(0);
    s.add("intra_switch_latency", ParamType::kTime,
          "latency of crossing a node switch, e.g. \"100ns\"")
        .at_least(0);
    s.add("inter_bandwidth", ParamType::kBandwidth,
          "bandwidth of each direction of a chip's own NIC link to the network switch (one "
          "RDMA NIC per chip, as the rails of DGX/HGX), e.g. \"50GB/s\"")
        .at_least(1);
    s.add("inter_latency", ParamType::kTime,
          "latency of a NIC-to-network-switch traversal (NIC and cable), e.g. \"2us\"")
        .at_least(0);
    s.add("inter_switch_latency", ParamType::kTime,
          "latency of crossing the network switch (\"spine\"), e.g. \"500ns\"")
        .at_least(0);
  }
  explicit TwoLevelBuilder(const Args& a) : m_params(a.params) {}
  Topology build(uint32_t chips, const std::vector<ExplicitLinkSpec>& links) const override {
    no_explicit_links(links, "two_level");
    const int64_t per_i = m_params.get_int("node_chips");
    if (chips % per_i != 0) {
      throw TopologyError{"node_chips", fmt::format("the system's {} chips do not split into "
                                                    "nodes of {} chips",
                                                    chips, per_i)};
    }
    const auto per = static_cast<uint32_t>(per_i);
    const uint32_t nodes = chips / per;
    Topology t(chips);
    t.set_chips_per_node(per);
    const double ibw = m_params.get_bytes_per_s("intra_bandwidth");
    const double ilat = time_of(m_params, "intra_latency");
    const double isw = time_of(m_params, "intra_switch_latency");
    // Node switch links first: with lower link indices than the NIC links, a route inside a
    // node goes through the node switch (both ways are two hops).
    for (uint32_t k = 0; k < nodes; ++k) {
      const std::string name = fmt::format("node{}_sw", k);
      const uint32_t sw = t.add_switch({name, isw});
      for (uint32_t c = k * per; c < (k + 1) * per; ++c) {
        t.add_duplex(c, sw, ibw, ilat, chip_name(c) + "_" + name, name + "_" + chip_name(c));
      }
    }
    if (nodes > 1) {
      const double ebw = m_params.get_bytes_per_s("inter_bandwidth");
      const double elat = time_of(m_params, "inter_latency");
      const uint32_t spine = t.add_switch({"spine", time_of(m_params, "inter_switch_latency")});
      for (uint32_t c = 0; c < chips; ++c) {
        t.add_duplex(c, spine, ebw, elat, chip_name(c) + "_spine", "spine_" + chip_name(c));
      }
    }
    t.compute_routes();
    return t;
  }

 private:
  Params m_params;
};

MOESIM_REGISTER(TopologyBuilder, TwoLevelBuilder, "two_level",
                "nodes of node_chips chips on a node switch (node<k>_sw, NVLink/NVSwitch); "
                "every chip also has its own NIC link to one network switch (spine); inside "
                "a node chip -> node switch -> chip, between nodes chip -> spine -> chip");

// ---------------------------------------------------------------------------------------

class ExplicitBuilder final : public TopologyBuilder {
 public:
  static void declare(ParamSchema& s) {
    s.add("switch_latency", ParamType::kTime,
          "latency of crossing any switch; a link end that is not chip<N> names a switch, "
          "made on its first use")
        .at_least(0)
        .default_value(Quantity{0.0, false});
  }
  explicit ExplicitBuilder(const Args& a) : m_params(a.params) {}
  Topology build(uint32_t chips, const std::vector<ExplicitLinkSpec>& links) const override {
    Topology t(chips);
    const double sw_lat = time_of(m_params, "switch_latency");
    std::vector<std::string> switch_names;
    auto node_of = [&](const ExplicitLinkSpec& l, const std::string& end, const char* key) {
      const std::string where = "links." + l.name + "." + key;
      if (end.size() > 4 && end.compare(0, 4, "chip") == 0 &&
          end.find_first_not_of("0123456789", 4) == std::string::npos) {
        const unsigned long long c = std::strtoull(end.c_str() + 4, nullptr, 10);
        if (c >= chips || end.size() > 14) {
          throw TopologyError{
              where, fmt::format("{} does not exist (the system has {} chips)", end, chips)};
        }
        if (end != chip_name(static_cast<uint32_t>(c))) {
          throw TopologyError{
              where, fmt::format("write {}, not {}", chip_name(static_cast<uint32_t>(c)), end)};
        }
        return static_cast<uint32_t>(c);
      }
      if (end.empty()) throw TopologyError{where, "an empty name is neither a chip nor a switch"};
      for (uint32_t i = 0; i < switch_names.size(); ++i) {
        if (switch_names[i] == end) return chips + i;
      }
      switch_names.push_back(end);
      return t.add_switch({end, sw_lat});
    };
    // Each direction named by its ends; two links joining the same ends would share stats.
    std::vector<std::pair<std::string, std::string>> seen;  // direction name, link name
    auto add = [&](const ExplicitLinkSpec& l, uint32_t a, uint32_t b) {
      std::string name =
          a < chips && b < chips ? link_name(a, b) : t.node_name(a) + "_" + t.node_name(b);
      for (const auto& [dir, owner] : seen) {
        if (dir == name) {
          throw TopologyError{"links." + l.name,
                              fmt::format("links '{}' and '{}' both go from {} to {}; give one "
                                          "link the summed bandwidth",
                                          owner, l.name, t.node_name(a), t.node_name(b))};
        }
      }
      seen.emplace_back(name, l.name);
      t.add_link({a, b, l.bytes_per_s, l.latency_s, std::move(name)});
    };
    for (const ExplicitLinkSpec& l : links) {
      const uint32_t a = node_of(l, l.from, "from");
      const uint32_t b = node_of(l, l.to, "to");
      if (a == b) {
        throw TopologyError{"links." + l.name + ".to",
                            fmt::format("the link joins {} to itself", l.to)};
      }
      if (!(l.bytes_per_s > 0)) {
        throw TopologyError{"links." + l.name + ".bandwidth", "the bandwidth must be positive"};
      }
      if (!(l.latency_s >= 0)) {
        throw TopologyError{"links." + l.name + ".latency", "the latency must not be negative"};
      }
      add(l, a, b);
      if (l.duplex) add(l, b, a);
    }
    t.compute_routes();
    return t;
  }

 private:
  Params m_params;
};

MOESIM_REGISTER(TopologyBuilder, ExplicitBuilder, "explicit",
                "links listed one by one ([system.topology.links.NAME] with from, to, "
                "bandwidth, latency, duplex); ends are chip<N> or switch names; routes are "
                "fewest hops, switches relaying before chips");

}  // namespace
}  // namespace moesim
