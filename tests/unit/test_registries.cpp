// Every choice through a registry: a cache policy added in a test (one class, one
// registration line) is listed, configurable and simulated like the built-in ones; the
// DRAM fidelities and the models' facts come from their registries.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include <systemc>

#include "hw_models/compute/compute_unit.hpp"
#include "hw_models/memory/detailed_dram.hpp"
#include "hw_models/memory/dram_fidelity.hpp"
#include "hw_models/memory/residency/cache_policy.hpp"
#include "hw_models/memory/residency/expert_cache.hpp"
#include "sim/config/config.hpp"
#include "sim/core/registry.hpp"
#include "sim/engine/residency_config.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/engine/simulation.hpp"

namespace moesim {
namespace {

/// Most recently used: the opposite of lru, with a parameter of its own.
class MruForTest final : public CacheReplacement {
 public:
  static void declare(ParamSchema& s) {
    s.add("mru_test_knob", ParamType::kInt, "a parameter only this policy has")
        .default_value(int64_t{7});
  }
  explicit MruForTest(const Args&) {}
  Rank rank(uint32_t, uint64_t last) const override { return {UINT64_MAX - last, 0}; }
};

MOESIM_REGISTER(CacheReplacement, MruForTest, "mru_test", "most recently used (a test policy)");

TEST(Registries, ADummyCachePolicyIsListedAfterTheBuiltIns) {
  const std::vector<std::string> names = cache_policy_names();
  const std::vector<std::string> want = {"lru", "lfu", "belady", "static", "mru_test"};
  EXPECT_EQ(names, want);
  const ParamSchema s = cache_schema("mru_test");
  std::vector<std::string> keys;
  for (const ParamSpec& p : s.params()) keys.push_back(p.name);
  const std::vector<std::string> want_keys = {"from", "capacity", "prefetch", "prefetch_experts",
                                              "mru_test_knob"};
  EXPECT_EQ(keys, want_keys);
  EXPECT_STREQ(cache_policy_name(CachePolicy("mru_test")), "mru_test");
}

TEST(Registries, ADummyCachePolicyEvictsByItsOwnRank) {
  ExpertCache c(CachePolicy("mru_test"), 2, 8);
  for (uint32_t k : {0u, 1u}) {
    c.access(k, k);
    c.insert(k, k);
  }
  c.access(2, 5);
  EXPECT_EQ(c.insert(2, 5), 1u);  // the most recently used goes
  EXPECT_EQ(c.keys(), (std::vector<uint32_t>{0, 2}));
}

TEST(Registries, DramFidelitiesAreTheSchemaChoices) {
  const std::vector<std::string> names = Registry<DramFidelity>::instance().names();
  const auto* dram = Registry<Memory>::instance().find("dram");
  ASSERT_NE(dram, nullptr);
  const auto& params = dram->schema.params();
  const auto it = std::find_if(params.begin(), params.end(),
                               [](const ParamSpec& p) { return p.name == "fidelity"; });
  ASSERT_NE(it, params.end());
  EXPECT_EQ(it->choices, names);
}

// Run last in the process (one SystemC simulation per process): the dummy policy simulates.
TEST(Registries, ZADummyCachePolicyRuns) {
  // OLMoE decode with its experts homed in DDR and an HBM cache of the test policy.
  Config cfg = Config::load(std::string(MOESIM_SOURCE_DIR) + "/configs/olmoe_decode.toml",
                            {"mapping.weights=ddr", "mapping.cache.hbm.policy=mru_test",
                             "mapping.cache.hbm.capacity=\"3GiB\"", "workload.steps=2"});
  const RunSpec spec = build_run_spec(cfg);
  ASSERT_EQ(spec.residency.levels.size(), 1u);
  EXPECT_EQ(spec.residency.levels[0].policy, CachePolicy("mru_test"));
  EXPECT_EQ(spec.chip.compute.facts<ComputeUnit>().rows,
            static_cast<int>(spec.chip.compute.params.get_int("rows")));
  Simulation sim(spec, open_workload(spec), false);
  sim.run();
  EXPECT_NE(sim.stats_json().find("\"chip0.tiers.hbm.hits\""), std::string::npos);
}

}  // namespace
}  // namespace moesim

int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
