#pragma once
/// A bandwidth-plus-latency memory with fair sharing among concurrent transfers.
///
/// Active transfers share the bandwidth equally (processor sharing). Each arrival or
/// departure settles the bytes moved so far and reschedules one event at the earliest
/// finish, so cost grows with transfers, not with simulated time.
///
/// Cost per event, for W transfers in flight, in two regimes:
/// - Up to kHeapAbove (a few) transfers, a list: settling subtracts the moved bytes from every
///   remainder. The smallest remainder is tracked, not searched for: the map r -> max(0, r -
///   moved), rounded, is monotone, so the smallest stays the smallest and its new value is that
///   map of the old one, bit for bit. Only a departure scans the list.
/// - Above kHeapAbove transfers, virtual time, O(log W): every active transfer moves the same
///   bytes between two events, so one number, the bytes each has moved so far (m_vtime), stands
///   for all of them. Settling adds to it; a transfer's remainder is its finish tag (m_vtime at
///   its arrival plus its bytes) minus m_vtime; the tags sit in a heap whose top finishes next.
/// The switch converts the remainders into tags with m_vtime = 0 (exactly) and back. The two
/// round differently (one subtraction per event against one per remainder), which can move an
/// event by a picosecond (tests/unit/test_fluid_regimes.cpp). The list is kept for a few
/// transfers because it is the arithmetic the model always had: every shipped config has at
/// most 4 transfers in a fluid tier at once, so their results are bit for bit those of before
/// the heap, and at that size it costs no more (tests/unit/bench_fluid.cpp). In both,
/// transfers finishing at the same event leave in the order of a scan of the list with
/// swap-removal (see on_finish()), so simultaneous completions are reported in a fixed order.
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
  /// More active transfers than this: the heap (file comment); back to the list at half.
  static constexpr size_t kHeapAbove = 16;
  /// `heap_above` other than kHeapAbove: for tests and benchmarks of the two regimes.
  FluidMemory(const sc_core::sc_module_name& name, StatGroup* stats_parent, double bytes_per_s,
              sc_core::sc_time latency, uint64_t capacity, size_t heap_above = kHeapAbove);

  void transfer(uint64_t bytes, bool write, MemoryClient* client, uint64_t tag) override;
  double peak_bytes_per_s() const override { return m_bytes_per_s; }
  uint64_t capacity_bytes() const override { return m_capacity; }
  const MemoryStats& stats() const override { return *m_stats; }

 private:
  // An active transfer, in a slab; m_order holds the slots in array order (appended on
  // arrival, swap-removed on departure) and `pos` is the slot's index there.
  struct Active {
    sc_core::sc_time earliest;  // start + latency + bytes at full bandwidth
    MemoryClient* client;
    uint64_t tag;
    double finish;  // list: bytes left; heap: m_vtime when its last byte has moved
    uint32_t pos;
    bool write;
    bool leaving;  // departing in the current on_finish()
  };
  struct Tag {
    double finish;
    uint32_t slot;
    bool operator>(const Tag& o) const {
      return finish != o.finish ? finish > o.finish : slot > o.slot;
    }
  };
  struct Pending {
    sc_core::sc_time due;
    uint64_t seq;  // completion order, to break ties deterministically
    MemoryClient* client;
    uint64_t tag;
    bool operator>(const Pending& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };
  void settle();
  double min_remaining() const;
  void reschedule();
  void to_heap();
  void to_list();
  // Removes m_order[p] (swap-removal) and queues its completion.
  void depart(size_t p);
  // Rebases the tags when m_vtime grows large, so that remainders keep their precision.
  void rebase();
  void on_finish();
  void on_deliver();
  /// Timeline: the bandwidth in use from now on (and the end of a busy period).
  void record(bool was_idle);

  double m_bytes_per_s;
  sc_core::sc_time m_latency;
  uint64_t m_capacity;
  std::vector<Active> m_slab;
  std::vector<uint32_t> m_free;
  std::vector<uint32_t> m_order;  // active slots
  size_t m_heap_above;
  bool m_heap = false;              // which regime (see the file comment)
  std::vector<uint32_t> m_leaving;  // heap: the slots departing in on_finish()
  double m_min_remaining = 0;       // list: the smallest remainder (meaningful while non-empty)
  std::priority_queue<Tag, std::vector<Tag>, std::greater<Tag>> m_tags;  // heap: every slot
  double m_vtime = 0;   // heap: bytes each active transfer has moved since the heap was built
  size_t m_writes = 0;  // active writes
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
