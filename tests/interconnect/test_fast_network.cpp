// FastNetwork: closed forms for one message, pipelining over hops, fair sharing, incast,
// byte counts, determinism, cost. One SystemC simulation in this process: scenarios are
// staggered 1 ms apart, and the tests check what was recorded.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include <systemc>

#include "hw_models/interconnect/network.hpp"
#include "hw_models/interconnect/topology.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/sc_thread.hpp"

namespace moesim {
namespace {

using sc_core::SC_MS;
using sc_core::SC_PS;

constexpr double kBw = 100e9;             // 100 GB/s per link direction
constexpr double kLat = 500e-9;           // 500 ns per link
constexpr double kSwLat = 100e-9;         // 100 ns per switch
constexpr uint64_t kChunk = 64 * 1024;    // the default chunk
constexpr double kChunkS = kChunk / kBw;  // 655.36 ns on a link alone
constexpr uint64_t kMiB = 1024 * 1024;    // 16 chunks
constexpr double kMs = 1e-3;

Params params_of(const ParamSchema& schema, std::map<std::string, ParamValue> values) {
  std::map<std::string, ParamType> types;
  for (const ParamSpec& p : schema.params()) {
    types[p.name] = p.type;
    if (values.count(p.name) == 0 && p.default_val) values[p.name] = *p.default_val;
  }
  return Params("system", values, types);
}

Topology build(const std::string& type, uint32_t chips, std::map<std::string, ParamValue> values) {
  const auto* e = Registry<TopologyBuilder>::instance().find(type);
  const Params p = params_of(e->schema, std::move(values));
  return e->create({p})->build(chips, {});
}

std::map<std::string, ParamValue> link_values() {
  return {{"bandwidth", Quantity{kBw, false}}, {"latency", Quantity{kLat, false}}};
}

/// Delivery times by tag, and the delivery order.
struct Recorder : NetworkClient {
  std::map<uint64_t, double> done_s;
  std::vector<std::pair<uint64_t, double>> order;
  std::chrono::steady_clock::time_point last_wall;
  void message_done(uint64_t tag) override {
    const double t = sc_core::sc_time_stamp().to_seconds();
    EXPECT_EQ(done_s.count(tag), 0u) << "tag " << tag << " delivered twice";
    done_s[tag] = t;
    order.emplace_back(tag, t);
    last_wall = std::chrono::steady_clock::now();
  }
};

StatGroup g_stats("test");
Recorder g_rec;
Recorder g_det_a;
Recorder g_det_b;
Recorder g_big;
struct Nets {
  std::unique_ptr<Network> fc, line, sw, ring, det_a, det_b, big;
  Topology fc_t, line_t, sw_t, ring_t, big_t;
};
Nets* g_nets = nullptr;
double g_big_wall_s = 0;
size_t g_big_msgs = 0;

/// Deterministic pseudo-random numbers (a fixed LCG: the same on every machine).
struct Lcg {
  uint64_t x;
  uint32_t next() {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(x >> 33);
  }
};

struct Driver : sc_core::sc_module {
  SC_HAS_PROCESS(Driver);
  explicit Driver(sc_core::sc_module_name n) : sc_module(n) { MOESIM_SC_THREAD(run); }
  void run() {
    Nets& n = *g_nets;
    // 0 ms: one chunk, one hop.
    n.fc->send(0, 1, kChunk, &g_rec, 1);
    wait(1, SC_MS);
    // 1 ms: 8 chunks over 3 hops (a line 0-1-2-3).
    n.line->send(0, 3, 8 * kChunk, &g_rec, 2);
    wait(1, SC_MS);
    // 2 ms: two 1 MiB messages on one link.
    n.fc->send(0, 1, kMiB, &g_rec, 3);
    n.fc->send(0, 1, kMiB, &g_rec, 4);
    wait(1, SC_MS);
    // 3 ms: uniform all-to-all of 1 MiB on the fully connected 8 chips.
    for (ChipId s = 0; s < 8; ++s) {
      for (ChipId d = 0; d < 8; ++d) {
        if (s != d) n.fc->send(s, d, kMiB, &g_rec, 1000 + s * 8 + d);
      }
    }
    wait(1, SC_MS);
    // 4 ms: two messages of 8 chunks on the same 3 hops.
    n.line->send(0, 3, 8 * kChunk, &g_rec, 5);
    n.line->send(0, 3, 8 * kChunk, &g_rec, 6);
    wait(1, SC_MS);
    // 5 ms: incast through the switch, 7 chips to chip0, 1 MiB each; and one alone 1 -> 2
    // later at 5.5 ms.
    for (ChipId s = 1; s < 8; ++s) n.sw->send(s, 0, kMiB, &g_rec, 2000 + s);
    wait(500, sc_core::SC_US);
    n.sw->send(1, 2, kChunk, &g_rec, 7);
    wait(500, sc_core::SC_US);
    // 6 ms: two one-chunk messages on one link, the second half a chunk time later.
    n.fc->send(2, 3, kChunk, &g_rec, 8);
    wait(327680, SC_PS);
    n.fc->send(2, 3, kChunk, &g_rec, 9);
    wait(1, SC_MS);
    // 7 ms: ring, every chip sends 4 MiB two chips ahead: every link carries two flows.
    for (ChipId s = 0; s < 8; ++s) n.ring->send(s, (s + 2) % 8, 4 * kMiB, &g_rec, 3000 + s);
    wait(1, SC_MS);
    // 8 ms: the same irregular all-to-all-v on two identical rings.
    for (Network* net : {n.det_a.get(), n.det_b.get()}) {
      Recorder* rec = net == n.det_a.get() ? &g_det_a : &g_det_b;
      Lcg rng{42};
      for (ChipId s = 0; s < 8; ++s) {
        for (ChipId d = 0; d < 8; ++d) {
          const uint64_t bytes = 1 + rng.next() % (300 * 1024);
          if (s != d) net->send(s, d, bytes, rec, s * 8 + d);
        }
      }
    }
    wait(1, SC_MS);
    // 9 ms: a decode-step-sized exchange: 320 chips (40 nodes of 8), each sends 28 KiB to
    // 190 others (60,800 messages).
    {
      Lcg rng{7};
      const auto start = std::chrono::steady_clock::now();
      g_big.last_wall = start;
      uint64_t tag = 0;
      for (ChipId s = 0; s < 320; ++s) {
        const uint32_t first = rng.next() % 320;
        for (uint32_t j = 0; j < 190; ++j) {
          const ChipId d = (first + j) % 320;
          if (d == s) continue;
          n.big->send(s, d, 28 * 1024, &g_big, tag++);
        }
      }
      g_big_msgs = tag;
      wait(1, SC_MS);
      g_big_wall_s = std::chrono::duration<double>(g_big.last_wall - start).count();
    }
  }
};

double at(uint64_t tag) {
  return g_rec.done_s.at(tag);
}

TEST(FastNetwork, OneChunkTakesLatencyPlusBytesOverBandwidth) {
  EXPECT_NEAR(at(1), kLat + kChunkS, 1e-12);
}

TEST(FastNetwork, ChunksPipelineOverHops) {
  // Store and forward, C chunks over H equal hops: the last chunk leaves the source after
  // C chunk times and then needs H - 1 more chunk times and H latencies:
  // (C + H - 1) * chunk / bw + H * latency.
  const double c = 8, h = 3;
  EXPECT_NEAR(at(2) - 1 * kMs, (c + h - 1) * kChunkS + h * kLat, 1e-12);
}

TEST(FastNetwork, TwoMessagesOnOneLinkShareIt) {
  const double alone = 16 * kChunkS + kLat;
  EXPECT_NEAR(at(3) - 2 * kMs, 2 * 16 * kChunkS + kLat, 1e-12);
  EXPECT_NEAR(at(4) - 2 * kMs, 2 * 16 * kChunkS + kLat, 1e-12);
  EXPECT_GT(at(3) - 2 * kMs, 1.9 * alone);
}

TEST(FastNetwork, UniformAllToAllOnFullyConnectedIsOneMessageTime) {
  // Every link direction carries one message: bytes / bw + latency, for all 56.
  for (ChipId s = 0; s < 8; ++s) {
    for (ChipId d = 0; d < 8; ++d) {
      if (s != d) {
        EXPECT_NEAR(at(1000 + s * 8 + d) - 3 * kMs, 16 * kChunkS + kLat, 1e-12);
      }
    }
  }
}

TEST(FastNetwork, TwoMessagesPipelineAtHalfBandwidth) {
  // Same route, same start: in lockstep, each as if alone on links of half the bandwidth.
  const double c = 8, h = 3;
  EXPECT_NEAR(at(5) - 4 * kMs, (c + h - 1) * 2 * kChunkS + h * kLat, 1e-12);
  EXPECT_NEAR(at(6) - 4 * kMs, (c + h - 1) * 2 * kChunkS + h * kLat, 1e-12);
}

TEST(FastNetwork, IncastThroughASwitchPortTakesSevenTimesLonger) {
  // First chunk to the switch: chunk time + latency + switch latency; then 16 chunks at a
  // seventh of the port each; then the last latency.
  const double first = kChunkS + kLat + kSwLat;
  for (ChipId s = 1; s < 8; ++s) {
    EXPECT_NEAR(at(2000 + s) - 5 * kMs, first + 16 * 7 * kChunkS + kLat, 1e-12);
  }
  // Alone through the switch: two hops, the switch latency once.
  EXPECT_NEAR(at(7) - 5.5 * kMs, 2 * kChunkS + 2 * kLat + kSwLat, 1e-12);
}

TEST(FastNetwork, StaggeredChunksShareOnlyWhileBothAreOnTheLink) {
  // A moves half alone, then both at half rate until A ends a chunk time later, then B's
  // remaining half alone.
  EXPECT_NEAR(at(8) - 6 * kMs, 1.5 * kChunkS + kLat, 1e-12);
  EXPECT_NEAR(at(9) - 6 * kMs, 2 * kChunkS + kLat, 1e-12);  // from A's start
}

TEST(FastNetwork, RingFlowsTwoAheadHalveTheBandwidth) {
  // Every link carries two 4 MiB flows (first hop of one, second of the other): each gets
  // half, so about 2 x 4 MiB / bw, plus a pipeline fill of a few chunk times.
  const double bulk = 2 * 4 * kMiB / kBw;
  for (ChipId s = 0; s < 8; ++s) {
    const double t = at(3000 + s) - 7 * kMs;
    EXPECT_GT(t, bulk);
    EXPECT_LT(t, bulk + 2 * kLat + 4 * kChunkS) << s;
  }
  std::printf("[ info ] ring, 8 flows two ahead: %.3f us (2 x 4 MiB / bw = %.3f us)\n",
              (at(3000) - 7 * kMs) * 1e6, bulk * 1e6);
  // By symmetry, every chip's flow ends at the same time.
  for (ChipId s = 1; s < 8; ++s) EXPECT_NEAR(at(3000 + s), at(3000), 1e-12);
}

uint32_t link_index(const Topology& t, const std::string& name) {
  for (uint32_t i = 0; i < t.links().size(); ++i) {
    if (t.links()[i].name == name) return i;
  }
  throw InternalError("no link " + name);
}

TEST(FastNetwork, CountsBytesChunksAndQueueingPerLink) {
  const Nets& n = *g_nets;
  const LinkStats& l01 = n.fc->link_stats(link_index(n.fc_t, "link0_1"));
  EXPECT_EQ(l01.full_name(), "test.link0_1");
  EXPECT_EQ(l01.bytes.get(), kChunk + 2 * kMiB + kMiB);  // 0 ms, 2 ms, 3 ms
  EXPECT_EQ(l01.transfers.get(), 1u + 32u + 16u);
  // At 2 ms each of 32 chunks took two chunk times: one chunk time of queueing each.
  EXPECT_NEAR(l01.queue_s.get(), 32 * kChunkS, 1e-12);
  EXPECT_NEAR(l01.busy_s.get(), kChunkS + 32 * kChunkS + 16 * kChunkS, 1e-12);
  EXPECT_DOUBLE_EQ(l01.peak, kBw);
  EXPECT_NEAR(l01.mean_queueing_delay.value(), 32 * kChunkS / 49, 1e-15);
  EXPECT_NEAR(l01.utilisation.value(),
              static_cast<double>(l01.bytes.get()) / (kBw * sc_core::sc_time_stamp().to_seconds()),
              1e-15);
  const LinkStats& l10 = n.fc->link_stats(link_index(n.fc_t, "link1_0"));
  EXPECT_EQ(l10.bytes.get(), kMiB);
  EXPECT_DOUBLE_EQ(l10.queue_s.get(), 0.0);

  // Incast: the port to chip0 carried 7 MiB, each of 112 chunks waited 6 chunk times.
  const LinkStats& port0 = n.sw->link_stats(link_index(n.sw_t, "sw_chip0"));
  EXPECT_EQ(port0.bytes.get(), 7 * kMiB);
  EXPECT_EQ(port0.transfers.get(), 112u);
  EXPECT_NEAR(port0.queue_s.get(), 112 * 6 * kChunkS, 1e-12);
  EXPECT_NEAR(port0.busy_s.get(), 112 * kChunkS, 1e-12);
  const LinkStats& up3 = n.sw->link_stats(link_index(n.sw_t, "chip3_sw"));
  EXPECT_EQ(up3.bytes.get(), kMiB);
  EXPECT_DOUBLE_EQ(up3.queue_s.get(), 0.0);

  // The line: 3 messages of 8 chunks over every hop.
  for (const char* name : {"link0_1", "link1_2", "link2_3"}) {
    EXPECT_EQ(n.line->link_stats(link_index(n.line_t, name)).bytes.get(), 3 * 8 * kChunk);
  }
  EXPECT_EQ(n.line->link_stats(link_index(n.line_t, "link1_0")).bytes.get(), 0u);

  // Ring: every clockwise link carried two flows of 4 MiB, counter-clockwise ones none.
  for (uint32_t c = 0; c < 8; ++c) {
    const std::string cw = "link" + std::to_string(c) + "_" + std::to_string((c + 1) % 8);
    const std::string ccw = "link" + std::to_string((c + 1) % 8) + "_" + std::to_string(c);
    EXPECT_EQ(n.ring->link_stats(link_index(n.ring_t, cw)).bytes.get(), 8 * kMiB);
    EXPECT_EQ(n.ring->link_stats(link_index(n.ring_t, ccw)).bytes.get(), 0u);
  }
}

TEST(FastNetwork, SameInputsGiveTheSameDeliveries) {
  ASSERT_EQ(g_det_a.order.size(), 56u);
  EXPECT_EQ(g_det_a.order, g_det_b.order);
  // Bytes are conserved: every link's count matches the routes.
  const Nets& n = *g_nets;
  std::vector<uint64_t> expect(n.ring_t.links().size(), 0);
  Lcg rng{42};
  for (ChipId s = 0; s < 8; ++s) {
    for (ChipId d = 0; d < 8; ++d) {
      const uint64_t bytes = 1 + rng.next() % (300 * 1024);
      if (s == d) continue;
      for (const uint32_t* p = n.ring_t.route_begin(s, d); p != n.ring_t.route_end(s, d); ++p) {
        expect[*p] += bytes;
      }
    }
  }
  for (uint32_t i = 0; i < expect.size(); ++i) {
    EXPECT_EQ(n.det_a->link_stats(i).bytes.get(), expect[i]);
    EXPECT_EQ(n.det_b->link_stats(i).bytes.get(), expect[i]);
  }
}

// Every message of a decode-sized exchange on 320 chips is delivered. Its wall time is printed,
// not asserted (a test never fails because the machine is slow: 6.4 s under the sanitizers);
// the speed of the network models is measured by bench_network.
TEST(FastNetwork, DecodeSizedExchangeIsDelivered) {
  EXPECT_EQ(g_big.done_s.size(), g_big_msgs);
  std::printf(
      "[ info ] %zu messages of 28 KiB on 320 chips (two_level): %.3f s wall, last "
      "delivery %.3f us after the sends\n",
      g_big_msgs, g_big_wall_s,
      (g_big.order.empty() ? 0.0 : g_big.order.back().second - 9 * kMs) * 1e6);
}

TEST(FastNetwork, RejectsBadSends) {
  EXPECT_THROW(g_nets->fc->send(1, 1, 10, &g_rec, 99), InternalError);
  EXPECT_THROW(g_nets->fc->send(1, 2, 0, &g_rec, 99), InternalError);
  EXPECT_THROW(g_nets->fc->send(1, 8, 10, &g_rec, 99), InternalError);
}

}  // namespace
}  // namespace moesim

int sc_main(int argc, char* argv[]) {
  using namespace moesim;
  testing::InitGoogleTest(&argc, argv);
  Nets nets;
  nets.fc_t = build("fully_connected", 8, link_values());
  auto line_values = link_values();
  line_values["rows"] = int64_t{1};
  line_values["cols"] = int64_t{4};
  nets.line_t = build("mesh", 4, line_values);
  auto sw_values = link_values();
  sw_values["switch_latency"] = Quantity{kSwLat, false};
  nets.sw_t = build("switch", 8, sw_values);
  nets.ring_t = build("ring", 8, link_values());
  nets.big_t = build("two_level", 320,
                     {{"node_chips", int64_t{8}},
                      {"intra_bandwidth", Quantity{450e9, false}},
                      {"intra_latency", Quantity{500e-9, false}},
                      {"intra_switch_latency", Quantity{100e-9, false}},
                      {"inter_bandwidth", Quantity{50e9, false}},
                      {"inter_latency", Quantity{2e-6, false}},
                      {"inter_switch_latency", Quantity{500e-9, false}}});
  const auto* fast = Registry<Network>::instance().find("fast");
  const Params p = params_of(fast->schema, {});
  StatGroup line_g("line", &g_stats), sw_g("sw", &g_stats), ring_g("ring", &g_stats),
      a_g("det_a", &g_stats), b_g("det_b", &g_stats), big_g("big", &g_stats);
  // The fully connected network's links sit right under "test" (checked by name).
  nets.fc = fast->create({"fc", p, nets.fc_t, &g_stats});
  nets.line = fast->create({"line", p, nets.line_t, &line_g});
  nets.sw = fast->create({"sw", p, nets.sw_t, &sw_g});
  nets.ring = fast->create({"ring", p, nets.ring_t, &ring_g});
  nets.det_a = fast->create({"det_a", p, nets.ring_t, &a_g});
  nets.det_b = fast->create({"det_b", p, nets.ring_t, &b_g});
  nets.big = fast->create({"big", p, nets.big_t, &big_g});
  g_nets = &nets;
  Driver driver("driver");
  sc_core::sc_start();
  return RUN_ALL_TESTS();
}
