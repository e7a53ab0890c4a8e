#pragma once
/// Builds a TraceStep from rows, one per (token, layer), in any order: the staging shared by
/// the text readers (CSV, JSONL) and the importers. Tokens are the distinct (request, position)
/// pairs in order of first appearance. Holds one step.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "workloads/trace/line_reader.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim {

/// Collects the rows of one step and scatters them into CSR form.
class StepAssembler {
 public:
  /// Starts a step of `layers` layers.
  void begin(uint32_t layers);
  /// Adds the row of token (request, position) of `task` at `layer` (< layers) with k routes,
  /// read at `line`. Returns "" or what is wrong: "duplicate row for token (request R,
  /// position P) at layer L (first at line N)", "token (request R, position P) has task T
  /// here but task U at line N" or "too many routes".
  std::string add(uint32_t request, uint32_t position, uint32_t layer, const int32_t* experts,
                  const float* weights, uint32_t k, uint64_t line, uint32_t task = 0);
  /// Tokens added so far.
  uint32_t tokens() const { return static_cast<uint32_t>(m_tokens.size()); }
  /// The i-th token (order of first appearance).
  const TraceToken& token(uint32_t i) const { return m_tokens[i]; }
  /// Routes added so far.
  uint64_t routes() const { return m_experts.size(); }
  /// Fills `step` (index, tokens, CSR arrays; step.index is left to the caller). Returns ""
  /// or "token (request R, position P) has no row for layer L" for the first gap.
  std::string finish(TraceStep& step);

 private:
  struct RowRef {
    uint32_t begin = 0;
    uint32_t count = 0;
    uint64_t line = 0;
  };
  static constexpr uint32_t kNoRow = 0xFFFFFFFFu;

  uint32_t m_layers = 0;
  std::vector<TraceToken> m_tokens;
  std::unordered_map<uint64_t, uint32_t> m_token_index;
  uint32_t m_last_token = 0;
  std::vector<uint32_t> m_token_rows;  // token * layers + layer -> index into m_rows
  std::vector<uint64_t> m_token_line;  // token -> line of its first row
  std::vector<RowRef> m_rows;
  std::vector<int32_t> m_experts;
  std::vector<float> m_weights;
};

/// The common part of the text trace readers (CSV, JSON lines): rows of (step, request,
/// position, layer, experts, weights) grouped into steps, steps checked to ascend, each step
/// assembled and checked for gaps. A subclass reads its header into m_meta in its constructor,
/// then calls prime(); its read_row() fills m_row from the next data line.
class TextTraceReader : public TraceReader {
 public:
  const TraceMeta& meta() const final { return m_meta; }
  bool next(TraceStep& step) final;

 protected:
  /// One data row.
  struct Row {
    uint64_t step = 0;
    uint32_t request = 0;
    uint32_t position = 0;
    uint32_t layer = 0;
    uint32_t task = 0;  ///< 0 when the form has no task field
    uint64_t line = 0;  ///< line number in the file
    std::vector<int32_t> experts;
    std::vector<float> weights;
  };

  /// Opens `path` (InputError "<path>: cannot open trace (...)").
  explicit TextTraceReader(const std::string& path);
  /// Reads the first data row; called once the header is read.
  void prime() { m_has_row = read_row(); }
  /// Reads the next data row into m_row; false at the end of the file.
  virtual bool read_row() = 0;
  /// Throws InputError "<path>:<line>: <what>".
  [[noreturn]] void fail(uint64_t line, const std::string& what) const;

  std::string m_path;
  trace_io::LineReader m_lines;
  TraceMeta m_meta;
  Row m_row;  ///< the row read ahead, when m_has_row

 private:
  bool m_has_row = false;
  bool m_has_prev = false;
  uint64_t m_prev_index = 0;
  StepAssembler m_asm;  ///< the current step
};

}  // namespace moesim
