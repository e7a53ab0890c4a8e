// Generator config schemas: one table per feature; `type` keys pick a variant whose own
// keys are the only ones accepted.

#include "workloads/trace/gen_config.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "workloads/trace/gen_routing_data.hpp"
#include "workloads/trace/routing/routing_rule.hpp"

namespace moesim {

namespace {

using G = GeneratorSpec;

[[noreturn]] void fail(const Config& cfg, const std::string& key, const std::string& what) {
  throw InputError(located_message(cfg.where(key), key, what));
}

/// The `type` of table `table`, or `fallback` when the key is absent.
std::string type_of(Config& cfg, const std::string& table, const std::vector<std::string>& choices,
                    const std::string& fallback) {
  if (!cfg.has(table + ".type")) return fallback;
  return cfg.choose(table + ".type", choices);
}

uint32_t u32(const Params& p, const char* name) {
  return static_cast<uint32_t>(p.get_int(name));
}

LengthDist read_length(Config& cfg, const std::string& path) {
  LengthDist d;
  const std::string kind = cfg.choose(path + ".dist", {"fixed", "uniform", "lognormal"});
  ParamSchema s(kind);
  if (kind == "fixed") {
    s.add("tokens", ParamType::kInt, "tokens of every request").range(1, 1 << 24);
  } else {
    s.add("min", ParamType::kInt, "shortest length (tokens)")
        .range(1, 1 << 24)
        .default_value(int64_t{1});
    s.add("max", ParamType::kInt, "longest length (tokens)").range(1, 1 << 24);
    if (kind == "lognormal") {
      s.add("median", ParamType::kFloat, "median length (tokens)").range(1, 1 << 24);
      s.add("sigma", ParamType::kFloat, "standard deviation of the log length").range(0, 10);
    }
  }
  const Params p = cfg.section(path, s);
  if (kind == "fixed") {
    d.kind = LengthDist::Kind::kFixed;
    d.tokens = u32(p, "tokens");
    return d;
  }
  d.kind = kind == "uniform" ? LengthDist::Kind::kUniform : LengthDist::Kind::kLognormal;
  d.min = u32(p, "min");
  d.max = u32(p, "max");
  if (d.kind == LengthDist::Kind::kLognormal) {
    d.median = p.get_float("median");
    d.sigma = p.get_float("sigma");
  }
  return d;
}

void read_mode(Config& cfg, G& g, const std::string& mode) {
  if (mode == "decode") {
    g.mode = G::Mode::kDecode;
    ParamSchema s("decode");
    s.add("batch", ParamType::kInt, "requests, one token each per step").range(1, 1 << 24);
    s.add("steps", ParamType::kInt, "steps to generate").range(1, 1e12);
    s.add("context", ParamType::kInt, "position of the first generated token")
        .range(0, 4294967295.0)
        .default_value(int64_t{0});
    const Params p = cfg.section("decode", s);
    g.batch = u32(p, "batch");
    g.steps = static_cast<uint64_t>(p.get_int("steps"));
    g.context = u32(p, "context");
  } else if (mode == "prefill") {
    g.mode = G::Mode::kPrefill;
    ParamSchema s("prefill");
    s.add("batch", ParamType::kInt, "new requests per step").range(1, 1 << 24);
    s.add("steps", ParamType::kInt, "steps to generate").range(1, 1e12);
    s.add("prompt_tokens", ParamType::kInt, "prompt tokens per request").range(1, 1 << 24);
    const Params p = cfg.section("prefill", s);
    g.batch = u32(p, "batch");
    g.steps = static_cast<uint64_t>(p.get_int("steps"));
    g.prompt_tokens = u32(p, "prompt_tokens");
  } else {
    g.mode = G::Mode::kServing;
    ParamSchema s("serving");
    s.add("requests", ParamType::kInt, "requests to serve").range(1, 4294967295.0);
    s.add("arrival_rate", ParamType::kFloat, "Poisson arrival rate (requests per second)")
        .range(1e-9, 1e9);
    s.add("step_time", ParamType::kTime,
          "nominal duration of one step (maps arrival times to steps)")
        .range(1e-9, 1e6)
        .default_value(Quantity{0.02, false});
    s.add("max_tokens", ParamType::kInt, "token budget per step (decode + prefill)")
        .range(1, 1 << 24);
    s.add("max_requests", ParamType::kInt, "most requests in flight")
        .range(1, 1 << 24)
        .default_value(int64_t{256});
    s.add("chunked_prefill", ParamType::kBool, "split prompts to fill the budget")
        .default_value(true);
    const Params p = cfg.section("serving", s);
    ServingSpec& v = g.serving;
    v.requests = static_cast<uint64_t>(p.get_int("requests"));
    v.arrival_rate = p.get_float("arrival_rate");
    const Quantity& st = std::get<Quantity>(p.values().at("step_time"));
    if (st.cycles)
      fail(cfg, "serving.step_time", "must be a time in seconds, not cycles (no clock is known)");
    v.step_time_s = st.value;
    v.max_tokens = u32(p, "max_tokens");
    v.max_requests = u32(p, "max_requests");
    v.chunked_prefill = p.get_bool("chunked_prefill");
    v.prompt = read_length(cfg, "serving.prompt");
    v.output = read_length(cfg, "serving.output");
  }
}

void read_routing(Config& cfg, G& g) {
  const std::string type =
      type_of(cfg, "routing", {"topk", "top_p", "expert_choice", "grouped"}, "topk");
  const Params p = cfg.section("routing", *routing_schema(type));
  g.gate_temperature = p.get_float("gate_temperature");
  if (type == "topk") g.routing = G::Routing::kTopK;
  if (type == "top_p") {
    g.routing = G::Routing::kTopP;
    g.top_p = p.get_float("top_p");
    g.min_k = u32(p, "min_k");
    g.max_k = u32(p, "max_k");
  }
  if (type == "expert_choice") {
    g.routing = G::Routing::kExpertChoice;
    g.ec_capacity_factor = p.get_float("capacity_factor");
  }
  if (type == "grouped") {
    g.routing = G::Routing::kGrouped;
    g.n_groups = u32(p, "n_groups");
    g.top_groups = u32(p, "top_groups");
    g.group_top2_sum = p.get_string("group_score") == "top2_sum";
  }
}

}  // namespace

std::string default_routing_stats_dir() {
  return (std::filesystem::path(MOESIM_SOURCE_DIR) / ".." / "shared" / "data" / "routing-stats")
      .lexically_normal()
      .string();
}

GeneratorSpec read_generator_config(Config& cfg) {
  G g;
  ParamSchema ts("trace");
  ts.add("model", ParamType::kString, "model name recorded in the trace")
      .default_value(std::string("custom"));
  ts.add("layers", ParamType::kInt, "MoE layers").range(1, 1 << 20);
  ts.add("experts", ParamType::kInt, "routed experts per layer").range(1, 32767);
  ts.add("top_k", ParamType::kInt, "nominal experts per token").range(1, 1 << 20);
  ts.add("seed", ParamType::kInt, "seed of every random choice")
      .range(0, 9.2e18)
      .default_value(int64_t{1});
  ts.add("mode", ParamType::kEnum, "request stream")
      .one_of({"decode", "prefill", "serving"})
      .default_value(std::string("decode"));
  const Params t = cfg.section("trace", ts);
  g.model = t.get_string("model");
  g.layers = u32(t, "layers");
  g.experts = u32(t, "experts");
  g.top_k = u32(t, "top_k");
  g.seed = static_cast<uint64_t>(t.get_int("seed"));
  read_mode(cfg, g, t.get_string("mode"));

  const std::string pop = type_of(cfg, "popularity", {"uniform", "zipf", "calibrated"}, "uniform");
  ParamSchema ps(pop);
  if (pop == "zipf")
    ps.add("zipf_s", ParamType::kFloat, "Zipf exponent").range(1e-6, 100).default_value(1.0);
  if (pop == "calibrated") {
    ps.add("selection", ParamType::kEnum, "match all k choices (topk) or the first (top1)")
        .one_of({"topk", "top1"})
        .default_value(std::string("topk"));
  }
  const Params pp = cfg.section("popularity", ps);
  g.popularity = pop == "uniform" ? G::Popularity::kUniform
                 : pop == "zipf"  ? G::Popularity::kZipf
                                  : G::Popularity::kCalibrated;
  if (pop == "zipf") g.zipf_s = pp.get_float("zipf_s");
  if (pop == "calibrated") g.calibrate_topk = pp.get_string("selection") == "topk";

  ParamSchema ls("locality");
  ls.add("reuse", ParamType::kFloat, "probability of re-selecting each previous expert")
      .range(0, 1)
      .default_value(0.0);
  g.reuse = cfg.section("locality", ls).get_float("reuse");

  const std::string aff = type_of(cfg, "affinity", {"none", "calibrated", "permutation"}, "none");
  ParamSchema as(aff);
  if (aff != "none") {
    as.add("strength", ParamType::kFloat, "probability of following the chain")
        .range(0, 1)
        .default_value(1.0);
  }
  if (aff == "calibrated") {
    as.add("selection", ParamType::kEnum, "cross-layer counts to use")
        .one_of({"top1", "topk"})
        .default_value(std::string("top1"));
  }
  if (aff == "permutation") {
    as.add("permutation", ParamType::kEnum, "expert mapping between adjacent layers")
        .one_of({"random", "identity"})
        .default_value(std::string("random"));
  }
  const Params ap = cfg.section("affinity", as);
  g.affinity = aff == "none"         ? G::Affinity::kNone
               : aff == "calibrated" ? G::Affinity::kCalibrated
                                     : G::Affinity::kPermutation;
  if (aff != "none") g.affinity_strength = ap.get_float("strength");
  if (aff == "permutation") g.identity_permutation = ap.get_string("permutation") == "identity";

  if (pop == "calibrated" || aff == "calibrated") {
    ParamSchema ds("data");
    ds.add("stats_dir", ParamType::kPath, "folder with expert_counts.csv and crosslayer_counts.csv")
        .default_value(default_routing_stats_dir());
    ds.add("model", ParamType::kString, "measured model (OLMoE-1B-7B, Mixtral-8x7B)");
    ds.add("checkpoint", ParamType::kString, "checkpoint (base, sft, dpo)")
        .default_value(std::string("base"));
    ds.add("domain", ParamType::kString, "text domain (arxiv, book, c4, github, wikipedia, tulu)");
    ds.add("layer_map", ParamType::kEnum,
           "model layer -> measured depth: scaled by depth, or same index")
        .one_of({"relative", "absolute"})
        .default_value(std::string("relative"));
    ds.add("fill", ParamType::kEnum,
           "unmeasured layers: nearest measured layer, or linear interpolation")
        .one_of({"nearest", "interpolate"})
        .default_value(std::string("nearest"));
    const Params dp = cfg.section("data", ds);
    g.layer_map =
        dp.get_string("layer_map") == "relative" ? G::LayerMap::kRelative : G::LayerMap::kAbsolute;
    g.fill = dp.get_string("fill") == "nearest" ? G::Fill::kNearest : G::Fill::kInterpolate;
    RoutingDataQuery q;
    q.dir = dp.get_string("stats_dir");
    q.model = dp.get_string("model");
    q.checkpoint = dp.get_string("checkpoint");
    q.domain = dp.get_string("domain");
    q.selection = pop == "calibrated" && !g.calibrate_topk ? "top1" : "topk";
    if (aff == "calibrated") q.transition_selection = ap.get_string("selection");
    try {
      g.data = load_routing_data(q);
    } catch (const RoutingDataError& e) {
      fail(cfg, e.key(), e.what());
    }
  }

  read_routing(cfg, g);

  ParamSchema ss("special");
  ss.add("null_experts", ParamType::kInt, "AdaMoE null slots")
      .range(0, 1 << 16)
      .default_value(int64_t{0});
  ss.add("null_rate", ParamType::kFloat, "popularity share of all null slots")
      .range(0, 1)
      .default_value(0.0);
  ss.add("zero_rate", ParamType::kFloat, "popularity share of the MoE++ zero expert")
      .range(0, 1)
      .default_value(0.0);
  ss.add("copy_rate", ParamType::kFloat, "popularity share of the MoE++ copy expert")
      .range(0, 1)
      .default_value(0.0);
  ss.add("const_rate", ParamType::kFloat, "popularity share of the MoE++ constant expert")
      .range(0, 1)
      .default_value(0.0);
  const Params sp = cfg.section("special", ss);
  g.null_experts = u32(sp, "null_experts");
  g.null_rate = sp.get_float("null_rate");
  g.zero_rate = sp.get_float("zero_rate");
  g.copy_rate = sp.get_float("copy_rate");
  g.const_rate = sp.get_float("const_rate");

  ParamSchema cs("capacity");
  cs.add("factor", ParamType::kFloat,
         "per-expert capacity = factor * tokens * top_k / experts (0 = none)")
      .range(0, 1e6)
      .default_value(0.0);
  g.capacity_factor = cfg.section("capacity", cs).get_float("factor");

  cfg.check_all_consumed();
  if (const auto p = check_generator_spec(g)) fail(cfg, p->key, p->message);
  return g;
}

}  // namespace moesim
