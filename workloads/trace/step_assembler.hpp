#pragma once
/// Builds a TraceStep from rows, one per (token, layer), in any order: the staging shared by
/// the text readers (JSONL) and the importers. Tokens are the distinct (request, position)
/// pairs in order of first appearance. Holds one step.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "workloads/trace/trace.hpp"

namespace moesim {

/// Collects the rows of one step and scatters them into CSR form.
class StepAssembler {
 public:
  /// Starts a step of `layers` layers.
  void begin(uint32_t layers);
  /// Adds the row of token (request, position) at `layer` (< layers) with k routes, read at
  /// `line`. Returns "" or what is wrong: "duplicate row for token (request R, position P) at
  /// layer L (first at line N)" or "too many routes".
  std::string add(uint32_t request, uint32_t position, uint32_t layer, const int32_t* experts,
                  const float* weights, uint32_t k, uint64_t line);
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
  std::vector<RowRef> m_rows;
  std::vector<int32_t> m_experts;
  std::vector<float> m_weights;
};

}  // namespace moesim
