// Topology: routes (fewest hops, deterministic ties, no relaying through chips when switches
// can carry it), overrides, errors; and every registered topology builder.

#include "hw_models/interconnect/topology.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <systemc>  // sc_main: moesim_core links SystemC, whose main() calls it

#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"

namespace moesim {
namespace {

std::vector<std::string> route_names(const Topology& t, ChipId s, ChipId d) {
  std::vector<std::string> out;
  for (const uint32_t* p = t.route_begin(s, d); p != t.route_end(s, d); ++p) {
    out.push_back(t.links()[*p].name);
  }
  return out;
}

using Names = std::vector<std::string>;

TEST(Topology, NodesAndNames) {
  Topology t(3);
  EXPECT_EQ(t.add_switch({"sw0", 5e-9}), 3u);
  EXPECT_EQ(t.nodes(), 4u);
  EXPECT_EQ(t.node_name(1), "chip1");
  EXPECT_EQ(t.node_name(3), "sw0");
  EXPECT_DOUBLE_EQ(t.node_latency_s(0), 0.0);
  EXPECT_DOUBLE_EQ(t.node_latency_s(3), 5e-9);
  EXPECT_EQ(t.add_link({0, 3, 1e9, 1e-9, "chip0_sw0"}), 0u);
  t.add_duplex(1, 3, 2e9, 1e-9, "chip1_sw0", "sw0_chip1");
  ASSERT_EQ(t.links().size(), 3u);
  EXPECT_EQ(t.links()[2].from, 3u);
  EXPECT_EQ(t.links()[2].to, 1u);
  EXPECT_EQ(t.links()[2].name, "sw0_chip1");
  EXPECT_THROW(t.add_link({0, 9, 1e9, 0, "bad"}), InternalError);
  EXPECT_THROW(t.add_link({0, 0, 1e9, 0, "self"}), InternalError);
  EXPECT_THROW(t.add_link({0, 1, 0, 0, "zero_bw"}), InternalError);
}

TEST(Topology, LineRoutesForwardThroughChips) {
  Topology t(3);
  t.add_duplex(0, 1, 1e9, 0, "link0_1", "link1_0");
  t.add_duplex(1, 2, 1e9, 0, "link1_2", "link2_1");
  t.compute_routes();
  EXPECT_EQ(route_names(t, 0, 2), (Names{"link0_1", "link1_2"}));
  EXPECT_EQ(route_names(t, 2, 0), (Names{"link2_1", "link1_0"}));
  EXPECT_EQ(t.hops(0, 0), 0u);
  EXPECT_EQ(t.hops(1, 2), 1u);
}

TEST(Topology, TiesGoToTheLowestLinkIndex) {
  // A square 0-1-3, 0-2-3: two 2-hop routes from 0 to 3; the one starting with the lower
  // link index wins, whichever order the second hops were added in.
  Topology t(4);
  t.add_duplex(0, 2, 1e9, 0, "link0_2", "link2_0");  // links 0, 1
  t.add_duplex(0, 1, 1e9, 0, "link0_1", "link1_0");  // links 2, 3
  t.add_duplex(1, 3, 1e9, 0, "link1_3", "link3_1");  // links 4, 5
  t.add_duplex(2, 3, 1e9, 0, "link2_3", "link3_2");  // links 6, 7
  t.compute_routes();
  EXPECT_EQ(route_names(t, 0, 3), (Names{"link0_2", "link2_3"}));
  // From 3: link3_1 (5) < link3_2 (7).
  EXPECT_EQ(route_names(t, 3, 0), (Names{"link3_1", "link1_0"}));
}

TEST(Topology, SwitchesRelayRatherThanChips) {
  // Chips 0-1-2 in a line, and a switch joining 0 and 2 (2 hops either way): 0 -> 2 goes
  // through the switch even though the chip route has lower link indices.
  Topology t(3);
  t.add_duplex(0, 1, 1e9, 0, "link0_1", "link1_0");
  t.add_duplex(1, 2, 1e9, 0, "link1_2", "link2_1");
  const uint32_t sw = t.add_switch({"sw", 0});
  t.add_duplex(0, sw, 1e9, 0, "chip0_sw", "sw_chip0");
  t.add_duplex(2, sw, 1e9, 0, "chip2_sw", "sw_chip2");
  t.compute_routes();
  EXPECT_EQ(route_names(t, 0, 2), (Names{"chip0_sw", "sw_chip2"}));
  EXPECT_EQ(route_names(t, 0, 1), (Names{"link0_1"}));
  // 1 -> 0 direct; 1 -> 2 direct.
  EXPECT_EQ(t.hops(1, 0), 1u);
}

TEST(Topology, UnreachableChipIsAnError) {
  Topology t(6);
  for (uint32_t c = 0; c + 1 < 6; ++c) {
    if (c == 4) continue;  // chip5 hangs alone
    t.add_duplex(c, c + 1, 1e9, 0, "link" + std::to_string(c) + "_" + std::to_string(c + 1),
                 "link" + std::to_string(c + 1) + "_" + std::to_string(c));
  }
  try {
    t.compute_routes();
    FAIL() << "no error";
  } catch (const TopologyError& e) {
    EXPECT_EQ(e.key, "");
    EXPECT_EQ(e.message, "chip0 cannot reach chip5");
  }
}

TEST(Topology, OneWayLinksAreRespected) {
  Topology t(3);
  t.add_link({0, 1, 1e9, 0, "link0_1"});
  t.add_link({1, 2, 1e9, 0, "link1_2"});
  try {
    t.compute_routes();
    FAIL() << "no error";
  } catch (const TopologyError& e) {
    EXPECT_EQ(e.message, "chip1 cannot reach chip0");
  }
  t.add_link({2, 0, 1e9, 0, "link2_0"});
  t.compute_routes();
  EXPECT_EQ(route_names(t, 1, 0), (Names{"link1_2", "link2_0"}));
}

TEST(Topology, DuplicateLinkNamesAreAnError) {
  Topology t(2);
  t.add_duplex(0, 1, 1e9, 0, "l", "l");
  try {
    t.compute_routes();
    FAIL() << "no error";
  } catch (const TopologyError& e) {
    EXPECT_EQ(e.message, "two links are named 'l'");
  }
}

TEST(Topology, SetRouteOverridesAndChecksContiguity) {
  Topology t(3);
  t.add_duplex(0, 1, 1e9, 0, "link0_1", "link1_0");  // 0, 1
  t.add_duplex(1, 2, 1e9, 0, "link1_2", "link2_1");  // 2, 3
  t.add_duplex(0, 2, 1e9, 0, "link0_2", "link2_0");  // 4, 5
  t.compute_routes();
  EXPECT_EQ(route_names(t, 0, 2), (Names{"link0_2"}));
  t.set_route(0, 2, {0, 2});
  EXPECT_EQ(route_names(t, 0, 2), (Names{"link0_1", "link1_2"}));
  EXPECT_EQ(t.hops(0, 2), 2u);
  EXPECT_EQ(route_names(t, 2, 0), (Names{"link2_0"}));     // others untouched
  EXPECT_THROW(t.set_route(0, 2, {0, 3}), InternalError);  // 1 -> 2 expected, 2 -> 1 given
  EXPECT_THROW(t.set_route(0, 2, {0}), InternalError);     // ends at chip1
  EXPECT_THROW(t.set_route(0, 2, {}), InternalError);      // empty
  EXPECT_THROW(t.set_route(0, 2, {1, 2}), InternalError);  // starts at chip1
  EXPECT_THROW(t.set_route(0, 2, {99}), InternalError);    // no such link
  EXPECT_EQ(route_names(t, 0, 2), (Names{"link0_1", "link1_2"}));
}

TEST(Topology, ChipsPerNode) {
  Topology t(16);
  EXPECT_EQ(t.chips_per_node(), 16u);
  t.set_chips_per_node(8);
  EXPECT_EQ(t.node_of(7), 0u);
  EXPECT_EQ(t.node_of(8), 1u);
}

// --- builders ----------------------------------------------------------------------------

using Values = std::map<std::string, ParamValue>;

Quantity gbps(double g) {
  return Quantity{g * 1e9, false};
}
Quantity ns(double n) {
  return Quantity{n * 1e-9, false};
}

/// Builds topology `type` of `chips` chips from `values` plus the schema's defaults.
Topology build(const std::string& type, uint32_t chips, Values values,
               const std::vector<ExplicitLinkSpec>& links = {}) {
  const auto* entry = Registry<TopologyBuilder>::instance().find(type);
  if (entry == nullptr) throw InternalError("no topology " + type);
  std::map<std::string, ParamType> types;
  for (const ParamSpec& p : entry->schema.params()) {
    types[p.name] = p.type;
    if (values.count(p.name) == 0 && p.default_val) values[p.name] = *p.default_val;
  }
  const Params params("system.topology", values, types);
  return entry->create({params})->build(chips, links);
}

/// The TopologyError a build throws (key and message), or "no error".
std::string build_error(const std::string& type, uint32_t chips, Values values,
                        const std::vector<ExplicitLinkSpec>& links = {}) {
  try {
    build(type, chips, std::move(values), links);
  } catch (const TopologyError& e) {
    return e.key + ": " + e.message;
  }
  return "no error";
}

const Values kLink = {{"bandwidth", gbps(100)}, {"latency", ns(500)}};

TEST(Builders, AllAreRegistered) {
  const auto names = Registry<TopologyBuilder>::instance().names();
  EXPECT_EQ(names,
            (Names{"explicit", "fully_connected", "mesh", "ring", "switch", "torus", "two_level"}));
}

TEST(Builders, BidirectionalRingTakesTheShorterWayAndIncreasingOnTies) {
  const Topology t = build("ring", 8, kLink);
  EXPECT_EQ(t.links().size(), 16u);
  EXPECT_EQ(t.links()[0].name, "link0_1");
  EXPECT_DOUBLE_EQ(t.links()[0].bytes_per_s, 100e9);
  EXPECT_DOUBLE_EQ(t.links()[0].latency_s, 500e-9);
  EXPECT_EQ(route_names(t, 0, 3), (Names{"link0_1", "link1_2", "link2_3"}));
  EXPECT_EQ(route_names(t, 0, 5), (Names{"link0_7", "link7_6", "link6_5"}));
  EXPECT_EQ(route_names(t, 1, 5), (Names{"link1_2", "link2_3", "link3_4", "link4_5"}));  // tie
  EXPECT_EQ(route_names(t, 5, 1), (Names{"link5_6", "link6_7", "link7_0", "link0_1"}));  // tie
  for (ChipId s = 0; s < 8; ++s) {
    for (ChipId d = 0; d < 8; ++d) {
      const uint32_t up = (d + 8 - s) % 8;
      EXPECT_EQ(t.hops(s, d), std::min(up, 8 - up) % 8) << s << " -> " << d;
    }
  }
}

TEST(Builders, UnidirectionalRingGoesOneWay) {
  Values v = kLink;
  v["bidirectional"] = false;
  const Topology t = build("ring", 8, v);
  EXPECT_EQ(t.links().size(), 8u);
  EXPECT_EQ(t.links()[7].name, "link7_0");
  EXPECT_EQ(t.hops(0, 7), 7u);
  EXPECT_EQ(t.hops(7, 0), 1u);
  EXPECT_EQ(t.hops(3, 2), 7u);
}

TEST(Builders, SmallRings) {
  EXPECT_EQ(build("ring", 2, kLink).links().size(), 2u);
  EXPECT_EQ(build("ring", 1, kLink).links().size(), 0u);
  Values v = kLink;
  v["bidirectional"] = false;
  EXPECT_EQ(build("ring", 2, v).links().size(), 2u);
}

TEST(Builders, LatencyInCyclesIsRejected) {
  Values v = kLink;
  v["latency"] = Quantity{12, true};
  EXPECT_EQ(build_error("ring", 4, v),
            "latency: links and switches have no clock: give a time such as \"500ns\", not "
            "cycles");
}

TEST(Builders, OnlyExplicitTakesLinks) {
  EXPECT_EQ(build_error("ring", 4, kLink, {{"l0", "chip0", "chip1", 1e9, 0, true}}),
            "links.l0: topology 'ring' makes its own links; only type = \"explicit\" takes a "
            "list of links");
}

TEST(Builders, FullyConnectedIsOneHopEverywhere) {
  const Topology t = build("fully_connected", 8, kLink);
  EXPECT_EQ(t.links().size(), 56u);
  for (ChipId s = 0; s < 8; ++s) {
    for (ChipId d = 0; d < 8; ++d) {
      EXPECT_EQ(t.hops(s, d), s == d ? 0u : 1u);
      if (s != d) {
        EXPECT_EQ(route_names(t, s, d),
                  (Names{"link" + std::to_string(s) + "_" + std::to_string(d)}));
      }
    }
  }
}

TEST(Builders, SwitchIsTwoHopsThroughItsPorts) {
  Values v = kLink;
  v["switch_latency"] = ns(100);
  const Topology t = build("switch", 8, v);
  EXPECT_EQ(t.links().size(), 16u);
  ASSERT_EQ(t.switches().size(), 1u);
  EXPECT_EQ(t.node_name(8), "sw");
  EXPECT_DOUBLE_EQ(t.node_latency_s(8), 100e-9);
  EXPECT_EQ(route_names(t, 3, 6), (Names{"chip3_sw", "sw_chip6"}));
  for (ChipId s = 0; s < 8; ++s) {
    for (ChipId d = 0; d < 8; ++d) EXPECT_EQ(t.hops(s, d), s == d ? 0u : 2u);
  }
}

TEST(Builders, MeshRoutesXThenY) {
  Values v = kLink;
  v["rows"] = int64_t{2};
  v["cols"] = int64_t{4};
  const Topology t = build("mesh", 8, v);
  EXPECT_EQ(t.links().size(), 20u);  // 2 rows x 3 + 4 columns x 1 pairs, both ways
  EXPECT_EQ(route_names(t, 0, 7), (Names{"link0_1", "link1_2", "link2_3", "link3_7"}));
  EXPECT_EQ(route_names(t, 7, 0), (Names{"link7_6", "link6_5", "link5_4", "link4_0"}));
  EXPECT_EQ(route_names(t, 4, 2), (Names{"link4_5", "link5_6", "link6_2"}));
  for (ChipId s = 0; s < 8; ++s) {
    for (ChipId d = 0; d < 8; ++d) {
      const int dx = std::abs(static_cast<int>(s % 4) - static_cast<int>(d % 4));
      const int dy = std::abs(static_cast<int>(s / 4) - static_cast<int>(d / 4));
      EXPECT_EQ(t.hops(s, d), static_cast<uint32_t>(dx + dy));
    }
  }
}

TEST(Builders, TorusWrapsTheShorterWay) {
  Values v = kLink;
  v["rows"] = int64_t{4};
  v["cols"] = int64_t{4};
  const Topology t = build("torus", 16, v);
  EXPECT_EQ(t.links().size(), 64u);  // 4 neighbours per chip
  EXPECT_EQ(route_names(t, 0, 3), (Names{"link0_3"}));
  EXPECT_EQ(route_names(t, 0, 2), (Names{"link0_1", "link1_2"}));    // tie: increasing
  EXPECT_EQ(route_names(t, 2, 0), (Names{"link2_3", "link3_0"}));    // tie: increasing
  EXPECT_EQ(route_names(t, 0, 15), (Names{"link0_3", "link3_15"}));  // X wraps, then Y
  EXPECT_EQ(route_names(t, 5, 10), (Names{"link5_6", "link6_10"}));
  uint32_t max_hops = 0;
  for (ChipId s = 0; s < 16; ++s) {
    for (ChipId d = 0; d < 16; ++d) max_hops = std::max(max_hops, t.hops(s, d));
  }
  EXPECT_EQ(max_hops, 4u);
  // A 2-long dimension has one neighbour pair, not a duplicate wrap link.
  v["rows"] = int64_t{2};
  v["cols"] = int64_t{3};
  EXPECT_EQ(build("torus", 6, v).links().size(), 2u * (2 * 3 + 3 * 1));
}

TEST(Builders, GridMustMatchTheChips) {
  Values v = kLink;
  v["rows"] = int64_t{2};
  v["cols"] = int64_t{3};
  EXPECT_EQ(build_error("mesh", 8, v), "rows: rows x cols = 2 x 3 = 6, but the system has 8 chips");
  EXPECT_EQ(build_error("torus", 8, v),
            "rows: rows x cols = 2 x 3 = 6, but the system has 8 chips");
}

Values two_level_values() {
  return {{"node_chips", int64_t{8}},       {"intra_bandwidth", gbps(450)},
          {"intra_latency", ns(500)},       {"intra_switch_latency", ns(100)},
          {"inter_bandwidth", gbps(50)},    {"inter_latency", ns(2000)},
          {"inter_switch_latency", ns(500)}};
}

TEST(Builders, TwoLevelGoesThroughTheNodeSwitchOrTheSpine) {
  const Topology t = build("two_level", 16, two_level_values());
  EXPECT_EQ(t.links().size(), 64u);  // 16 NVLink ports + 16 NICs, both ways
  ASSERT_EQ(t.switches().size(), 3u);
  EXPECT_EQ(t.switches()[0].name, "node0_sw");
  EXPECT_EQ(t.switches()[1].name, "node1_sw");
  EXPECT_EQ(t.switches()[2].name, "spine");
  EXPECT_DOUBLE_EQ(t.switches()[2].latency_s, 500e-9);
  EXPECT_EQ(t.chips_per_node(), 8u);
  EXPECT_EQ(t.node_of(9), 1u);
  EXPECT_EQ(route_names(t, 0, 1), (Names{"chip0_node0_sw", "node0_sw_chip1"}));
  EXPECT_EQ(route_names(t, 9, 15), (Names{"chip9_node1_sw", "node1_sw_chip15"}));
  EXPECT_EQ(route_names(t, 0, 9), (Names{"chip0_spine", "spine_chip9"}));
  EXPECT_DOUBLE_EQ(t.links()[t.route_begin(0, 9)[0]].bytes_per_s, 50e9);
  EXPECT_DOUBLE_EQ(t.links()[t.route_begin(0, 1)[0]].bytes_per_s, 450e9);
  for (ChipId s = 0; s < 16; ++s) {
    for (ChipId d = 0; d < 16; ++d) EXPECT_EQ(t.hops(s, d), s == d ? 0u : 2u);
  }
}

TEST(Builders, TwoLevelOfOneNodeHasNoSpine) {
  const Topology t = build("two_level", 8, two_level_values());
  EXPECT_EQ(t.links().size(), 16u);
  EXPECT_EQ(t.switches().size(), 1u);
}

TEST(Builders, TwoLevelNeedsWholeNodes) {
  EXPECT_EQ(build_error("two_level", 12, two_level_values()),
            "node_chips: the system's 12 chips do not split into nodes of 8 chips");
}

std::vector<ExplicitLinkSpec> star_links() {
  // chip0 and chip1 joined directly, both on switch "leaf"; chip2 on "leaf" one way each:
  // leaf -> chip2 and chip2 -> chip0.
  return {{"a", "chip0", "chip1", 100e9, 1e-6, true},
          {"b", "chip0", "leaf", 200e9, 2e-6, true},
          {"c", "leaf", "chip1", 200e9, 2e-6, true},
          {"d", "leaf", "chip2", 50e9, 3e-6, false},
          {"e", "chip2", "chip0", 50e9, 3e-6, false}};
}

TEST(Builders, ExplicitLinksAndSwitchesByName) {
  Values v = {{"switch_latency", ns(250)}};
  const Topology t = build("explicit", 3, v, star_links());
  ASSERT_EQ(t.switches().size(), 1u);
  EXPECT_EQ(t.node_name(3), "leaf");
  EXPECT_DOUBLE_EQ(t.node_latency_s(3), 250e-9);
  Names names;
  for (const LinkSpec& l : t.links()) names.push_back(l.name);
  EXPECT_EQ(names, (Names{"link0_1", "link1_0", "chip0_leaf", "leaf_chip0", "leaf_chip1",
                          "chip1_leaf", "leaf_chip2", "link2_0"}));
  EXPECT_DOUBLE_EQ(t.links()[6].bytes_per_s, 50e9);
  EXPECT_DOUBLE_EQ(t.links()[6].latency_s, 3e-6);
  EXPECT_EQ(route_names(t, 0, 2), (Names{"chip0_leaf", "leaf_chip2"}));
  EXPECT_EQ(route_names(t, 2, 1), (Names{"link2_0", "link0_1"}));  // chip0 relays: no other way
  EXPECT_EQ(route_names(t, 1, 2), (Names{"chip1_leaf", "leaf_chip2"}));
}

TEST(Builders, ExplicitErrors) {
  auto links = star_links();
  links[3].to = "chip9";
  EXPECT_EQ(build_error("explicit", 3, {}, links),
            "links.d.to: chip9 does not exist (the system has 3 chips)");
  links = star_links();
  links[0].from = "chip01";
  EXPECT_EQ(build_error("explicit", 3, {}, links), "links.a.from: write chip1, not chip01");
  links = star_links();
  links.pop_back();  // chip2 can only receive
  EXPECT_EQ(build_error("explicit", 3, {}, links), ": chip2 cannot reach chip0");
  links = star_links();
  links.push_back({"f", "chip1", "chip0", 1e9, 0, false});
  EXPECT_EQ(build_error("explicit", 3, {}, links),
            "links.f: links 'a' and 'f' both go from chip1 to chip0; give one link the summed "
            "bandwidth");
  links = star_links();
  links[1].to = "chip0";
  EXPECT_EQ(build_error("explicit", 3, {}, links), "links.b.to: the link joins chip0 to itself");
}

}  // namespace
}  // namespace moesim

int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
