/// `moesim place`: computes an expert placement from a trace without simulating, and reports
/// what it does to the load balance and the traffic between chips and nodes.

#include "sim/cli/cmd_place.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "sim/cli/cli_util.hpp"
#include "sim/core/error.hpp"
#include "sim/core/json_text.hpp"
#include "sim/core/registry.hpp"
#include "sim/engine/placement/placement_inputs.hpp"
#include "sim/output/atomic_file.hpp"
#include "sim/plan/placement.hpp"

namespace moesim {
namespace {

constexpr const char* kPlaceHelp =
    R"(usage: moesim place TRACE --chips N [--nodes M] --policy P [--replicas R] [--groups G]
                    [--counts FILE] [--table FILE] [--locality] [--max-steps S]
                    [--out TABLE] [--eval TRACE2] [--json OUT]

Computes an expert placement for one expert-parallel group of N chips from TRACE's expert
loads (routed token copies per MoE layer and expert, a first pass over the trace) without
simulating, then routes TRACE's tokens over it (or TRACE2's with --eval: an out-of-sample
measurement) and reports, per MoE layer and overall:
  peak/avg        max over chips / mean over chips of routed token copies (whole trace)
  step peak/avg   the same per step, averaged over the steps
  leave chip      routed copies whose expert runs on another chip than the token's
  leave node      routed copies whose expert runs in another node
  hops/token      link hops per token and MoE layer: one message per destination chip (as
                  DeepEP sends it), 1 hop inside the node, 2 to another node (via its NIC)
  cross trans     pairs (a token's copy at this layer, its copy at the next) on two chips:
                  what an ExFlow-style execution, where a token follows its expert, sends
A token's attention runs on chip request mod N (data-parallel attention), its copies go to a
replica chosen as the simulation does (the least-loaded replica so far in the step and
layer, or with --locality its own chip, then its node, then the least-loaded).

  --chips N       chips of the expert-parallel group (divides the experts)
  --nodes M       nodes the chips form (divides N; default 1)
  --policy P      a placement policy (moesim list: Placement policies)
  --replicas R    physical slots per layer (>= experts, a multiple of N; load-driven
                  policies; default: one per expert)
  --groups G      expert groups (eplb_hierarchical; default 1)
  --counts FILE   expert loads from a CSV layer,expert,count instead of TRACE
  --table FILE    the table of --policy table (EPLB JSON or CSV layer,expert,chip)
  --locality      route to the nearest replica first
  --max-steps S   read at most S steps of each trace (default: all)
  --out TABLE     write the placement in EPLB's JSON form (phy2log, log2phy, logcnt)
  --eval TRACE2   measure on TRACE2 (same layers and experts)
  --json OUT      also write the report as JSON
Outputs are written to temporary files and renamed, only when everything succeeded.
)";

struct Options {
  std::string trace;
  uint32_t chips = 0;
  uint32_t nodes = 1;
  std::string policy;
  std::map<std::string, ParamValue> given;  // policy parameters from the options
  std::map<std::string, std::string> flag_of;
  uint64_t max_steps = 0;
  std::optional<std::string> out, eval, json;
};

constexpr const char* kCmd = "place";

Options parse(const std::vector<std::string>& args) {
  Options o;
  const std::vector<std::string> known = {"--chips",  "--nodes",  "--policy", "--replicas",
                                          "--groups", "--counts", "--table",  "--locality",
                                          "--out",    "--eval",   "--json",   "--max-steps"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) {
      if (!o.trace.empty()) usage_error(kCmd, fmt::format("unexpected argument '{}'", a));
      o.trace = a;
      continue;
    }
    if (std::find(known.begin(), known.end(), a) == known.end()) unknown_option(kCmd, a, known);
    if (a == "--locality") {
      o.given["locality"] = true;
      o.flag_of["locality"] = a;
      continue;
    }
    if (i + 1 >= args.size()) usage_error(kCmd, fmt::format("{} expects a value", a));
    const std::string& v = args[++i];
    auto count = [&](uint64_t lo) {
      const uint64_t x = parse_u64(kCmd, a, v);
      if (x < lo || x > (1u << 24)) {
        usage_error(kCmd,
                    fmt::format("{} expects an integer in [{}, {}], got {}", a, lo, 1u << 24, x));
      }
      return static_cast<uint32_t>(x);
    };
    if (a == "--chips") o.chips = count(1);
    if (a == "--nodes") o.nodes = count(1);
    if (a == "--policy") o.policy = v;
    if (a == "--max-steps") o.max_steps = parse_u64(kCmd, a, v);
    if (a == "--out") o.out = v;
    if (a == "--eval") o.eval = v;
    if (a == "--json") o.json = v;
    auto param = [&](const char* name, ParamValue x) {
      o.given[name] = std::move(x);
      o.flag_of[name] = a;
    };
    if (a == "--replicas") param("replicas", int64_t{count(1)});
    if (a == "--groups") param("groups", int64_t{count(1)});
    if (a == "--counts") param("counts", v);
    if (a == "--table") param("path", v);
  }
  if (o.trace.empty()) usage_error(kCmd, "missing TRACE");
  if (o.chips == 0) usage_error(kCmd, "missing --chips N");
  if (o.policy.empty()) usage_error(kCmd, "missing --policy P");
  if (o.chips % o.nodes != 0) {
    usage_error(kCmd, fmt::format("--nodes {} does not divide --chips {}", o.nodes, o.chips));
  }
  return o;
}

/// Per-layer measurements of one placement on one trace.
struct Metrics {
  uint32_t layers = 0, chips = 0;
  uint64_t steps = 0, tokens = 0;
  std::vector<uint64_t> routed;    // [layer * chips + chip]
  std::vector<double> step_ratio;  // [layer]: sum over steps of per-step peak/avg
  std::vector<uint64_t> copies, leave_chip, leave_node, hops;  // [layer]
  std::vector<uint64_t> tokens_in;  // [layer]: tokens with at least one routed copy
  /// [layer]: pairs (copy at layer, copy at layer + 1) of a token, and those on two chips.
  std::vector<uint64_t> transitions, cross;
};

Metrics measure(TraceReader& reader, const Placement& p, uint32_t cpn, bool locality,
                uint64_t max_steps) {
  Metrics m;
  m.layers = p.layers;
  m.chips = p.chips;
  const uint32_t n = p.chips;
  m.routed.assign(size_t{p.layers} * n, 0);
  m.step_ratio.assign(p.layers, 0);
  m.copies.assign(p.layers, 0);
  m.leave_chip = m.leave_node = m.hops = m.tokens_in = m.transitions = m.cross = m.copies;
  std::vector<std::vector<uint32_t>> prev, cur;  // per token: chips of its copies at l - 1, l
  ReplicaRouter router(&p, 1, locality, cpn);
  std::vector<uint64_t> step_routed(size_t{p.layers} * n);
  std::vector<uint64_t> seen(n, 0);
  uint64_t stamp = 0;
  TraceStep step;
  while ((max_steps == 0 || m.steps < max_steps) && reader.next(step)) {
    ++m.steps;
    router.new_step();
    std::fill(step_routed.begin(), step_routed.end(), 0);
    const uint32_t t = step.num_tokens();
    m.tokens += t;
    prev.assign(t, {});
    cur.assign(t, {});
    for (uint32_t l = 0; l < p.layers; ++l) {
      for (uint32_t i = 0; i < t; ++i) {
        const uint32_t src = step.tokens[i].request % n;
        ++stamp;
        bool any = false;
        cur[i].clear();
        for (uint32_t r = step.route_begin(l, i); r < step.route_end(l, i); ++r) {
          const int32_t e = step.experts[r];
          if (e < 0) continue;
          any = true;
          const uint32_t d = router.route(0, l, static_cast<uint32_t>(e), src);
          ++step_routed[size_t{l} * n + d];
          cur[i].push_back(d);
          if (l > 0) {
            m.transitions[l - 1] += prev[i].size();
            for (uint32_t c : prev[i]) m.cross[l - 1] += c != d;
          }
          ++m.copies[l];
          if (d == src) continue;
          ++m.leave_chip[l];
          const bool other_node = d / cpn != src / cpn;
          if (other_node) ++m.leave_node[l];
          if (seen[d] != stamp) {
            seen[d] = stamp;
            m.hops[l] += other_node ? 2 : 1;
          }
        }
        if (any) ++m.tokens_in[l];
      }
      std::swap(prev, cur);
      uint64_t mx = 0, sum = 0;
      for (uint32_t c = 0; c < n; ++c) {
        const uint64_t x = step_routed[size_t{l} * n + c];
        m.routed[size_t{l} * n + c] += x;
        mx = std::max(mx, x);
        sum += x;
      }
      m.step_ratio[l] += sum == 0 ? 1.0 : static_cast<double>(mx) * n / static_cast<double>(sum);
    }
  }
  return m;
}

struct Row {
  double peak = 1, step_peak = 1, leave_chip = 0, leave_node = 0, hops = 0;
  double cross = -1;  ///< cross-chip transitions to the next layer (-1: none, the last layer)
};

Row row_of(const Metrics& m, uint32_t first, uint32_t last) {
  Row r;
  uint64_t mx = 0, sum = 0, copies = 0, lc = 0, ln = 0, hops = 0, toks = 0, tr = 0, cr = 0;
  double sr = 0;
  std::vector<uint64_t> per_chip(m.chips, 0);
  for (uint32_t l = first; l < last; ++l) {
    uint64_t lmx = 0, lsum = 0;
    for (uint32_t c = 0; c < m.chips; ++c) {
      const uint64_t x = m.routed[size_t{l} * m.chips + c];
      lmx = std::max(lmx, x);
      lsum += x;
    }
    // Overall: the mean over layers of each layer's ratio (layers run one after another).
    mx += lmx;
    sum += lsum;
    sr += m.steps == 0 ? 1.0 : m.step_ratio[l] / static_cast<double>(m.steps);
    copies += m.copies[l];
    lc += m.leave_chip[l];
    ln += m.leave_node[l];
    hops += m.hops[l];
    toks += m.tokens_in[l];
    if (l + 1 < m.layers) {
      tr += m.transitions[l];
      cr += m.cross[l];
    }
  }
  const double layers = last - first;
  r.peak = sum == 0 ? 1.0 : static_cast<double>(mx) * m.chips / static_cast<double>(sum);
  r.step_peak = sr / layers;
  r.leave_chip = copies == 0 ? 0 : static_cast<double>(lc) / static_cast<double>(copies);
  r.leave_node = copies == 0 ? 0 : static_cast<double>(ln) / static_cast<double>(copies);
  r.hops = toks == 0 ? 0 : static_cast<double>(hops) / static_cast<double>(toks);
  if (first + 1 < m.layers) {
    r.cross = tr == 0 ? 0 : static_cast<double>(cr) / static_cast<double>(tr);
  }
  return r;
}

std::string num(double x) {
  return fmt::format("{:.6g}", x);
}

}  // namespace

int cmd_place(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::fputs(kPlaceHelp, stdout);
    return 0;
  }
  const Options o = parse(args);
  const auto& reg = Registry<PlacementPolicy>::instance();
  const auto* entry = reg.find(o.policy);
  if (entry == nullptr) {
    const std::string hint = did_you_mean(o.policy, reg.names());
    usage_error(kCmd, fmt::format("--policy: unknown policy '{}' (policies: {}){}", o.policy,
                                  fmt::join(reg.names(), ", "),
                                  hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  // The policy's parameters: the options given, else the schema's defaults.
  std::map<std::string, ParamValue> values;
  for (const auto& [name, v] : o.given) {
    if (entry->schema.find(name) == nullptr) {
      usage_error(kCmd,
                  fmt::format("{} does not apply to policy '{}'", o.flag_of.at(name), o.policy));
    }
    values[name] = v;
  }
  for (const ParamSpec& s : entry->schema.params()) {
    if (values.count(s.name) == 0) {
      if (!s.default_val) {
        usage_error(kCmd, fmt::format("policy '{}' needs --table FILE", o.policy));
      }
      values[s.name] = *s.default_val;
    }
  }
  const Params params("place", values);
  const auto policy = entry->create(PlacementPolicy::Args{params});
  const bool locality = values.count("locality") != 0 && std::get<bool>(values["locality"]);

  std::unique_ptr<TraceReader> reader = open_trace(o.trace);
  const TraceMeta meta = reader->meta();
  if (meta.experts % o.chips != 0) {
    usage_error(kCmd, fmt::format("--chips {} does not divide the trace's {} experts", o.chips,
                                  meta.experts));
  }
  const uint32_t slots = policy->slots();
  if (slots != 0 && (slots < meta.experts || slots % o.chips != 0)) {
    usage_error(kCmd, fmt::format("--replicas {}: at least the trace's {} experts and a "
                                  "multiple of --chips {}",
                                  slots, meta.experts, o.chips));
  }
  const uint32_t cpn = o.chips / o.nodes;
  PlacementInput in;
  in.layers = meta.layers;
  in.experts = meta.experts;
  in.chips = o.chips;
  in.chips_per_node = cpn;
  if (policy->needs_load()) {
    const std::string counts = params.get_string("counts");
    in.load = counts.empty() ? count_expert_load(*reader, meta.layers, meta.experts, o.max_steps)
                             : read_expert_load(counts, meta.layers, meta.experts);
  }
  if (policy->needs_transitions()) {
    if (policy->needs_load()) reader = open_trace(o.trace);
    in.transitions = count_expert_transitions(*reader, meta.layers, meta.experts, o.max_steps);
  }
  const Placement p = run_placement(*policy, std::move(in));

  std::unique_ptr<TraceReader> eval = open_trace(o.eval ? *o.eval : o.trace);
  const std::string& eval_path = o.eval ? *o.eval : o.trace;
  if (eval->meta().layers != meta.layers || eval->meta().experts != meta.experts) {
    usage_error(kCmd, fmt::format("--eval {}: {} MoE layers x {} experts, {} has {} x {}",
                                  eval_path, eval->meta().layers, eval->meta().experts, o.trace,
                                  meta.layers, meta.experts));
  }
  const Metrics m = measure(*eval, p, cpn, locality, o.max_steps);

  // Report.
  std::string text = fmt::format(
      "placement {} on {} chips in {} node{}, {} slots per layer ({} per chip), measured on {} "
      "({} steps, {} tokens{})\n",
      o.policy, o.chips, o.nodes, o.nodes == 1 ? "" : "s", p.slots, p.slots / o.chips, eval_path,
      m.steps, m.tokens, o.eval ? ", out of sample" : ", in sample");
  text += fmt::format("{:>7} {:>10} {:>14} {:>11} {:>11} {:>11} {:>11}\n", "layer", "peak/avg",
                      "step peak/avg", "leave chip", "leave node", "hops/token", "cross trans");
  auto line = [&](const std::string& name, const Row& r) {
    text += fmt::format("{:>7} {:>10.3f} {:>14.3f} {:>10.1f}% {:>10.1f}% {:>11.3f} {:>11}\n", name,
                        r.peak, r.step_peak, 100 * r.leave_chip, 100 * r.leave_node, r.hops,
                        r.cross < 0 ? std::string("-") : fmt::format("{:.1f}%", 100 * r.cross));
  };
  std::string jl;
  auto jrow = [&](const Row& r) {
    return fmt::format(
        "\"peak_to_avg\": {}, \"step_peak_to_avg\": {}, \"leave_chip\": {}, \"leave_node\": {}, "
        "\"hops_per_token\": {}, \"cross_chip_transitions\": {}",
        num(r.peak), num(r.step_peak), num(r.leave_chip), num(r.leave_node), num(r.hops),
        r.cross < 0 ? std::string("null") : num(r.cross));
  };
  for (uint32_t l = 0; l < m.layers; ++l) {
    const Row r = row_of(m, l, l + 1);
    line(std::to_string(l), r);
    jl += fmt::format("{}    {{\"layer\": {}, {}}}", l ? ",\n" : "", l, jrow(r));
  }
  const Row all = row_of(m, 0, m.layers);
  line("all", all);
  std::fputs(text.c_str(), stdout);
  if (o.out) write_file_atomic(*o.out, placement_json(p));
  if (o.json) {
    write_file_atomic(
        *o.json, fmt::format("{{\n  \"policy\": {},\n  \"chips\": {},\n  \"nodes\": {},\n  "
                             "\"slots\": {},\n  \"trace\": {},\n  \"eval\": {},\n  \"steps\": "
                             "{},\n  \"tokens\": {},\n  \"overall\": {{{}}},\n  \"layers\": "
                             "[\n{}\n  ]\n}}\n",
                             json_quote(o.policy), o.chips, o.nodes, p.slots, json_quote(o.trace),
                             json_quote(eval_path), m.steps, m.tokens, jrow(all), jl));
  }
  return 0;
}

}  // namespace moesim
