// libFuzzer target: the `moesim mem` request-trace reader (`<cycle> <address> R|W` lines,
// hw_models/memory/mem_driver.cpp make_trace_source), read to its end (at most kMaxRecords
// requests). No memory is simulated.
#include "hw_models/memory/mem_driver.hpp"
#include "tests/fuzz/fuzz_util.hpp"

MOESIM_FUZZ_SC_MAIN

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = moesim::fuzz::write_input(data, size, ".trace");
  moesim::fuzz::expect_input_errors([&] {
    auto source = moesim::make_trace_source(path);
    moesim::MemRequest r;
    for (uint64_t i = 0; i < moesim::fuzz::kMaxRecords && source->next(r); ++i) {
    }
  });
  return 0;
}
