#pragma once
/// Cycle-level DRAM: per-pseudo-channel FR-FCFS controllers behind one event-friendly API.
///
/// The host enqueues 64-byte requests, then either calls tick() every cycle or, to skip idle
/// time, asks next_event_cycle() and jumps there with advance_to(). Nothing is computed for
/// cycles in which no command can issue and no request completes, so an idle memory costs
/// nothing (refresh deadlines are events too).

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hw_models/memory/dram/address_mapping.hpp"
#include "hw_models/memory/dram/dram_command.hpp"
#include "hw_models/memory/dram/dram_spec.hpp"
#include "hw_models/memory/dram/latency_histogram.hpp"

namespace moesim {

/// One atom-sized (64-byte) request.
struct DramRequest {
  uint64_t addr = 0;      ///< byte address; the bits below the atom size are ignored
  bool is_write = false;  ///< write (true) or read
  uint64_t id = 0;        ///< host tag, returned with the completion
  uint64_t arrival = 0;   ///< cycle the host issued it (latency is measured from here)
};

/// Row-buffer management.
enum class PagePolicy {
  kOpen,   ///< rows stay open until a conflict or refresh closes them
  kClosed  ///< every access is followed by a precharge (no row hits across requests)
};

/// Controller parameters shared by every pseudo-channel.
struct DramConfig {
  std::string mapping = "ro_ba_co_bg_ch";  ///< see address_mapping.hpp
  int read_queue_depth = 32;               ///< read requests held per pseudo-channel
  int write_queue_depth = 32;              ///< write requests held per pseudo-channel
  int write_high_watermark = 24;           ///< start draining writes at this many
  int write_low_watermark = 8;             ///< stop draining writes at this many
  PagePolicy page_policy = PagePolicy::kOpen;
  /// A request waiting this many cycles may close a row that younger requests still hit
  /// (bounds FR-FCFS starvation); 0 disables the guard.
  int starvation_limit = 1000;
  bool refresh = true;  ///< issue all-bank REF every tREFI
  /// Throws InputError if the values are inconsistent.
  void validate() const;
};

/// Counters of a DramSystem (sums over every pseudo-channel).
struct DramStats {
  uint64_t reads = 0;                 ///< completed reads
  uint64_t writes = 0;                ///< completed writes
  uint64_t read_bytes = 0;            ///< bytes read
  uint64_t write_bytes = 0;           ///< bytes written
  uint64_t row_hits = 0;              ///< requests served from an already open row
  uint64_t row_misses = 0;            ///< requests that had to open a row in a closed bank
  uint64_t row_conflicts = 0;         ///< requests that had to close another row first
  uint64_t activates = 0;             ///< ACT commands
  uint64_t precharges = 0;            ///< PRE commands
  uint64_t refreshes = 0;             ///< REF commands (all-bank)
  uint64_t reads_issued = 0;          ///< RD commands
  uint64_t writes_issued = 0;         ///< WR commands
  uint64_t data_bus_busy_cycles = 0;  ///< summed over pseudo-channels
  uint64_t latency_sum = 0;           ///< sum of (done - arrival) over completed requests
  std::vector<uint64_t> refresh_cycles_per_bank;  ///< [unit * banks + bank], cycles blocked
  LatencyHistogram latency;                       ///< completed-request latency in cycles

  /// Row hits over all classified requests.
  double row_hit_rate() const;
};

class DramController;

/// A command or a completion, as logged for an exact period skip's replay (packed: a period
/// across refreshes logs millions).
struct DramLogEntry {
  uint64_t cycle = 0;    ///< the command's cycle, or the completion's
  uint64_t a = 0;        ///< command: row; completion: address
  uint64_t b = 0;        ///< command: column; completion: id
  uint32_t latency = 0;  ///< completion: cycle - arrival
  uint8_t kind = 0;      ///< DramCommandType, or kRead / kWrite for a completion
  uint8_t channel = 0, pseudo_channel = 0;
  uint8_t bank = 0;  ///< bank group x 16 + bank
  static constexpr uint8_t kRead = 0xfe, kWrite = 0xff;
  bool is_command() const { return kind != kRead && kind != kWrite; }
};

/// A whole DRAM (all channels and pseudo-channels of one spec).
class DramSystem {
 public:
  /// Told about each request when its last data beat has moved.
  using CompletionCallback = std::function<void(const DramRequest&, uint64_t done_cycle)>;
  /// Told about each command as it issues.
  using CommandObserver = std::function<void(const DramCommand&)>;

  /// Builds the memory; throws InputError for a bad spec, config or mapping.
  DramSystem(const DramSpec& spec, const DramConfig& config = {});
  ~DramSystem();
  DramSystem(const DramSystem&) = delete;
  DramSystem& operator=(const DramSystem&) = delete;

  /// True if the queue `addr` maps to has room for a request of this kind.
  bool can_accept(uint64_t addr, bool is_write) const;
  /// Queues `r`; throws InternalError if !can_accept (the host must check first).
  void enqueue(const DramRequest& r);
  /// Simulates the current cycle (completions, then one command per pseudo-channel), then
  /// moves to the next one.
  void tick();
  /// The earliest cycle >= cycle() at which a command may issue or a request completes;
  /// UINT64_MAX if nothing is queued, in flight or due (refresh disabled and idle).
  uint64_t next_event_cycle() const;
  /// Moves to `cycle`, simulating only the cycles in which something can happen.
  void advance_to(uint64_t cycle);
  /// The next cycle tick() will simulate.
  uint64_t cycle() const { return m_cycle; }
  /// True if no request is queued or in flight.
  bool idle() const;
  /// Requests queued or in flight.
  uint64_t outstanding() const { return m_outstanding; }
  /// Controller ticks run so far (the simulation's cost; skipped idle refreshes are not
  /// ticked).
  uint64_t unit_ticks() const { return m_unit_ticks; }
  /// While no request is queued or in flight, advance_to() applies the refreshes owed
  /// arithmetically instead of ticking through each one (default on; identical results,
  /// commands included). Off: ticks them, the reference the tests compare with.
  void set_idle_skip(bool on) { m_idle_skip = on; }

  /// Completions go to `cb`; without one they are kept for take_completions().
  void set_completion_callback(CompletionCallback cb) { m_on_complete = std::move(cb); }
  /// Completed requests since the last call (only when no callback is set).
  std::vector<std::pair<DramRequest, uint64_t>> take_completions();
  /// Every issued command is also given to `obs` (e.g. a TimingChecker).
  void set_command_observer(CommandObserver obs) { m_observer = std::move(obs); }

  // Exact period skip (README.md, "Exact period skip"; DramPeriodSkip drives these).
  /// The address step that moves every address one row up in the same channel, bank and
  /// column (a power of two; 0 if the mapping has none, or the row is not its top field).
  uint64_t row_step_bytes() const { return m_row_step; }
  /// The smallest power of two that moves an address to the next row of the same channel,
  /// bank and column, wherever the row field sits (0 if none does): the bank pattern's period.
  uint64_t row_span_bytes() const { return m_row_span; }
  /// Appends the state that decides everything from cycle() on, normalised `steps` row steps
  /// back: times relative to cycle(), rows less `steps`, addresses less steps x
  /// row_step_bytes(), request ids less steps x `id_step`. Two states with equal signatures
  /// evolve as translates of each other as long as the host feeds them alike and both stay
  /// before refresh_horizon(): the refresh deadlines are left out, unless `with_refresh`
  /// (then they are relative like every other time, and no horizon applies).
  void period_signature(uint64_t steps, uint64_t id_step, bool with_refresh,
                        std::vector<int64_t>& out) const;
  /// The last cycle a translated trajectory may reach: every controller's next REF less a
  /// margin longer than any look-ahead of the scheduler; UINT64_MAX without refresh.
  uint64_t refresh_horizon() const;
  /// The earliest refresh deadline of any controller (UINT64_MAX without refresh).
  uint64_t next_refresh_due() const;
  /// The latest next-event cycle any controller has that its refresh deadline did not set (0
  /// if none): a trajectory is blind to the deadlines while these stay before them.
  uint64_t latest_next_before_refresh() const;
  /// True if `addr` + steps x row_step_bytes() decodes to the same place, `steps` rows up.
  bool translates(uint64_t addr, uint64_t steps) const;
  /// True if every queued and in-flight request translates by `steps`.
  bool state_translates(uint64_t steps) const;
  /// Moves the whole state `cycles` later and `steps` row steps up (ids by steps x id_step),
  /// the refresh deadlines too if `with_refresh` (a signature taken with them matched). The
  /// counters do not move: add them with add_repeats().
  void translate(uint64_t cycles, uint64_t steps, uint64_t id_step, bool with_refresh);
  /// Adds `times` x (to - from) to the counters; `from` is an earlier copy of `to`.
  void add_repeats(const DramStats& from, const DramStats& to, uint64_t times);
  /// While `log` is set, every completion, and every command if an observer is set, is also
  /// appended to it.
  void set_log(std::vector<DramLogEntry>* log) { m_log = log; }
  /// Gives the observer and the completion callback (or take_completions()) the entries
  /// [begin, end) again, `cycles` later and `steps` row steps up (ids by steps x id_step).
  void replay(const DramLogEntry* begin, const DramLogEntry* end, uint64_t cycles, uint64_t steps,
              uint64_t id_step);
  /// `e` moved `cycles` later and `steps` row steps up (its id by steps x id_step).
  DramLogEntry translated(const DramLogEntry& e, uint64_t cycles, uint64_t steps,
                          uint64_t id_step) const;

  /// The device description this memory was built from.
  const DramSpec& spec() const { return m_spec; }
  /// The controller parameters.
  const DramConfig& config() const { return m_config; }
  /// The address decoder in use.
  const AddressMapping& mapping() const { return m_mapping; }
  /// Counters accumulated since construction.
  const DramStats& stats() const { return m_stats; }
  /// Fraction of bank-time spent refreshing over [0, cycle()).
  double refresh_overhead() const;
  /// Achieved data bandwidth over [0, cycle()) in bytes per second.
  double achieved_bytes_per_s() const;

 private:
  friend class DramController;
  struct Done {
    uint64_t cycle;
    uint64_t seq;
    DramRequest req;
    bool operator<(const Done& o) const { return cycle != o.cycle ? cycle < o.cycle : seq < o.seq; }
  };
  void complete_later(const DramRequest& r, uint64_t done_cycle);
  // The in-flight request that completes first, or nullptr.
  const Done* first_done() const;
  void emit(const DramCommand& c) {
    if (m_observer) m_observer(c);
    if (m_log && m_observer) log_command(c);
  }
  void log_command(const DramCommand& c);
  // Idle: applies every refresh owed before `limit` at once if every unit allows it.
  void skip_idle(uint64_t limit);

  DramSpec m_spec;
  DramConfig m_config;
  AddressMapping m_mapping;
  DramStats m_stats;
  std::vector<std::unique_ptr<DramController>> m_units;
  std::vector<uint64_t> m_unit_next;  // each unit's next_event(), contiguous for the scans
  // Requests in flight by completion (cycle, then issue order). Every read completes a fixed
  // tCL + tBURST after its last burst, every write tCWL + tBURST, and bursts issue in cycle
  // order, so each kind arrives already sorted: two FIFOs merged on pop replace a heap.
  std::array<std::deque<Done>, 2> m_done;  // [is_write]
  std::vector<std::pair<DramRequest, uint64_t>> m_completed;
  CompletionCallback m_on_complete;
  CommandObserver m_observer;
  uint64_t m_cycle = 0;
  uint64_t m_done_seq = 0;
  uint64_t m_outstanding = 0;
  uint64_t m_unit_ticks = 0;
  bool m_idle_skip = true;
  uint64_t m_row_span = 0;
  uint64_t m_row_step = 0;
  std::vector<DramLogEntry>* m_log = nullptr;
};

}  // namespace moesim
