// Speed of a network model on a DeepSeek-V3-like decode step: `messages` messages of
// 100-300 KB between random pairs of `chips` chips on one switch (450 GB/s per direction,
// 500 ns wires, 100 ns switch), all sent at t = 0.
//   bench_network [model=detailed] [messages=60000] [chips=64]
// Prints simulated time, wall time, packet-hops (detailed) and their rate.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/interconnect/network_test_util.hpp"

int sc_main(int argc, char* argv[]) {
  namespace t = moesim::test;
  const std::string model = argc > 1 ? argv[1] : "detailed";
  const uint64_t messages = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 60000;
  const uint32_t chips = argc > 3 ? static_cast<uint32_t>(std::strtoul(argv[3], nullptr, 10)) : 64;
  moesim::Topology topo(chips);
  const uint32_t sw = topo.add_switch({"sw", 100e-9});
  for (uint32_t c = 0; c < chips; ++c) {
    topo.add_duplex(c, sw, 450e9, 500e-9, "chip" + std::to_string(c) + "_sw",
                    "sw_chip" + std::to_string(c));
  }
  topo.compute_routes();
  moesim::StatGroup root("bench");
  const moesim::Params params = t::network_params(model);
  auto net = t::make_network(model, "net", params, topo, &root);
  std::vector<t::TimedSend> sends;
  uint64_t x = 0x9e3779b97f4a7c15ull, bytes = 0;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (uint64_t i = 0; i < messages; ++i) {
    const auto src = static_cast<moesim::ChipId>(next() % chips);
    auto dst = static_cast<moesim::ChipId>(next() % (chips - 1));
    if (dst >= src) ++dst;
    const uint64_t b = 100000 + next() % 200001;
    bytes += b;
    sends.push_back({0, net.get(), src, dst, b, i});
  }
  t::Recorder rec;
  t::Driver driver("driver", std::move(sends), rec);
  const auto t0 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double hops = t::stat_value(root, "bench.net.packet_hops");
  std::printf("%s: %llu messages, %.3g GB, %u chips: simulated %.4g us, wall %.3f s", model.c_str(),
              static_cast<unsigned long long>(messages), bytes * 1e-9, chips,
              sc_core::sc_time_stamp().to_seconds() * 1e6, wall);
  if (hops > 0) std::printf(", %.4g packet-hops, %.3g M packet-hops/s", hops, hops / wall * 1e-6);
  std::printf(", delivered %zu\n", rec.done_s.size());
  return 0;
}
