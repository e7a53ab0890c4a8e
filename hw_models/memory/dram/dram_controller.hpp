#pragma once
/// One pseudo-channel's controller: request queues, FR-FCFS, page policy, write drain,
/// refresh and the per-bank timing state. Internal to DramSystem.

#include <array>
#include <cstdint>
#include <vector>

#include "hw_models/memory/dram/dram.hpp"

namespace moesim {

/// Schedules the commands of one pseudo-channel, at most one per cycle.
class DramController {
 public:
  /// Controller of unit `unit` (= channel * pseudo_channels + pseudo_channel) of `sys`; it
  /// keeps next_event() in `*next` (DramSystem holds every unit's in one array to scan).
  DramController(DramSystem& sys, int unit, uint64_t* next);

  /// True if the read (or write) queue has room.
  bool has_room(bool is_write) const;
  /// Queues a request already decoded to `loc`.
  void enqueue(const DramRequest& r, const DramLocation& loc);
  /// Issues at most one command at `cycle` (call only when next_event() <= cycle).
  void tick(uint64_t cycle);
  /// Lower bound of the next cycle at which this controller can issue a command.
  uint64_t next_event() const { return m_next; }
  /// Requests waiting in either queue.
  size_t queued() const { return m_reads.size() + m_writes.size(); }
  /// Idle with every bank closed and refresh on: each refresh until `limit` would issue on
  /// its deadline and change nothing but the refresh state (see idle_refreshes()).
  bool idle_refresh_only() const;
  /// The refreshes owed before `limit` while idle_refresh_only(): how many, and the first
  /// one's cycle (the rest follow every tREFI).
  uint64_t idle_refreshes(uint64_t limit, uint64_t& first) const;
  /// Applies `n` refreshes (from idle_refreshes()) at once, exactly as ticking through them.
  void skip_idle_refreshes(uint64_t n);
  /// Shows the command observer the REF that skip_idle_refreshes() applied at `t`.
  void emit_ref(uint64_t t);

  // Exact period skip (DramSystem::period_signature(), translate()).
  /// Appends the state that decides what this controller does from `now` on: times relative to
  /// `now` (those already past as 0), rows less `rows`, request addresses and ids less
  /// `addr_back` and `id_back`. The refresh deadline is left out unless `with_refresh`; see
  /// DramSystem.
  void period_signature(uint64_t now, int64_t rows, uint64_t addr_back, uint64_t id_back,
                        bool with_refresh, std::vector<int64_t>& out) const;
  /// Moves the state `cycles` later, every row `rows` up and every request's address and id
  /// by `addr_delta` and `id_delta`; the refresh deadline moves only `with_refresh`.
  void translate(uint64_t cycles, int64_t rows, uint64_t addr_delta, uint64_t id_delta,
                 bool with_refresh);
  /// The queued requests' addresses, appended to `out`.
  void queued_addresses(std::vector<uint64_t>& out) const;
  /// The cycle the next REF is due.
  uint64_t refresh_due() const { return m_refresh_due; }

 private:
  // The fields the scheduler scans, kept small so a queue scan stays in few cache lines; the
  // host's request sits in m_requests under the same slot.
  struct Entry {
    int64_t row = 0;
    uint64_t enqueued = 0;  // cycle it entered the queue (starvation guard)
    int32_t bank = 0;       // flat bank index inside the pseudo-channel
    int32_t column = 0;     // first column of the atom
    int16_t group = 0;
    int16_t bursts_done = 0;
    bool did_act = false;
    bool did_pre = false;
  };
  struct Bank {
    int64_t open_row = -1;
    int group = 0;          // its bank group
    bool accessed = false;  // a request completed on the open row (closed-page policy)
    uint64_t act_ready = 0, pre_ready = 0, rd_ready = 0, wr_ready = 0;
    std::array<int, 2> pending_hits{};  // queued [read, write] requests to open_row
  };
  struct Group {
    uint64_t act_ready = 0, rd_ready = 0, wr_ready = 0;
  };
  enum class Want { kColumn, kAct, kPre, kWait };

  // A queue holds slot indices into m_pool in arrival order: removing a served request moves
  // 4-byte indices, not whole entries.
  using Queue = std::vector<uint32_t>;

  bool draining_next() const;
  // Marks banks whose open row blocks a request of `q` older than the starvation limit.
  void find_starved(const Queue& q, uint64_t now) const;
  // A lower bound of the cycle at which the just-queued `e` (in queue `is_write`) lets this
  // controller issue, valid until its next tick.
  uint64_t new_entry_bound(const Entry& e, bool is_write, uint64_t now) const;
  Want want(const Entry& e, bool writes, uint64_t now) const;
  // Pseudo-channel-wide lower bounds, computed once per scan of a queue.
  struct UnitReady {
    uint64_t act;  // tRRD_S and tFAW
    uint64_t col;  // tCCD_S, data bus, turnaround
  };
  UnitReady unit_ready(bool is_write) const;
  // Earliest cycle the command `k` that `e` needs can issue (never for kWait).
  uint64_t ready_time(const Entry& e, Want k, bool is_write, const UnitReady& u) const;
  // No request of queue `is_write` can issue before this (per bank: the column time of its
  // row hits, the ACT time if it is closed, the PRE time or starvation time of requests
  // missing its open row). Only max(now, floor) is meaningful: a request past its starvation
  // time may go as soon as its PRE is legal. `exact` tells whether it is the minimum itself,
  // given that no request is starving (open page and at most 64 banks).
  uint64_t scan_floor(bool is_write, const UnitReady& u, bool& exact) const;
  uint64_t compute_next(uint64_t from) const;

  void issue_act(uint64_t t, Entry& e);
  void issue_pre(uint64_t t, int bank);
  void issue_column(uint64_t t, Queue& q, size_t pos, bool is_write);
  void issue_ref(uint64_t t);
  void emit(uint64_t t, DramCommandType type, int bank, int64_t row, int column);

  DramSystem& m_sys;
  const DramSpec& m_s;
  const bool m_closed;
  const uint64_t m_starvation_limit;
  const int m_unit;
  const int m_channel;
  const int m_pseudo;
  std::vector<Entry> m_pool;            // entry slots of both queues
  std::vector<DramRequest> m_requests;  // the request of each slot
  std::vector<uint32_t> m_free;         // unused slots of m_pool
  Queue m_reads;                        // arrival order
  Queue m_writes;                       // arrival order
  std::vector<Bank> m_banks;
  std::array<uint64_t, 2> m_bank_mask{};  // [is_write]: bit b set if m_queued[..b] > 0
  std::vector<int> m_queued;              // [is_write * banks + bank]: requests queued for the bank
  mutable std::vector<uint64_t> m_starved;  // per bank: oldest starving request's enqueue
  mutable bool m_any_starved = false;
  std::vector<Group> m_groups;
  uint64_t m_act_ready = 0;         // tRRD_S
  uint64_t m_rd_ready = 0;          // tCCD_S, data bus, tWTR_S
  uint64_t m_wr_ready = 0;          // tCCD_S, data bus, read-to-write turnaround
  uint64_t m_ref_ready = 0;         // tRP/tRC/tRFC before the next REF
  std::array<uint64_t, 4> m_faw{};  // last four ACT cycles, ring
  int m_faw_count = 0;
  int m_faw_head = 0;
  uint64_t m_refresh_due;
  bool m_draining = false;
  uint64_t& m_next;  // slot in DramSystem's array
  mutable int m_floor_skip = 0;
  // No row hit of queue m_col_floor_queue can take a column command before m_col_floor.
  mutable uint64_t m_col_floor = 0;
  mutable bool m_col_floor_queue = false;  // compute_next() scans left without scan_floor()
  int m_open_banks = 0;
};

}  // namespace moesim
