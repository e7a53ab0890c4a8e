#pragma once
/// Cycle-level timing of a banked SRAM array (plain C++, no SystemC; `banked_sram` wraps it).
///
/// The array has `banks` banks; a bank serves `bank_ports` accesses of `bank_width` bytes per
/// cycle. Requesters reach it through ports: `read_ports` serve reads only, `write_ports`
/// writes only, `ports` either. A stream (one transfer) is a sequence of accesses at `addr`,
/// `addr + stride`, ...; in a cycle where it holds a port it issues up to `port_accesses` of
/// them, in order, and stops at the first whose bank has no port left this cycle (a bank
/// conflict: that access and the rest of the stream wait for the next cycle).
///
/// Arbitration is rotating priority: each cycle the active streams are visited starting one
/// further than the cycle before; each takes a port of its kind if one is left and then
/// claims its banks before the streams after it.
///
/// Cost: nothing happens while no stream is active (run() jumps). While streams are active,
/// cycles are simulated one by one until the state (priority pointer and every stream's
/// address modulo the bank-mapping period) repeats; the cycles of the repeating period are
/// then replayed arithmetically as many times as no stream comes close to its end. This is
/// exact (the same results as simulating every cycle), and a contiguous transfer alone costs
/// two simulated cycles whatever its size.

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace moesim {

/// How word addresses map to banks.
enum class SramInterleave {
  kWord,  ///< bank = word mod banks
  kXor,   ///< word interleave with the low bits of the bank index XORed with the row's
};

/// Organisation of a banked SRAM.
struct SramGeometry {
  uint32_t banks = 16;         ///< independent banks
  uint32_t bank_width = 64;    ///< bytes per bank access
  uint32_t bank_ports = 1;     ///< accesses one bank serves per cycle
  uint32_t ports = 2;          ///< shared read/write ports
  uint32_t read_ports = 0;     ///< read-only ports
  uint32_t write_ports = 0;    ///< write-only ports
  uint32_t port_accesses = 0;  ///< accesses a port issues per cycle; 0 = `banks`
  SramInterleave interleave = SramInterleave::kWord;

  /// Accesses per port per cycle with the 0 default resolved.
  uint32_t accesses_per_port() const { return port_accesses ? port_accesses : banks; }
  /// Ports in total (read, write, shared).
  uint32_t total_ports() const { return read_ports + write_ports + ports; }
  /// Bytes per cycle when every bank port is busy.
  double peak_bytes_per_cycle() const {
    return static_cast<double>(banks) * bank_ports * bank_width;
  }
};

/// The bank an access to byte address `addr` uses (that of its first byte).
uint32_t sram_bank_of(const SramGeometry& g, uint64_t addr);

/// Counters of a BankedSramEngine (cumulative).
struct SramCounters {
  uint64_t accesses = 0;                   ///< bank accesses served (ops)
  uint64_t conflicts = 0;                  ///< accesses refused because their bank was busy (ops)
  uint64_t stall_cycles = 0;               ///< cycles with at least one bank conflict
  uint64_t port_waits = 0;                 ///< stream-cycles an active stream got no port
  uint64_t active_cycles = 0;              ///< cycles with at least one active stream
  std::vector<uint64_t> port_busy_cycles;  ///< per port: cycles it moved data
  std::vector<uint64_t> port_accesses;     ///< per port: accesses it moved
  std::vector<uint64_t> port_bytes;        ///< per port: bytes it moved
};

/// The cycle engine (see the file comment). Copyable: a copy runs ahead to predict the next
/// completion while the original stays at the committed cycle.
class BankedSramEngine {
 public:
  /// A stream that completed: its id and the cycle of its last access.
  struct Finished {
    uint64_t id;
    uint64_t cycle;
  };

  /// InternalError when the geometry has no banks, zero width or no port.
  explicit BankedSramEngine(const SramGeometry& g);

  /// Adds a stream of ceil(bytes / bank_width) accesses at addr, addr + stride, ... that
  /// competes from cycle() on. `bytes` and `stride` must be positive.
  void add(uint64_t id, uint64_t addr, uint64_t bytes, uint64_t stride, bool write);

  /// Simulates cycles from cycle() up to `limit` (exclusive), stopping after the first cycle
  /// in which a stream completes; appends the completed streams to `done`.
  void run(uint64_t limit, std::vector<Finished>& done);

  /// The first cycle not yet simulated.
  uint64_t cycle() const { return m_cycle; }
  /// Streams not yet complete.
  size_t active() const { return m_streams.size(); }
  const SramCounters& counters() const { return m_ctr; }
  const SramGeometry& geometry() const { return m_g; }
  /// Ports in order: read-only, write-only, shared (the order of SramCounters' vectors).
  uint32_t ports() const { return m_g.total_ports(); }
  /// Cycles simulated one by one (the rest were replayed periods), for cost checks.
  uint64_t simulated_cycles() const { return m_simulated; }
  /// Turns the replay of repeating periods off (every cycle simulated), to test that it is
  /// exact.
  void set_replay(bool on) { m_replay = on; }

 private:
  struct Stream {
    uint64_t id;
    uint64_t addr;        // byte address of the next access
    uint64_t stride;      // bytes between accesses
    uint64_t left;        // accesses not yet served
    uint64_t bytes_left;  // bytes not yet moved
    bool write;
  };
  struct Snapshot {
    uint64_t cycle;
    std::vector<uint64_t> key;   // rr, then each stream's address modulo the period
    std::vector<uint64_t> left;  // each stream's remaining accesses
    SramCounters ctr;
  };
  void step(std::vector<Finished>& done);
  // Takes a port of bank `b` in the cycle stamped `stamp`; false if it has none left.
  bool take_bank(uint32_t b, uint64_t stamp);
  // Claims banks for up to `lim` accesses from `addr` by `stride`, in order, stopping at the
  // first conflict; returns how many it got.
  uint64_t claim(uint64_t addr, uint64_t stride, uint64_t lim, uint64_t stamp);
  bool try_jump(uint64_t limit);
  void make_key(std::vector<uint64_t>& key) const;

  SramGeometry m_g;
  uint64_t m_period_bytes;  // bank(addr + m_period_bytes) == bank(addr)
  uint64_t m_cycle = 0;
  uint64_t m_simulated = 0;
  bool m_replay = true;
  size_t m_rr = 0;
  uint64_t m_stable = 0;  // cycles since a stream arrived or left
  std::vector<Stream> m_streams;
  SramCounters m_ctr;
  std::vector<uint64_t> m_bank_stamp;            // cycle + 1 of the bank's last use
  std::vector<uint32_t> m_bank_used;             // accesses the bank served in that cycle
  std::vector<Snapshot> m_history;               // states since the last change of the stream set
  std::unordered_map<uint64_t, size_t> m_index;  // hash of a state's key -> m_history index
  std::vector<uint64_t> m_key;                   // scratch
};

}  // namespace moesim
