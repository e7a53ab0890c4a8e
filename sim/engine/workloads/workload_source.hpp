#pragma once
/// Where a run's routing trace comes from: one registered WorkloadSource per `[workload]
/// type`, one file each beside this header. A source declares its keys (declare(); the
/// shared `max_steps` is added by workload_schema()), reads them into the RunSpec and opens
/// the trace. Adding a type is one file with MOESIM_REGISTER(WorkloadSource, Class, "name",
/// "description"), listed in sim/CMakeLists.txt.

#include <memory>
#include <string>
#include <vector>

#include "sim/config/config.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim {

struct RunSpec;

/// One workload type.
class WorkloadSource {
 public:
  struct Args {};
  virtual ~WorkloadSource() = default;

  /// Position among the types in `moesim list` and in messages (lower first; equal ranks
  /// by name). The built-in types keep their historic order.
  virtual int rank() const { return 100; }
  /// Reads the checked `[workload]` values into spec.workload (spec.workload.type,
  /// max_steps and params are already set) and checks them against the rest of `spec`.
  /// Throws InputError naming the key.
  virtual void read(Config& cfg, const Params& params, RunSpec& spec) const = 0;
  /// Opens the trace spec.workload describes (open_workload() then checks its shape
  /// against the model). Throws InputError.
  virtual std::unique_ptr<TraceReader> open(const RunSpec& spec) const = 0;
};

/// The registered workload types, in rank order.
std::vector<std::string> workload_types();

/// The registered source of `type`; nullptr when there is none.
const WorkloadSource* workload_source(const std::string& type);

}  // namespace moesim
