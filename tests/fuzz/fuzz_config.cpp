// libFuzzer target: the config loader. The input is TOML text given to Config::from_string
// as "configs/fuzz.toml" (so includes of the seed configs resolve from the repository root,
// the working directory scripts/fuzz.sh runs in), then build_run_spec: every section read
// and validated. No simulation runs.
#include <string>

#include "sim/config/config.hpp"
#include "sim/engine/run_spec.hpp"
#include "tests/fuzz/fuzz_util.hpp"

MOESIM_FUZZ_SC_MAIN

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  moesim::fuzz::expect_input_errors([&] {
    moesim::Config cfg = moesim::Config::from_string(text, "configs/fuzz.toml");
    moesim::RunSpec spec = moesim::build_run_spec(cfg);
    (void)spec;
  });
  return 0;
}
