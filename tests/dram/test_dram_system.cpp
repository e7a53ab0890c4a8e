#include <gtest/gtest.h>

#include <limits>

#include "hw_models/memory/dram/dram.hpp"
#include "hw_models/memory/dram/dram_calibration.hpp"
#include "hw_models/memory/dram/timing_checker.hpp"
#include "sim/core/error.hpp"

namespace moesim {
namespace {

// ---- Exact latencies on an idle DDR4 channel --------------------------------------------

TEST(DramSystem, ClosedBankReadLatencyIsRcdPlusClPlusBurst) {
  const DramSpec& s = dram_preset("DDR4-3200");
  DramConfig cfg;
  cfg.refresh = false;
  DramSystem sys(s, cfg);
  sys.enqueue(DramRequest{0x0, false, 7, 0});
  sys.advance_to(1000);
  auto done = sys.take_completions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].first.id, 7u);
  EXPECT_EQ(done[0].second, uint64_t(s.tRCD_rd + s.tCL + s.tBURST));  // 22 + 22 + 4
  EXPECT_EQ(sys.stats().row_misses, 1u);

  // Same row again: a hit, CL + burst after it enters.
  const AddressMapping& m = sys.mapping();
  DramLocation l = m.decode(0);
  l.atom = 1;
  sys.enqueue(DramRequest{m.encode(l), false, 8, sys.cycle()});
  const uint64_t t0 = sys.cycle();
  sys.advance_to(t0 + 1000);
  done = sys.take_completions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].second - t0, uint64_t(s.tCL + s.tBURST));
  EXPECT_EQ(sys.stats().row_hits, 1u);

  // A different row in the same bank: a conflict, PRE + ACT + RD.
  l.row = 5;
  sys.enqueue(DramRequest{m.encode(l), false, 9, sys.cycle()});
  const uint64_t t1 = sys.cycle();
  sys.advance_to(t1 + 1000);
  done = sys.take_completions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].second - t1, uint64_t(s.tRP + s.tRCD_rd + s.tCL + s.tBURST));
  EXPECT_EQ(sys.stats().row_conflicts, 1u);
}

TEST(DramSystem, HbmAtomTakesTwoBursts) {
  const DramSpec& s = dram_preset("HBM3");  // 32 B per column command
  DramConfig cfg;
  cfg.refresh = false;
  DramSystem sys(s, cfg);
  uint64_t rd = 0;
  sys.set_command_observer([&](const DramCommand& c) { rd += c.type == DramCommandType::kRd; });
  uint64_t done_at = 0;
  sys.set_completion_callback([&](const DramRequest&, uint64_t d) { done_at = d; });
  sys.enqueue(DramRequest{0, false, 1, 0});
  sys.advance_to(500);
  EXPECT_EQ(rd, 2u);
  // ACT@0, RD@31, RD@31+tCCD_L(4): last data ends 35 + 20 + 2.
  EXPECT_EQ(done_at, uint64_t(s.tRCD_rd + s.tCCD_L + s.tCL + s.tBURST));
}

// ---- Event skipping ---------------------------------------------------------------------

TEST(DramSystem, IdleMemoryHasOnlyRefreshEvents) {
  const DramSpec& s = dram_preset("HBM3");
  DramConfig cfg;
  cfg.refresh = false;
  DramSystem off(s, cfg);
  EXPECT_EQ(off.next_event_cycle(), std::numeric_limits<uint64_t>::max());
  off.advance_to(1'000'000);
  EXPECT_EQ(off.cycle(), 1'000'000u);

  DramSystem on(s, DramConfig{});
  // Every pseudo-channel's first refresh is due at tREFI.
  EXPECT_EQ(on.next_event_cycle(), uint64_t(s.tREFI));
  TimingChecker chk(s);
  on.set_command_observer([&](const DramCommand& c) { chk.observe(c); });
  on.advance_to(100ull * s.tREFI);
  EXPECT_TRUE(chk.finish(on.cycle())) << chk.first_violation();
  EXPECT_GE(on.stats().refreshes, 99ull * s.units());
  EXPECT_LE(on.stats().refreshes, 100ull * s.units());
  // Idle: every bank-cycle of refresh is tRFC per tREFI.
  EXPECT_NEAR(on.refresh_overhead(), double(s.tRFC) / s.tREFI, 0.01);
}

// Skipping with advance_to must give exactly what ticking every cycle gives.
TEST(DramSystem, AdvanceToMatchesTickingEveryCycle) {
  for (const char* name : {"DDR4-3200", "HBM3"}) {
    const DramSpec& s = dram_preset(name);
    std::vector<std::pair<uint64_t, uint64_t>> a, b;  // (id, done)
    for (int mode = 0; mode < 2; ++mode) {
      DramSystem sys(s, DramConfig{});
      auto& out = mode ? b : a;
      sys.set_completion_callback(
          [&](const DramRequest& r, uint64_t d) { out.emplace_back(r.id, d); });
      uint64_t x = 12345, id = 0;
      // Bursty host: 64 random requests every 3000 cycles, then idle; spans refreshes.
      for (int burst = 0; burst < 12; ++burst) {
        const uint64_t at = burst * 3000ull;
        if (mode == 0)
          sys.advance_to(at);
        else
          while (sys.cycle() < at) sys.tick();
        for (int k = 0; k < 64; ++k) {
          x = x * 6364136223846793005ull + 1442695040888963407ull;
          const uint64_t addr = (x >> 20) % (1ull << 30);
          const bool w = (x >> 60) & 1;
          if (sys.can_accept(addr, w)) sys.enqueue(DramRequest{addr, w, id++, sys.cycle()});
        }
      }
      if (mode == 0)
        sys.advance_to(40000);
      else
        while (sys.cycle() < 40000) sys.tick();
      EXPECT_TRUE(sys.idle());
    }
    EXPECT_GT(a.size(), 500u);
    EXPECT_EQ(a, b) << name;
  }
}

// ---- Idle time costs nothing ------------------------------------------------------------

// What a run leaves behind: every command and completion (hashed), the counters, the cost.
struct IdleRun {
  uint64_t commands = 0, done = 0, cycle = 0, ticks = 0;
  DramStats st;
  bool legal = false;
};

// A burst of mixed requests, `gap` idle cycles, a second burst, then until idle.
IdleRun run_with_gap(const DramSpec& s, const DramConfig& cfg, uint64_t gap, bool skip,
                     bool check) {
  DramSystem sys(s, cfg);
  sys.set_idle_skip(skip);
  TimingChecker chk(s);
  IdleRun r;
  auto mix = [](uint64_t& h, uint64_t v) { h = (h ^ v) * 1099511628211ull; };
  sys.set_command_observer([&](const DramCommand& c) {
    if (check) chk.observe(c);
    mix(r.commands, static_cast<uint64_t>(c.type));
    mix(r.commands, c.cycle);
    mix(r.commands, static_cast<uint64_t>(
                        ((c.channel * 8 + c.pseudo_channel) * 64 + c.bank_group) * 64 + c.bank));
    mix(r.commands, static_cast<uint64_t>(c.row));
  });
  sys.set_completion_callback([&](const DramRequest& q, uint64_t at) {
    mix(r.done, q.id);
    mix(r.done, at);
  });
  uint64_t x = 99, id = 0;
  auto burst = [&](bool random) {
    for (int k = 0; k < 3000; ++k) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      const uint64_t addr = random ? (x >> 16) % s.capacity_bytes() : (id * 64) % (1u << 26);
      const bool w = k % 4 == 0;
      while (!sys.can_accept(addr, w)) sys.advance_to(sys.next_event_cycle() + 1);
      sys.enqueue(DramRequest{addr, w, id++, sys.cycle()});
    }
  };
  burst(false);
  while (!sys.idle()) sys.advance_to(sys.next_event_cycle() + 1);
  sys.advance_to(sys.cycle() + gap);
  burst(true);
  while (!sys.idle()) sys.advance_to(sys.next_event_cycle() + 1);
  sys.advance_to(sys.cycle() + 3ull * s.tREFI);  // ends idle: a skip at the end too
  r.cycle = sys.cycle();
  r.ticks = sys.unit_ticks();
  r.st = sys.stats();
  r.legal = !check || chk.finish(sys.cycle());
  return r;
}

// A gap of 10^9 cycles between two bursts: with the idle skip the refreshes of the gap are
// applied arithmetically, giving exactly what ticking through them gives (every command,
// completion and counter), at the cost of the run without the gap.
TEST(DramSystem, IdleGapRefreshesSkipExactlyAndCostNothing) {
  for (const char* name : {"HBM3", "DDR4-3200", "DDR5-4800", "HBM2"}) {
    const DramSpec& s = dram_preset(name);
    for (const PagePolicy pol : {PagePolicy::kOpen, PagePolicy::kClosed}) {
      DramConfig cfg;
      cfg.page_policy = pol;
      const std::string what = std::string(name) + (pol == PagePolicy::kOpen ? " open" : " closed");
      const uint64_t gap = 1'000'000'000;
      const IdleRun fast = run_with_gap(s, cfg, gap, true, true);
      const IdleRun slow = run_with_gap(s, cfg, gap, false, false);
      const IdleRun none = run_with_gap(s, cfg, 0, true, false);
      EXPECT_TRUE(fast.legal) << what;
      EXPECT_EQ(fast.commands, slow.commands) << what;
      EXPECT_EQ(fast.done, slow.done) << what;
      EXPECT_EQ(fast.cycle, slow.cycle) << what;
      const DramStats& a = fast.st;
      const DramStats& b = slow.st;
      EXPECT_EQ(a.reads, b.reads) << what;
      EXPECT_EQ(a.writes, b.writes) << what;
      EXPECT_EQ(a.read_bytes, b.read_bytes) << what;
      EXPECT_EQ(a.write_bytes, b.write_bytes) << what;
      EXPECT_EQ(a.row_hits, b.row_hits) << what;
      EXPECT_EQ(a.row_misses, b.row_misses) << what;
      EXPECT_EQ(a.row_conflicts, b.row_conflicts) << what;
      EXPECT_EQ(a.activates, b.activates) << what;
      EXPECT_EQ(a.precharges, b.precharges) << what;
      EXPECT_EQ(a.refreshes, b.refreshes) << what;
      EXPECT_EQ(a.reads_issued, b.reads_issued) << what;
      EXPECT_EQ(a.writes_issued, b.writes_issued) << what;
      EXPECT_EQ(a.data_bus_busy_cycles, b.data_bus_busy_cycles) << what;
      EXPECT_EQ(a.latency_sum, b.latency_sum) << what;
      EXPECT_EQ(a.refresh_cycles_per_bank, b.refresh_cycles_per_bank) << what;
      EXPECT_EQ(a.latency.count(), b.latency.count()) << what;
      EXPECT_EQ(a.latency.max(), b.latency.max()) << what;
      EXPECT_EQ(a.latency.percentile(0.5), b.latency.percentile(0.5)) << what;
      EXPECT_EQ(a.latency.percentile(0.99), b.latency.percentile(0.99)) << what;
      // The gap's 10^9 / tREFI refreshes are all there...
      EXPECT_GE(a.refreshes, gap / s.tREFI * s.units()) << what;
      // ...but cost what a run without the gap costs: a few ticks per unit more at most (the
      // gap's first refresh closes the open rows; the second burst starts on closed banks).
      EXPECT_GT(slow.ticks, fast.ticks + gap / s.tREFI) << what;
      EXPECT_LT(fast.ticks, none.ticks + 40ull * s.units())
          << what << ": " << fast.ticks << " vs " << none.ticks;
    }
  }
}

// ---- Scheduling policies ----------------------------------------------------------------

TEST(DramSystem, ReadsGoFirstUntilWritesReachTheHighWatermark) {
  const DramSpec& s = dram_preset("DDR4-3200");
  DramConfig cfg;
  cfg.refresh = false;
  DramSystem sys(s, cfg);
  std::vector<uint64_t> order;
  sys.set_completion_callback([&](const DramRequest& r, uint64_t) { order.push_back(r.id); });
  for (uint64_t i = 0; i < 4; ++i) sys.enqueue(DramRequest{i * 64, true, 100 + i, 0});
  for (uint64_t i = 0; i < 4; ++i) sys.enqueue(DramRequest{4096 + i * 64, false, i, 0});
  sys.advance_to(2000);
  ASSERT_EQ(order.size(), 8u);
  for (int i = 0; i < 4; ++i) EXPECT_LT(order[i], 100u) << "reads first";
  for (int i = 4; i < 8; ++i) EXPECT_GE(order[i], 100u);
}

TEST(DramSystem, WriteDrainStartsAtHighWatermark) {
  const DramSpec& s = dram_preset("DDR4-3200");
  DramConfig cfg;
  cfg.refresh = false;
  cfg.write_high_watermark = 4;
  cfg.write_low_watermark = 1;
  DramSystem sys(s, cfg);
  std::vector<uint64_t> order;
  sys.set_completion_callback([&](const DramRequest& r, uint64_t) { order.push_back(r.id); });
  for (uint64_t i = 0; i < 4; ++i) sys.enqueue(DramRequest{i * 64, true, 100 + i, 0});
  for (uint64_t i = 0; i < 4; ++i) sys.enqueue(DramRequest{4096 + i * 64, false, i, 0});
  sys.advance_to(2000);
  ASSERT_EQ(order.size(), 8u);
  EXPECT_GE(order[0], 100u) << "the full write queue drains first";
}

// A request to another row of a bank whose open row keeps getting hits: FR-FCFS alone would
// serve the hits for as long as they come; the starvation guard bounds its wait.
uint64_t starved_wait(int limit) {
  const DramSpec& s = dram_preset("DDR4-3200");
  DramConfig cfg;
  cfg.refresh = false;
  cfg.starvation_limit = limit;
  DramSystem sys(s, cfg);
  const AddressMapping& m = sys.mapping();
  uint64_t victim_done = 0;
  sys.set_completion_callback([&](const DramRequest& r, uint64_t d) {
    if (r.id == 999'999) victim_done = d;
  });
  DramLocation hit = m.decode(0);
  DramLocation other = hit;
  other.row = 9;
  sys.enqueue(DramRequest{m.encode(hit), false, 0, 0});
  sys.advance_to(10);
  sys.enqueue(DramRequest{m.encode(other), false, 999'999, sys.cycle()});
  // Keep the open row busy with hits for 20000 cycles.
  uint64_t id = 1;
  while (sys.cycle() < 20000) {
    hit.atom = id % s.atoms_per_row();
    const uint64_t a = m.encode(hit);
    if (sys.can_accept(a, false)) sys.enqueue(DramRequest{a, false, id++, sys.cycle()});
    sys.tick();
  }
  sys.advance_to(sys.cycle() + 1000);
  EXPECT_NE(victim_done, 0u);
  return victim_done - 10;
}

TEST(DramSystem, StarvationGuardBoundsTheWaitBehindRowHits) {
  EXPECT_GT(starved_wait(0), 19000u) << "without the guard the hits win for as long as they come";
  const uint64_t guarded = starved_wait(500);
  EXPECT_GE(guarded, 500u);
  EXPECT_LT(guarded, 800u);
}

TEST(DramSystem, QueueDepthIsEnforced) {
  const DramSpec& s = dram_preset("DDR4-3200");
  DramConfig cfg;
  cfg.read_queue_depth = 2;
  DramSystem sys(s, cfg);
  EXPECT_TRUE(sys.can_accept(0, false));
  sys.enqueue(DramRequest{0, false, 0, 0});
  sys.enqueue(DramRequest{64, false, 1, 0});
  EXPECT_FALSE(sys.can_accept(128, false));
  EXPECT_TRUE(sys.can_accept(128, true));
  EXPECT_THROW(sys.enqueue(DramRequest{128, false, 2, 0}), InternalError);
}

TEST(DramSystem, BadConfigIsAnInputError) {
  DramConfig cfg;
  cfg.write_low_watermark = 30;
  EXPECT_THROW(DramSystem(dram_preset("HBM2"), cfg), InputError);
  DramConfig m;
  m.mapping = "ro_ba_bg_co";
  EXPECT_THROW(DramSystem(dram_preset("HBM2"), m), InputError);
}

// ---- Traffic on every preset passes the timing checker ------------------------------------

struct Traffic {
  const char* name;
  DramPatternSpec pat;
  PagePolicy policy;
};

std::vector<Traffic> traffic_for(const DramSpec& s) {
  // Same bank, a different row every time: the worst case for the row buffer.
  AddressMapping m(s, DramConfig{}.mapping);
  DramLocation l{};
  l.row = 1;
  const uint64_t row_stride = m.encode(l);
  std::vector<Traffic> t;
  auto add = [&](const char* n, DramPattern p, double rr, uint64_t stride, PagePolicy pol) {
    DramPatternSpec ps;
    ps.pattern = p;
    ps.requests = 12000;
    ps.read_ratio = rr;
    ps.stride_bytes = stride;
    ps.seed = 42;
    t.push_back({n, ps, pol});
  };
  add("random reads", DramPattern::kRandom, 1.0, 0, PagePolicy::kOpen);
  add("random 50/50", DramPattern::kRandom, 0.5, 0, PagePolicy::kOpen);
  add("sequential reads", DramPattern::kSequential, 1.0, 0, PagePolicy::kOpen);
  add("sequential 70/30", DramPattern::kSequential, 0.7, 0, PagePolicy::kOpen);
  add("sequential closed page 50/50", DramPattern::kSequential, 0.5, 0, PagePolicy::kClosed);
  add("strided 4 KiB + 64", DramPattern::kStrided, 0.8, 4096 + 64, PagePolicy::kOpen);
  add("bank conflicts", DramPattern::kStrided, 1.0, row_stride, PagePolicy::kOpen);
  add("bank conflicts 50/50", DramPattern::kStrided, 0.5, row_stride, PagePolicy::kOpen);
  add("random closed page", DramPattern::kRandom, 0.6, 0, PagePolicy::kClosed);
  return t;
}

class EveryPreset : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryPreset, AllTrafficIsTimingLegal) {
  const DramSpec& s = dram_preset(GetParam());
  uint64_t refreshes = 0;
  for (const Traffic& t : traffic_for(s)) {
    DramConfig cfg;
    cfg.page_policy = t.policy;
    const DramRunResult r = run_dram_pattern(s, cfg, t.pat, /*check_timing=*/true);
    EXPECT_EQ(r.timing_violation, "") << t.name;
    EXPECT_EQ(r.requests, t.pat.requests) << t.name;
    EXPECT_GT(r.commands_checked, t.pat.requests) << t.name;
    refreshes += r.stats.refreshes;
  }
  EXPECT_GT(refreshes, 0u) << "the runs must cover refresh";
}

// Short bursts separated by idle gaps longer than tREFI: refresh while idle and under load.
TEST_P(EveryPreset, IdleGapsAndRefreshAreTimingLegal) {
  const DramSpec& s = dram_preset(GetParam());
  DramSystem sys(s, DramConfig{});
  TimingChecker chk(s);
  sys.set_command_observer([&](const DramCommand& c) { chk.observe(c); });
  uint64_t x = 7;
  for (int burst = 0; burst < 6; ++burst) {
    for (int k = 0; k < 200; ++k) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      const uint64_t addr = (x >> 16) % s.capacity_bytes();
      while (!sys.can_accept(addr, k % 3 == 0)) sys.advance_to(sys.next_event_cycle() + 1);
      sys.enqueue(DramRequest{addr, k % 3 == 0, uint64_t(k), sys.cycle()});
    }
    sys.advance_to(sys.cycle() + 2ull * s.tREFI);
  }
  EXPECT_TRUE(sys.idle());
  EXPECT_TRUE(chk.finish(sys.cycle())) << chk.first_violation();
  EXPECT_GT(sys.stats().refreshes, 10u);
}

INSTANTIATE_TEST_SUITE_P(Dram, EveryPreset, ::testing::ValuesIn(dram_preset_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace moesim

namespace moesim {
namespace {

// The checker is only worth something if it can fail: run the controller on a spec with one
// timing shortened by a cycle while the checker keeps the true spec, and expect it to name
// that constraint. (tCL and the read-to-write bubble only delay data, tCCD_S equals the burst
// on these presets, and DDR4's tFAW never binds because 4 x tRRD_S exceeds it, so those
// shortenings are legal and are left out.)
std::string run_mutant(const DramSpec& real, const DramSpec& ctl, PagePolicy policy) {
  DramConfig cfg;
  cfg.page_policy = policy;
  DramSystem sys(ctl, cfg);
  TimingChecker chk(real);
  sys.set_command_observer([&](const DramCommand& c) { chk.observe(c); });
  AddressMapping m(real, cfg.mapping);
  uint64_t x = 1;
  for (int i = 0; i < 8000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t addr = uint64_t(i) * 64;  // sequential
    const int kind = (x >> 61) & 3;
    if (kind == 0) addr = (x >> 12) % real.capacity_bytes();  // random
    if (kind == 1) {                                          // few banks, many rows
      DramLocation l{};
      l.row = (x >> 30) % 64;
      l.bank = (x >> 40) % real.banks_per_group;
      l.bank_group = (x >> 44) % real.bank_groups;
      addr = m.encode(l);
    }
    const bool w = (x >> 20) % 3 == 0;
    while (!sys.can_accept(addr, w)) sys.tick();
    sys.enqueue(DramRequest{addr, w, uint64_t(i), sys.cycle()});
    if (i % 2000 == 1999) sys.advance_to(sys.cycle() + 2 * real.tREFI);
  }
  sys.advance_to(sys.cycle() + 4 * real.tREFI);
  chk.finish(sys.cycle());
  return chk.first_violation();
}

TEST(TimingCheckerOnController, CatchesEveryShortenedTiming) {
  struct Field {
    const char* name;
    int DramSpec::*member;
    const char* expect;
  };
  const Field fields[] = {
      {"tCWL", &DramSpec::tCWL, "tWR"},
      {"tRCD_rd", &DramSpec::tRCD_rd, "tRCD (read)"},
      {"tRCD_wr", &DramSpec::tRCD_wr, "tRCD (write)"},
      {"tRP", &DramSpec::tRP, "tRP"},
      {"tRAS", &DramSpec::tRAS, "tRAS"},
      {"tCCD_L", &DramSpec::tCCD_L, "tCCD_L"},
      {"tRRD_S", &DramSpec::tRRD_S, "tRRD_S"},
      {"tRRD_L", &DramSpec::tRRD_L, "tRRD_L"},
      {"tFAW", &DramSpec::tFAW, "tFAW"},
      {"tWTR_S", &DramSpec::tWTR_S, "tWTR_S"},
      {"tWTR_L", &DramSpec::tWTR_L, "tWTR_L"},
      {"tWR", &DramSpec::tWR, "tWR"},
      {"tRTP", &DramSpec::tRTP, "tRTP"},
      {"tRFC", &DramSpec::tRFC, "tRFC"},
      {"tBURST", &DramSpec::tBURST, "tWR"},
  };
  for (const char* preset : {"HBM3", "DDR4-3200"}) {
    const DramSpec& real = dram_preset(preset);
    ASSERT_EQ(run_mutant(real, real, PagePolicy::kOpen), "") << preset;
    for (const Field& f : fields) {
      if (std::string(preset) == "DDR4-3200" && std::string(f.name) == "tFAW") continue;
      DramSpec ctl = real;
      ctl.*(f.member) -= 1;
      std::string v = run_mutant(real, ctl, PagePolicy::kOpen);
      if (v.empty()) v = run_mutant(real, ctl, PagePolicy::kClosed);
      EXPECT_NE(v.find(f.expect), std::string::npos)
          << preset << " " << f.name << "-1 gave: '" << v << "'";
    }
    DramSpec rare = real;  // refreshing 10x too seldom
    rare.tREFI *= 10;
    EXPECT_NE(run_mutant(real, rare, PagePolicy::kOpen).find("tREFI"), std::string::npos);
  }
}

}  // namespace
}  // namespace moesim
