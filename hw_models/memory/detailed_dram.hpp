#pragma once
/// Off-chip memory tier, detailed fidelity: the cycle-level DRAM model behind the Memory API.
///
/// Each transfer is chopped into 64-byte requests at consecutive addresses. transfer() takes
/// its base address from a running allocator (each transfer starts on a fresh DRAM page, so
/// two transfers never share an open row); transfer_at() names the address. Requests enter
/// the DramSystem controllers as their queues accept them (back-pressure); active transfers
/// take turns, one request each, so concurrent transfers interleave and contend for banks and
/// buses. The client is called back when a transfer's last request has completed.
///
/// Event-driven: one sc_event is kept at the DRAM's next event cycle (in tCK); nothing runs
/// while the memory is idle (refreshes owed over an idle gap are caught up on the next
/// request). `stacks` independent copies of the preset are interleaved every 64 bytes.

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hw_models/memory/dram/dram.hpp"
#include "hw_models/memory/memory.hpp"
#include "sim/core/tick_clock.hpp"
#include "sim/core/timeline.hpp"

namespace moesim {

/// One row of the fast-fidelity calibration table (hw_models/memory/dram/
/// mem_calibration_table.inc, measured by tests/dram/test_mem_calibration.cpp): what the
/// detailed model achieves on a pattern class, as a fraction of the preset's peak, and its
/// unloaded mean latency.
struct DramCalibration {
  const char* preset;   ///< dram_preset name
  const char* pattern;  ///< sequential, strided (256 B), random, streaming (1 MiB DMA x 4)
  double efficiency;    ///< achieved / peak bandwidth, request queues kept full
  double latency_ns;    ///< unloaded mean latency
};

/// Every row of the calibration table.
const std::vector<DramCalibration>& dram_calibration_table();
/// The row for `preset` and `pattern`; nullptr if there is none.
const DramCalibration* find_dram_calibration(const std::string& preset, const std::string& pattern);

/// MemoryStats plus the DRAM's own counters (sums over every stack and pseudo-channel).
struct DetailedDramStats : MemoryStats {
  /// `refresh_fn` computes the refresh overhead when results are written.
  DetailedDramStats(const std::string& name, StatGroup* parent, double peak_bytes_per_s,
                    std::function<double()> refresh_fn)
      : MemoryStats(name, parent, peak_bytes_per_s),
        refresh_overhead(this, "refresh_overhead", "1", "fraction of bank-time spent refreshing",
                         std::move(refresh_fn)) {}
  Counter requests{this, "requests", "ops", "64-byte requests completed"};
  Counter row_hits{this, "row_hits", "ops", "requests served from an open row"};
  Counter row_misses{this, "row_misses", "ops", "requests that opened a row in a closed bank"};
  Counter row_conflicts{this, "row_conflicts", "ops", "requests that closed another row first"};
  Counter activates{this, "activates", "ops", "ACT commands"};
  Counter precharges{this, "precharges", "ops", "PRE commands"};
  Counter refreshes{this, "refreshes", "ops", "all-bank REF commands"};
  Scalar row_hit_rate{this, "row_hit_rate", "1", "row hits / (hits + misses + conflicts)"};
  Scalar mean_latency{this, "mean_latency", "s",
                      "mean request latency from entering a controller queue to its last beat"};
  Formula refresh_overhead;
};

/// Statistics of the approximate stream skip (`stream_skip = "approximate"`; only then present).
struct StreamSkipStats : StatGroup {
  using StatGroup::StatGroup;
  Counter requests{this, "requests", "ops",
                   "64-byte requests advanced by the measured rates instead of simulated"};
  Counter measured{this, "measured", "ops", "transfer mixes whose rates were measured"};
  Counter entries{this, "entries", "ops", "times the memory went from simulating to skipping"};
  Counter exits{this, "exits", "ops", "times it went back to simulating (a mix not yet measured)"};
  Scalar fraction{this, "fraction", "1", "skipped requests / all requests"};
};

/// Statistics of the exact period skip (`stream_skip = "exact"`; only then present).
struct ExactSkipStats : StatGroup {
  using StatGroup::StatGroup;
  Counter requests{this, "requests", "ops",
                   "64-byte requests completed in repeated periods advanced without simulating"};
  Counter skips{this, "skips", "ops", "times a repeating period was found and advanced"};
  Scalar fraction{this, "fraction", "1", "skipped requests / all requests"};
};

/// The `dram` memory model (see the file comment).
class DetailedDram final : public Memory {
 public:
  SC_HAS_PROCESS(DetailedDram);
  /// Declares preset, stacks, capacity, page_policy, address_mapping, queue_depth, refresh.
  static void declare(ParamSchema& s);
  static Facts describe(const Params& p);
  explicit DetailedDram(const Memory::Args& a);
  ~DetailedDram() override;

  void transfer(uint64_t bytes, bool write, MemoryClient* client, uint64_t tag) override;
  /// Like transfer(), but the requests go to `addr`, `addr` + 64, ... (wrapping at the
  /// modelled capacity) instead of the allocator's next region.
  void transfer_at(uint64_t addr, uint64_t bytes, bool write, MemoryClient* client, uint64_t tag);
  double peak_bytes_per_s() const override;
  uint64_t capacity_bytes() const override { return m_capacity; }
  const MemoryStats& stats() const override;
  /// The DRAM-specific statistics (updated as the simulation runs).
  const DetailedDramStats& dram_stats() const;

  /// The device of one stack.
  const DramSpec& spec() const { return m_spec; }
  /// Independent copies of the preset.
  int stacks() const { return static_cast<int>(m_sys.size()); }
  /// Bytes the DRAM addresses (stacks x the preset's capacity); addresses wrap here.
  uint64_t device_bytes() const { return m_device_bytes; }
  /// Read-queue slots over every controller of every stack (how much a host can keep queued).
  uint64_t read_queue_slots() const;
  /// The command clock period in seconds.
  double tck_seconds() const { return m_spec.tck_ps * 1e-12; }
  /// Times the model's process has run (to check that an idle memory costs nothing).
  uint64_t wakeups() const { return m_wakeups; }
  /// Fraction of bank-time spent refreshing, averaged over stacks.
  double refresh_overhead() const;
  /// The approximate stream skip's statistics; nullptr unless the config enables it.
  const StreamSkipStats* skip_stats() const { return m_skip_stats.get(); }
  /// The exact period skip's statistics; nullptr unless the config enables it.
  const ExactSkipStats* exact_stats() const { return m_exact_stats.get(); }

 protected:
  void end_of_simulation() override;

 private:
  struct Transfer {
    uint64_t next_addr = 0;  // global address of the next request to issue
    uint64_t to_issue = 0;   // requests not yet queued in a controller
    uint64_t in_flight = 0;  // queued or in flight
    bool write = false;
    bool active = false;  // started and not completed
    MemoryClient* client = nullptr;
    uint64_t tag = 0;
    uint64_t seq = 0;      // arrival order
    double left = 0;       // skipping: requests not yet completed (fractional)
    uint64_t drained = 0;  // requests completed while draining to skip
    double share = 0;      // skipping: requests completed per cycle
  };
  // Approximate stream skip (README.md, "Approximate stream skip"). A mix is the set of
  // streaming transfers (see mix_key()); its rates are measured once, over refresh intervals.
  enum class Mode { kSimulate, kDrain, kSkip };
  struct Snapshot {
    uint64_t cycle = 0;
    std::array<uint64_t, 8> v{};     // reads, writes, hits, misses, conflicts, acts, pres, latency
    std::vector<uint64_t> to_issue;  // of each streaming transfer
  };
  struct MixRates {
    std::vector<double> share;            // requests per cycle of each streaming transfer
    std::array<double, 6> per_request{};  // hits, misses, conflicts, acts, pres, latency
    double horizon = 0;                   // cycles until the streams' distances drift by a step
  };
  // The streaming transfers (skipping: every active one), in arrival order.
  std::vector<uint32_t> streaming() const;
  void assign_shares(const MixRates& rates);
  Snapshot snapshot() const;
  // The mix's key: how many read and write transfers are active and, for each after the first
  // (in arrival order), its direction and its distance from the first in the bank pattern. The
  // rates of concurrent streams depend on how often they meet in a bank, which that distance
  // sets; it stays put while they stream at equal shares.
  std::vector<uint64_t> mix_key() const;
  // Simulating: measures the current mix over refresh intervals, or starts the drain that
  // leads to skipping if it is already measured.
  void skip_watch(uint64_t cycle);
  // When the mix has changed since the key was last taken, takes it again; true if it did.
  bool update_watch_key();
  // Skipping: completes what the rates say is done by `cycle`.
  void skip_settle(uint64_t cycle);
  void enter_skip(uint64_t cycle, const MixRates& rates);
  void leave_skip();
  uint64_t skip_next_cycle() const;
  uint32_t new_transfer(uint64_t addr, uint64_t bytes, bool write, MemoryClient* client,
                        uint64_t tag);
  // Queues transfer `id`'s next request if its controller has room; otherwise returns false
  // and sets `blocked_list` to the queue it waits for.
  bool try_issue(uint32_t id, uint64_t cycle, size_t& blocked_list);
  void feed(uint64_t cycle);
  void on_complete(uint32_t id);
  void step();
  // The cycle a step at time `now` simulates from, every stack caught up to it.
  uint64_t catch_up(uint64_t now);
  // Simulating: feeds at cycle `c`, then ticks if something is due at `c` and `now` is its
  // time (c moves past it). Returns the next event cycle.
  uint64_t simulate(uint64_t now, uint64_t& c);
  // Exact period skip (README.md, "Exact period skip"). After a step that scheduled the next
  // one at `wake`: a checkpoint when the leading stream has covered another row step.
  void exact_watch(uint64_t c, uint64_t wake);
  void exact_signature(uint64_t index, uint64_t wake, std::vector<int64_t>& out) const;
  // Repeating: the step the full simulation would run now is one of a repeated period; only
  // its wake-up is kept (the SystemC schedule stays the full simulation's).
  void virtual_step();
  // Repeating: brings the state to where the full simulation is after the steps repeated so
  // far, and goes back to simulating.
  void materialize();
  void sync_stats();
  /// Timeline: bytes read and written so far, as completed requests.
  std::pair<uint64_t, uint64_t> done_bytes() const;
  uint64_t cycle_at(uint64_t t) const { return m_clock.cycle_at(t); }
  uint64_t time_of(uint64_t cycle) const { return m_clock.time_of(cycle); }

  DramSpec m_spec;
  uint64_t m_capacity;
  uint64_t m_device_bytes;
  uint64_t m_stack_bytes;
  uint64_t m_alloc_align;  // every allocated transfer starts on a fresh page
  uint64_t m_alloc_next = 0;
  TickClock m_clock;  // tCK in SystemC time-resolution units
  std::vector<std::unique_ptr<DramSystem>> m_sys;

  std::vector<Transfer> m_transfers;  // slab indexed by request id
  std::vector<uint32_t> m_free;
  std::deque<uint32_t> m_ready;                 // may issue now, in turn order
  std::vector<std::deque<uint32_t>> m_blocked;  // per (stack, unit, read/write) queue, FIFO
  std::vector<size_t> m_blocked_nonempty;       // indices of non-empty m_blocked lists
  std::vector<std::pair<MemoryClient*, uint64_t>> m_done;  // callbacks to make this step
  uint64_t m_wakeups = 0;
  uint64_t m_active = 0;  // transfers not yet completed
  sc_core::sc_time m_busy_since;
  WindowedBandwidth m_window;  // timeline only
  sc_core::sc_event m_wake;
  std::unique_ptr<DetailedDramStats> m_stats;

  // Approximate stream skip.
  bool m_skip_on = false;
  double m_skip_tolerance = 0;
  Mode m_mode = Mode::kSimulate;
  // Transfers with requests left to queue (skipping: every active one), by direction.
  uint32_t m_streaming_reads = 0, m_streaming_writes = 0;
  uint64_t m_seq = 0;
  uint64_t m_epoch = 0;  // changes whenever a transfer starts or completes
  uint64_t m_watch_epoch = ~uint64_t{0};
  // -1: nothing to watch; 0: warming up; 1: first interval; 2: later intervals; 3: a measured
  // mix warming up before it is skipped
  int m_watch_stage = 0;
  uint64_t m_watch_next = 0;  // cycle of the next snapshot
  Snapshot m_snap[2];         // starts of the previous and the current interval
  std::map<std::vector<uint64_t>, MixRates> m_rates;
  std::vector<uint64_t> m_watch_key;  // the mix being measured
  uint64_t m_phase_period = 0;        // atoms of one row span over every stack; 0: none
  uint64_t m_phase_quantum = 1;       // atoms per step of a stream's distance
  const MixRates* m_skip_rates = nullptr;
  struct Parked {
    MemoryClient* client;
    uint64_t tag;
    uint64_t cycle;     // when its last request completed
    uint64_t requests;  // its requests the drain completed that would have stayed queued
  };
  std::vector<Parked> m_parked;  // write completions held back
  // Writes the drain policy leaves queued while reads stream (low watermark x controllers).
  uint64_t m_write_floor = 0;
  uint64_t m_skip_cycle = 0;          // skipping: progress is settled up to this cycle
  uint64_t m_skip_until = 0;          // skipping: simulate again from here (the rates' horizon)
  std::array<double, 8> m_skipped{};  // reads, writes, then MixRates::per_request's fields
  std::unique_ptr<StreamSkipStats> m_skip_stats;

  // Exact period skip.
  bool m_exact_on = false;
  uint64_t m_row_atoms = 0;  // atoms of one row step over every stack (0: the map has none)
  uint64_t m_exact_epoch = ~uint64_t{0};  // m_epoch the checkpoints belong to
  uint32_t m_leader = 0;                  // the stream whose requests count row steps
  bool m_has_leader = false;
  uint64_t m_leader_base = 0;  // its to_issue when the checkpoints started
  uint64_t m_next_mark = 0;    // the next checkpoint: when its to_issue is down to this
  struct ExactMark {
    uint64_t index;  // row steps the leader has covered
    uint64_t cycle;
    std::vector<int64_t> sig;
    std::vector<DramStats> stats;  // per stack
    size_t wake_pos;               // m_wakes of the steps after it start here
  };
  std::vector<ExactMark> m_marks;  // the last few, oldest first
  std::vector<uint64_t> m_wakes;   // the cycle each step since the oldest mark scheduled next
  std::vector<uint64_t> m_ahead;   // and the latest cycle it left scheduled before a refresh
  std::vector<int64_t> m_exact_sig;
  bool m_virtual = false;
  struct Repeat {
    uint64_t period = 0;  // cycles
    uint64_t steps = 0;   // row steps per period
    uint64_t periods = 0;
    uint64_t done = 0;                // virtual steps run
    uint64_t requests = 0;            // requests completed per period
    std::vector<uint64_t> wakes;      // what the period's steps scheduled, first period
    std::vector<DramStats> from, to;  // per stack, over the period
    std::vector<uint32_t> streams;    // transfers with requests left to queue
  } m_rep;
  std::unique_ptr<ExactSkipStats> m_exact_stats;
};

}  // namespace moesim
