// The run watchdog (sim/core/watchdog.hpp): a run whose model loses an op's completion, or
// spins at one instant, stops with a WatchdogError naming the step, the chips, the units
// with their pending ops (kind, class, layer) and, with several chips, the collectives.
// Broken compute units registered here make the faults; one simulation per process, so
// ctest runs each test in a process of its own (--gtest_filter).

#include <gtest/gtest.h>

#include <string>

#include <systemc>

#include "hw_models/compute/compute_unit.hpp"
#include "sim/config/config.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/sim_time.hpp"
#include "sim/core/watchdog.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/engine/simulation.hpp"

namespace moesim {
namespace {

/// The keys of the shipped configs' systolic compute units, accepted and ignored.
void declare_systolic_keys(ParamSchema& s) {
  s.add("rows", ParamType::kInt, "ignored").default_value(int64_t{1});
  s.add("cols", ParamType::kInt, "ignored").default_value(int64_t{1});
  s.add("arrays", ParamType::kInt, "ignored").default_value(int64_t{1});
  s.add("dataflow", ParamType::kString, "ignored").default_value(std::string());
}

/// What a compute unit must answer besides start(): one cycle per op, one part.
class TestComputeUnit : public ComputeUnit {
 public:
  using ComputeUnit::ComputeUnit;
  uint64_t op_cycles(const StepPlan&, const Op&) const override { return 1; }
  double peak_flops() const override { return 1e12; }
  uint64_t parallel_parts() const override { return 1; }
  uint64_t op_cycles_on(const StepPlan&, const Op&, uint64_t) const override { return 1; }
  void account_stage(const Op&, uint64_t) override {}
  uint64_t flops_done() const override { return 0; }
};

/// Starts GEMM ops and never completes them: the completion is lost.
class LosesCompletions final : public TestComputeUnit {
 public:
  static void declare(ParamSchema& s) { declare_systolic_keys(s); }
  explicit LosesCompletions(const Unit::Args& a)
      : TestComputeUnit(a.name, 1, a.clock_hz, a.stats_parent) {}

 protected:
  void start(uint32_t) override {}
};

/// Reschedules itself at zero delay forever once it has an op: time never advances.
class SpinsAtOneInstant final : public TestComputeUnit {
 public:
  SC_HAS_PROCESS(SpinsAtOneInstant);
  static void declare(ParamSchema& s) { declare_systolic_keys(s); }
  explicit SpinsAtOneInstant(const Unit::Args& a)
      : TestComputeUnit(a.name, 1, a.clock_hz, a.stats_parent) {
    SC_METHOD(spin);
    sensitive << m_event;
    dont_initialize();
  }

 protected:
  void start(uint32_t) override { m_event.notify(checked_delay(0, name())); }

 private:
  void spin() { m_event.notify(checked_delay(0, name())); }
  sc_core::sc_event m_event;
};

/// Completes each op after one cycle, except on chip1, where completions are lost.
class LosesCompletionsOnChip1 final : public TestComputeUnit {
 public:
  SC_HAS_PROCESS(LosesCompletionsOnChip1);
  static void declare(ParamSchema& s) { declare_systolic_keys(s); }
  explicit LosesCompletionsOnChip1(const Unit::Args& a)
      : TestComputeUnit(a.name, 1, a.clock_hz, a.stats_parent),
        m_loses(std::string(name()).rfind("chip1.", 0) == 0) {
    SC_METHOD(finish);
    sensitive << m_event;
    dont_initialize();
  }

 protected:
  void start(uint32_t op) override {
    if (m_loses) return;
    m_op = op;
    m_event.notify(cycles_to_time(1));
  }

 private:
  void finish() { complete(m_op); }
  bool m_loses;
  uint32_t m_op = 0;
  sc_core::sc_event m_event;
};

MOESIM_REGISTER(ComputeUnit, LosesCompletionsOnChip1, "loses_on_chip1_test",
                "a unit that loses its completions on chip1 only (a test of the watchdog)");
MOESIM_REGISTER(ComputeUnit, LosesCompletions, "loses_completions_test",
                "a broken unit that never completes its ops (a test of the watchdog)");
MOESIM_REGISTER(ComputeUnit, SpinsAtOneInstant, "spins_test",
                "a broken unit that schedules zero delays forever (a test of the watchdog)");

/// Runs `config` with the compute unit replaced by `unit`; returns the watchdog's message
/// (empty if the run ended without one).
std::string run_with_unit(const std::string& config, const std::string& unit) {
  Config cfg = Config::load(std::string(MOESIM_SOURCE_DIR) + "/configs/" + config,
                            {"chip.compute.type=\"" + unit + "\"", "workload.max_steps=3"});
  const RunSpec spec = build_run_spec(cfg);
  Simulation sim(spec, open_workload(spec), false);
  try {
    sim.run();
  } catch (const WatchdogError& e) {
    return e.what();
  }
  return {};
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Watchdog, LostCompletionStopsTheRunNamingThePendingOps) {
  const std::string m = run_with_unit("olmoe_decode.toml", "loses_completions_test");
  ASSERT_FALSE(m.empty()) << "the run ended without the watchdog";
  EXPECT_TRUE(has(m, "watchdog: no event left at t = ")) << m;
  EXPECT_TRUE(has(m, "but the run is unfinished; step 1 (trace step 0, 0 done before it): ")) << m;
  EXPECT_TRUE(has(m, "chip0: ")) << m;
  EXPECT_TRUE(has(m, " issued (op ")) << m;
  EXPECT_TRUE(has(m, "(gemm attention, layer 0) on chip0.compute")) << m;
  EXPECT_TRUE(has(m, " waiting on them")) << m;
  EXPECT_FALSE(has(m, "collective")) << m;
}

TEST(Watchdog, LostCompletionOnSeveralChipsNamesChipsAndCollectives) {
  const std::string m = run_with_unit("mixtral_decode_4chip_ring.toml", "loses_completions_test");
  ASSERT_FALSE(m.empty()) << "the run ended without the watchdog";
  EXPECT_TRUE(has(m, "watchdog: no event left at t = ")) << m;
  for (const char* chip : {"chip0: ", "chip1: ", "chip2: ", "chip3: "})
    EXPECT_TRUE(has(m, chip)) << chip << " in " << m;
  EXPECT_TRUE(has(m, "on chip1.compute")) << m;
  // Each MoE layer has a dispatch and a combine; no chip got past its first attention GEMM.
  EXPECT_TRUE(has(m, "; 64 collectives no chip has reached")) << m;
}

TEST(Watchdog, OneChipStuckNamesTheCollectiveTheOthersWaitAt) {
  const std::string m = run_with_unit("mixtral_decode_4chip_ring.toml", "loses_on_chip1_test");
  ASSERT_FALSE(m.empty()) << "the run ended without the watchdog";
  EXPECT_TRUE(has(m, "watchdog: no event left at t = ")) << m;
  EXPECT_TRUE(has(m, "(gemm attention, layer 0) on chip1.compute")) << m;
  // The others finished layer 0's attention and wait at its dispatch for chip1.
  EXPECT_TRUE(has(m, "collective 0 (4 chips): arrived 0,2,3; not arrived 1; not done 0,1,2,3; "))
      << m;
  EXPECT_TRUE(has(m, "(comm dispatch, collective 0, layer 0) on chip0_comm")) << m;
  EXPECT_TRUE(has(m, "; 63 collectives no chip has reached")) << m;
}

TEST(Watchdog, TimeStuckAtOneInstantStopsTheRun) {
  watchdog().limit = 10000;  // the default (10^6) takes longer; the rule is the same
  const std::string m = run_with_unit("olmoe_decode.toml", "spins_test");
  ASSERT_FALSE(m.empty()) << "the run ended without the watchdog";
  EXPECT_TRUE(has(m, "watchdog: simulated time stuck at t = ")) << m;
  // Checked every 256th zero delay: the first check past 10000 deltas is at 10240.
  EXPECT_TRUE(has(m,
                  "10240 delta cycles at this instant without time advancing (the last "
                  "delay scheduled by chip0.compute); step 1 (trace step 0"))
      << m;
  EXPECT_TRUE(has(m, "(gemm attention, layer 0) on chip0.compute")) << m;
}

}  // namespace
}  // namespace moesim

int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
