// Collective schedules: byte conservation over random matrices for every algorithm, deps
// that point backwards, relays that forward only what they received, message counts, and
// hierarchical all-to-all crossing between nodes once per node pair.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <systemc>
#include <tuple>

#include "hw_models/interconnect/collective.hpp"

namespace moesim {
namespace {

std::vector<ChipId> iota_group(uint32_t n) {
  std::vector<ChipId> g(n);
  for (uint32_t i = 0; i < n; ++i) g[i] = i;
  return g;
}

/// A random matrix with about `zero_fraction` zero entries (diagonal may be non-zero: ignored).
std::vector<uint64_t> random_matrix(uint32_t n, uint64_t seed, double zero_fraction) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> m(static_cast<size_t>(n) * n);
  for (auto& v : m) {
    const bool zero = static_cast<double>(rng() % 1000) < zero_fraction * 1000;
    v = zero ? 0 : 1 + rng() % 100000;
  }
  return m;
}

void expect_backward_deps(const CollectiveSchedule& s) {
  for (size_t i = 0; i < s.messages.size(); ++i) {
    const auto& m = s.messages[i];
    ASSERT_LE(m.dep_begin + m.dep_count, s.deps.size());
    for (uint32_t d = m.dep_begin; d < m.dep_begin + m.dep_count; ++d) {
      ASSERT_LT(s.deps[d], i) << "message " << i;
      // A dep arrives at the chip that sends the depending message.
      EXPECT_EQ(s.messages[s.deps[d]].dst, m.src) << "message " << i;
    }
    EXPECT_NE(m.src, m.dst);
  }
}

/// Every byte of bytes[i][j] arrives once at j, and a relay sends on only pieces that
/// arrived at it in messages it depends on.
void expect_conserved(const CollectiveSchedule& s, const std::vector<uint64_t>& bytes) {
  const uint32_t n = static_cast<uint32_t>(s.group.size());
  const auto got = delivered_matrix(s);
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t j = 0; j < n; ++j) {
      EXPECT_EQ(got[i * n + j], i == j ? 0 : bytes[i * n + j]) << i << " -> " << j;
    }
  }
  for (size_t i = 0; i < s.messages.size(); ++i) {
    const auto& m = s.messages[i];
    uint64_t sum = 0;
    std::map<std::pair<ChipId, ChipId>, uint64_t> need;
    for (uint32_t p = m.payload_begin; p < m.payload_begin + m.payload_count; ++p) {
      sum += s.payloads[p].bytes;
      if (s.payloads[p].final_src != m.src)
        need[{s.payloads[p].final_src, s.payloads[p].final_dst}] += s.payloads[p].bytes;
    }
    EXPECT_EQ(sum, m.bytes) << "message " << i;
    std::map<std::pair<ChipId, ChipId>, uint64_t> have;
    for (uint32_t d = m.dep_begin; d < m.dep_begin + m.dep_count; ++d) {
      const auto& dm = s.messages[s.deps[d]];
      for (uint32_t p = dm.payload_begin; p < dm.payload_begin + dm.payload_count; ++p)
        have[{s.payloads[p].final_src, s.payloads[p].final_dst}] += s.payloads[p].bytes;
    }
    for (const auto& [k, v] : need) EXPECT_LE(v, have[k]) << "message " << i << " relays more";
  }
}

TEST(CollectiveSchedule, AllToAllConservesBytesForEveryAlgorithm) {
  for (uint32_t n : {1u, 2u, 3u, 4u, 5u, 8u, 12u}) {
    for (uint32_t cpn : {1u, 2u, 4u}) {
      if (n % cpn != 0) continue;
      Topology topo(n);
      topo.set_chips_per_node(cpn);
      for (uint64_t seed = 1; seed <= 5; ++seed) {
        const auto m = random_matrix(n, seed * 100 + n, seed == 1 ? 0.0 : 0.3);
        for (auto algo :
             {CollectiveAlgo::kDirect, CollectiveAlgo::kRing, CollectiveAlgo::kHierarchical}) {
          SCOPED_TRACE(::testing::Message() << "n=" << n << " cpn=" << cpn << " seed=" << seed
                                            << " " << collective_algo_name(algo));
          const auto s = all_to_all_v(topo, iota_group(n), m, algo);
          expect_backward_deps(s);
          expect_conserved(s, m);
        }
      }
    }
  }
}

TEST(CollectiveSchedule, AllToAllOnASubgroup) {
  Topology topo(8);
  topo.set_chips_per_node(4);
  const std::vector<ChipId> g = {6, 1, 3, 4, 7};
  const auto m = random_matrix(5, 7, 0.2);
  for (auto algo :
       {CollectiveAlgo::kDirect, CollectiveAlgo::kRing, CollectiveAlgo::kHierarchical}) {
    const auto s = all_to_all_v(topo, g, m, algo);
    expect_backward_deps(s);
    expect_conserved(s, m);
    for (const auto& msg : s.messages) {
      EXPECT_NE(std::find(g.begin(), g.end(), msg.src), g.end());
      EXPECT_NE(std::find(g.begin(), g.end(), msg.dst), g.end());
    }
  }
}

TEST(CollectiveSchedule, DirectIsOneMessagePerPair) {
  const uint32_t n = 6;
  Topology topo(n);
  const std::vector<uint64_t> m(n * n, 1000);
  const auto s = all_to_all_v(topo, iota_group(n), m, CollectiveAlgo::kDirect);
  ASSERT_EQ(s.messages.size(), n * (n - 1));
  std::set<std::pair<ChipId, ChipId>> pairs;
  for (const auto& msg : s.messages) {
    EXPECT_EQ(msg.bytes, 1000u);
    EXPECT_EQ(msg.dep_count, 0u);
    EXPECT_TRUE(msg.final_hop);
    pairs.insert({msg.src, msg.dst});
  }
  EXPECT_EQ(pairs.size(), n * (n - 1));
  EXPECT_EQ(s.bytes_per_chip, n * 1000u);
  // Zero entries send nothing.
  std::vector<uint64_t> z(n * n, 0);
  z[1] = 5;
  EXPECT_EQ(all_to_all_v(topo, iota_group(n), z, CollectiveAlgo::kDirect).messages.size(), 1u);
}

TEST(CollectiveSchedule, RingTakesTheShorterWayAndSplitsTies) {
  const uint32_t n = 6;
  Topology topo(n);
  std::vector<uint64_t> m(n * n, 0);
  m[0 * n + 2] = 10;  // 2 hops forward
  m[0 * n + 5] = 10;  // 1 hop back
  m[0 * n + 3] = 11;  // opposite: 6 forward (3 hops), 5 back (3 hops)
  const auto s = all_to_all_v(topo, iota_group(n), m, CollectiveAlgo::kRing);
  ASSERT_EQ(s.messages.size(), 2u + 1u + 3u + 3u);
  EXPECT_EQ(s.messages[0].src, 0u);
  EXPECT_EQ(s.messages[0].dst, 1u);
  EXPECT_FALSE(s.messages[0].final_hop);
  EXPECT_EQ(s.messages[1].dst, 2u);
  EXPECT_TRUE(s.messages[1].final_hop);
  EXPECT_EQ(s.messages[1].dep_count, 1u);
  EXPECT_EQ(s.messages[2].bytes, 6u);
  EXPECT_EQ(s.messages[5].bytes, 5u);
  EXPECT_EQ(s.messages[5].dst, 5u);
  EXPECT_EQ(s.messages[8].dst, 5u);
  EXPECT_EQ(s.messages[8].src, 0u);
  for (const auto& msg : s.messages) {
    const uint32_t d = (msg.dst + n - msg.src) % n;
    EXPECT_TRUE(d == 1 || d == n - 1) << "ring neighbours only";
  }
}

TEST(CollectiveSchedule, HierarchicalCrossesOncePerNodePair) {
  const uint32_t n = 16, cpn = 4;
  Topology topo(n);
  topo.set_chips_per_node(cpn);
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    auto m = random_matrix(n, seed, 0.5);
    if (seed == 6) {
      // Node 0 sends nothing to node 2.
      for (uint32_t i = 0; i < 4; ++i)
        for (uint32_t j = 8; j < 12; ++j) m[i * n + j] = 0;
    }
    const auto s = all_to_all_v(topo, iota_group(n), m, CollectiveAlgo::kHierarchical);
    std::map<std::pair<uint32_t, uint32_t>, int> crossings;
    std::map<std::pair<uint32_t, uint32_t>, uint64_t> node_bytes;
    for (uint32_t i = 0; i < n; ++i)
      for (uint32_t j = 0; j < n; ++j)
        if (i / cpn != j / cpn) node_bytes[{i / cpn, j / cpn}] += m[i * n + j];
    std::set<ChipId> relays_out;
    for (const auto& msg : s.messages) {
      const uint32_t a = topo.node_of(msg.src), b = topo.node_of(msg.dst);
      if (a == b) continue;
      ++crossings[{a, b}];
      EXPECT_EQ(msg.bytes, (node_bytes[std::make_pair(a, b)]));
      // Rail-aligned: both relays have the same local index.
      EXPECT_EQ(msg.src % cpn, msg.dst % cpn);
      EXPECT_EQ(msg.src % cpn, (a + b) % cpn);
    }
    for (const auto& [k, v] : node_bytes) EXPECT_EQ(crossings[k], v > 0 ? 1 : 0);
    if (seed == 6) {
      EXPECT_EQ(node_bytes[std::make_pair(0u, 2u)], 0u);
      EXPECT_EQ(crossings[std::make_pair(0u, 2u)], 0);
    }
  }
}

/// Symbolic reduction: which chips' contributions each chip holds per slice.
struct Holdings {
  explicit Holdings(uint32_t n) : n(n), has(n, std::vector<std::set<uint32_t>>(n)) {
    for (uint32_t c = 0; c < n; ++c)
      for (uint32_t k = 0; k < n; ++k) has[c][k] = {c};
  }
  /// Applies messages in index order (deps point backwards, so that is a valid order).
  void apply(const CollectiveSchedule& s, bool whole_buffer) {
    for (const auto& m : s.messages) {
      for (uint32_t k = 0; k < n; ++k) {
        if (!whole_buffer && k != m.chunk) continue;
        has[m.dst][k].insert(has[m.src][k].begin(), has[m.src][k].end());
      }
    }
  }
  uint32_t n;
  std::vector<std::vector<std::set<uint32_t>>> has;
};

TEST(CollectiveSchedule, RingAllReduceCountsSlicesAndReduces) {
  for (uint32_t n : {2u, 3u, 4u, 7u, 8u}) {
    for (uint64_t bytes : {uint64_t{1} << 20, uint64_t{1000003}, uint64_t{5}}) {
      Topology topo(n);
      const auto s = all_reduce(topo, iota_group(n), bytes, CollectiveAlgo::kRing);
      ASSERT_EQ(s.messages.size(), 2u * n * (n - 1));
      expect_backward_deps(s);
      uint64_t total = 0;
      for (const auto& msg : s.messages) {
        EXPECT_EQ(msg.bytes, slice_bytes(bytes, n, msg.chunk));
        EXPECT_TRUE(msg.bytes == bytes / n || msg.bytes == bytes / n + 1);
        EXPECT_EQ(msg.dst, (msg.src + 1) % n);
        total += msg.bytes;
      }
      // Every chip sends every slice but one, twice: 2 (n-1)/n of the buffer.
      EXPECT_EQ(total, 2 * (n - 1) * bytes);
      // Each step after the first waits for the previous one at that chip.
      for (size_t i = n; i < s.messages.size(); ++i) EXPECT_EQ(s.messages[i].dep_count, 1u);
      for (size_t i = 0; i < n; ++i) EXPECT_EQ(s.messages[i].dep_count, 0u);
      Holdings h(n);
      h.apply(s, false);
      for (uint32_t c = 0; c < n; ++c)
        for (uint32_t k = 0; k < n; ++k) EXPECT_EQ(h.has[c][k].size(), n) << c << " " << k;
    }
  }
  uint64_t sum = 0;
  for (uint32_t k = 0; k < 7; ++k) sum += slice_bytes(1000003, 7, k);
  EXPECT_EQ(sum, 1000003u);
}

TEST(CollectiveSchedule, TreeAllReduceReducesEverywhere) {
  for (uint32_t n : {2u, 3u, 5u, 8u, 13u}) {
    Topology topo(n);
    const auto s = all_reduce(topo, iota_group(n), 4096, CollectiveAlgo::kTree);
    ASSERT_EQ(s.messages.size(), 2u * (n - 1));
    expect_backward_deps(s);
    for (const auto& msg : s.messages) EXPECT_EQ(msg.bytes, 4096u);
    Holdings h(n);
    h.apply(s, true);
    for (uint32_t c = 0; c < n; ++c) EXPECT_EQ(h.has[c][0].size(), n) << c;
  }
}

TEST(CollectiveSchedule, ReduceScatterLeavesSliceKReducedAtChipK) {
  for (uint32_t n : {2u, 4u, 5u}) {
    Topology topo(n);
    const uint64_t bytes = 12345;
    const auto s = reduce_scatter(topo, iota_group(n), bytes, CollectiveAlgo::kRing);
    ASSERT_EQ(s.messages.size(), n * (n - 1));
    expect_backward_deps(s);
    uint64_t total = 0;
    for (const auto& m : s.messages) total += m.bytes;
    EXPECT_EQ(total, (n - 1) * bytes);
    Holdings h(n);
    h.apply(s, false);
    for (uint32_t k = 0; k < n; ++k) EXPECT_EQ(h.has[k][k].size(), n) << k;
  }
}

TEST(CollectiveSchedule, AllGatherDeliversEverySliceOnce) {
  for (uint32_t n : {2u, 3u, 6u}) {
    Topology topo(n);
    const uint64_t bytes = 1000001;
    const auto s = all_gather(topo, iota_group(n), bytes, CollectiveAlgo::kRing);
    ASSERT_EQ(s.messages.size(), n * (n - 1));
    expect_backward_deps(s);
    std::vector<uint64_t> want(n * n);
    for (uint32_t i = 0; i < n; ++i)
      for (uint32_t j = 0; j < n; ++j) want[i * n + j] = slice_bytes(bytes, n, i);
    const auto got = delivered_matrix(s);
    for (uint32_t i = 0; i < n; ++i)
      for (uint32_t j = 0; j < n; ++j) EXPECT_EQ(got[i * n + j], i == j ? 0 : want[i * n + j]);
  }
}

TEST(CollectiveSchedule, NamesAndBadAlgorithms) {
  EXPECT_STREQ(collective_kind_name(CollectiveKind::kAllReduce), "all_reduce");
  EXPECT_STREQ(collective_algo_name(CollectiveAlgo::kHierarchical), "hierarchical");
  Topology topo(4);
  EXPECT_ANY_THROW(all_gather(topo, iota_group(4), 100, CollectiveAlgo::kTree));
  EXPECT_ANY_THROW(all_reduce(topo, iota_group(4), 100, CollectiveAlgo::kDirect));
  EXPECT_ANY_THROW(all_to_all_v(topo, iota_group(4), {1, 2, 3}, CollectiveAlgo::kDirect));
  EXPECT_ANY_THROW(all_to_all_v(topo, {0, 0}, {0, 1, 1, 0}, CollectiveAlgo::kDirect));
  EXPECT_TRUE(all_reduce(topo, {2}, 100, CollectiveAlgo::kRing).messages.empty());
}

}  // namespace
}  // namespace moesim

int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
