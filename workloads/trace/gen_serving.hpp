#pragma once
/// A continuous-batching scheduler (vLLM / Sarathi-Serve style) that turns a Poisson request
/// stream into steps of tokens. Step s starts at time s * step_time; requests that arrived
/// by then wait in FIFO order. Each step spends a token budget: first one decode token for
/// every running request whose prompt is done, then prompt tokens (chunks of running
/// prefills, then newly admitted requests while fewer than max_requests are in flight).

#include <cstdint>
#include <deque>
#include <vector>

#include "workloads/trace/gen_rng.hpp"
#include "workloads/trace/gen_spec.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim {

/// One request of the stream.
struct ServingRequest {
  uint32_t id = 0;
  double arrival_s = 0;  ///< arrival time in seconds
  uint32_t prompt = 0;   ///< prompt tokens (positions 0..prompt-1)
  uint32_t output = 0;   ///< generated tokens (positions prompt..prompt+output-1)
  uint32_t prefilled = 0;
  uint32_t decoded = 0;
};

/// Draws a length from `d` with `rng` (lognormal by Box-Muller, rounded, clamped).
uint32_t draw_length(const LengthDist& d, Rng& rng);

/// The scheduler. Deterministic for a spec and seed; holds only waiting and running requests.
class ServingScheduler {
 public:
  ServingScheduler(const ServingSpec& spec, uint64_t seed);
  /// Fills the next non-empty step: its index (steps without tokens are skipped, so indices
  /// advance with time), its tokens (decode tokens first, then prompt chunks) and the ids of
  /// requests that finished in it. Returns false when every request is done.
  bool next(uint64_t& step, std::vector<TraceToken>& tokens, std::vector<uint32_t>& finished);
  /// Requests created so far (arrived or the next to arrive), in id order; for tests.
  const std::vector<double>& arrivals() const { return m_arrivals; }

 private:
  void make_next_request();
  ServingSpec m_spec;
  Rng m_rng;
  std::vector<double> m_arrivals;  // arrival time of every request created
  ServingRequest m_pending;        // created, not yet arrived
  bool m_have_pending = false;
  uint64_t m_created = 0;
  double m_clock = 0;  // arrival time of the last request created
  std::deque<ServingRequest> m_waiting;
  std::vector<ServingRequest> m_running;  // admission order
  uint64_t m_step = 0;                    // index of the next step
  uint64_t m_done = 0;
};

}  // namespace moesim
