// Picks the trace form: binary by its magic bytes, text by the .csv or .jsonl extension.

#include <cstdio>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "workloads/trace/trace.hpp"
#include "workloads/trace/trace_io.hpp"

namespace moesim {

namespace {

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

[[noreturn]] void unknown_format(const std::string& path) {
  throw InputError(
      fmt::format("{}: unknown trace format (expected .csv, .jsonl or .moetrace)", path));
}

}  // namespace

std::unique_ptr<TraceReader> open_trace(const std::string& path) {
  char head[8] = {};
  size_t got = 0;
  {
    trace_io::FilePtr file = trace_io::open_input(path);
    got = std::fread(head, 1, sizeof head, file.get());
  }
  if (got == sizeof head && std::memcmp(head, "MOETRACE", 8) == 0) return open_binary_trace(path);
  if (ends_with(path, ".moetrace")) return open_binary_trace(path);  // reports what is wrong
  if (ends_with(path, ".csv")) return open_csv_trace(path);
  if (ends_with(path, ".jsonl")) return open_jsonl_trace(path);
  unknown_format(path);
}

std::unique_ptr<TraceWriter> create_trace_writer(const std::string& path, const TraceMeta& meta) {
  if (ends_with(path, ".csv")) return create_csv_trace_writer(path, meta);
  if (ends_with(path, ".jsonl")) return create_jsonl_trace_writer(path, meta);
  if (ends_with(path, ".moetrace")) return create_binary_trace_writer(path, meta);
  unknown_format(path);
}

}  // namespace moesim
