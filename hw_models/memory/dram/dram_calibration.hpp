#pragma once
/// Drivers that push a request stream through a DramSystem and summarise what it achieved.
///
/// They calibrate the fast memory model (bandwidth, latency, row-hit rate and refresh
/// overhead on reference patterns) and back the `moesim mem` command.
///
/// Trace format (one request per line, '#' starts a comment, blank lines are skipped):
///
///     <cycle> <address> <R|W>
///
/// `cycle` is the DRAM cycle (tCK) at which the host issues the request, non-decreasing;
/// `address` is a byte address in decimal or 0x-prefixed hex (the low 6 bits are ignored:
/// every line is one 64-byte request); R reads, W writes. A request whose queue is full
/// waits in the host, in order, until it fits; its latency is counted from the cycle it
/// entered the controller.

#include <cstdint>
#include <istream>
#include <string>

#include "hw_models/memory/dram/dram.hpp"

namespace moesim {

/// Address streams for calibration.
enum class DramPattern { kSequential, kStrided, kRandom };

/// Parses "sequential", "strided" or "random"; InputError otherwise.
DramPattern parse_dram_pattern(const std::string& name);

/// A synthetic request stream.
struct DramPatternSpec {
  DramPattern pattern = DramPattern::kSequential;
  uint64_t requests = 100000;    ///< number of 64-byte requests
  double read_ratio = 1.0;       ///< fraction of reads (0..1)
  uint64_t stride_bytes = 64;    ///< address step for kStrided
  uint64_t seed = 1;             ///< for kRandom addresses and the read/write choice
  uint64_t base = 0;             ///< first address
  uint64_t footprint_bytes = 0;  ///< addresses wrap inside [base, base + footprint); 0 = capacity
  /// Skip repeating periods exactly (DramPeriodSkip; identical results): used for sequential
  /// streams of only reads or only writes, ignored otherwise.
  bool period_skip = false;
};

/// What a run achieved.
struct DramRunResult {
  uint64_t requests = 0;          ///< requests completed
  uint64_t bytes = 0;             ///< bytes moved
  uint64_t cycles = 0;            ///< simulated cycles until the last completion
  double seconds = 0;             ///< cycles * tCK
  double bytes_per_s = 0;         ///< achieved bandwidth
  double peak_bytes_per_s = 0;    ///< the spec's peak, for comparison
  double mean_latency_ns = 0;     ///< mean request latency
  double p50_latency_ns = 0;      ///< median request latency
  double p99_latency_ns = 0;      ///< 99th-percentile request latency
  double row_hit_rate = 0;        ///< row hits / (hits + misses + conflicts)
  double refresh_overhead = 0;    ///< fraction of bank-time spent refreshing
  uint64_t commands_checked = 0;  ///< commands seen by the timing checker (if enabled)
  uint64_t skipped_requests = 0;  ///< requests completed in periods the period skip advanced
  std::string timing_violation;   ///< first violation found by the checker, "" if none
  DramStats stats;                ///< raw counters
};

/// Runs `pattern` through a fresh DramSystem; `check_timing` attaches a TimingChecker.
DramRunResult run_dram_pattern(const DramSpec& spec, const DramConfig& config,
                               const DramPatternSpec& pattern, bool check_timing = false);

/// Runs the trace file at `path` (format above); InputError "<file>:<line>: ..." on bad lines.
DramRunResult run_dram_trace(const DramSpec& spec, const DramConfig& config,
                             const std::string& path, bool check_timing = false);

/// Same, reading the trace from `in`; `name` is used in error messages.
DramRunResult run_dram_trace(const DramSpec& spec, const DramConfig& config, std::istream& in,
                             const std::string& name, bool check_timing = false);

}  // namespace moesim
