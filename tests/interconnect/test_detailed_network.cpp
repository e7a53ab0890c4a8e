// DetailedNetwork: packets, credits, switch pipelines, incast and head-of-line blocking
// against closed forms. One SystemC simulation in this process: several small networks,
// each on its own topology and stats root, driven by one driver; the tests check what
// they recorded.

#include <gtest/gtest.h>

#include <cmath>

#include "sim/core/error.hpp"

#include "tests/interconnect/network_test_util.hpp"

namespace moesim {
namespace {

using test::TimedSend;

constexpr double kBw = 100e9;        // B/s on every link direction
constexpr uint64_t kPayload = 4096;  // default packet_payload
constexpr uint64_t kHeader = 32;     // default header_bytes
constexpr double kT = 4128.0 / kBw;  // one full packet on the wire: 41.28 ns
constexpr double kTol = 1e-10;       // ps rounding, summed over packets
constexpr double kMs = 1e-3;

Topology pair_topology(double latency_s) {
  Topology t(2);
  t.add_duplex(0, 1, kBw, latency_s, "link0_1", "link1_0");
  t.compute_routes();
  return t;
}

Topology switch_topology(uint32_t chips, double latency_s, double switch_s) {
  Topology t(chips);
  const uint32_t sw = t.add_switch({"sw", switch_s});
  for (uint32_t c = 0; c < chips; ++c) {
    t.add_duplex(c, sw, kBw, latency_s, "chip" + std::to_string(c) + "_sw",
                 "sw_chip" + std::to_string(c));
  }
  t.compute_routes();
  return t;
}

Topology ring_topology(uint32_t chips, double latency_s) {
  Topology t(chips);
  for (uint32_t c = 0; c < chips; ++c) {
    const uint32_t d = (c + 1) % chips;
    t.add_duplex(c, d, kBw, latency_s, "link" + std::to_string(c) + "_" + std::to_string(d),
                 "link" + std::to_string(d) + "_" + std::to_string(c));
  }
  t.compute_routes();
  return t;
}

// Scenario constants.
constexpr double kLongLat = 1e-6;  // p2p and credit networks
constexpr double kSwLat = 100e-9;  // switch network: wire
constexpr double kSwD = 200e-9;    // switch network: switch pipeline
constexpr double kHolLat = 10e-9;
constexpr double kHolD = 20e-9;
constexpr uint64_t kHolP = 30;  // packets per HOL flow
constexpr double kRingLat = 100e-9;
constexpr double kRouterDelay = 50e-9;

struct World {
  test::Recorder rec;
  StatGroup s_p2p{"p2p_root"}, s_c1{"c1_root"}, s_c4{"c4_root"}, s_sw{"sw_root"}, s_hol{"hol_root"},
      s_ring{"ring_root"}, s_a{"a_root"}, s_b{"b_root"};
  Topology pair = pair_topology(kLongLat);
  Topology sw = switch_topology(5, kSwLat, kSwD);
  Topology hol = switch_topology(5, kHolLat, kHolD);
  Topology ring = ring_topology(4, kRingLat);
  Params auto_params = test::network_params("detailed");
  Params c1_params = test::network_params("detailed", {{"buffer_packets", int64_t{1}}});
  Params c4_params = test::network_params("detailed", {{"buffer_packets", int64_t{4}}});
  Params small_params = test::network_params("detailed", {{"buffer_packets", int64_t{2}}});
  Params ring_params =
      test::network_params("detailed", {{"router_delay", Quantity{kRouterDelay, false}}});
  std::unique_ptr<Network> p2p, c1, c4, swn, holn, ringn, a, b;
  std::string cycles_error;
};
World* g = nullptr;

TEST(DetailedNetwork, OnePacketTakesItsWireBytesOverBandwidthPlusLatency) {
  EXPECT_NEAR(g->rec.at(1), kT + kLongLat, kTol);
}

TEST(DetailedNetwork, PacketsOfAMessageStreamBackToBackWithEnoughCredits) {
  EXPECT_NEAR(g->rec.at(2) - 1 * kMs, 10 * kT + kLongLat, kTol);
  // 5000 B: a full packet and one of 904 B, each with its header.
  EXPECT_NEAR(g->rec.at(3) - 2 * kMs, (4128.0 + 936.0) / kBw + kLongLat, kTol);
}

TEST(DetailedNetwork, LinkStatsCountWireBytesPacketsBusyTime) {
  const LinkStats& s = g->p2p->link_stats(0);
  EXPECT_EQ(s.full_name(), "p2p_root.link0_1");
  EXPECT_EQ(s.bytes.get(), 4128u + 41280u + 5064u);
  EXPECT_EQ(s.transfers.get(), 13u);
  EXPECT_NEAR(s.busy_s.get(), (4128.0 + 41280.0 + 5064.0) / kBw, kTol);
  EXPECT_NEAR(s.queue_s.get(), 0.0, kTol);  // own packets in a row are not queueing
  EXPECT_EQ(g->p2p->link_stats(1).bytes.get(), 0u);
  EXPECT_EQ(test::stat_value(g->s_p2p, "p2p_root.p2p.header_bytes"), 13.0 * kHeader);
  EXPECT_EQ(test::stat_value(g->s_p2p, "p2p_root.p2p.payload_bytes"), 4096.0 + 40960 + 5000);
  EXPECT_EQ(test::stat_value(g->s_p2p, "p2p_root.p2p.messages"), 3.0);
}

TEST(DetailedNetwork, OneCreditAllowsOnePacketPerCreditRoundTrip) {
  // Packet k starts when the credit of packet k-1 is back: k (T + 2L); the last lands
  // T + L later.
  EXPECT_NEAR(g->rec.at(11), 9 * (kT + 2 * kLongLat) + kT + kLongLat, kTol);
  // Each packet after the first waited 2L for its credit.
  EXPECT_NEAR(g->c1->link_stats(0).queue_s.get(), 9 * 2 * kLongLat, kTol);
}

TEST(DetailedNetwork, CCreditsSendBurstsOfCPerRoundTrip) {
  // C T < T + 2L: packet k starts at floor(k / C) (T + 2L) + (k mod C) T.
  EXPECT_NEAR(g->rec.at(21), 2 * (kT + 2 * kLongLat) + 1 * kT + kT + kLongLat, kTol);
}

TEST(DetailedNetwork, PacketsPipelineAcrossASwitch) {
  // Store and forward per packet: the last packet leaves the first link at P T, pays
  // L + D, its own T on the second link and L: (P + 1) T + 2L + D.
  EXPECT_NEAR(g->rec.at(31), 11 * kT + 2 * kSwLat + kSwD, kTol);
}

TEST(DetailedNetwork, IncastSerialisesOnTheSharedOutput) {
  // Four chips send 10 packets each to chip 0: the switch's output to chip 0 never idles
  // once the first packets are through: 40 T + T + 2L + D.
  EXPECT_NEAR(g->rec.last_of(41, 44) - 1 * kMs, 41 * kT + 2 * kSwLat + kSwD, kTol);
  // Beyond the fixed T + 2L + D, four times the single flow's 10 T.
  const double fixed = kT + 2 * kSwLat + kSwD;
  EXPECT_NEAR((g->rec.last_of(41, 44) - 1 * kMs - fixed) / (g->rec.at(31) - fixed), 4.0, 1e-6);
  // Packets pile up in the input buffers behind the busy output.
  EXPECT_GE(test::stat_value(g->s_sw, "sw_root.sw.p1.max_occupancy"), 5.0);
  EXPECT_GT(test::stat_value(g->s_sw, "sw_root.sw.p1.hol_blocked_time"), 0.0);
  EXPECT_GT(g->swn->link_stats(0 * 2 + 1).queue_s.get(), 0.0);  // sw_chip0 waited
}

TEST(DetailedNetwork, HeadOfLineBlockingSlowsAFlowToAnIdleOutput) {
  // Control (at 1 ms): chip 1 sends 30 packets to chip 0 and 30 to chip 4; its uplink
  // alternates them, so both end near 60 T.
  const double control = g->rec.at(62) - 1 * kMs;
  EXPECT_NEAR(control, 60 * kT, 4 * kT);
  // With chips 2 and 3 also sending to chip 0, the output to chip 0 gives chip 1 a third of
  // its time; chip 1's packets for chip 4 wait behind its blocked packets for chip 0 in the
  // same FIFO input buffer, though the output to chip 4 is idle.
  const double blocked = g->rec.at(54);
  EXPECT_GT(blocked, 1.35 * control);
  EXPECT_GT(test::stat_value(g->s_hol, "hol_root.sw.p1.hol_blocked_time"), 20 * kT);
}

TEST(DetailedNetwork, ChipsRelayAroundARing) {
  // chip 0 to chip 2 is two hops through a chip, which pays router_delay.
  EXPECT_EQ(g->ring.hops(0, 2), 2u);
  EXPECT_NEAR(g->rec.at(71), 11 * kT + 2 * kRingLat + kRouterDelay, kTol);
}

TEST(DetailedNetwork, SendOrderWithinAnInstantDoesNotMatter) {
  // Networks a and b get the same all-to-all at t = 0, sent in opposite orders.
  size_t compared = 0;
  for (uint32_t s = 0; s < 5; ++s) {
    for (uint32_t d = 0; d < 5; ++d) {
      if (s == d) continue;
      const double ta = g->rec.at(1000 + s * 5 + d);
      EXPECT_GT(ta, 0.0);
      EXPECT_EQ(ta, g->rec.at(2000 + s * 5 + d)) << s << " -> " << d;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 20u);
  for (uint32_t i = 0; i < g->hol.links().size(); ++i) {
    EXPECT_EQ(g->a->link_stats(i).bytes.get(), g->b->link_stats(i).bytes.get());
    EXPECT_EQ(g->a->link_stats(i).queue_s.get(), g->b->link_stats(i).queue_s.get());
    EXPECT_EQ(g->a->link_stats(i).busy_s.get(), g->b->link_stats(i).busy_s.get());
  }
}

TEST(DetailedNetwork, RejectsARouterDelayInCycles) {
  // The network has no clock: checked when the model is built (in sc_main, before the run).
  EXPECT_NE(g->cycles_error.find("system.network.router_delay: a time in cycles needs a clock"),
            std::string::npos)
      << g->cycles_error;
}

TEST(DetailedNetwork, DeclaresItsDefaults) {
  const auto* e = Registry<Network>::instance().find("detailed");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(*e->schema.find("packet_payload")->default_val, ParamValue(Quantity{4096, false}));
  EXPECT_EQ(*e->schema.find("header_bytes")->default_val, ParamValue(Quantity{32, false}));
  EXPECT_EQ(*e->schema.find("buffer_packets")->default_val, ParamValue(int64_t{0}));
}

}  // namespace
}  // namespace moesim

int sc_main(int argc, char* argv[]) {
  using moesim::TimedSend;
  testing::InitGoogleTest(&argc, argv);
  moesim::World w;
  moesim::g = &w;
  namespace t = moesim::test;
  w.p2p = t::make_network("detailed", "p2p", w.auto_params, w.pair, &w.s_p2p);
  w.c1 = t::make_network("detailed", "c1", w.c1_params, w.pair, &w.s_c1);
  w.c4 = t::make_network("detailed", "c4", w.c4_params, w.pair, &w.s_c4);
  w.swn = t::make_network("detailed", "swn", w.auto_params, w.sw, &w.s_sw);
  w.holn = t::make_network("detailed", "holn", w.small_params, w.hol, &w.s_hol);
  w.ringn = t::make_network("detailed", "ringn", w.ring_params, w.ring, &w.s_ring);
  w.a = t::make_network("detailed", "a", w.small_params, w.hol, &w.s_a);
  w.b = t::make_network("detailed", "b", w.small_params, w.hol, &w.s_b);

  constexpr uint64_t P = moesim::kPayload;
  std::vector<TimedSend> sends = {
      {0, w.p2p.get(), 0, 1, P, 1},       {1e-3, w.p2p.get(), 0, 1, 10 * P, 2},
      {2e-3, w.p2p.get(), 0, 1, 5000, 3}, {0, w.c1.get(), 0, 1, 10 * P, 11},
      {0, w.c4.get(), 0, 1, 10 * P, 21},  {0, w.swn.get(), 0, 1, 10 * P, 31},
  };
  for (uint32_t c = 1; c <= 4; ++c) sends.push_back({1e-3, w.swn.get(), c, 0, 10 * P, 40 + c});
  const uint64_t hp = moesim::kHolP * P;
  for (uint32_t c = 1; c <= 3; ++c) sends.push_back({0, w.holn.get(), c, 0, hp, 50 + c});
  sends.push_back({0, w.holn.get(), 1, 4, hp, 54});
  sends.push_back({1e-3, w.holn.get(), 1, 0, hp, 61});
  sends.push_back({1e-3, w.holn.get(), 1, 4, hp, 62});
  sends.push_back({0, w.ringn.get(), 0, 2, 10 * P, 71});
  // All-to-all with uneven sizes (some not whole packets), forward into a, backward into b.
  std::vector<TimedSend> a2a;
  for (uint32_t s = 0; s < 5; ++s) {
    for (uint32_t d = 0; d < 5; ++d) {
      if (s != d)
        a2a.push_back(
            {0, w.a.get(), s, d, (3 + (s * 7 + d * 3) % 11) * P + s * 100, 1000 + s * 5 + d});
    }
  }
  for (const TimedSend& x : a2a) sends.push_back(x);
  for (auto it = a2a.rbegin(); it != a2a.rend(); ++it) {
    TimedSend x = *it;
    x.net = w.b.get();
    x.tag += 1000;
    sends.push_back(x);
  }
  try {
    moesim::StatGroup root("bad_root");
    const moesim::Params p =
        t::network_params("detailed", {{"router_delay", moesim::Quantity{3, true}}});
    t::make_network("detailed", "bad", p, w.pair, &root);
  } catch (const moesim::InputError& e) {
    w.cycles_error = e.what();
  }
  t::Driver driver("driver", sends, w.rec);
  sc_core::sc_start();
  return RUN_ALL_TESTS();
}
