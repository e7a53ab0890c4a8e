#pragma once
/// On-chip SRAM, detailed fidelity: banks, bank ports, array ports and bank conflicts.
///
/// The `banked_sram` memory model: BankedSramEngine (banked_sram_engine.hpp) behind the Memory
/// API, at the chip clock. transfer() streams through a contiguous region taken from a
/// running allocator (each transfer the next `bank_width`-aligned region, wrapping at the
/// capacity), so concurrent transfers start in different banks as separate buffers do;
/// transfer_at() names the address and the stride. The client is called back `latency` after
/// the cycle of the transfer's last access.
///
/// Event-driven: a copy of the engine runs ahead to the next completion and one sc_event waits
/// for it; a transfer arriving earlier advances the committed engine to its cycle and predicts
/// again. Nothing is scheduled while no transfer is active.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hw_models/memory/banked_sram_engine.hpp"
#include "hw_models/memory/memory.hpp"
#include "sim/core/tick_clock.hpp"
#include "sim/core/timeline.hpp"

namespace moesim {

/// Statistics of one array port.
struct SramPortStats : StatGroup {
  /// `clock_hz` converts simulated time to cycles for the utilisation.
  SramPortStats(const std::string& name, StatGroup* parent, double clock_hz);
  Counter busy_cycles{this, "busy_cycles", "cycles", "cycles the port moved data"};
  Counter accesses{this, "accesses", "ops", "bank accesses through the port"};
  Counter bytes{this, "bytes", "B", "bytes through the port"};
  Formula utilisation;
};

/// MemoryStats plus the bank and port counters.
struct BankedSramStats : MemoryStats {
  BankedSramStats(const std::string& name, StatGroup* parent, double peak_bytes_per_s);
  Counter accesses{this, "accesses", "ops", "bank accesses (bank_width bytes each)"};
  Counter bank_conflicts{this, "bank_conflicts", "ops",
                         "accesses refused in a cycle because their bank was busy"};
  Counter conflict_stall_cycles{this, "conflict_stall_cycles", "cycles",
                                "cycles in which at least one access was refused by a conflict"};
  Counter port_waits{this, "port_waits", "cycles",
                     "transfer-cycles an active transfer waited for a free port"};
  Counter active_cycles{this, "active_cycles", "cycles",
                        "cycles with at least one transfer moving or waiting"};
  std::vector<std::unique_ptr<SramPortStats>> ports;
};

/// The `banked_sram` memory model (see the file comment).
class BankedSram final : public Memory {
 public:
  SC_HAS_PROCESS(BankedSram);
  /// Declares capacity, banks, bank_width, bank_ports, ports, read_ports, write_ports,
  /// port_accesses, interleave, latency.
  static void declare(ParamSchema& s);
  static Facts describe(const Params& p) { return {p.get_bytes("capacity"), 0}; }
  explicit BankedSram(const Memory::Args& a);
  ~BankedSram() override;

  void transfer(uint64_t bytes, bool write, MemoryClient* client, uint64_t tag) override;
  /// Like transfer(), with accesses at `addr`, `addr + stride`, ... (`stride` 0 means
  /// `bank_width`: contiguous).
  void transfer_at(uint64_t addr, uint64_t bytes, bool write, MemoryClient* client, uint64_t tag,
                   uint64_t stride = 0);
  double peak_bytes_per_s() const override;
  uint64_t capacity_bytes() const override { return m_capacity; }
  const MemoryStats& stats() const override;
  /// The bank and port statistics.
  const BankedSramStats& sram_stats() const { return *m_stats; }
  const SramGeometry& geometry() const { return m_geom; }
  /// Cycles simulated one by one so far (the rest were replayed), for cost checks.
  uint64_t simulated_cycles() const;

 private:
  struct Client {
    MemoryClient* client;
    uint64_t tag;
    uint64_t bytes;
    bool write;
  };
  struct Due {
    uint64_t time;  // SystemC time units
    uint32_t slot;
  };
  void commit_to(uint64_t cycle);
  void predict();
  void finish(const std::vector<BankedSramEngine::Finished>& done);
  /// Timeline: completed bytes and, once idle, the busy period.
  void record(const std::vector<BankedSramEngine::Finished>& done);
  void on_wake();
  void on_deliver();
  void sync_stats();
  uint64_t time_of(uint64_t cycle) const { return m_clock.time_of(cycle); }
  uint64_t cycle_at(uint64_t t) const { return m_clock.cycle_at(t); }

  SramGeometry m_geom;
  uint64_t m_capacity;
  double m_clock_hz;
  TickClock m_clock;  // the chip clock in SystemC time units
  uint64_t m_latency_ticks;
  uint64_t m_alloc_next = 0;
  BankedSramEngine m_engine;     // committed state
  BankedSramEngine m_predicted;  // run ahead to the next completion
  bool m_prediction_valid = false;
  std::vector<BankedSramEngine::Finished> m_predicted_done;
  std::vector<Client> m_clients;  // by slot (engine stream id)
  std::vector<uint32_t> m_free;
  std::deque<Due> m_due;  // completions in time order (constant latency)
  sc_core::sc_event m_wake;
  sc_core::sc_event m_deliver;
  std::unique_ptr<BankedSramStats> m_stats;
  // Timeline only: the current busy period and the bytes of completed transfers.
  bool m_timeline_busy = false;
  uint64_t m_busy_begin_cycle = 0;
  uint64_t m_done_read = 0;
  uint64_t m_done_write = 0;
  WindowedBandwidth m_window;
};

}  // namespace moesim
