#pragma once
/// A bandwidth-plus-latency memory with fair sharing among concurrent transfers.
///
/// Active transfers share the bandwidth equally (processor sharing). Each arrival or
/// departure settles the bytes moved so far and reschedules one event at the earliest
/// finish, so cost grows with transfers, not with simulated time.
///
/// Cost per event: settling subtracts the same amount from every active transfer (one
/// contiguous, vectorised pass over their remaining bytes). The earliest finish is not
/// searched for: settling maps every remainder through one monotone function (r -> max(0,
/// r - moved), rounded), so the smallest stays the smallest and its new value is that function
/// of the old one, bit for bit; only a departure rescans (fused with its own pass).
///
/// Latency is pipelined: a transfer of S bytes started at t completes when its bytes have
/// moved, but never before t + latency + S / bandwidth (what it takes alone). So latency
/// overlaps with the data of this and other transfers, as in a DRAM with many requests in
/// flight: a host with W transfers outstanding gets min(bandwidth, W S / (latency +
/// S / bandwidth)) (Little's law), and bulk transfers pay no latency on top of their bytes.

#include <memory>
#include <queue>
#include <vector>

#include "hw_models/memory/memory.hpp"

namespace moesim {

class FluidMemory : public Memory {
 public:
  SC_HAS_PROCESS(FluidMemory);
  FluidMemory(const sc_core::sc_module_name& name, StatGroup* stats_parent, double bytes_per_s,
              sc_core::sc_time latency, uint64_t capacity);

  void transfer(uint64_t bytes, bool write, MemoryClient* client, uint64_t tag) override;
  double peak_bytes_per_s() const override { return m_bytes_per_s; }
  uint64_t capacity_bytes() const override { return m_capacity; }
  const MemoryStats& stats() const override { return *m_stats; }

 private:
  // An active transfer; its remaining bytes sit apart in m_remaining (same index) so that
  // settle() is one contiguous pass.
  struct Active {
    sc_core::sc_time earliest;  // start + latency + bytes at full bandwidth
    MemoryClient* client;
    uint64_t tag;
    bool write;
  };
  struct Pending {
    sc_core::sc_time due;
    uint64_t seq;  // completion order, to break ties deterministically
    MemoryClient* client;
    uint64_t tag;
    bool operator>(const Pending& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };
  void settle();
  void reschedule();
  void on_finish();
  void on_deliver();
  /// Timeline: the bandwidth in use from now on (and the end of a busy period).
  void record(bool was_idle);

  double m_bytes_per_s;
  sc_core::sc_time m_latency;
  uint64_t m_capacity;
  std::vector<Active> m_active;
  std::vector<double> m_remaining;  // bytes, per m_active entry
  double m_min_remaining = 0;       // min of m_remaining (meaningful while non-empty)
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> m_pending;
  uint64_t m_seq = 0;
  sc_core::sc_time m_last_settle;
  uint64_t m_busy_begin_ps = 0;  // timeline: start of the current busy period
  bool m_timeline_busy = false;
  sc_core::sc_event m_finish_event;
  sc_core::sc_event m_deliver_event;
  std::unique_ptr<MemoryStats> m_stats;
};

}  // namespace moesim
