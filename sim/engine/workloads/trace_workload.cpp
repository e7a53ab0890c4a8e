// `type = "trace"`: a routing trace file (.csv, .jsonl or .moetrace).

#include <filesystem>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/engine/workloads/workload_source.hpp"

namespace moesim {

namespace {

class TraceWorkload : public WorkloadSource {
 public:
  explicit TraceWorkload(const Args&) {}
  static void declare(ParamSchema& s) {
    s.add("path", ParamType::kPath, "routing trace (.csv, .jsonl or .moetrace)");
  }

  int rank() const override { return 0; }

  void read(Config& cfg, const Params& params, RunSpec& spec) const override {
    spec.workload.source = WorkloadSpec::Source::kTrace;
    // Shown relative to the working directory, so messages read as the user wrote them.
    spec.workload.trace_path = std::filesystem::proximate(params.get_string("path")).string();
    spec.workload.trace_path_loc = cfg.where("workload.path");
  }

  std::unique_ptr<TraceReader> open(const RunSpec& spec) const override {
    const std::string& path = spec.workload.trace_path;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      throw InputError(located_message(
          spec.workload.trace_path_loc, "workload.path",
          fmt::format("cannot open trace \"{}\" ({})", path,
                      std::filesystem::exists(path, ec) ? "not a regular file"
                                                        : "No such file or directory")));
    }
    return open_trace(path);
  }
};

}  // namespace

MOESIM_REGISTER(WorkloadSource, TraceWorkload, "trace",
                "a routing trace file (.csv, .jsonl or .moetrace)");

}  // namespace moesim
