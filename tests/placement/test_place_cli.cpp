// `moesim place` on the shipped trace, its table round trip, placements with replicas in a
// simulation (tables, counts from a first pass over the trace, locality), and the exit-2
// messages of bad options and tables.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/regression/cli_runner.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using namespace testing_support;

const char* kTrace = "workloads/traces/mixtral_decode_b16.csv";
const char* kRing = "configs/mixtral_decode_4chip_ring.toml";

/// The "all" row of a `moesim place` report.
std::string all_row(const std::string& out) {
  const size_t at = out.find("\n    all ");
  return at == std::string::npos ? "" : out.substr(at + 1);
}

TEST(PlaceCli, ReportsEveryLayerAndWritesTableAndJson) {
  const fs::path dir = fresh_dir("place_ok");
  const auto r =
      run_moesim(std::string("place ") + kTrace +
                 " --chips 4 --nodes 2 --policy eplb_hierarchical --groups 2 "
                 "--replicas 12 --out '" +
                 (dir / "t.json").string() + "' --json '" + (dir / "r.json").string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\n     31 "), std::string::npos) << "32 MoE layers";
  EXPECT_FALSE(all_row(r.out).empty());
  const std::string j = read_text(dir / "r.json");
  for (const char* k : {"\"peak_to_avg\"", "\"leave_chip\"", "\"leave_node\"", "\"hops_per_token\"",
                        "\"layers\"", "\"slots\": 12"}) {
    EXPECT_NE(j.find(k), std::string::npos) << k;
  }
  // The written table read back gives the same placement, so the same report.
  const auto t =
      run_moesim(std::string("place ") + kTrace + " --chips 4 --nodes 2 --policy table --table '" +
                 (dir / "t.json").string() + "'");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(all_row(t.out), all_row(r.out));
  // Out of sample: the same trace as --eval measures the same.
  const auto e = run_moesim(std::string("place ") + kTrace +
                            " --chips 4 --nodes 2 --policy eplb_hierarchical --groups 2 "
                            "--replicas 12 --eval " +
                            kTrace);
  EXPECT_EQ(all_row(e.out), all_row(r.out));
  EXPECT_NE(e.out.find("out of sample"), std::string::npos);
}

/// Peak-to-average of the "all" row.
double peak(const std::string& out) {
  return std::stod(all_row(out).substr(8, 11));
}

TEST(PlaceCli, GreedyAndReplicasBalanceBetterThanRoundRobin) {
  auto place = [](const std::string& extra) {
    const auto r = run_moesim(std::string("place ") + kTrace + " --chips 4 " + extra);
    EXPECT_EQ(r.code, 0) << r.err;
    return peak(r.out);
  };
  const double rr = place("--policy round_robin");
  const double g = place("--policy greedy");
  const double g16 = place("--policy greedy --replicas 16");
  EXPECT_LE(g, rr);
  EXPECT_LT(g16, rr);
}

/// Cross-chip transitions (last column) of the "all" row, as a fraction.
double cross(const std::string& out) {
  const std::string row = all_row(out);
  const size_t pct = row.rfind('%');
  const size_t sp = row.rfind(' ', pct);
  return std::stod(row.substr(sp + 1, pct - sp - 1)) / 100;
}

TEST(PlaceCli, AffinityKeepsConsecutiveExpertsOnOneChip) {
  auto place = [](const std::string& policy) {
    const auto r =
        run_moesim(std::string("place ") + kTrace + " --chips 4 --nodes 2 --policy " + policy);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("cross trans"), std::string::npos);
    return cross(r.out);
  };
  const double rr = place("round_robin");
  const double aff = place("affinity");
  EXPECT_NEAR(rr, 0.745, 0.01) << "4 chips: about 3/4 of the transitions cross at random";
  EXPECT_LT(aff, rr - 0.1);
}

struct BadPlace {
  const char* name;
  const char* args;
  const char* message;
};

class BadPlaceCli : public ::testing::TestWithParam<BadPlace> {};

TEST_P(BadPlaceCli, ExitsTwoWithOneMessageAndNoOutput) {
  const BadPlace& c = GetParam();
  const fs::path dir = fresh_dir(std::string("place_bad_") + c.name);
  std::ofstream(dir / "bad.json") << "{\"phy2log\": [[0, 1, 2]]}";
  std::string args = c.args;
  for (size_t at; (at = args.find("DIR")) != std::string::npos;) args.replace(at, 3, dir.string());
  std::string msg = c.message;
  for (size_t at; (at = msg.find("DIR")) != std::string::npos;) msg.replace(at, 3, dir.string());
  const auto r = run_moesim("place " + args + " --out '" + (dir / "t.json").string() + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "moesim: error: " + msg + "\n");
  EXPECT_FALSE(fs::exists(dir / "t.json"));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadPlaceCli,
    ::testing::Values(
        BadPlace{"no_trace", "--chips 4 --policy greedy",
                 "place: missing TRACE (see 'moesim place --help')"},
        BadPlace{"no_chips", "workloads/traces/mixtral_decode_b16.csv --policy greedy",
                 "place: missing --chips N (see 'moesim place --help')"},
        BadPlace{"chips", "workloads/traces/mixtral_decode_b16.csv --chips 3 --policy greedy",
                 "place: --chips 3 does not divide the trace's 8 experts (see 'moesim place "
                 "--help')"},
        BadPlace{"nodes",
                 "workloads/traces/mixtral_decode_b16.csv --chips 4 --nodes 3 --policy greedy",
                 "place: --nodes 3 does not divide --chips 4 (see 'moesim place --help')"},
        BadPlace{"replicas",
                 "workloads/traces/mixtral_decode_b16.csv --chips 4 --policy greedy --replicas 10",
                 "place: --replicas 10: at least the trace's 8 experts and a multiple of --chips "
                 "4 (see 'moesim place --help')"},
        BadPlace{"not_applicable",
                 "workloads/traces/mixtral_decode_b16.csv --chips 4 --policy round_robin "
                 "--replicas 12",
                 "place: --replicas does not apply to policy 'round_robin' (see 'moesim place "
                 "--help')"},
        BadPlace{"policy", "workloads/traces/mixtral_decode_b16.csv --chips 4 --policy gredy",
                 "place: --policy: unknown policy 'gredy' (policies: affinity, contiguous, "
                 "eplb_global, eplb_hierarchical, greedy, round_robin, table) (did you mean "
                 "'greedy'?) (see "
                 "'moesim place --help')"},
        BadPlace{"option", "workloads/traces/mixtral_decode_b16.csv --chips 4 --polcy greedy",
                 "place: unknown option '--polcy' (did you mean '--policy'?) (see 'moesim place "
                 "--help')"},
        BadPlace{"affinity_replicas",
                 "workloads/traces/mixtral_decode_b16.csv --chips 4 --policy affinity --replicas "
                 "12",
                 "place: --replicas does not apply to policy 'affinity' (see 'moesim place "
                 "--help')"},
        BadPlace{"no_table", "workloads/traces/mixtral_decode_b16.csv --chips 4 --policy table",
                 "place: policy 'table' needs --table FILE (see 'moesim place --help')"},
        BadPlace{"bad_table",
                 "workloads/traces/mixtral_decode_b16.csv --chips 4 --policy table --table "
                 "DIR/bad.json",
                 "DIR/bad.json:1:13: \"phy2log\" must be an array of 32 rows (one per MoE "
                 "layer)"}),
    [](const auto& info) { return std::string(info.param.name); });

/// Runs the 4-chip ring config with `set`; returns stats.json ("" when it failed).
std::string run(const std::string& set, const std::string& tag, int* code = nullptr) {
  const fs::path out = fresh_dir("place_run_" + tag);
  const auto r = run_moesim(std::string("run ") + kRing + " --quiet --out '" + out.string() +
                            "' --set mapping.parallel.dispatch_algorithm=direct " + set);
  if (code) *code = r.code;
  if (!code) {
    EXPECT_EQ(r.code, 0) << r.err;
  }
  return fs::exists(out / "stats.json") ? read_text(out / "stats.json") : "";
}

TEST(PlaceInRun, ReplicasFromTheTracesFirstPassBalanceTheChips) {
  const std::string rr = run("--set mapping.placement.type=round_robin", "rr");
  const std::string eplb =
      run("--set mapping.placement.type=eplb_global --set mapping.placement.replicas=16", "eplb");
  const std::string loc =
      run("--set mapping.placement.type=eplb_global --set mapping.placement.replicas=16 "
          "--set mapping.placement.locality=true",
          "loc");
  EXPECT_LT(json_stat(eplb, "system.routed_imbalance"), json_stat(rr, "system.routed_imbalance"));
  // The same routed copies, wherever they run.
  double a = 0, b = 0;
  for (int c = 0; c < 4; ++c) {
    a += json_stat(rr, "chip" + std::to_string(c) + ".compute.ops");
    b += json_stat(loc, "chip" + std::to_string(c) + ".compute.ops");
  }
  EXPECT_GT(b, 0);
  // Locality keeps copies on their own chip: less dispatched than without it.
  EXPECT_LT(json_stat(loc, "system.dispatch_bytes"), json_stat(eplb, "system.dispatch_bytes"));
  EXPECT_EQ(
      run("--set mapping.placement.type=eplb_global --set mapping.placement.replicas=16", "eplb2"),
      eplb)
      << "deterministic";
}

/// A number after `"key": ` in a `moesim place --json` report's "overall" object.
double overall(const std::string& json, const std::string& key) {
  const size_t o = json.find("\"overall\"");
  const size_t at = json.find("\"" + key + "\": ", o);
  return std::stod(json.substr(at + key.size() + 4));
}

TEST(PlaceInRun, ReportsThePlaceMetricsAndTheLinkTimeTheyCause) {
  // The ring config: contiguous placement on 4 chips in one node, the shipped trace.
  const fs::path dir = fresh_dir("place_metrics");
  const auto p =
      run_moesim(std::string("place ") + kTrace + " --chips 4 --policy contiguous --json '" +
                 (dir / "r.json").string() + "'");
  ASSERT_EQ(p.code, 0) << p.err;
  const std::string j = read_text(dir / "r.json");
  const std::string s = run("", "metrics");
  EXPECT_NEAR(json_stat(s, "system.leave_chip"), overall(j, "leave_chip"), 1e-5);
  EXPECT_NEAR(json_stat(s, "system.leave_node"), overall(j, "leave_node"), 1e-5);
  EXPECT_NEAR(json_stat(s, "system.hops_per_token"), overall(j, "hops_per_token"), 1e-5);
  EXPECT_NEAR(json_stat(s, "system.step_imbalance"), overall(j, "step_peak_to_avg"), 1e-5);
  EXPECT_NEAR(json_stat(s, "system.cross_chip_transitions"), overall(j, "cross_chip_transitions"),
              1e-5);
  EXPECT_GT(json_stat(s, "system.dispatch_time"), 0);
  EXPECT_GT(json_stat(s, "system.combine_time"), 0);
  // Affinity keeps a token's consecutive experts together in the simulation too.
  const std::string a = run("--set mapping.placement.type=affinity", "metrics_aff");
  EXPECT_LT(json_stat(a, "system.cross_chip_transitions"),
            json_stat(s, "system.cross_chip_transitions") - 0.1);
}

TEST(PlaceInRun, EplbJsonTableAndCountsFile) {
  const fs::path dir = fresh_dir("place_in_run_table");
  const auto p = run_moesim(std::string("place ") + kTrace +
                            " --chips 4 --policy eplb_global --replicas 12 --out '" +
                            (dir / "t.json").string() + "'");
  ASSERT_EQ(p.code, 0) << p.err;
  const std::string from_table =
      run("--set mapping.placement.type=table --set mapping.placement.path='" +
              (dir / "t.json").string() + "'",
          "table");
  const std::string from_trace =
      run("--set mapping.placement.type=eplb_global --set mapping.placement.replicas=12", "trace");
  EXPECT_EQ(json_stat(from_table, "system.routed_imbalance"),
            json_stat(from_trace, "system.routed_imbalance"));
  {
    std::ofstream f(dir / "c.csv");
    f << "layer,expert,count\n";
    for (int l = 0; l < 32; ++l) {
      for (int e = 0; e < 8; ++e) f << l << "," << e << "," << (e == 0 ? 1000 : 1) << "\n";
    }
  }
  EXPECT_FALSE(run("--set mapping.placement.type=greedy --set mapping.placement.replicas=12 "
                   "--set mapping.placement.counts='" +
                       (dir / "c.csv").string() + "'",
                   "counts")
                   .empty());
  int code = 0;
  const std::string bad =
      run("--set mapping.placement.type=greedy --set mapping.placement.replicas=10", "bad", &code);
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(bad.empty());
}

TEST(PlaceInRun, RebalancingMovesExpertsOverTheLinks) {
  const std::string greedy = "--set mapping.placement.type=greedy ";
  const std::string every = "--set mapping.placement.rebalance_every=4 ";
  const std::string off = run(greedy, "rebal_off");
  const std::string on = run(greedy + every, "rebal_on");
  EXPECT_EQ(json_stat(off, "system.rebalances"), 0);
  EXPECT_EQ(json_stat(off, "system.moved_experts"), 0);
  EXPECT_EQ(json_stat(off, "system.rebalance_bytes"), 0);
  // 16 steps: recomputed before steps 4, 8 and 12.
  EXPECT_EQ(json_stat(on, "system.rebalances"), 3);
  const double moved = json_stat(on, "system.moved_experts");
  EXPECT_GT(moved, 0);
  const double expert_bytes = 3.0 * 4096 * 14336 * 2;  // Mixtral 8x7B, bf16
  EXPECT_EQ(json_stat(on, "system.rebalance_bytes"), moved * expert_bytes);
  double sent = 0;
  for (int c = 0; c < 4; ++c)
    sent += json_stat(on, "chip" + std::to_string(c) + ".comm.rebalance_bytes");
  EXPECT_EQ(sent, moved * expert_bytes) << "direct messages: what the chips send";
  EXPECT_GT(json_stat(on, "system.rebalance_time"), 0);
  // The moves take link time: the step with transfers is the longest, and longer than any
  // step without (slow links make it longer still).
  EXPECT_GT(json_stat(on, "workload.max_step_time"), 2 * json_stat(off, "workload.max_step_time"));
  const std::string slow = "--set system.topology.bandwidth=10GB/s ";
  const std::string slow_on = run(greedy + every + slow, "rebal_slow");
  EXPECT_GT(json_stat(slow_on, "workload.max_step_time"),
            json_stat(on, "workload.max_step_time") * 5);
  EXPECT_GT(json_stat(slow_on, "workload.max_step_time"),
            5 * json_stat(run(greedy + slow, "rebal_slow_off"), "workload.max_step_time"));
  // Deterministic.
  EXPECT_EQ(run(greedy + every, "rebal_on2"), on);
  // A smoother average moves fewer experts.
  const std::string smooth =
      run(greedy + every + "--set mapping.placement.rebalance_alpha=0.1", "rebal_smooth");
  EXPECT_LE(json_stat(smooth, "system.moved_experts"), moved);
}

TEST(PlaceInRun, BadRebalanceOptionsExitTwoWithALocatedMessage) {
  struct Case {
    const char* config;
    const char* set;
    const char* message;
  };
  const Case cases[] = {
      {kRing, "--set mapping.placement.type=round_robin --set mapping.placement.rebalance_every=4",
       "--set mapping.placement.rebalance_every: policy 'round_robin' does not place by load: "
       "rebalancing needs a load-driven policy (greedy, eplb_hierarchical, eplb_global)"},
      {kRing,
       "--set mapping.placement.type=greedy --set mapping.placement.rebalance_every=4 --set "
       "mapping.placement.rebalance_alpha=0",
       "--set mapping.placement.rebalance_alpha: the newest step's weight must be above 0 (and "
       "at most 1)"},
      {"configs/mixtral_decode.toml",
       "--set mapping.placement.type=greedy --set mapping.placement.rebalance_every=2",
       "--set mapping.placement.rebalance_every: rebalancing moves experts between chips: it "
       "needs a [system] of several chips"},
  };
  for (const Case& c : cases) {
    const fs::path out = fresh_dir("place_rebal_bad");
    const auto r = run_moesim(std::string("run ") + c.config + " --quiet --out '" + out.string() +
                              "' " + c.set);
    EXPECT_EQ(r.code, 2) << c.set;
    EXPECT_EQ(r.err, std::string("moesim: error: ") + c.message + "\n");
    EXPECT_FALSE(fs::exists(out / "stats.json"));
  }
  for (const char* v : {"-1", "1.5"}) {
    const fs::path out = fresh_dir("place_rebal_range");
    const auto r = run_moesim(std::string("run ") + kRing + " --quiet --out '" + out.string() +
                              "' --set mapping.placement.type=greedy --set "
                              "mapping.placement.rebalance_every=" +
                              v);
    EXPECT_EQ(r.code, 2) << v;
    EXPECT_NE(r.err.find("mapping.placement.rebalance_every"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace moesim
