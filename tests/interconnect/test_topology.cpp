// Topology: routes (fewest hops, deterministic ties, no relaying through chips when switches
// can carry it), overrides, errors; and every registered topology builder.

#include "hw_models/interconnect/topology.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/core/error.hpp"

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

}  // namespace
}  // namespace moesim

int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
