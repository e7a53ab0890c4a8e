#pragma once
/// Shared pieces of the libFuzzer targets (tests/fuzz/README in docs/robustness.md).
///
/// A target feeds its input to one parser and treats InputError as the expected outcome for
/// bad input. Anything else escaping (InternalError, std::exception from a library, ...) is
/// rethrown out of LLVMFuzzerTestOneInput, which ends the process: libFuzzer records it as a
/// crash, like a sanitizer report.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim/core/error.hpp"

namespace moesim::fuzz {

/// Most steps/records/requests a target pulls from one input (inputs are small; this only
/// bounds a reader that would loop).
inline constexpr uint64_t kMaxRecords = 100000;

/// A per-process scratch file `<dir>/moesim-fuzz-<pid><ext>` holding the input, for readers
/// that take a path. /dev/shm when present (no disk writes), else $TMPDIR or /tmp.
inline std::string write_input(const uint8_t* data, size_t size, const char* ext) {
  static const std::string base = [] {
    const char* dir = nullptr;
    if (access("/dev/shm", W_OK) == 0) dir = "/dev/shm";
    if (!dir) dir = std::getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    return std::string(dir) + "/moesim-fuzz-" + std::to_string(getpid());
  }();
  const std::string path = base + ext;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

/// Runs `f`; an InputError is the expected answer to bad input and is swallowed.
template <typename F>
void expect_input_errors(F&& f) {
  try {
    f();
  } catch (const InputError&) {
  }
}

}  // namespace moesim::fuzz

/// Targets linking moesim_core link libsystemc.so, whose main() calls sc_main(): it must be
/// defined for the link, but libFuzzer's own main() runs instead, so it is never called.
#define MOESIM_FUZZ_SC_MAIN   \
  int sc_main(int, char*[]) { \
    std::abort();             \
  }
