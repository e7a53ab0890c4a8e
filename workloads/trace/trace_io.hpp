#pragma once
/// Shared pieces of the trace readers and writers: expert names, number parsing, step and
/// metadata validation, CRC32, the temp-file-then-rename output file and the common part of
/// the text writers.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "workloads/trace/trace.hpp"

namespace moesim::trace_io {

/// Text name of a special expert ("null", "zero", "copy", "const"), or nullptr for a routed id.
const char* special_expert_name(int32_t expert);
/// Parses "null"/"zero"/"copy"/"const"; returns false for anything else.
bool parse_special_expert(std::string_view text, int32_t& expert);
/// True for a routed id in [0, experts) or one of the special ids.
inline bool expert_valid(int32_t expert, uint32_t experts) {
  return (expert >= 0 && static_cast<uint32_t>(expert) < experts) ||
         (expert <= kNullExpert && expert >= kConstantExpert);
}

/// Strict whole-string parsers (no sign for unsigned, no surrounding spaces).
bool parse_u64(std::string_view text, uint64_t& value);
bool parse_u32(std::string_view text, uint32_t& value);
bool parse_i32(std::string_view text, int32_t& value);

/// The most MoE layers a trace may declare: the most layers a model may have
/// (sim/plan/model.cpp). A reader sizes each step's arrays by it.
constexpr uint32_t kMaxTraceLayers = 1024;
/// What is wrong with a declared layer count above kMaxTraceLayers.
std::string too_many_layers(uint32_t layers);

/// Checks metadata a writer is about to store; returns "" or what is wrong.
std::string check_meta(const TraceMeta& meta);
/// Checks a step against the metadata and the previous step's index (has_prev false for the
/// first step); returns "" or what is wrong. Tokens must be distinct (request, position) pairs.
std::string check_step(const TraceMeta& meta, const TraceStep& step, bool has_prev,
                       uint64_t prev_index);

/// check_meta for a writer of `path`: throws InputError "<path>: cannot write trace: <what>".
void require_meta(const std::string& path, const TraceMeta& meta);
/// check_step for a writer of `path`: throws InputError "<path>: cannot write step <index>:
/// <what>".
void require_step(const std::string& path, const TraceMeta& meta, const TraceStep& step,
                  bool has_prev, uint64_t prev_index);

/// Metadata keys stored in TraceMeta fields (not allowed in TraceMeta::extra).
bool is_reserved_meta_key(std::string_view key);

/// CRC-32 (IEEE 802.3, reflected, as zlib's crc32), continuing from `crc` (0 to start).
uint32_t crc32(uint32_t crc, const void* data, size_t size);

/// An output file written as `<path>.tmp` and renamed to `<path>` by commit(); destroyed
/// without commit() it removes the temporary file. A symbolic link, device or FIFO
/// (`/dev/stdout`; see write_in_place()) is written in place and never removed. Errors are
/// InputErrors naming `path`.
class AtomicOutput {
 public:
  explicit AtomicOutput(const std::string& path);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  void write(const void* data, size_t size);
  void write(std::string_view text) { write(text.data(), text.size()); }
  void commit();
  bool committed() const { return m_committed; }
  const std::string& path() const { return m_path; }

 private:
  void fail(const char* what);
  std::string m_path;
  bool m_in_place;
  std::string m_tmp;
  std::FILE* m_file = nullptr;
  bool m_committed = false;
};

/// The common part of the text trace writers (CSV, JSON lines): one line per (step, layer,
/// token), each step checked against the metadata and the previous step, lines buffered and
/// written every 1 MiB, the file renamed into place by finish(). A subclass appends its header
/// to m_buf in its constructor and formats the lines in append_row().
class TextTraceWriter : public TraceWriter {
 public:
  void write(const TraceStep& step) final;
  void finish() final;

 protected:
  /// Checks `meta` (require_meta) and opens `path` as an AtomicOutput.
  TextTraceWriter(const std::string& path, const TraceMeta& meta);

  /// Appends the line of token `t` at `layer` of `step` to m_buf.
  virtual void append_row(const TraceStep& step, uint32_t layer, uint32_t t) = 0;

  /// Appends experts [b, e) of `step` separated by `sep`: routed ids as numbers, special
  /// experts by name, in double quotes if `quote_names`.
  void append_experts(const TraceStep& step, uint32_t b, uint32_t e, char sep, bool quote_names);
  /// Appends weights [b, e) of `step` separated by `sep`.
  void append_weights(const TraceStep& step, uint32_t b, uint32_t e, char sep);

  fmt::memory_buffer m_buf;  ///< output not yet written to the file

 private:
  void flush();

  TraceMeta m_meta;
  std::optional<AtomicOutput> m_out;
  bool m_has_prev = false;
  uint64_t m_prev_index = 0;
};

/// Closes a FILE* when it goes out of scope.
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

/// Opens `path` for reading or throws `<path>: cannot open trace (<reason>)`.
FilePtr open_input(const std::string& path);

}  // namespace moesim::trace_io
