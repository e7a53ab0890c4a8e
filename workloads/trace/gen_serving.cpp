// Continuous batching: Poisson arrivals, a per-step token budget shared by decode tokens
// (first) and prompt chunks, a cap on requests in flight, optional chunked prefill.

#include "workloads/trace/gen_serving.hpp"

#include <algorithm>
#include <cmath>

namespace moesim {

uint32_t draw_length(const LengthDist& d, Rng& rng) {
  switch (d.kind) {
    case LengthDist::Kind::kFixed:
      return d.tokens;
    case LengthDist::Kind::kUniform:
      return d.min + rng.below(d.max - d.min + 1);
    case LengthDist::Kind::kLognormal: {
      const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();
      const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
      const double x = std::round(d.median * std::exp(d.sigma * z));
      return static_cast<uint32_t>(
          std::clamp(x, static_cast<double>(d.min), static_cast<double>(d.max)));
    }
  }
  return d.tokens;
}

ServingScheduler::ServingScheduler(const ServingSpec& spec, uint64_t seed)
    : m_spec(spec), m_rng(seed) {
  make_next_request();
}

void ServingScheduler::make_next_request() {
  if (m_created == m_spec.requests) {
    m_have_pending = false;
    return;
  }
  m_clock += m_rng.exponential() / m_spec.arrival_rate;
  m_pending = ServingRequest{};
  m_pending.id = static_cast<uint32_t>(m_created++);
  m_pending.arrival_s = m_clock;
  m_pending.prompt = draw_length(m_spec.prompt, m_rng);
  m_pending.output = draw_length(m_spec.output, m_rng);
  m_arrivals.push_back(m_clock);
  m_have_pending = true;
}

bool ServingScheduler::next(uint64_t& step, std::vector<TraceToken>& tokens,
                            std::vector<uint32_t>& finished) {
  tokens.clear();
  finished.clear();
  while (tokens.empty()) {
    if (m_done == m_spec.requests) return false;
    if (m_waiting.empty() && m_running.empty()) {
      // Idle: jump to the first step that starts at or after the next arrival.
      const uint64_t at =
          static_cast<uint64_t>(std::ceil(m_pending.arrival_s / m_spec.step_time_s));
      m_step = std::max(m_step, at);
    }
    const double now = static_cast<double>(m_step) * m_spec.step_time_s;
    while (m_have_pending && m_pending.arrival_s <= now) {
      m_waiting.push_back(m_pending);
      make_next_request();
    }
    uint32_t budget = m_spec.max_tokens;
    // Decode first: one token per running request whose prompt is complete.
    for (ServingRequest& r : m_running) {
      if (budget == 0) break;
      if (r.prefilled < r.prompt || r.decoded == r.output) continue;
      tokens.push_back(TraceToken{r.id, r.prompt + r.decoded});
      ++r.decoded;
      --budget;
    }
    // Running prefills continue in admission order (only partial ones exist when chunked).
    for (ServingRequest& r : m_running) {
      if (budget == 0) break;
      if (r.prefilled == r.prompt) continue;
      const uint32_t chunk = std::min(r.prompt - r.prefilled, budget);
      for (uint32_t i = 0; i < chunk; ++i) tokens.push_back(TraceToken{r.id, r.prefilled + i});
      r.prefilled += chunk;
      budget -= chunk;
    }
    // Admit waiting requests (FIFO; without chunking a prompt must fit whole).
    while (budget > 0 && !m_waiting.empty() && m_running.size() < m_spec.max_requests) {
      ServingRequest r = m_waiting.front();
      if (!m_spec.chunked_prefill && r.prompt > budget) break;
      m_waiting.pop_front();
      const uint32_t chunk = std::min(r.prompt, budget);
      for (uint32_t i = 0; i < chunk; ++i) tokens.push_back(TraceToken{r.id, i});
      r.prefilled = chunk;
      budget -= chunk;
      m_running.push_back(r);
    }
    step = m_step++;
    // Requests whose last output token ran in this step are done.
    auto done = [&](const ServingRequest& r) {
      if (r.prefilled == r.prompt && r.decoded == r.output) {
        finished.push_back(r.id);
        ++m_done;
        return true;
      }
      return false;
    };
    m_running.erase(std::remove_if(m_running.begin(), m_running.end(), done), m_running.end());
  }
  return true;
}

}  // namespace moesim
