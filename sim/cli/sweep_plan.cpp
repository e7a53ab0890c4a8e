#include "sim/cli/sweep_plan.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "sim/config/config.hpp"
#include "sim/core/error.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/sweep/vars.hpp"

namespace moesim {

namespace fs = std::filesystem;
using namespace sweep;

namespace {

/// Derived model quantities constraints may use.
void add_model_values(const ModelSpec& m, VarTable* vars) {
  const auto put = [vars](const char* name, double v) {
    (*vars)[std::string("model.") + name] = ExprValue{false, v, ""};
  };
  put("expert_bytes", static_cast<double>(m.expert_bytes()));
  put("shared_expert_bytes", static_cast<double>(m.shared_expert_bytes()));
  put("dense_ffn_bytes", static_cast<double>(m.dense_ffn_bytes()));
  put("attention_bytes", static_cast<double>(m.attention_bytes()));
  put("router_bytes", static_cast<double>(m.router_bytes()));
  put("total_weight_bytes", static_cast<double>(m.total_weight_bytes()));
  put("moe_layers", static_cast<double>(m.moe_layers()));
}

/// The variables of a loaded, validated config.
VarTable vars_of(Config& cfg, const RunSpec& rs) {
  VarTable vars = flatten_toml(cfg.effective_toml());
  add_model_values(rs.model, &vars);
  return vars;
}

/// A location `offset` characters into a one-line string value that starts at `loc`.
SourceLoc offset_loc(SourceLoc loc, size_t offset) {
  if (loc.line > 0 && loc.column > 0) loc.column += static_cast<int>(offset) + 1;
  return loc;
}

/// Checks [set] and axis keys against the base config's keys, parses the constraints and
/// checks their names and types on the first point. Returns the base's effective config.
std::string check_against_base(SweepPlan& plan) {
  SweepSpec& spec = plan.spec;
  std::error_code ec;
  if (!fs::is_regular_file(spec.base, ec)) {
    throw InputError(located_message(spec.base_loc, "sweep.base",
                                     fmt::format("no such config file '{}'", spec.base)));
  }
  Config bare = Config::load(spec.base);
  build_run_spec(bare);
  const VarTable base_keys = flatten_toml(bare.effective_toml());
  std::vector<std::string> key_names;
  for (const auto& [k, v] : base_keys) key_names.push_back(k);
  const auto check_key = [&](const std::string& key, const SourceLoc& loc, const std::string& at) {
    if (base_keys.count(key) != 0) return;
    throw InputError(located_message(
        loc, at,
        fmt::format("'{}' is not a key of {}{}", key, spec.base,
                    did_you_mean(key, key_names).empty()
                        ? std::string()
                        : fmt::format(" (did you mean '{}'?)", did_you_mean(key, key_names)))));
  };
  for (size_t i = 0; i < spec.sets.size(); ++i) {
    check_key(spec.sets[i].first, spec.set_locs[i], "set." + spec.sets[i].first);
  }
  for (const Axis& a : spec.axes) check_key(a.key, a.key_loc, "axis." + a.name + ".key");

  std::vector<std::string> set_args;
  for (const auto& [k, v] : spec.sets) set_args.push_back(k + "=" + v);
  std::optional<Config> loaded;
  std::optional<RunSpec> rs;
  try {
    loaded.emplace(Config::load(spec.base, set_args));
    rs.emplace(build_run_spec(*loaded));
  } catch (const InputError& e) {
    // Point at the [set] value the message names ("--set key: what"), else at [set] itself.
    const std::string msg = e.what();
    for (size_t i = 0; i < spec.sets.size(); ++i) {
      const std::string tag = "--set " + spec.sets[i].first + ": ";
      if (msg.rfind(tag, 0) == 0) {
        throw InputError(
            located_message(spec.set_locs[i], "set." + spec.sets[i].first, msg.substr(tag.size())));
      }
    }
    throw InputError(
        located_message(spec.set_locs.empty() ? SourceLoc{spec.path, 0, 0} : spec.set_locs.front(),
                        "set", fmt::format("makes the base config invalid ({})", msg)));
  }
  Config& cfg = *loaded;
  VarTable vars = vars_of(cfg, *rs);
  add_axis_values(spec, std::vector<size_t>(spec.axes.size(), 0), &vars);
  std::vector<std::string> names;
  for (const auto& [k, v] : vars) names.push_back(k);
  for (const NamedText& c : spec.constraints) {
    const std::string at = "constraints." + c.name;
    try {
      Expr e = Expr::parse(c.text);
      for (const auto& [name, offset] : e.names()) {
        if (vars.count(name) != 0) continue;
        const std::string hint = did_you_mean(name, names);
        throw ExprError{offset, fmt::format("unknown name '{}'{}", name,
                                            hint.empty() ? "" : " (did you mean '" + hint + "'?)")};
      }
      e.holds(resolver_of(vars));
      plan.constraints.push_back(std::move(e));
    } catch (const ExprError& err) {
      throw InputError(located_message(offset_loc(c.loc, err.offset), at, err.message));
    }
  }
  return cfg.effective_toml();
}

}  // namespace

SweepPlan make_sweep_plan(const std::string& spec_path, std::optional<double> timeout_s) {
  SweepPlan plan{load_sweep_spec(spec_path), "", {}, {}, {}, {}, {}};
  SweepSpec& spec = plan.spec;
  if (timeout_s) spec.timeout_s = *timeout_s;
  const std::string base_effective = check_against_base(plan);
  plan.hash = hash_text(spec.effective_points_text() + "\n" + base_effective);
  for (const Axis& a : spec.axes) plan.cols.axes.push_back(a.name);
  plan.cols.summary = summary_columns();
  for (const NamedText& m : spec.metrics) {
    plan.cols.metrics.push_back(m.name);
    plan.metric_stats.push_back(m.text);
  }
  plan.points = enumerate_points(spec);
  for (const Point& p : plan.points) {
    std::string why;
    try {
      Config cfg = Config::load(spec.base, point_overrides(spec, p));
      const RunSpec rs = build_run_spec(cfg);
      VarTable vars = vars_of(cfg, rs);
      add_axis_values(spec, p.choice, &vars);
      for (size_t i = 0; i < plan.constraints.size() && why.empty(); ++i) {
        try {
          if (!plan.constraints[i].holds(resolver_of(vars))) {
            why = fmt::format("constraint '{}' does not hold ({})", spec.constraints[i].name,
                              spec.constraints[i].text);
          }
        } catch (const ExprError& e) {
          why = fmt::format("constraint '{}': {}", spec.constraints[i].name, e.message);
        }
      }
    } catch (const InputError& e) {
      why = fmt::format("invalid config: {}", e.what());
    }
    plan.skip.push_back(why);
  }
  return plan;
}

std::vector<std::pair<std::string, JsonValue>> params_of(const SweepSpec& spec, const Point& p) {
  std::vector<std::pair<std::string, JsonValue>> out;
  for (size_t a = 0; a < spec.axes.size(); ++a) {
    const AxisValue& v = spec.axes[a].values[p.choice[a]];
    JsonValue j;
    if (v.kind == AxisValue::Kind::kInt || v.kind == AxisValue::Kind::kFloat) {
      j = JsonValue::number(v.text);
    } else if (v.kind == AxisValue::Kind::kBool) {
      j.kind = JsonValue::Kind::kBool;
      j.text = v.text;
    } else {
      j = JsonValue::string(v.text);
    }
    out.emplace_back(spec.axes[a].name, j);
  }
  return out;
}

}  // namespace moesim
