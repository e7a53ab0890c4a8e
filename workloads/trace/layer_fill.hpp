#pragma once
/// Partial traces at run time (rules in workloads/trace/FORMAT.md, "Partial traces in a
/// run"). A trace imported with `--layers` records the MoE layers it logged as metadata
/// `real_layers` (and how the importer filled the others as `layer_fill`); a run either
/// simulates it as it is, or only its real layers, or fills the other layers by a rule of
/// its own. The readers here wrap the trace's reader and stream: they hold one step.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "workloads/trace/trace.hpp"

namespace moesim {

/// What a run does with the MoE layers a partial trace did not log.
enum class UnloggedLayers {
  kAsTraced,     ///< simulate the trace as it is (the importer's layer_fill)
  kSkip,         ///< simulate only the real layers (the model is cut down to them)
  kEmpty,        ///< no routes at the unlogged layers (their experts do no work)
  kCopyNearest,  ///< each token's routes of the nearest real layer (the lower on a tie)
  kCalibrated,   ///< experts drawn from the per-expert load of the nearest real layer
};

/// Parses "as_traced", "skip", "empty", "copy_nearest", "calibrated"; false otherwise.
bool parse_unlogged_layers(const std::string& name, UnloggedLayers& out);
/// The config name of a mode ("as_traced", ...).
const char* unlogged_layers_name(UnloggedLayers mode);
/// The names, in declaration order (for the config schema).
std::vector<std::string> unlogged_layers_names();

/// The MoE layers a trace logged: metadata `real_layers` ("0-3,5", ascending, each below
/// meta.layers); empty when the trace has no such key (it logs every layer). Throws
/// InputError `<path>: metadata 'real_layers': ...` when the value is malformed.
std::vector<uint32_t> trace_real_layers(const TraceMeta& meta, const std::string& path);

/// "0-3,5,7-8" for an ascending list.
std::string layer_list_text(const std::vector<uint32_t>& layers);

/// Per MoE layer 0..layers-1: the real layer nearest to it (itself when real; the lower
/// one on a tie). `real` is ascending and not empty.
std::vector<uint32_t> nearest_real_layers(const std::vector<uint32_t>& real, uint32_t layers);

/// How a run fills (or drops) the unlogged layers of one partial trace.
struct LayerFillPlan {
  UnloggedLayers mode = UnloggedLayers::kAsTraced;
  uint32_t layers = 0;            ///< MoE layers of the trace
  uint32_t experts = 0;           ///< routed experts per layer
  std::vector<uint32_t> real;     ///< the real layers, ascending
  std::vector<uint32_t> nearest;  ///< per MoE layer: its nearest real layer
  /// kCalibrated, per real layer used as a source (else empty): the routed-expert shares
  /// measured at it (sum 1) and the race rates that reproduce them as top-k marginals.
  std::vector<std::vector<double>> load;
  std::vector<std::vector<double>> rates;
  uint64_t seed = 1;
  uint64_t calibration_steps = 0;  ///< steps counted for the calibration
  /// What the metadata `layer_fill` says afterwards: "skipped", "none", "copy-nearest",
  /// "calibrated" (kAsTraced: the trace's own).
  std::string rule() const;
};

/// The plan for `mode` over a trace with metadata `meta` whose real layers are `real` (not
/// empty). kCalibrated counts the routed experts of every real layer in the first
/// `max_steps` steps (0: all) of `calibration` (a fresh reader of the same trace) and
/// calibrates race rates (gen_calibrate.hpp) on the nominal top_k.
LayerFillPlan plan_layer_fill(UnloggedLayers mode, const TraceMeta& meta,
                              const std::vector<uint32_t>& real, uint64_t seed,
                              TraceReader* calibration, uint64_t max_steps);

/// Wraps `trace` so that its steps follow `plan`: kSkip keeps only the real layers (the
/// metadata's `layers` becomes their number), kEmpty / kCopyNearest / kCalibrated rewrite
/// the unlogged layers; metadata `layer_fill` becomes plan.rule() and `layer_fill_by` is
/// "run". kAsTraced returns `trace` unchanged.
std::unique_ptr<TraceReader> apply_layer_fill(std::unique_ptr<TraceReader> trace,
                                              std::shared_ptr<const LayerFillPlan> plan);

}  // namespace moesim
