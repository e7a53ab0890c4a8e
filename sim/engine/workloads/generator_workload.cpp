// `type = "generator"`: the configurable trace generator, from a generator config file.

#include <filesystem>

#include <fmt/format.h>

#include "sim/core/display_path.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/engine/workloads/workload_source.hpp"
#include "workloads/trace/gen_config.hpp"
#include "workloads/trace/gen_trace.hpp"

namespace moesim {

namespace {

class GeneratorWorkload : public WorkloadSource {
 public:
  explicit GeneratorWorkload(const Args&) {}
  static void declare(ParamSchema& s) {
    s.add("config", ParamType::kPath, "generator config (workloads/generators/*.toml)");
  }

  int rank() const override { return 2; }

  /// The generator config is a file of its own (checked as strictly, its own locations in
  /// messages); its trace.seed applies.
  void read(Config& cfg, const Params& params, RunSpec& spec) const override {
    spec.workload.source = WorkloadSpec::Source::kGenerator;
    spec.workload.trace_path = display_path(params.get_string("config"));
    spec.workload.trace_path_loc = cfg.where("workload.config");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(params.get_string("config"), ec)) {
      throw InputError(located_message(
          cfg.where("workload.config"), "workload.config",
          fmt::format("cannot open generator config \"{}\" ({})", spec.workload.trace_path,
                      ec ? ec.message() : std::string("No such file or directory"))));
    }
    Config gen = Config::load(spec.workload.trace_path);
    spec.workload.generator = read_generator_config(gen);
  }

  std::unique_ptr<TraceReader> open(const RunSpec& spec) const override {
    return make_generated_trace(spec.workload.generator);
  }
};

}  // namespace

MOESIM_REGISTER(WorkloadSource, GeneratorWorkload, "generator",
                "the configurable trace generator (workloads/generators/README.md)");

}  // namespace moesim
