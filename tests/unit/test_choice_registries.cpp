// A topology and a placement policy registered from outside the simulator (here, this test:
// one class and one registration line each) are listed by `moesim list`, accepted by their
// `type` keys and used by the run, with no change to the run spec or the command line.

#include <gtest/gtest.h>
#include <systemc>

#include <filesystem>
#include <string>
#include <vector>

#include "hw_models/interconnect/topology.hpp"
#include "sim/cli/commands.hpp"
#include "sim/config/config.hpp"
#include "sim/core/registry.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/plan/placement.hpp"

namespace moesim {
namespace {

/// Chips in a line (a ring without its closing link): chip i joined to chip i + 1.
class LineForTest final : public TopologyBuilder {
 public:
  static void declare(ParamSchema& s) {
    s.add("bandwidth", ParamType::kBandwidth, "bandwidth of each direction").at_least(1);
  }
  explicit LineForTest(const Args& a) : m_bw(a.params.get_bytes_per_s("bandwidth")) {}
  Topology build(uint32_t chips, const std::vector<ExplicitLinkSpec>&) const override {
    Topology t(chips);
    for (uint32_t c = 0; c + 1 < chips; ++c) {
      t.add_duplex(c, c + 1, m_bw, 1e-6, "link" + std::to_string(c) + "_" + std::to_string(c + 1),
                   "link" + std::to_string(c + 1) + "_" + std::to_string(c));
    }
    t.compute_routes();
    return t;
  }

 private:
  double m_bw;
};

/// Expert e on chip (chips - 1 - e mod chips): round-robin backwards.
class ReverseForTest final : public PlacementPolicy {
 public:
  static void declare(ParamSchema&) {}
  explicit ReverseForTest(const Args&) {}
  void place(const PlacementInput& in, Placement& out) const override {
    out = Placement::round_robin(in.layers, in.experts, in.chips);
    out.slot_chip.assign(size_t{in.layers} * out.slots, 0);
    for (size_t i = 0; i < out.slot_chip.size(); ++i) {
      out.slot_chip[i] = in.chips - 1 - out.phy2log[i] % in.chips;
    }
  }
};

}  // namespace

MOESIM_REGISTER(TopologyBuilder, LineForTest, "line_test", "chips in a line (a test's own)");
MOESIM_REGISTER(PlacementPolicy, ReverseForTest, "reverse_test",
                "round-robin backwards (a test's own)");

namespace {

Config line_config(const std::string& extra) {
  const std::filesystem::path root = MOESIM_SOURCE_DIR;
  const std::string text = "include = [\"" + (root / "configs/hw/sn40l_like.toml").string() +
                           "\", \"" + (root / "workloads/models/mixtral_8x7b.toml").string() +
                           "\"]\n[system]\nchips = 4\n[system.topology]\ntype = \"line_test\"\n"
                           "bandwidth = \"10GB/s\"\n[system.network]\ntype = \"fast\"\n"
                           "[workload]\ntype = \"synthetic\"\nphase = \"decode\"\nbatch = 4\n"
                           "steps = 1\ndistribution = \"uniform\"\n" +
                           extra;
  return Config::from_string(text, "line.toml");
}

TEST(ChoiceRegistries, DummyTopologyAndPlacementAreListed) {
  testing::internal::CaptureStdout();
  EXPECT_EQ(cli_main({"list"}), 0);
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("line_test"), std::string::npos) << out;
  EXPECT_NE(out.find("chips in a line (a test's own)"), std::string::npos);
  EXPECT_NE(out.find("reverse_test"), std::string::npos);
}

TEST(ChoiceRegistries, DummyTopologyAndPlacementAreUsed) {
  Config cfg = line_config("[mapping.placement]\ntype = \"reverse_test\"\n");
  const RunSpec spec = build_run_spec(cfg);
  EXPECT_EQ(spec.system.topology_type, "line_test");
  const Topology& t = spec.system.topology;
  EXPECT_EQ(t.links().size(), 6u);  // 3 neighbour pairs, both directions
  EXPECT_EQ(t.hops(0, 3), 3u);      // no closing link: the long way
  const Placement& p = spec.parallel.placement;
  ASSERT_GT(p.layers, 0u);
  for (uint32_t e = 0; e < 8; ++e) {  // expert e on chip 3 - e mod 4
    ASSERT_EQ(p.replica_count(0, e), 1u);
    EXPECT_EQ(p.chip_of_slot(0, *p.replicas_begin(0, e)), 3 - e % 4) << e;
  }
}

}  // namespace
}  // namespace moesim

int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
