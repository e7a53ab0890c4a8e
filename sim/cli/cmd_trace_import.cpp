#include "sim/cli/cmd_trace_import.hpp"

#include <algorithm>
#include <cmath>
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
                           [--skip-bad-rows] [--strict] [--layers LIST] [--fill none|copy]
                           [routing options (logits-npz)] IN... OUT

Reads the routing log IN (one file, or several: per-layer files each holding one distinct
layer are merged by pass and token, files of one layer set are concatenated) and writes the
trace OUT (.csv, .jsonl or .moetrace), then prints what was read, dropped and written. Rows
may come in any order within a request (olmoe-jsonl) or pass (engine-jsonl); memory holds
one request or pass. Rules in full: workloads/trace/FORMAT.md.

  --format olmoe-jsonl    rows {"dataset","problem_id","layer","experts","gating_probs",
                          "token_idx"}: batch-1 decode; each (dataset, problem_id, token_idx)
                          is one step of one token (position token_idx); a run of rows of one
                          (dataset, problem_id) is a request, its rows in any order.
  --format engine-jsonl   rows {"type":"route","req_id","token_idx","layer","topk_ids",
                          "topk_weights"}; a first row of another type is metadata (kept as
                          log.* keys), later rows of another type are counted and ignored.
                          token_idx indexes rows of one forward pass: a row starts a new pass
                          when its (token_idx, layer) already occurs in the current pass (any
                          order within a pass). Positions continue per req_id.
  --format logits-npz     router logits (tokens x experts per MoE layer, float16/float32) in
                          one .npz (arrays layer_0, layer_1, ...; optional request, step),
                          one 3-D .npy (layers x tokens x experts) or one 2-D .npy per layer;
                          routed here by the options below.
  --model NAME            a preset in workloads/models (file name without .toml, e.g.
                          mixtral_8x7b) or a path to a model .toml: gives the MoE layers,
                          experts and top-k
  --layer-map moe         logged layer = MoE layer ordinal 0..M-1 (default)
  --layer-map transformer logged layer = transformer layer index; it must be an MoE layer
  --skip-passes N         drop the first N passes (steps) of the log
  --no-warmup-detect      keep warm-up passes (engine-jsonl)
  --warmup-min-tokens N   a pass of at least N tokens (default 16) whose rows are identical
                          at every layer is an engine warm-up pass and is dropped
  --skip-bad-rows         skip malformed rows instead of stopping at the first; their count
                          is reported
  --strict                a token without a row for every logged layer is an error (by
                          default it is dropped, counted and listed in the report)
  --layers LIST           the MoE layers the log covers, e.g. 0-7 or 0,2,4 (after --layer-map);
                          the trace records them as real_layers, the others are filled
  --fill none|copy        unlogged MoE layers: no routes (default) or the routes of the
                          nearest logged layer (the lower on a tie)
 routing (logits-npz):
  --top-k K               experts per token (default: the model's top_k)
  --renormalize           weights renormalised over the selected experts (default: raw
                          softmax probabilities)
  --groups G --topk-groups M  group-limited top-k: E/G experts per group, a group scores its
                          best expert, the top M groups' experts compete (DeepSeek)
  --top-p P               dynamic: the fewest experts whose probability reaches P (at most K)
  --capacity-factor C     each expert takes at most ceil(C * tokens * K / E) routes per step
                          and layer, tokens in order; later routes are dropped (counted)
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

/// "0-3,5": MoE layer ordinals, ascending and distinct.
std::vector<uint32_t> parse_layer_list(const std::string& c, const std::string& text) {
  std::vector<uint32_t> out;
  size_t at = 0;
  auto bad = [&]() {
    usage_error(
        c, fmt::format("--layers expects layer numbers and ranges like 0-3,5, got '{}'", text));
  };
  while (at <= text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, comma - at);
    const size_t dash = item.find('-');
    uint32_t a = 0, b = 0;
    auto num = [&](const std::string& s, uint32_t& v) {
      if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 6) {
        bad();
      }
      v = static_cast<uint32_t>(std::stoul(s));
    };
    num(item.substr(0, dash), a);
    b = a;
    if (dash != std::string::npos) num(item.substr(dash + 1), b);
    if (b < a) bad();
    for (uint32_t l = a; l <= b; ++l) {
      if (!out.empty() && l <= out.back()) {
        usage_error(c, fmt::format("--layers must ascend without repeats, got '{}'", text));
      }
      out.push_back(l);
    }
    at = comma + 1;
  }
  return out;
}

double parse_number(const std::string& c, const std::string& opt, const std::string& v) {
  size_t used = 0;
  double d = 0;
  try {
    d = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || !std::isfinite(d)) {
    usage_error(c, fmt::format("{} expects a number, got '{}'", opt, v));
  }
  return d;
}

double parse_fraction(const std::string& c, const std::string& opt, const std::string& v) {
  const double d = parse_number(c, opt, v);
  if (!(d > 0 && d <= 1)) usage_error(c, fmt::format("{} must be in (0, 1], got {}", opt, v));
  return d;
}

double parse_positive(const std::string& c, const std::string& opt, const std::string& v) {
  const double d = parse_number(c, opt, v);
  if (!(d > 0)) usage_error(c, fmt::format("{} must be positive, got {}", opt, v));
  return d;
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
  const std::vector<std::string> known = {"--format",
                                          "--model",
                                          "--layer-map",
                                          "--skip-passes",
                                          "--no-warmup-detect",
                                          "--warmup-min-tokens",
                                          "--skip-bad-rows",
                                          "--strict",
                                          "--layers",
                                          "--fill",
                                          "--top-k",
                                          "--renormalize",
                                          "--groups",
                                          "--topk-groups",
                                          "--top-p",
                                          "--capacity-factor"};
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
    } else if (a == "--strict") {
      o.strict = true;
    } else if (a == "--layers") {
      o.layers = parse_layer_list(c, value());
    } else if (a == "--fill") {
      const std::string v = value();
      if (v != "none" && v != "copy") {
        usage_error(c, fmt::format("--fill expects none or copy, got '{}'", v));
      }
      o.fill = v == "none" ? LayerFill::kNone : LayerFill::kCopyNearest;
    } else if (a == "--top-k") {
      o.routing.top_k = static_cast<uint32_t>(parse_u64(c, a, value()));
    } else if (a == "--renormalize") {
      o.routing.renormalize = true;
    } else if (a == "--groups") {
      o.routing.groups = static_cast<uint32_t>(parse_u64(c, a, value()));
    } else if (a == "--topk-groups") {
      o.routing.topk_groups = static_cast<uint32_t>(parse_u64(c, a, value()));
    } else if (a == "--top-p") {
      o.routing.top_p = parse_fraction(c, a, value());
    } else if (a == "--capacity-factor") {
      o.routing.capacity_factor = parse_positive(c, a, value());
    } else if (a.size() > 1 && a[0] == '-') {
      unknown_option(c, a, known);
    } else {
      files.push_back(a);
    }
  }
  if (format.empty()) {
    usage_error(c, "--format is required (olmoe-jsonl, engine-jsonl or logits-npz)");
  }
  if (!parse_import_format(format, o.format)) {
    const std::string hint = did_you_mean(format, {"olmoe-jsonl", "engine-jsonl", "logits-npz"});
    usage_error(c, fmt::format("--format expects olmoe-jsonl, engine-jsonl or logits-npz, got "
                               "'{}'{}",
                               format, hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  if (model.empty()) usage_error(c, "--model is required (a preset in workloads/models)");
  if (files.size() < 2) usage_error(c, "expects IN... and OUT");
  const ModelSpec m = load_model(model);
  o.model = m.name;
  o.experts = m.experts;
  o.top_k = m.top_k;
  for (uint32_t l = 0; l < m.layers; ++l) o.is_moe.push_back(m.is_moe_layer(l));

  const std::string out = files.back();
  files.pop_back();
  auto importer = open_import(files, o);
  auto writer = create_trace_writer(out, importer->meta());
  TraceStep step;
  while (importer->next(step)) writer->write(step);
  if (importer->report().steps == 0) {
    throw InputError(
        fmt::format("{}: no step left to write ({} routing rows read; see the "
                    "options that drop passes)",
                    files[0], importer->report().route_rows));
  }
  writer->finish();
  std::string in = files[0];
  if (files.size() > 1) in += fmt::format(" and {} more", files.size() - 1);
  std::printf("imported %s (%s) into %s for model '%s'\n", in.c_str(), format.c_str(), out.c_str(),
              m.name.c_str());
  const std::string report = import_report_text(importer->report());
  std::fwrite(report.data(), 1, report.size(), stdout);
  return 0;
}

}  // namespace moesim
