#pragma once
/// Exact period skip for a DramSystem fed by a host stream (hw_models/memory/README.md,
/// "Exact period skip").
///
/// A stream of consecutive addresses moves the whole memory state (queues, open rows, timing,
/// requests in flight) one row up every time it has covered one row step of the address map
/// (DramSystem::row_step_bytes()). The host calls checkpoint() each time its stream reaches the
/// next row step and passes its own state, normalised the same way. When the state at one
/// checkpoint is the state at an earlier one translated (rows and addresses up, times later),
/// the memory, being deterministic and blind to absolute rows and times, repeats everything
/// between the two: the skip advances whole periods at once, adds whole multiples of the
/// period's counters, and replays its commands and completions, translated, to the observer
/// and the completion callback. Results are identical with the skip on and off.
///
/// Two kinds of period are looked for:
/// - *between refreshes*: the state without the refresh deadlines repeats; the skip then stops
///   before the next REF (DramSystem::refresh_horizon()). Found within a few row steps.
/// - *across refreshes*: the state with the deadlines (relative) repeats. The stream's phase
///   must then recur at a refresh deadline, which takes many refresh intervals (36 for a read
///   stream on HBM3), but the skip is bounded only by the stream.

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "hw_models/memory/dram/dram.hpp"

namespace moesim {

/// Detects and skips repeating periods of one DramSystem (see the file comment).
class DramPeriodSkip {
 public:
  /// `id_step`: how much the host's request ids grow per row step (0 if ids do not move with
  /// the stream). `replay`: give the observer and the completion callback every skipped
  /// command and completion (off: the host does not need them, only the counters).
  DramPeriodSkip(DramSystem& sys, uint64_t id_step, bool replay = true);
  ~DramPeriodSkip();
  DramPeriodSkip(const DramPeriodSkip&) = delete;
  DramPeriodSkip& operator=(const DramPeriodSkip&) = delete;

  /// False if the memory's address map has no row step (no skip is ever possible).
  bool possible() const { return m_sys.row_step_bytes() != 0; }
  /// The host's stream has reached row step `index` (its cursors are `index` row steps past
  /// their origin). `host` is the rest of the host's state that decides what it feeds, with
  /// its cursors less index row steps. `host_steps` bounds the row steps the host can be moved
  /// up (the end of its stream, the end of the address space). Returns the row steps skipped:
  /// 0, or a multiple of the period, by which the memory has moved and the host must move its
  /// cursors (its request ids by the result x id_step).
  uint64_t checkpoint(uint64_t index, const std::vector<int64_t>& host, uint64_t host_steps);
  /// The host's state changed in a way its signature does not show: forget every checkpoint.
  void reset();

  /// Cycles advanced by skipping.
  uint64_t skipped_cycles() const { return m_skipped_cycles; }
  /// Requests completed in skipped periods.
  uint64_t skipped_requests() const { return m_skipped_requests; }
  /// Times a period was skipped.
  uint64_t skips() const { return m_skips; }

 private:
  struct Mark {
    uint64_t index;
    uint64_t cycle;
    std::vector<int64_t> sig;
    DramStats stats;
    size_t log_pos;
  };
  // Skips k periods of `steps` row steps from `ref` to now; `with_refresh` for a period across
  // refreshes.
  void skip(const Mark& ref, uint64_t k, bool with_refresh);
  // Drops the log entries no mark needs any more.
  void trim_log();

  DramSystem& m_sys;
  const uint64_t m_id_step;
  const bool m_replay;
  std::vector<Mark> m_marks;   // between refreshes: the last few, oldest first
  std::vector<Mark> m_gmarks;  // across refreshes: every one since the last skip or reset
  std::unordered_multimap<uint64_t, size_t> m_ghash;  // hash of a global signature -> m_gmarks
  std::vector<DramLogEntry> m_log;  // commands and completions since the oldest mark
  std::vector<int64_t> m_host, m_sig, m_gsig;
  uint64_t m_skipped_cycles = 0;
  uint64_t m_skipped_requests = 0;
  uint64_t m_skips = 0;
};

}  // namespace moesim
