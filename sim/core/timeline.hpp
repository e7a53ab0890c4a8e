#pragma once
/// What models tell the timeline of `moesim run --timeline` (sim/output/timeline.hpp writes
/// it). A model holds a pointer to its track, null unless a timeline is being recorded, so a
/// run without one pays one pointer test per event and nothing else.

#include <cstdint>

namespace moesim {

/// The ops of one unit (compute, vector, DMA, comm). Times are simulated picoseconds.
class UnitTimeline {
 public:
  virtual ~UnitTimeline() = default;
  /// Op `op` of the bound plan starts now; `first` when the unit was idle until now.
  virtual void op_begin(uint32_t op, uint64_t now_ps, bool first) = 0;
  /// Op `op` ends now; `last` when the unit is idle from now on.
  virtual void op_end(uint32_t op, uint64_t now_ps, bool last) = 0;
  /// The unit works from `begin_ps` to `end_ps` outside its own queue (the stages of a fused
  /// kernel, which the kernel times).
  virtual void external_busy(uint64_t begin_ps, uint64_t end_ps) = 0;
};

/// The activity of one resource that has no ops of its own (a memory, a link direction):
/// its busy periods, exactly those its busy_time statistic sums, and the bandwidth in use.
class ActivityTimeline {
 public:
  virtual ~ActivityTimeline() = default;
  /// The resource was busy from `begin_ps` to `end_ps` (periods arrive in time order; two
  /// that touch are one period).
  virtual void busy(uint64_t begin_ps, uint64_t end_ps) = 0;
  /// From `t_ps` on the resource moves `read` and `write` bytes per second (a link: `read`
  /// is what it carries, `write` is 0). Calls arrive in time order; the last at one time wins.
  virtual void bandwidth(uint64_t t_ps, double read, double write) = 0;
};

/// Bandwidth in use for models that count bytes as they complete (the cycle-level DRAM, the
/// banked SRAM): the mean over windows of `window_ps` (cut by the start and end of the busy
/// period), reported when a window closes. The model calls
/// begin() when it leaves idle, update() as bytes complete and end() when it is idle again,
/// each with its running totals of bytes read and written.
class WindowedBandwidth {
 public:
  explicit WindowedBandwidth(uint64_t window_ps = 1000000) : m_w(window_ps) {}
  void begin(ActivityTimeline& tl, uint64_t now_ps, uint64_t read, uint64_t write) {
    (void)tl;
    m_index = now_ps / m_w;
    m_start = now_ps;
    m_r0 = m_r = read;
    m_w0 = m_wr = write;
  }
  void update(ActivityTimeline& tl, uint64_t now_ps, uint64_t read, uint64_t write) {
    const uint64_t k = now_ps / m_w;
    if (k != m_index) {
      close(tl, (m_index + 1) * m_w);
      if (k > m_index + 1) tl.bandwidth((m_index + 1) * m_w, 0, 0);
      m_index = k;
      m_start = k * m_w;
      m_r0 = m_r;
      m_w0 = m_wr;
    }
    m_r = read;
    m_wr = write;
  }
  /// The last window ends with the busy period, at `now_ps`.
  void end(ActivityTimeline& tl, uint64_t now_ps, uint64_t read, uint64_t write) {
    update(tl, now_ps, read, write);
    close(tl, now_ps);
    tl.bandwidth(now_ps, 0, 0);
  }

 private:
  void close(ActivityTimeline& tl, uint64_t until_ps) {
    if (until_ps <= m_start) return;
    const double s = static_cast<double>(until_ps - m_start) * 1e-12;
    tl.bandwidth(m_start, static_cast<double>(m_r - m_r0) / s,
                 static_cast<double>(m_wr - m_w0) / s);
  }
  uint64_t m_w;
  uint64_t m_index = 0;
  uint64_t m_start = 0;
  uint64_t m_r0 = 0, m_r = 0, m_w0 = 0, m_wr = 0;
};

}  // namespace moesim
