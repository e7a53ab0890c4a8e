#pragma once
/// What the stream-skip tests (test_stream_skip, test_exact_skip) share: chains of transfers,
/// a `dram` tier built from a [memory] table, and the host that runs the chains against it and
/// records every completion.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hw_models/memory/memory.hpp"
#include "sim/config/config.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/sc_thread.hpp"

namespace moesim::skip_harness {

struct Xfer {
  uint64_t bytes;
  bool write;
};
// Transfers issued one after another (each when the previous completes) from `start`.
struct Chain {
  double start;  // s
  std::vector<Xfer> xfers;
};

inline std::vector<Xfer> repeat(int n, uint64_t bytes, bool write) {
  return std::vector<Xfer>(static_cast<size_t>(n), Xfer{bytes, write});
}

// The `dram` tier of the [memory] table `toml` (`name` in messages), its stats under `stats`.
inline std::unique_ptr<Memory> make_dram(const std::string& name, const std::string& toml,
                                         StatGroup* stats) {
  Config cfg = Config::from_string(toml, name);
  const auto& reg = Registry<Memory>::instance();
  (void)cfg.choose("memory.type", reg.names());
  const Params p = cfg.section("memory", reg.find("dram")->schema);
  cfg.check_all_consumed();
  return reg.find("dram")->create(Memory::Args{name.c_str(), p, 1e9, stats});
}

// Runs `chains` against one memory and records every completion time.
struct Host : sc_core::sc_module, MemoryClient {
  SC_HAS_PROCESS(Host);
  Host(const sc_core::sc_module_name& n, Memory& m, const std::vector<Chain>& c)
      : sc_core::sc_module(n), mem(m), chains(c) {
    done_s.resize(chains.size());
    done_at.resize(chains.size());
    next.assign(chains.size(), 0);
    for (size_t i = 0; i < chains.size(); ++i) {
      done_s[i].assign(chains[i].xfers.size(), -1.0);
      done_at[i].assign(chains[i].xfers.size(), 0);
    }
    MOESIM_SC_THREAD(run);
  }
  void run() {
    std::vector<size_t> order(chains.size());
    for (size_t c = 0; c < order.size(); ++c) order[c] = c;
    std::stable_sort(order.begin(), order.end(),
                     [this](size_t a, size_t b) { return chains[a].start < chains[b].start; });
    double t = 0;
    for (const size_t c : order) {
      const double start = chains[c].start;
      if (start > t) {
        wait(sc_core::sc_time(start - t, sc_core::SC_SEC));
        t = start;
      }
      issue(c);
    }
  }
  void issue(size_t c) {
    const Xfer& x = chains[c].xfers[next[c]];
    mem.transfer(x.bytes, x.write, this, c);
  }
  void transfer_done(uint64_t c) override {
    done_s[c][next[c]] = sc_core::sc_time_stamp().to_seconds();
    done_at[c][next[c]++] = sc_core::sc_time_stamp().value();
    if (next[c] < chains[c].xfers.size()) issue(c);
  }
  Memory& mem;
  const std::vector<Chain>& chains;
  std::vector<std::vector<double>> done_s;     // [chain][transfer] completion time, s (-1: not)
  std::vector<std::vector<uint64_t>> done_at;  // the same in resolution units (0: not)
  std::vector<size_t> next;
};

}  // namespace moesim::skip_harness
