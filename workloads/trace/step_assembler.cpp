#include "workloads/trace/step_assembler.hpp"

#include <fmt/format.h>

#include "sim/core/error.hpp"

namespace moesim {

void StepAssembler::begin(uint32_t layers) {
  m_layers = layers;
  m_tokens.clear();
  m_token_index.clear();
  m_last_token = 0;
  m_token_rows.clear();
  m_token_line.clear();
  m_rows.clear();
  m_experts.clear();
  m_weights.clear();
}

std::string StepAssembler::add(uint32_t request, uint32_t position, uint32_t layer,
                               const int32_t* experts, const float* weights, uint32_t k,
                               uint64_t line, uint32_t task) {
  const uint32_t n = tokens();
  // Rows usually repeat the token order layer after layer: try the token after the last one
  // before the hash lookup.
  uint32_t t = m_last_token + 1 < n ? m_last_token + 1 : 0;
  if (t >= n || m_tokens[t].request != request || m_tokens[t].position != position) {
    const uint64_t key = (static_cast<uint64_t>(request) << 32) | position;
    auto [it, inserted] = m_token_index.try_emplace(key, n);
    t = it->second;
    if (inserted) {
      m_tokens.push_back(TraceToken{request, position, task});
      m_token_rows.resize(m_token_rows.size() + m_layers, kNoRow);
      m_token_line.push_back(line);
    }
  }
  m_last_token = t;
  if (m_tokens[t].task != task) {
    return fmt::format("token (request {}, position {}) has task {} here but task {} at line {}",
                       request, position, task, m_tokens[t].task, m_token_line[t]);
  }
  uint32_t& slot = m_token_rows[static_cast<size_t>(t) * m_layers + layer];
  if (slot != kNoRow) {
    return fmt::format(
        "duplicate row for token (request {}, position {}) at layer {} (first at "
        "line {})",
        request, position, layer, m_rows[slot].line);
  }
  if (m_experts.size() + k > 0xFFFFFFFFu) return "too many routes";
  slot = static_cast<uint32_t>(m_rows.size());
  m_rows.push_back(RowRef{static_cast<uint32_t>(m_experts.size()), k, line});
  m_experts.insert(m_experts.end(), experts, experts + k);
  m_weights.insert(m_weights.end(), weights, weights + k);
  return {};
}

std::string StepAssembler::finish(TraceStep& step) {
  const uint32_t n = tokens();
  for (uint32_t t = 0; t < n; ++t) {
    for (uint32_t l = 0; l < m_layers; ++l) {
      if (m_token_rows[static_cast<size_t>(t) * m_layers + l] == kNoRow) {
        return fmt::format("token (request {}, position {}) has no row for layer {}",
                           m_tokens[t].request, m_tokens[t].position, l);
      }
    }
  }
  step.tokens = m_tokens;
  step.layers = m_layers;
  step.offsets.clear();
  step.experts.clear();
  step.weights.clear();
  step.offsets.reserve(static_cast<size_t>(m_layers) * n + 1);
  step.experts.reserve(m_experts.size());
  step.weights.reserve(m_weights.size());
  step.offsets.push_back(0);
  for (uint32_t l = 0; l < m_layers; ++l) {
    for (uint32_t t = 0; t < n; ++t) {
      const RowRef& r = m_rows[m_token_rows[static_cast<size_t>(t) * m_layers + l]];
      step.experts.insert(step.experts.end(), m_experts.begin() + r.begin,
                          m_experts.begin() + r.begin + r.count);
      step.weights.insert(step.weights.end(), m_weights.begin() + r.begin,
                          m_weights.begin() + r.begin + r.count);
      step.offsets.push_back(static_cast<uint32_t>(step.experts.size()));
    }
  }
  return {};
}

TextTraceReader::TextTraceReader(const std::string& path)
    : m_path(path), m_lines(trace_io::open_input(path)) {}

void TextTraceReader::fail(uint64_t line, const std::string& what) const {
  throw InputError(fmt::format("{}:{}: {}", m_path, line, what));
}

bool TextTraceReader::next(TraceStep& step) {
  if (!m_has_row) return false;
  const uint64_t index = m_row.step;
  // A step's rows end where another index starts, so this also catches split steps.
  if (m_has_prev && index < m_prev_index) {
    fail(m_row.line, fmt::format("step {} after step {} (steps must ascend and the rows of a "
                                 "step be contiguous)",
                                 index, m_prev_index));
  }
  m_asm.begin(m_meta.layers);
  do {
    const std::string bad = m_asm.add(
        m_row.request, m_row.position, m_row.layer, m_row.experts.data(), m_row.weights.data(),
        static_cast<uint32_t>(m_row.experts.size()), m_row.line, m_row.task);
    if (!bad.empty()) fail(m_row.line, fmt::format("step {}: {}", index, bad));
    m_has_row = read_row();
  } while (m_has_row && m_row.step == index);

  // The step ends at the row read ahead (or at the last line of the file).
  const uint64_t end_line = m_has_row ? m_row.line : m_lines.line_number();
  const std::string bad = m_asm.finish(step);
  if (!bad.empty()) fail(end_line, fmt::format("step {}: {}", index, bad));
  step.index = index;
  m_has_prev = true;
  m_prev_index = index;
  return true;
}

}  // namespace moesim
