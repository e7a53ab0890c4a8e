#include "sim/cli/cmd_trace_import.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "sim/cli/cli_util.hpp"
#include "sim/config/config.hpp"
#include "sim/plan/model.hpp"
#include "workloads/trace/trace.hpp"
#include "workloads/trace/trace_import.hpp"

namespace moesim {

namespace fs = std::filesystem;

const char* const kTraceImportHelp =
    R"(usage: moesim trace import --format FORMAT --model NAME [--layer-map moe|transformer]
                           [--skip-passes N] [--no-warmup-detect] [--warmup-min-tokens N]
                           [--skip-bad-rows] IN OUT

Reads the routing log IN and writes the trace OUT (.csv, .jsonl or .moetrace), then prints
what was read, dropped and written. Rules in full: workloads/trace/FORMAT.md.

  --format olmoe-jsonl    rows {"dataset","problem_id","layer","experts","gating_probs",
                          "token_idx"}: batch-1 decode; each (dataset, problem_id, token_idx)
                          is one step of one token (position token_idx); its rows must be
                          contiguous and token_idx ascend within a problem.
  --format engine-jsonl   rows {"type":"route","req_id","token_idx","layer","topk_ids",
                          "topk_weights"}; a first row of another type is metadata (kept as
                          log.* keys), later rows of another type are counted and ignored.
                          token_idx indexes rows of one forward pass, logged layer by layer:
                          a row starts a new pass when its (layer, token_idx) is not greater
                          than the previous row's (layer first). Positions continue per req_id.
  --model NAME            a preset in workloads/models (file name without .toml, e.g.
                          mixtral_8x7b) or a path to a model .toml: gives the MoE layers,
                          experts and top-k
  --layer-map moe         logged layer = MoE layer ordinal 0..M-1 (default)
  --layer-map transformer logged layer = transformer layer index; it must be an MoE layer
  --skip-passes N         drop the first N passes (steps) of the log
  --no-warmup-detect      keep warm-up passes (engine-jsonl)
  --warmup-min-tokens N   a pass of at least N tokens (default 16) whose rows are identical
                          at every layer is an engine warm-up pass and is dropped
  --skip-bad-rows         skip malformed rows (and passes left with a token missing a
                          layer) instead of stopping at the first; their count is reported
)";

namespace {

/// Resolves --model: a path to a .toml, or a preset name in workloads/models.
std::string model_path(const std::string& name) {
  if (name.find('/') != std::string::npos || fs::path(name).extension() == ".toml") return name;
  const fs::path dir = fs::path(MOESIM_SOURCE_DIR) / "workloads" / "models";
  const fs::path p = dir / (name + ".toml");
  if (fs::is_regular_file(p)) return p.string();
  std::vector<std::string> presets;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".toml") presets.push_back(e.path().stem().string());
  }
  std::sort(presets.begin(), presets.end());
  const std::string hint = did_you_mean(name, presets);
  std::string list;
  for (const auto& s : presets) list += (list.empty() ? "" : ", ") + s;
  usage_error("trace import",
              fmt::format("--model: no preset '{}'{} (presets: {})", name,
                          hint.empty() ? "" : " (did you mean '" + hint + "'?)", list));
}

ModelSpec load_model(const std::string& name) {
  Config cfg = Config::load(model_path(name));
  ParamSchema schema("model");
  ModelSpec::declare(schema);
  ModelSpec m = ModelSpec::from_params(cfg.section("model", schema));
  if (const auto problem = m.check()) {
    throw InputError(located_message(cfg.where("model." + problem->key), "model." + problem->key,
                                     problem->message));
  }
  cfg.check_all_consumed();
  return m;
}

}  // namespace

int cmd_trace_import(const std::vector<std::string>& args) {
  const std::string c = "trace import";
  if (wants_help(args)) {
    std::fputs(kTraceImportHelp, stdout);
    return 0;
  }
  const std::vector<std::string> known = {"--format",           "--model",
                                          "--layer-map",        "--skip-passes",
                                          "--no-warmup-detect", "--warmup-min-tokens",
                                          "--skip-bad-rows"};
  ImportOptions o;
  std::string format, model;
  std::vector<std::string> files;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) usage_error(c, a + " needs a value");
      return args[++i];
    };
    if (a == "--format") {
      format = value();
    } else if (a == "--model") {
      model = value();
    } else if (a == "--layer-map") {
      const std::string v = value();
      if (v != "moe" && v != "transformer") {
        usage_error(c, fmt::format("--layer-map expects moe or transformer, got '{}'", v));
      }
      o.layer_map = v == "moe" ? LayerMap::kMoe : LayerMap::kTransformer;
    } else if (a == "--skip-passes") {
      o.skip_passes = parse_u64(c, a, value());
    } else if (a == "--warmup-min-tokens") {
      const uint64_t v = parse_u64(c, a, value());
      if (v < 2 || v > UINT32_MAX) {
        usage_error(c, fmt::format("--warmup-min-tokens must be at least 2, got {}", v));
      }
      o.warmup_min_tokens = static_cast<uint32_t>(v);
    } else if (a == "--no-warmup-detect") {
      o.detect_warmup = false;
    } else if (a == "--skip-bad-rows") {
      o.skip_bad_rows = true;
    } else if (a.size() > 1 && a[0] == '-') {
      unknown_option(c, a, known);
    } else {
      files.push_back(a);
    }
  }
  if (format.empty()) usage_error(c, "--format is required (olmoe-jsonl or engine-jsonl)");
  if (!parse_import_format(format, o.format)) {
    const std::string hint = did_you_mean(format, {"olmoe-jsonl", "engine-jsonl"});
    usage_error(c, fmt::format("--format expects olmoe-jsonl or engine-jsonl, got '{}'{}", format,
                               hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  if (model.empty()) usage_error(c, "--model is required (a preset in workloads/models)");
  if (files.size() != 2) usage_error(c, "expects IN and OUT");
  const ModelSpec m = load_model(model);
  o.model = m.name;
  o.experts = m.experts;
  o.top_k = m.top_k;
  for (uint32_t l = 0; l < m.layers; ++l) o.is_moe.push_back(m.is_moe_layer(l));

  auto importer = open_import(files[0], o);
  auto writer = create_trace_writer(files[1], importer->meta());
  TraceStep step;
  while (importer->next(step)) writer->write(step);
  if (importer->report().steps == 0) {
    throw InputError(
        fmt::format("{}: no step left to write ({} routing rows read; see the "
                    "options that drop passes)",
                    files[0], importer->report().route_rows));
  }
  writer->finish();
  std::printf("imported %s (%s) into %s for model '%s'\n", files[0].c_str(), format.c_str(),
              files[1].c_str(), m.name.c_str());
  const std::string report = import_report_text(importer->report());
  std::fwrite(report.data(), 1, report.size(), stdout);
  return 0;
}

}  // namespace moesim
