// libFuzzer target: the sweep spec reader. The input is the spec's TOML text, parsed as
// "configs/sweeps/fuzz.toml" (base configs of the seeds resolve from the repository root).
// A spec that loads must give an effective copy that loads again (the spec's own promise,
// sim/sweep/spec.hpp): an InputError there is a bug and aborts.
#include <cstdio>
#include <cstdlib>

#include "sim/sweep/spec.hpp"
#include "tests/fuzz/fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const char* name = "configs/sweeps/fuzz.toml";
  moesim::sweep::SweepSpec spec;
  bool loaded = false;
  moesim::fuzz::expect_input_errors([&] {
    spec = moesim::sweep::parse_sweep_spec(text, name);
    loaded = true;
  });
  if (!loaded) return 0;
  const std::string effective = spec.effective_text(moesim::sweep::hash_text(text));
  try {
    (void)moesim::sweep::parse_sweep_spec(effective, name);
  } catch (const moesim::InputError& e) {
    std::fprintf(stderr, "effective copy does not load: %s\n--- effective copy:\n%s\n", e.what(),
                 effective.c_str());
    std::abort();
  }
  return 0;
}
