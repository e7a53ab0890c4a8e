// `type = "trace"`: a routing trace file (.csv, .jsonl or .moetrace). A partial trace (one
// imported with --layers, metadata real_layers) is simulated as it is, or on its real
// layers only, or with the others refilled, as `unlogged_layers` says (layer_fill.hpp).

#include <filesystem>

#include <fmt/format.h>

#include "sim/config/config_fail.hpp"
#include "sim/core/display_path.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/engine/workloads/workload_source.hpp"
#include "workloads/trace/layer_fill.hpp"

namespace moesim {

namespace {

class TraceWorkload : public WorkloadSource {
 public:
  explicit TraceWorkload(const Args&) {}
  static void declare(ParamSchema& s) {
    s.add("path", ParamType::kPath, "routing trace (.csv, .jsonl or .moetrace)");
    s.add("unlogged_layers", ParamType::kEnum,
          "a partial trace (metadata real_layers, from trace import --layers): as_traced "
          "simulates it as it is; skip only its real layers (the model cut down to them); "
          "empty, copy_nearest, calibrated refill the other layers: no routes, the nearest real "
          "layer's routes, or experts drawn from the nearest real layer's per-expert load "
          "(seeded by sim.seed). No effect on a trace that logs every layer")
        .one_of(unlogged_layers_names())
        .default_value(std::string("as_traced"));
  }

  int rank() const override { return 0; }

  void read(Config& cfg, const Params& params, RunSpec& spec) const override {
    WorkloadSpec& w = spec.workload;
    w.source = WorkloadSpec::Source::kTrace;
    // Shown relative to the working directory, so messages read as the user wrote them.
    w.trace_path = display_path(params.get_string("path"));
    w.trace_path_loc = cfg.where("workload.path");
    if (!parse_unlogged_layers(params.get_string("unlogged_layers"), w.unlogged)) {
      throw InternalError("unlogged_layers: a value the schema accepts is not known");
    }
    if (w.unlogged == UnloggedLayers::kAsTraced) return;
    // The trace's header says which layers are real; calibration counts them once, here.
    std::unique_ptr<TraceReader> reader = open_file(spec);
    const TraceMeta meta = reader->meta();
    const uint32_t moe = spec.model.moe_layers();
    if (meta.layers != moe) {
      throw InputError(fmt::format("{}: trace has {} MoE layers but model '{}' has {} (set by {})",
                                   w.trace_path, meta.layers, spec.model.name, moe,
                                   w.trace_path_loc.str()));
    }
    const std::vector<uint32_t> real = trace_real_layers(meta, w.trace_path);
    if (real.empty()) return;  // every layer logged: nothing to fill
    w.layer_fill = std::make_shared<const LayerFillPlan>(
        plan_layer_fill(w.unlogged, meta, real, spec.seed, reader.get(), w.max_steps));
    if (w.unlogged == UnloggedLayers::kSkip) {
      w.trace_moe_layers = moe;
      spec.model =
          spec.model.with_moe_layers(static_cast<uint32_t>(real.size()), real.back() + 1 == moe);
    }
  }

  std::unique_ptr<TraceReader> open(const RunSpec& spec) const override {
    std::unique_ptr<TraceReader> reader = open_file(spec);
    trace_real_layers(reader->meta(), spec.workload.trace_path);  // checked before any step
    return apply_layer_fill(std::move(reader), spec.workload.layer_fill);
  }

 private:
  static std::unique_ptr<TraceReader> open_file(const RunSpec& spec) {
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
