// The exact period skip (hw_models/memory/dram/period_skip.hpp) against the same streams with
// the skip off: every command, every completion, the final cycle and every counter must be
// identical, and the skip must actually have advanced the long streams.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "hw_models/memory/dram/dram.hpp"
#include "hw_models/memory/dram/dram_calibration.hpp"
#include "hw_models/memory/dram/period_skip.hpp"
#include "hw_models/memory/dram/timing_checker.hpp"
#include "tests/dram/dram_fingerprint.hpp"
#include "tests/support/sanitized.hpp"

namespace moesim {
namespace {

using testing_support::kSanitized;

// Under the sanitizers the streams are an eighth as long (at least 20,000 requests): the
// comparisons stay, the shares skipped (which need the full length) are checked only here.
uint64_t scaled(uint64_t n) {
  return kSanitized ? std::max<uint64_t>(20000, n / 8) : n;
}
void expect_skipped(double share, double least, const std::string& name = "") {
  if (!kSanitized) {
    EXPECT_GT(share, least) << name;
  }
}

using dram_fingerprint::Fnv;

// What a run leaves behind.
struct Run {
  uint64_t commands = 0;  // hash of every command, in order
  uint64_t done = 0;      // hash of every completion (id, cycle, arrival), in order
  uint64_t cycle = 0;
  DramStats st;
  std::string violation;  // first timing violation, "" if none
  uint64_t skipped = 0;   // requests completed in skipped periods
  uint64_t skips = 0;
};

// One host stream: requests at base, base + 64, ...; every `write_every`-th a write (0: none,
// 1: all). Two streams take turns, one request each.
struct Stream {
  uint64_t base;
  int write_every;
  bool random = false;  // the DramPins random addresses instead of base + 64 i
};

// Feeds `n` requests per stream the way the DramPins host does (in order, as fast as the
// queues accept them), with or without the skip, and records everything.
Run run(const DramSpec& s, const DramConfig& cfg, const std::vector<Stream>& streams, uint64_t n,
        bool skip) {
  DramSystem sys(s, cfg);
  TimingChecker chk(s);
  Run r;
  Fnv cmd, done;
  sys.set_command_observer([&](const DramCommand& c) {
    chk.observe(c);
    cmd.add(c);
  });
  sys.set_completion_callback([&](const DramRequest& q, uint64_t at) {
    done.add(q.id);
    done.add(at);
    done.add(q.arrival);
    done.add(q.addr);
  });
  const uint64_t step = sys.row_step_bytes() / 64;  // requests per stream per row step
  const uint64_t per = streams.size();
  DramPeriodSkip ps(sys, step * per);
  std::vector<int64_t> host;
  uint64_t x = 12345;  // the DramPins address generator
  for (uint64_t i = 0; i < n;) {
    if (skip && step && i % step == 0) {
      // The host's state: where its streams are in their write patterns (their cursors are
      // i, exactly index row steps in).
      host.clear();
      uint64_t room = (n - i) / step;
      for (const Stream& st : streams) {
        host.push_back(st.write_every ? static_cast<int64_t>(i % st.write_every) : -1);
        // A random stream's state is its generator's, which never recurs.
        if (st.random) host.push_back(static_cast<int64_t>(x));
        const uint64_t a = st.base + i * 64;
        room = std::min(room, a < s.capacity_bytes() ? (s.capacity_bytes() - a) / (step * 64) : 0);
      }
      const uint64_t moved = ps.checkpoint(i / step, host, room);
      if (moved) {
        i += moved * step;
        continue;
      }
    }
    for (uint64_t k = 0; k < per; ++k) {
      const Stream& st = streams[k];
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      const uint64_t addr = st.random ? (x >> 16) % s.capacity_bytes() : st.base + i * 64;
      const bool w = st.write_every > 0 && i % st.write_every == 0;
      while (!sys.can_accept(addr, w)) sys.advance_to(sys.next_event_cycle() + 1);
      sys.enqueue(DramRequest{addr, w, i * per + k, sys.cycle()});
    }
    ++i;
  }
  while (!sys.idle()) sys.advance_to(sys.next_event_cycle() + 1);
  r.commands = cmd.h;
  r.done = done.h;
  r.cycle = sys.cycle();
  r.st = sys.stats();
  if (!chk.finish(sys.cycle())) r.violation = chk.first_violation();
  r.skipped = ps.skipped_requests();
  r.skips = ps.skips();
  return r;
}

void expect_same(const Run& a, const Run& b, const std::string& name) {
  EXPECT_EQ(a.commands, b.commands) << name;
  EXPECT_EQ(a.done, b.done) << name;
  EXPECT_EQ(a.cycle, b.cycle) << name;
  const DramStats& x = a.st;
  const DramStats& y = b.st;
  EXPECT_EQ(x.reads, y.reads) << name;
  EXPECT_EQ(x.writes, y.writes) << name;
  EXPECT_EQ(x.read_bytes, y.read_bytes) << name;
  EXPECT_EQ(x.write_bytes, y.write_bytes) << name;
  EXPECT_EQ(x.row_hits, y.row_hits) << name;
  EXPECT_EQ(x.row_misses, y.row_misses) << name;
  EXPECT_EQ(x.row_conflicts, y.row_conflicts) << name;
  EXPECT_EQ(x.activates, y.activates) << name;
  EXPECT_EQ(x.precharges, y.precharges) << name;
  EXPECT_EQ(x.refreshes, y.refreshes) << name;
  EXPECT_EQ(x.reads_issued, y.reads_issued) << name;
  EXPECT_EQ(x.writes_issued, y.writes_issued) << name;
  EXPECT_EQ(x.data_bus_busy_cycles, y.data_bus_busy_cycles) << name;
  EXPECT_EQ(x.latency_sum, y.latency_sum) << name;
  EXPECT_EQ(x.refresh_cycles_per_bank, y.refresh_cycles_per_bank) << name;
  EXPECT_EQ(x.latency.count(), y.latency.count()) << name;
  EXPECT_EQ(x.latency.max(), y.latency.max()) << name;
  for (double p : {0.01, 0.1, 0.5, 0.9, 0.99, 0.999})
    EXPECT_EQ(x.latency.percentile(p), y.latency.percentile(p)) << name << " p" << p;
  EXPECT_EQ(a.violation, b.violation) << name;
}

// Runs a case both ways, compares, and returns the share of requests the skip advanced.
double both(const std::string& preset, const DramConfig& cfg, const std::vector<Stream>& streams,
            uint64_t n, const std::string& name) {
  n = scaled(n);
  const DramSpec& s = dram_preset(preset);
  const Run off = run(s, cfg, streams, n, false);
  const Run on = run(s, cfg, streams, n, true);
  expect_same(off, on, name);
  // The checker owes REFs the memory was told not to issue; otherwise every command is legal.
  if (cfg.refresh) {
    EXPECT_EQ(on.violation, "") << name;
  }
  EXPECT_EQ(off.skipped, 0u);
  const double share = static_cast<double>(on.skipped) / static_cast<double>(n * streams.size());
  if (getenv("MOESIM_PRINT_SKIP"))
    printf("%-40s %9llu cycles, %6llu REF, skipped %5.1f %% in %llu skips\n", name.c_str(),
           static_cast<unsigned long long>(on.cycle),
           static_cast<unsigned long long>(on.st.refreshes), 100 * share,
           static_cast<unsigned long long>(on.skips));
  return share;
}

// The DramPins streams (tests/dram/test_dram_pins.cpp): every preset, sequential and random,
// reads only or every 3rd / 4th request a write, open and closed page. At their pinned length
// (20,000 requests) and 10x longer.
TEST(PeriodSkip, DramPinsStreamsAreIdentical) {
  struct Case {
    int write_every;
    PagePolicy policy;
  };
  const Case cases[] = {{0, PagePolicy::kOpen},
                        {3, PagePolicy::kOpen},
                        {4, PagePolicy::kClosed},
                        {1, PagePolicy::kOpen}};
  for (const std::string& preset : dram_preset_names()) {
    // Random addresses: the host offers its checkpoints, nothing repeats, nothing changes.
    for (const Case& c :
         {Case{0, PagePolicy::kOpen}, Case{3, PagePolicy::kOpen}, Case{2, PagePolicy::kClosed}}) {
      DramConfig cfg;
      cfg.page_policy = c.policy;
      const std::string name = preset + " random w/" + std::to_string(c.write_every) +
                               (c.policy == PagePolicy::kClosed ? " closed" : " open");
      EXPECT_EQ(both(preset, cfg, {{0, c.write_every, true}}, 20000, name), 0.0);
    }
    for (const Case& c : cases) {
      for (const uint64_t n : {20000ull, 200000ull}) {
        DramConfig cfg;
        cfg.page_policy = c.policy;
        const std::string name = preset + " seq w/" + std::to_string(c.write_every) +
                                 (c.policy == PagePolicy::kClosed ? " closed " : " open ") +
                                 std::to_string(n);
        both(preset, cfg, {{0, c.write_every}}, n, name);
      }
    }
  }
}

// Long streams cross hundreds of refreshes: the skip between refreshes takes the steady part
// of each interval, and once the stream's phase recurs at a refresh deadline (36 intervals on
// HBM3) the skip across refreshes takes whole super-periods.
TEST(PeriodSkip, LongReadsAndWritesAcrossRefreshesAreIdentical) {
  const DramConfig cfg;
  expect_skipped(both("HBM3", cfg, {{0, 0}}, 4000000, "HBM3 reads 4M"), 0.45);
  expect_skipped(both("HBM3", cfg, {{0, 1}}, 4000000, "HBM3 writes 4M"), 0.15);
  both("HBM2e", cfg, {{0, 0}}, 2000000, "HBM2e reads 2M");
  both("DDR4-3200", cfg, {{0, 0}}, 400000, "DDR4-3200 reads 400k");
}

// Two streams taking turns (the host alternates one request each): two reads, and a read
// with a write, at distances that put them in different and in the same banks. Two reads
// never repeat within the 8 row steps looked at (nothing is skipped, and nothing changes); a
// read with a write repeats across refreshes.
TEST(PeriodSkip, TwoInterleavedStreamsAreIdentical) {
  const DramConfig cfg;
  const uint64_t mib = uint64_t{1} << 20;
  both("HBM3", cfg, {{0, 0}, {64 * mib, 0}}, 1000000, "HBM3 read + read");
  both("HBM3", cfg, {{0, 0}, {64 * mib + 4096, 0}}, 1000000, "HBM3 read + read, offset");
  expect_skipped(both("HBM3", cfg, {{0, 0}, {64 * mib, 1}}, 1000000, "HBM3 read + write"), 0.3);
  expect_skipped(
      both("HBM2e", cfg, {{0, 0}, {32 * mib + 192, 1}}, 500000, "HBM2e read + write, offset"), 0.2);
}

// Without refresh nothing bounds the skip but the stream.
TEST(PeriodSkip, WithoutRefreshAlmostEverythingIsSkipped) {
  DramConfig cfg;
  cfg.refresh = false;
  expect_skipped(both("HBM3", cfg, {{0, 0}}, 2000000, "HBM3 reads, no refresh"), 0.95);
  expect_skipped(both("DDR4-3200", cfg, {{0, 0}}, 400000, "DDR4-3200 reads, no refresh"), 0.8);
}

// The stream ends where the address space does: the skip must stop before it wraps.
TEST(PeriodSkip, StopsAtTheEndOfTheAddressSpace) {
  const DramSpec& s = dram_preset("HBM3");
  const DramConfig cfg;
  const uint64_t n = 300000;
  both("HBM3", cfg, {{s.capacity_bytes() - scaled(n) * 64, 0}}, n, "HBM3 reads up to the top");
}

// The row step exists only where the row is the top field of the mapping.
TEST(PeriodSkip, RowStepFollowsTheMapping) {
  const DramSpec& s = dram_preset("HBM3");
  DramConfig cfg;
  DramSystem a(s, cfg);
  EXPECT_EQ(a.row_step_bytes() * static_cast<uint64_t>(s.rows), s.capacity_bytes());
  EXPECT_TRUE(a.translates(0, 1));
  EXPECT_TRUE(a.translates(s.capacity_bytes() - a.row_step_bytes() - 64, 1));
  EXPECT_FALSE(a.translates(s.capacity_bytes() - a.row_step_bytes(), 1));
  EXPECT_FALSE(a.translates(s.capacity_bytes(), 0));
  cfg.mapping = "ch_ro_ba_bg_co";
  DramSystem b(s, cfg);
  EXPECT_EQ(b.row_step_bytes(), 0u);
  DramPeriodSkip ps(b, 1);
  EXPECT_FALSE(ps.possible());
  EXPECT_EQ(ps.checkpoint(0, {}, 100), 0u);
}

// The calibration driver (run_dram_pattern) with DramPatternSpec::period_skip: a sequential
// read or write stream gives the same result with it as without, with the timing checker
// (every command replayed to it) and without.
TEST(PeriodSkip, PatternDriverGivesTheSameResults) {
  struct Case {
    const char* preset;
    double read_ratio;
    uint64_t requests;
    bool check;
  };
  const Case cases[] = {{"HBM3", 1.0, 3000000, false},
                        {"HBM3", 0.0, 1000000, true},
                        {"HBM2e", 1.0, 1000000, true},
                        {"DDR4-3200", 1.0, 300000, false}};
  for (const Case& c : cases) {
    DramPatternSpec ps;
    ps.requests = scaled(c.requests);
    ps.read_ratio = c.read_ratio;
    const DramSpec& s = dram_preset(c.preset);
    const DramRunResult off = run_dram_pattern(s, DramConfig{}, ps, c.check);
    ps.period_skip = true;
    const DramRunResult on = run_dram_pattern(s, DramConfig{}, ps, c.check);
    const std::string name = std::string(c.preset) + (c.read_ratio > 0 ? " reads" : " writes");
    EXPECT_EQ(off.requests, on.requests) << name;
    EXPECT_EQ(off.bytes, on.bytes) << name;
    EXPECT_EQ(off.cycles, on.cycles) << name;
    EXPECT_EQ(off.mean_latency_ns, on.mean_latency_ns) << name;
    EXPECT_EQ(off.p50_latency_ns, on.p50_latency_ns) << name;
    EXPECT_EQ(off.p99_latency_ns, on.p99_latency_ns) << name;
    EXPECT_EQ(off.row_hit_rate, on.row_hit_rate) << name;
    EXPECT_EQ(off.refresh_overhead, on.refresh_overhead) << name;
    EXPECT_EQ(off.commands_checked, on.commands_checked) << name;
    EXPECT_EQ(off.timing_violation, on.timing_violation) << name;
    EXPECT_EQ(off.stats.activates, on.stats.activates) << name;
    EXPECT_EQ(off.stats.precharges, on.stats.precharges) << name;
    EXPECT_EQ(off.stats.refreshes, on.stats.refreshes) << name;
    EXPECT_EQ(off.stats.reads_issued + off.stats.writes_issued,
              on.stats.reads_issued + on.stats.writes_issued)
        << name;
    EXPECT_EQ(off.skipped_requests, 0u);
    if (getenv("MOESIM_PRINT_SKIP"))
      printf("%-20s skipped %llu of %llu requests\n", name.c_str(),
             static_cast<unsigned long long>(on.skipped_requests),
             static_cast<unsigned long long>(on.requests));
    if (std::string(c.preset) != "DDR4-3200")
      expect_skipped(static_cast<double>(on.skipped_requests) / on.requests, 0.1, name);
  }
}

}  // namespace
}  // namespace moesim
