// A workload type registered from outside the simulator (here, this test) is listed by
// `moesim list`, accepted by `[workload] type`, checked against its own schema and opened
// by open_workload(), with no change to the run spec or the command line.

#include <gtest/gtest.h>
#include <systemc>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sim/cli/commands.hpp"
#include "sim/config/config.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/engine/workloads/workload_source.hpp"
#include "workloads/trace/synthetic.hpp"

namespace moesim {

namespace {

/// Uniform decode steps of the run's model, batch `batch`.
class DummyWorkload : public WorkloadSource {
 public:
  explicit DummyWorkload(const Args&) {}
  static void declare(ParamSchema& s) {
    s.add("batch", ParamType::kInt, "requests per step").range(1, 64).default_value(int64_t{2});
  }
  void read(Config&, const Params&, RunSpec& spec) const override {
    spec.workload.trace_path = "dummy";
  }
  std::unique_ptr<TraceReader> open(const RunSpec& spec) const override {
    SyntheticSpec s;
    s.model = spec.model.name;
    s.layers = spec.model.moe_layers();
    s.experts = spec.model.experts;
    s.top_k = spec.model.top_k;
    s.steps = 3;
    s.batch = static_cast<uint32_t>(spec.workload.params.get_int("batch"));
    s.seed = spec.seed;
    return make_synthetic_trace(s);
  }
};

}  // namespace

MOESIM_REGISTER(WorkloadSource, DummyWorkload, "dummy_test", "a test's own workload type");

namespace {

/// A Mixtral decode run on the shipped SN40L-like chip with the given `[workload]` body.
Config run_config(const std::string& workload) {
  const std::filesystem::path root = MOESIM_SOURCE_DIR;
  const std::string text = "include = [\"" + (root / "configs/hw/sn40l_like.toml").string() +
                           "\", \"" + (root / "workloads/models/mixtral_8x7b.toml").string() +
                           "\"]\n[model]\nweight_bytes = 1\n[workload]\n" + workload;
  return Config::from_string(text, "dummy.toml");
}

TEST(WorkloadRegistry, DummyTypeIsListedAfterTheBuiltIns) {
  const std::vector<std::string> types = workload_types();
  const std::vector<std::string> expected = {"trace", "synthetic", "generator", "coe_requests",
                                             "dummy_test"};
  EXPECT_EQ(types, expected);
  const ParamSchema s = workload_schema("dummy_test");
  EXPECT_EQ(s.owner(), "workload");
  EXPECT_EQ(s.names(), (std::vector<std::string>{"max_steps", "batch"}));

  testing::internal::CaptureStdout();
  EXPECT_EQ(cli_main({"list"}), 0);
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("  [workload] type = \"dummy_test\"\n    max_steps"), std::string::npos);
  EXPECT_NE(out.find("requests per step"), std::string::npos);
}

TEST(WorkloadRegistry, DummyTypeIsUsable) {
  Config cfg = run_config("type = \"dummy_test\"\nbatch = 4\nmax_steps = 2\n");
  const RunSpec spec = build_run_spec(cfg);
  EXPECT_EQ(spec.workload.type, "dummy_test");
  EXPECT_EQ(spec.workload.max_steps, 2u);
  auto reader = open_workload(spec);
  TraceStep step;
  int steps = 0;
  while (reader->next(step)) {
    EXPECT_EQ(step.num_tokens(), 4u);
    ++steps;
  }
  EXPECT_EQ(steps, 3);
}

TEST(WorkloadRegistry, DummyTypeIsCheckedAndNamedInMessages) {
  Config unknown = run_config("type = \"dummy_test\"\nbatch = 4\nsteps = 3\n");
  try {
    build_run_spec(unknown);
    FAIL() << "unknown key accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("workload.steps: unknown key for 'workload'"),
              std::string::npos)
        << e.what();
  }
  Config wrong = run_config("type = \"dummy\"\n");
  try {
    build_run_spec(wrong);
    FAIL() << "unknown type accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("is not one of 'trace', 'synthetic', 'generator', "
                                         "'coe_requests', 'dummy_test'"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace

}  // namespace moesim

int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
