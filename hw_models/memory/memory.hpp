#pragma once
/// The memory interface: off-chip tiers (HBM, DDR) and on-chip SRAM implement it.
///
/// A transfer of `bytes` is started with transfer(); the memory calls the client back when
/// the last byte has arrived. Concurrent transfers contend for the memory's bandwidth, so
/// two streams each see less than the peak. The cycle-level DRAM model implements the same
/// interface (issue: tiered memory).

#include <cstdint>
#include <string>

#include <systemc>

#include "sim/config/schema.hpp"
#include "sim/core/model_args.hpp"
#include "sim/core/stats.hpp"
#include "sim/core/timeline.hpp"

namespace moesim {

/// Receives transfer completions.
class MemoryClient {
 public:
  virtual ~MemoryClient() = default;
  /// Called from the memory's process when the transfer tagged `tag` has completed.
  virtual void transfer_done(uint64_t tag) = 0;
};

/// Statistics every memory keeps.
struct MemoryStats : StatGroup {
  MemoryStats(const std::string& name, StatGroup* parent, double peak_bytes_per_s);
  Counter read_bytes{this, "read_bytes", "B", "bytes read"};
  Counter write_bytes{this, "write_bytes", "B", "bytes written"};
  Counter reads{this, "reads", "ops", "read transfers"};
  Counter writes{this, "writes", "ops", "write transfers"};
  Scalar busy_s{this, "busy_time", "s", "time with at least one transfer in flight"};
  Formula bandwidth_utilisation;
  Formula mean_bandwidth;
  Formula peak_bandwidth;
  double peak;
};

/// A memory: tier or SRAM.
class Memory : public sc_core::sc_module {
 public:
  /// What every memory model is constructed from.
  using Args = ModelArgs;
  /// What others need of a configured memory (its model's static describe(params)).
  struct Facts {
    uint64_t capacity_bytes = 0;
    /// The bandwidth it is quoted against when peak_bytes_per_s() already includes an
    /// efficiency (0: peak_bytes_per_s()).
    double nominal_bytes_per_s = 0;
  };
  explicit Memory(const sc_core::sc_module_name& name) : sc_core::sc_module(name) {}
  ~Memory() override = default;

  /// Starts moving `bytes` (read from or written to this memory).
  virtual void transfer(uint64_t bytes, bool write, MemoryClient* client, uint64_t tag) = 0;
  /// Peak bandwidth in bytes per second.
  virtual double peak_bytes_per_s() const = 0;
  /// Capacity in bytes.
  virtual uint64_t capacity_bytes() const = 0;
  virtual const MemoryStats& stats() const = 0;
  /// Busy periods and bandwidth in use from now on go to `tl` (null: none; not owned).
  /// Call only while the memory is idle (between steps).
  void set_timeline(ActivityTimeline* tl) { m_timeline = tl; }

 protected:
  ActivityTimeline* m_timeline = nullptr;
};

}  // namespace moesim
