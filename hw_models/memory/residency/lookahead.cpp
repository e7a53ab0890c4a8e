#include "hw_models/memory/residency/lookahead.hpp"

#include <utility>

namespace moesim {

LookaheadReader::LookaheadReader(std::unique_ptr<TraceReader> inner, uint64_t window,
                                 uint64_t max_steps, std::function<void(const TraceStep&)> entered)
    : m_inner(std::move(inner)),
      m_window(window),
      m_max_steps(max_steps),
      m_entered(std::move(entered)) {}

void LookaheadReader::fill() {
  // The step about to be returned plus `window` steps after it.
  while (!m_done && m_ahead.size() <= m_window) {
    if (m_max_steps != 0 && m_read >= m_max_steps) {
      m_done = true;
      break;
    }
    TraceStep s;
    if (!m_inner->next(s)) {
      m_done = true;
      break;
    }
    ++m_read;
    if (m_entered) m_entered(s);
    m_ahead.push_back(std::move(s));
  }
}

bool LookaheadReader::next(TraceStep& step) {
  fill();
  if (m_ahead.empty()) return false;
  step = std::move(m_ahead.front());
  m_ahead.pop_front();
  return true;
}

}  // namespace moesim
