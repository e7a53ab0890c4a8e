#pragma once
/// The timeline of `moesim run --timeline FILE`: a Chrome Trace Event JSON file (what Perfetto
/// and chrome://tracing open), streamed to FILE.tmp while the run goes and renamed to FILE
/// when it has succeeded. Layout (docs/timeline.md):
///   - process "system": a "steps" track (one slice per step) and one track per link
///     direction with its busy periods and a bandwidth counter;
///   - one process per chip: a track per unit (compute, vector, comm, dma) with one slice per
///     op (DMA: its busy periods, and one track per channel with the ops), a track per memory
///     (SRAM and each tier) with its busy periods, bandwidth counters per memory and a
///     counter of the SRAM bytes held by DMA loads not yet consumed.
/// Only the steps of a window are recorded (--timeline-steps A:B; by default the first
/// kTimelineDefaultSteps): outside it no model holds a track, so the run costs what it costs
/// without a timeline. Memory use is bounded by the tracks, never by the events.

#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "sim/engine/run_spec.hpp"
#include "sim/engine/step_driver.hpp"
#include "sim/engine/system.hpp"

namespace moesim {

/// Steps recorded when --timeline-steps is not given.
inline constexpr uint64_t kTimelineDefaultSteps = 100;

/// What `moesim run` was asked to record.
struct TimelineOptions {
  std::string path;
  uint64_t first = 0;                    ///< first step recorded (0-based, in run order)
  uint64_t end = kTimelineDefaultSteps;  ///< one past the last step recorded (0: no end)
  bool default_window = true;            ///< --timeline-steps not given
};

/// Parses the value of --timeline-steps ("A:B", "A:" or ":B"; steps A to B-1) into `o`.
/// Throws InputError naming the option.
void parse_timeline_steps(const std::string& text, TimelineOptions& o);

class TimelineJson;
class UnitTrack;
class ActivityTrack;
class ChipBuffers;

class Timeline final : public StepObserver {
 public:
  /// Opens FILE.tmp (InputError when it cannot be written) and writes the track names.
  Timeline(TimelineOptions options, System& system, const RunSpec& spec);
  /// Removes FILE.tmp unless commit() has renamed it (a failed run leaves no timeline).
  ~Timeline() override;

  void step_begin(uint64_t n) override;
  void step_end(uint64_t n) override;
  /// The run has succeeded: completes the file if the window was still open, and renames it
  /// to FILE. Prints a note to stderr when steps were left out by the default cap or the
  /// window lay past the end of the run.
  void commit(uint64_t steps_run);

 private:
  void attach(bool on);
  void close_file();

  TimelineOptions m_opt;
  System& m_system;
  std::unique_ptr<TimelineJson> m_json;
  std::vector<std::unique_ptr<UnitTrack>> m_units;
  std::vector<std::unique_ptr<ActivityTrack>> m_activity;
  std::vector<std::unique_ptr<ChipBuffers>> m_buffers;
  std::vector<std::pair<ActivityTrack*, class Memory*>> m_memories;
  std::vector<ActivityTrack*> m_links;
  uint64_t m_step_begin_ps = 0;
  uint64_t m_recorded = 0;
  bool m_attached = false;
  bool m_capped = false;  ///< a step past the default window ran
  bool m_closed = false;
  bool m_committed = false;
  std::exception_ptr m_error;
};

}  // namespace moesim
