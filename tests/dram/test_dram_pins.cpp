// Pins exact results of the cycle-level DRAM model, so that a speed-up of the controller
// (queue layout, event skipping, address decode) cannot silently change what it computes.
// The figures were recorded with the straightforward implementation (before the speed work
// of branch dram-speed); if a deliberate model change moves them, re-record them and say
// why in the commit.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "hw_models/memory/dram/dram.hpp"
#include "hw_models/memory/dram/dram_calibration.hpp"
#include "hw_models/memory/dram/timing_checker.hpp"
#include "tests/dram/dram_fingerprint.hpp"

namespace moesim {
namespace {

using dram_fingerprint::Fnv;

struct Fingerprint {
  uint64_t commands = 0;  // hash of every command (type, cycle, location)
  uint64_t done = 0;      // hash of every completion (id, cycle), in completion order
  uint64_t cycles = 0;    // cycle after the last completion
  uint64_t row_hits = 0;  // requests served from an open row
  double p99 = 0;         // 99th-percentile latency, cycles
};

// Pushes `n` requests (pseudo-random or sequential addresses, every `write_every`-th a write,
// 0 = none) through a fresh memory as fast as its queues accept them, timing-checked.
Fingerprint run(const std::string& preset, bool random, int write_every, PagePolicy pol,
                uint64_t n) {
  const DramSpec& s = dram_preset(preset);
  DramConfig cfg;
  cfg.page_policy = pol;
  DramSystem sys(s, cfg);
  TimingChecker chk(s);
  Fnv cmd, done;
  sys.set_command_observer([&](const DramCommand& c) {
    chk.observe(c);
    cmd.add(c);
  });
  sys.set_completion_callback([&](const DramRequest& r, uint64_t at) {
    done.add(r.id);
    done.add(at);
  });
  uint64_t x = 12345;
  for (uint64_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const uint64_t addr = random ? (x >> 16) % s.capacity_bytes() : i * 64;
    const bool w = write_every > 0 && i % write_every == 0;
    while (!sys.can_accept(addr, w)) sys.advance_to(sys.next_event_cycle() + 1);
    sys.enqueue(DramRequest{addr, w, i, sys.cycle()});
  }
  while (!sys.idle()) sys.advance_to(sys.next_event_cycle() + 1);
  EXPECT_TRUE(chk.finish(sys.cycle())) << chk.first_violation();
  Fingerprint f;
  f.commands = cmd.h;
  f.done = done.h;
  f.cycles = sys.cycle();
  f.row_hits = sys.stats().row_hits;
  f.p99 = sys.stats().latency.percentile(0.99);
  return f;
}

struct Pin {
  const char* preset;
  bool random;
  int write_every;
  PagePolicy policy;
  Fingerprint want;
};

// clang-format off
const Pin kPins[] = {
#include "dram_pins.inc"
};
// clang-format on

TEST(DramPins, CommandStreamsAndCompletionsAreUnchanged) {
  for (const Pin& p : kPins) {
    const Fingerprint f = run(p.preset, p.random, p.write_every, p.policy, 20000);
    const std::string name = std::string(p.preset) + (p.random ? " random" : " seq") + " w/" +
                             std::to_string(p.write_every) +
                             (p.policy == PagePolicy::kClosed ? " closed" : " open");
    if (getenv("MOESIM_PRINT_PINS")) {
      printf("{\"%s\", %s, %d, PagePolicy::%s, {%lluull, %lluull, %llu, %llu, %.1f}},\n", p.preset,
             p.random ? "true" : "false", p.write_every,
             p.policy == PagePolicy::kClosed ? "kClosed" : "kOpen",
             static_cast<unsigned long long>(f.commands), static_cast<unsigned long long>(f.done),
             static_cast<unsigned long long>(f.cycles), static_cast<unsigned long long>(f.row_hits),
             f.p99);
      continue;
    }
    EXPECT_EQ(f.commands, p.want.commands) << name;
    EXPECT_EQ(f.done, p.want.done) << name;
    EXPECT_EQ(f.cycles, p.want.cycles) << name;
    EXPECT_EQ(f.row_hits, p.want.row_hits) << name;
    EXPECT_EQ(f.p99, p.want.p99) << name;
  }
}

// The calibration driver (behind `moesim mem` and the fast model's table): total cycles and
// p99 latency of 20,000-request sequential and random read streams on HBM3 and DDR4.
TEST(DramPins, CalibrationRunsAreUnchanged) {
  struct Case {
    const char* preset;
    DramPattern pattern;
    uint64_t cycles;
    double p99_ns;
  };
  const Case cases[] = {
#include "dram_pins_calib.inc"
  };
  for (const Case& c : cases) {
    DramPatternSpec ps;
    ps.pattern = c.pattern;
    ps.requests = 20000;
    ps.seed = 7;
    const DramRunResult r = run_dram_pattern(dram_preset(c.preset), DramConfig{}, ps);
    if (getenv("MOESIM_PRINT_PINS")) {
      printf("{\"%s\", DramPattern::%s, %llu, %.17g},\n", c.preset,
             c.pattern == DramPattern::kRandom ? "kRandom" : "kSequential",
             static_cast<unsigned long long>(r.cycles), r.p99_latency_ns);
      continue;
    }
    EXPECT_EQ(r.requests, 20000u) << c.preset;
    EXPECT_EQ(r.cycles, c.cycles) << c.preset;
    EXPECT_EQ(r.p99_latency_ns, c.p99_ns) << c.preset;
  }
}

}  // namespace
}  // namespace moesim
