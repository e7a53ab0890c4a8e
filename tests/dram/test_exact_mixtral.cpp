// The exact period skip (`stream_skip = "exact"`) on a whole Mixtral-8x7B decode step with
// detailed HBM3 must give the same results as the full simulation. The full simulation was run
// once and recorded here (hw_models/memory/README.md, "Exact period skip"):
//   moesim run configs/bench/mixtral_decode_detailed.toml --set workload.max_steps=1
// gave time_s = 0.03644634875 and chip0.hbm.requests = 693157888. The run costs about four
// minutes of CPU (the skip advances 7 % of the requests on this traffic), so it is its own
// ctest with a long timeout, left out of the sanitizer suite.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/regression/cli_runner.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using testing_support::fresh_dir;
using testing_support::read_text;
using testing_support::run_moesim;

// The text after `"name": ` in our JSON (fixed layout), up to the next comma or brace.
std::string json_text(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\": ";
  const size_t at = json.find(key);
  if (at == std::string::npos) return "";
  const size_t from = at + key.size();
  return json.substr(from, json.find_first_of(",}\n", from) - from);
}

std::string stat_text(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\": {\"value\": ";
  const size_t at = json.find(key);
  if (at == std::string::npos) return "";
  const size_t from = at + key.size();
  return json.substr(from, json.find_first_of(",}", from) - from);
}

TEST(ExactSkipFullSystem, MixtralDecodeStepIsIdenticalToTheFullSimulation) {
  const fs::path dir = fresh_dir("exact_mixtral");
  const auto r =
      run_moesim("run configs/bench/mixtral_decode_detailed.toml --quiet --out " + dir.string() +
                 " --set workload.max_steps=1 --set chip.memory.hbm.stream_skip=exact");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string j = read_text(dir / "stats.json");
  // Printed exactly as the full simulation printed them.
  EXPECT_EQ(json_text(j, "time_s"), "0.03644634875");
  EXPECT_EQ(stat_text(j, "chip0.hbm.requests"), "693157888");
  EXPECT_NE(stat_text(j, "chip0.hbm.exact_skip.requests"), "0");
  EXPECT_NE(stat_text(j, "chip0.hbm.exact_skip.requests"), "");
}

}  // namespace
}  // namespace moesim
