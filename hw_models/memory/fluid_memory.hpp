#pragma once
/// A bandwidth-plus-latency memory with fair sharing among concurrent transfers.
///
/// Active transfers share the bandwidth equally (processor sharing). Each arrival or
/// departure settles the bytes moved so far and reschedules one event at the earliest
/// finish, so cost grows with transfers, not with simulated time. A transfer completes
/// `latency` after its last byte has moved.

#include <deque>
#include <memory>
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
  struct Active {
    double remaining;  // bytes
    MemoryClient* client;
    uint64_t tag;
  };
  struct Pending {
    sc_core::sc_time due;
    MemoryClient* client;
    uint64_t tag;
  };
  void settle();
  void reschedule();
  void on_finish();
  void on_deliver();

  double m_bytes_per_s;
  sc_core::sc_time m_latency;
  uint64_t m_capacity;
  std::vector<Active> m_active;
  std::deque<Pending> m_pending;  // constant latency keeps this in due order
  sc_core::sc_time m_last_settle;
  sc_core::sc_event m_finish_event;
  sc_core::sc_event m_deliver_event;
  std::unique_ptr<MemoryStats> m_stats;
};

}  // namespace moesim
