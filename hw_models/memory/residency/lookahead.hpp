#pragma once
/// A trace reader that reads `window` steps ahead of its consumer, so an oracle (Belady)
/// sees the future without the simulator ever holding the whole trace: memory is bounded by
/// the window (window + 1 steps held).

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "workloads/trace/trace.hpp"

namespace moesim {

class LookaheadReader final : public TraceReader {
 public:
  /// Calls `entered(step)` for every step as it is read from `inner`, in trace order, at
  /// most `window` steps before next() returns it. Reads at most `max_steps` steps (0: all).
  LookaheadReader(std::unique_ptr<TraceReader> inner, uint64_t window, uint64_t max_steps,
                  std::function<void(const TraceStep&)> entered);
  const TraceMeta& meta() const override { return m_inner->meta(); }
  bool next(TraceStep& step) override;

 private:
  void fill();
  std::unique_ptr<TraceReader> m_inner;
  uint64_t m_window;
  uint64_t m_max_steps;
  uint64_t m_read = 0;
  bool m_done = false;
  std::function<void(const TraceStep&)> m_entered;
  std::deque<TraceStep> m_ahead;
};

}  // namespace moesim
