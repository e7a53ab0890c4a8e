#pragma once
/// The graph of a multi-chip system: chips and switches (nodes) joined by directed links.
///
/// Pure C++ (no SystemC). Every direction of a full-duplex link is its own `LinkSpec`, a
/// resource with its own bandwidth. Routes between chips are computed once when the
/// topology is built (CSR of link indices), so a send never searches the graph.
/// Topologies are made by registered builders (topology_builders.cpp), chosen by
/// `[system.topology] type`.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/schema.hpp"

namespace moesim {

/// Index of a chip in the system (chip0, chip1, ...). Plan vectors are indexed by it.
using ChipId = uint32_t;

/// One direction of a link, from node `from` to node `to` (node ids: chips first, then
/// switches).
struct LinkSpec {
  uint32_t from = 0;
  uint32_t to = 0;
  double bytes_per_s = 0;  ///< bandwidth of this direction
  double latency_s = 0;    ///< wire latency of one traversal
  std::string name;        ///< stat group name: "link0_1" (chip to chip), "sw0_p3_out", ...
};

/// A switch: ports are its links; a packet crossing it pays `latency_s` once.
struct SwitchSpec {
  std::string name;      ///< "sw0", "node1_sw", "spine"
  double latency_s = 0;  ///< traversal (pipeline) latency
};

/// The system graph with its routes.
class Topology {
 public:
  Topology() = default;
  /// `chips` chips (node ids 0..chips-1); switches get node ids chips, chips+1, ...
  explicit Topology(uint32_t chips) : m_chips(chips) {}

  uint32_t chips() const { return m_chips; }
  uint32_t nodes() const { return m_chips + static_cast<uint32_t>(m_switches.size()); }
  /// Adds a switch and returns its node id.
  uint32_t add_switch(SwitchSpec s);
  /// Adds one direction; returns its link index.
  uint32_t add_link(LinkSpec l);
  /// Adds both directions with the same bandwidth and latency (names from `name_ab` and
  /// `name_ba`).
  void add_duplex(uint32_t a, uint32_t b, double bytes_per_s, double latency_s,
                  const std::string& name_ab, const std::string& name_ba);

  const std::vector<LinkSpec>& links() const { return m_links; }
  const std::vector<SwitchSpec>& switches() const { return m_switches; }
  /// Traversal latency of node `n` (0 for chips).
  double node_latency_s(uint32_t n) const;
  /// Name of node `n` ("chip3", or the switch's name).
  std::string node_name(uint32_t n) const;

  /// Chips grouped into nodes (two-level systems); 1 node of all chips when not set.
  uint32_t chips_per_node() const { return m_chips_per_node == 0 ? m_chips : m_chips_per_node; }
  void set_chips_per_node(uint32_t n) { m_chips_per_node = n; }
  /// The node (group of chips) chip `c` belongs to.
  uint32_t node_of(ChipId c) const { return c / chips_per_node(); }

  /// Computes every chip-to-chip route: fewest hops, ties broken by the lowest link index
  /// along the way (deterministic). Throws TopologyError if a chip cannot reach another.
  void compute_routes();
  /// Sets the route from `src` to `dst` explicitly (links in order; checked contiguous).
  /// Call after compute_routes() to override.
  void set_route(ChipId src, ChipId dst, const std::vector<uint32_t>& links);
  /// Link indices from chip `src` to chip `dst`, in traversal order (empty when src == dst).
  const uint32_t* route_begin(ChipId src, ChipId dst) const;
  const uint32_t* route_end(ChipId src, ChipId dst) const;
  uint32_t hops(ChipId src, ChipId dst) const {
    return static_cast<uint32_t>(route_end(src, dst) - route_begin(src, dst));
  }

 private:
  uint32_t m_chips = 0;
  uint32_t m_chips_per_node = 0;
  std::vector<SwitchSpec> m_switches;
  std::vector<LinkSpec> m_links;
  std::vector<uint32_t> m_route_offsets;  // (src * chips + dst) -> into m_route_links
  std::vector<uint32_t> m_route_links;
  std::vector<std::vector<uint32_t>> m_override;  // set_route() after compute_routes()
};

/// A problem with a topology's parameters: the config layer adds the file and line of `key`
/// (relative to `[system.topology]`, e.g. "rows" or "links.l3.to").
struct TopologyError {
  std::string key;
  std::string message;
};

/// A link given by the user (`[system.topology.links.NAME]`, explicit topologies).
struct ExplicitLinkSpec {
  std::string name;
  std::string from;  ///< "chip3" or a switch name declared in `switches`
  std::string to;
  double bytes_per_s = 0;
  double latency_s = 0;
  bool duplex = true;  ///< both directions (each its own resource)
};

/// Builds a Topology of `chips` chips from its validated parameters. Registered with
/// MOESIM_REGISTER(TopologyBuilder, Class, "ring", "...").
class TopologyBuilder {
 public:
  struct Args {
    const Params& params;
  };
  virtual ~TopologyBuilder() = default;
  /// Throws TopologyError for a bad combination (e.g. rows * cols != chips).
  virtual Topology build(uint32_t chips,
                         const std::vector<ExplicitLinkSpec>& explicit_links) const = 0;
};

}  // namespace moesim
