// libFuzzer targets: the trace readers. Built three times with FUZZ_TRACE_FORM = 0 (CSV),
// 1 (JSON lines), 2 (binary .moetrace); the input is the file, read to its end (at most
// kMaxRecords steps).
#include "tests/fuzz/fuzz_util.hpp"
#include "workloads/trace/trace.hpp"

#ifndef FUZZ_TRACE_FORM
#error "define FUZZ_TRACE_FORM"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
#if FUZZ_TRACE_FORM == 0
  const std::string path = moesim::fuzz::write_input(data, size, ".csv");
#elif FUZZ_TRACE_FORM == 1
  const std::string path = moesim::fuzz::write_input(data, size, ".jsonl");
#else
  const std::string path = moesim::fuzz::write_input(data, size, ".moetrace");
#endif
  moesim::fuzz::expect_input_errors([&] {
#if FUZZ_TRACE_FORM == 0
    auto reader = moesim::open_csv_trace(path);
#elif FUZZ_TRACE_FORM == 1
    auto reader = moesim::open_jsonl_trace(path);
#else
    auto reader = moesim::open_binary_trace(path);
#endif
    (void)reader->meta();
    moesim::TraceStep step;
    for (uint64_t i = 0; i < moesim::fuzz::kMaxRecords && reader->next(step); ++i) {
    }
  });
  return 0;
}
