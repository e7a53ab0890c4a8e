#pragma once
/// Importers of public routing-logger formats (rules in workloads/trace/FORMAT.md,
/// "Importing routing logs"). An importer is a TraceReader over one log or several files of
/// one log: it streams, holding one request (olmoe-jsonl) or one pass (engine-jsonl) plus
/// per-request counters, and reports what it dropped and why.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "workloads/trace/trace.hpp"

namespace moesim {

/// The logger formats understood.
enum class ImportFormat {
  kOlmoeJsonl,   ///< {"dataset","problem_id","layer","experts","gating_probs","token_idx"}
  kEngineJsonl,  ///< {"type":"route","req_id","token_idx","layer","topk_ids","topk_weights"}
  kLogitsNpz,    ///< router logits, tokens x experts per layer, in .npz / .npy files
};

/// How MoE layers the log does not cover (see ImportOptions::layers) are filled.
enum class LayerFill {
  kNone,         ///< no routes: the layer's experts do no work
  kCopyNearest,  ///< the routes of the nearest logged layer (the lower one on a tie)
};

/// The routing applied to router logits (logits-npz).
struct LogitsRouting {
  uint32_t top_k = 0;          ///< 0 = the model's top_k
  bool renormalize = false;    ///< weights renormalised over the selected experts
  uint32_t groups = 0;         ///< group-limited top-k: expert groups (0 = off)
  uint32_t topk_groups = 0;    ///< groups a token may use
  double top_p = 0;            ///< > 0: smallest set whose probability reaches top_p
  double capacity_factor = 0;  ///< > 0: per step and layer, an expert takes at most
                               ///< ceil(cf * tokens * k / experts) routes, in token order
};

/// How logged layer ids map onto the model's MoE layers.
enum class LayerMap {
  kMoe,          ///< the logged id is the MoE layer ordinal 0..moe_layers-1
  kTransformer,  ///< the logged id is the transformer layer; it must be an MoE layer
};

/// What the importer needs to know about the model and what to drop.
struct ImportOptions {
  ImportFormat format = ImportFormat::kOlmoeJsonl;
  std::string model;         ///< model name recorded in the trace
  uint32_t experts = 0;      ///< routed experts per MoE layer
  uint32_t top_k = 0;        ///< nominal k
  std::vector<bool> is_moe;  ///< per transformer layer: has an MoE FFN
  LayerMap layer_map = LayerMap::kMoe;
  uint64_t skip_passes = 0;         ///< drop the first N passes (steps) of the log
  bool detect_warmup = true;        ///< drop warm-up passes (engine-jsonl)
  uint32_t warmup_min_tokens = 16;  ///< a warm-up pass has at least this many tokens
  bool skip_bad_rows = false;       ///< skip malformed rows, count them
  bool strict = false;              ///< an incomplete token is an error (else dropped, counted)
  /// MoE layer ordinals the log covers (after layer_map); empty = all. Others are filled.
  std::vector<uint32_t> layers;
  LayerFill fill = LayerFill::kNone;
  LogitsRouting routing;  ///< logits-npz only
};

/// What an import read, wrote and dropped.
struct ImportReport {
  uint64_t lines = 0;           ///< lines read (blank ones included)
  uint64_t route_rows = 0;      ///< routing rows read (good, bad and dropped)
  uint64_t metadata_rows = 0;   ///< engine-jsonl: leading metadata row
  uint64_t other_rows = 0;      ///< engine-jsonl: rows whose "type" is not "route"
  uint64_t passes = 0;          ///< passes (steps) found in the log
  uint64_t skipped_passes = 0;  ///< dropped by skip_passes
  uint64_t skipped_pass_rows = 0;
  uint64_t warmup_passes = 0;  ///< dropped as warm-up
  uint64_t warmup_rows = 0;
  uint64_t bad_rows = 0;           ///< malformed rows skipped (skip_bad_rows)
  std::string first_bad_row;       ///< the first one's message
  uint64_t incomplete_tokens = 0;  ///< tokens missing a layer, dropped (unless strict)
  uint64_t incomplete_rows = 0;
  /// The first few: "request R position P (<log's terms>): no row for layer L".
  std::vector<std::string> incomplete_examples;
  uint64_t files = 0;           ///< input files
  std::string files_mode;       ///< "single", "concatenated" or "merged per layer"
  uint64_t dropped_routes = 0;  ///< logits-npz: routes dropped by the capacity
  uint64_t steps = 0;           ///< steps produced
  uint64_t tokens = 0;
  uint64_t assignments = 0;
};

/// A TraceReader over a routing log. Errors are InputErrors `<file>:<line>: <what>`.
class LogImporter : public TraceReader {
 public:
  /// What has been read and dropped so far (complete once next() returned false).
  virtual const ImportReport& report() const = 0;
};

/// Opens `path` as a log of `options.format`. Throws InputError (e.g. bad options).
std::unique_ptr<LogImporter> open_import(const std::string& path, const ImportOptions& options);
/// Opens several files of one log: per-layer files (each one distinct layer) are merged by
/// pass and token, files of one layer set concatenated (see FORMAT.md).
std::unique_ptr<LogImporter> open_import(const std::vector<std::string>& paths,
                                         const ImportOptions& options);

/// Parses "olmoe-jsonl" / "engine-jsonl" / "logits-npz"; false for anything else.
bool parse_import_format(const std::string& name, ImportFormat& format);
/// The name of a format ("olmoe-jsonl", "engine-jsonl", "logits-npz").
const char* import_format_name(ImportFormat format);

/// The report as indented lines (for the command's summary).
std::string import_report_text(const ImportReport& report);

}  // namespace moesim
