#pragma once
/// A SystemC host that drives any Memory with a stream of fixed-size requests and measures it.
///
/// Backs `moesim mem` and the fast-vs-detailed calibration tests. The host keeps at most
/// `window` requests outstanding and issues them in stream order, each no earlier than its
/// cycle. A DetailedDram or BankedSram receives each request at its address (transfer_at); others
/// get transfer(bytes). Latency runs from the host's transfer() call to the callback.

#include <cstdint>
#include <exception>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "hw_models/memory/dram/dram_calibration.hpp"
#include "hw_models/memory/dram/latency_histogram.hpp"
#include "hw_models/memory/memory.hpp"

namespace moesim {

class BankedSram;
class DetailedDram;

/// One host request.
struct MemRequest {
  uint64_t cycle = 0;  ///< earliest issue cycle (of the driver's cycle time)
  uint64_t addr = 0;   ///< byte address
  bool write = false;  ///< write (true) or read
};

/// A stream of requests, pulled one at a time (bounded memory).
class MemRequestSource {
 public:
  virtual ~MemRequestSource() = default;
  /// The next request; false at the end.
  virtual bool next(MemRequest& r) = 0;
};

/// The stream run_dram_pattern() generates (same seed, same addresses, same R/W choices), with
/// addresses wrapping inside `footprint_bytes`; every request may issue at cycle 0.
std::unique_ptr<MemRequestSource> make_pattern_source(const DramPatternSpec& pattern,
                                                      uint64_t footprint_bytes);

/// Reads a `<cycle> <address> R|W` trace (the format of dram_calibration.hpp) from `path`,
/// streamed; InputError "<file>:<line>: ..." on a bad line, "<file>: cannot open ..." if absent.
std::unique_ptr<MemRequestSource> make_trace_source(const std::string& path);

/// What the host measured.
struct MemDriverResult {
  uint64_t requests = 0;      ///< requests completed
  uint64_t bytes = 0;         ///< bytes moved
  double seconds = 0;         ///< simulated time of the last completion
  double bytes_per_s = 0;     ///< bytes / seconds
  double mean_latency_s = 0;  ///< mean request latency
  double p50_latency_s = 0;   ///< median request latency
  double p99_latency_s = 0;   ///< 99th-percentile request latency
};

/// Issues a request stream to one Memory (see the file comment).
class MemDriver : public sc_core::sc_module, public MemoryClient {
 public:
  SC_HAS_PROCESS(MemDriver);
  /// `cycle_s` converts request cycles to time; `request_bytes` is each request's size;
  /// `addressed` = false ignores the stream's addresses and lets the memory place each
  /// request (Memory::transfer, as the chip's DMA does).
  MemDriver(const sc_core::sc_module_name& name, Memory& memory,
            std::unique_ptr<MemRequestSource> source, uint64_t window, double cycle_s,
            uint64_t request_bytes = 64, bool addressed = true);

  void transfer_done(uint64_t tag) override;
  /// True once every request has completed.
  bool finished() const { return m_finished; }
  /// The measurements (valid once finished()).
  MemDriverResult result() const;
  /// Rethrows an error the stream raised while the simulation ran (issuing stops there: an
  /// exception must not escape a SystemC process, which would wrap it).
  void rethrow_if_failed() const;

 private:
  void issue();
  bool pull();  // reads the next request into m_next; false at the end or on an error

  Memory& m_mem;
  DetailedDram* m_dram;  // non-null when the memory takes addresses
  BankedSram* m_sram;    // likewise
  std::unique_ptr<MemRequestSource> m_source;
  uint64_t m_window;
  double m_cycle_s;
  uint64_t m_request_bytes;
  MemRequest m_next;
  bool m_have_next = false;
  bool m_finished = false;
  bool m_issuing = false;
  uint64_t m_outstanding = 0;
  std::vector<uint64_t> m_issue_time;  // by tag (slot), in SystemC time units
  std::vector<uint64_t> m_free_slots;
  uint64_t m_completed = 0;
  uint64_t m_last_done = 0;    // SystemC time units
  LatencyHistogram m_latency;  // in SystemC time units (picoseconds by default)
  sc_core::sc_event m_issue_event;
  std::exception_ptr m_error;
};

}  // namespace moesim
