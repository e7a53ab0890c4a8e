// The configurable generator. Each token's experts come from an exponential race over the
// candidates (routed experts plus null and zero-computation experts): candidate c arrives
// at T_c ~ Exp(rate_c) and the gate weight of a chosen candidate is T_c^(-1/temperature),
// normalised over the chosen ones. Top-k takes the first k arrivals (O(k) by alias draws
// plus the race's memoryless increments); top-p, group-limited and expert-choice routing
// sample every candidate's time.

#include "workloads/trace/gen_trace.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_map>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "workloads/trace/gen_calibrate.hpp"
#include "workloads/trace/gen_rng.hpp"
#include "workloads/trace/gen_serving.hpp"
#include "workloads/trace/routing/routing_rule.hpp"

namespace moesim {

namespace {

using G = GeneratorSpec;

/// Mapped position of model layer `l` on the measured model's depth.
double data_position(const G& s, uint32_t l) {
  if (s.layer_map == G::LayerMap::kAbsolute) return l;
  if (s.layers == 1) return 0;
  return static_cast<double>(l) * (s.data.model_layers - 1) / (s.layers - 1);
}

std::vector<double> normalised(const std::vector<double>& c) {
  double total = 0;
  for (double x : c) total += x;
  std::vector<double> q(c.size(), 1.0 / static_cast<double>(c.size()));
  if (total > 0) {
    for (size_t i = 0; i < c.size(); ++i) q[i] = c[i] / total;
  }
  return q;
}

std::vector<double> target_of(const G& s, uint32_t l) {
  const RoutingData& d = s.data;
  const double x = data_position(s, l);
  const size_t n = d.layers.size();
  if (s.fill == G::Fill::kNearest || n == 1 || x <= d.layers.front() || x >= d.layers.back()) {
    size_t best = 0;
    for (size_t i = 1; i < n; ++i) {
      if (std::fabs(d.layers[i] - x) < std::fabs(d.layers[best] - x)) best = i;
    }
    return normalised(d.counts[best]);
  }
  size_t i = 0;
  while (d.layers[i + 1] < x) ++i;
  const double f = (x - d.layers[i]) / (d.layers[i + 1] - d.layers[i]);
  const auto a = normalised(d.counts[i]), b = normalised(d.counts[i + 1]);
  std::vector<double> q(a.size());
  for (size_t e = 0; e < a.size(); ++e) q[e] = (1 - f) * a[e] + f * b[e];
  return q;
}

/// Index of the measured transition used from model layer `l` to l+1: the pair whose
/// segment holds l's mapped position (the first pair before it, the last pair after it).
size_t transition_of(const G& s, uint32_t l) {
  const double x = data_position(s, l);
  size_t i = 0;
  while (i + 1 < s.data.transitions.size() && s.data.layers[i + 1] <= x) ++i;
  return i;
}

/// Per-layer popularity of the routed experts; consumes `rng` for Zipf permutations.
std::vector<std::vector<double>> popularity(const G& s, Rng& rng) {
  std::vector<std::vector<double>> pop(s.layers);
  if (s.popularity == G::Popularity::kCalibrated) {
    std::map<std::vector<double>, std::vector<double>> cache;
    for (uint32_t l = 0; l < s.layers; ++l) {
      std::vector<double> q = target_of(s, l);
      // A tiny floor keeps experts never seen in the sample selectable (and the race finite).
      for (double& x : q) x += 1e-9;
      q = normalised(q);
      auto it = cache.find(q);
      if (it == cache.end()) {
        it = cache.emplace(q, s.calibrate_topk ? calibrate_inclusion(q, s.top_k) : q).first;
      }
      pop[l] = it->second;
    }
    return pop;
  }
  std::vector<double> by_rank(s.experts, 1.0);
  if (s.popularity == G::Popularity::kZipf) {
    for (uint32_t r = 0; r < s.experts; ++r) by_rank[r] = std::pow(r + 1.0, -s.zipf_s);
  }
  by_rank = normalised(by_rank);
  std::vector<uint32_t> perm(s.experts);
  for (uint32_t l = 0; l < s.layers; ++l) {
    pop[l].resize(s.experts);
    if (s.popularity == G::Popularity::kUniform) {
      pop[l] = by_rank;
      continue;
    }
    std::iota(perm.begin(), perm.end(), 0u);
    for (uint32_t i = s.experts - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(i + 1)]);
    for (uint32_t r = 0; r < s.experts; ++r) pop[l][perm[r]] = by_rank[r];
  }
  return pop;
}

/// Shortest text of a number (integers exactly).
template <class T>
std::string num(T v) {
  return fmt::format("{}", v);
}

const char* length_kind(LengthDist::Kind k) {
  switch (k) {
    case LengthDist::Kind::kFixed:
      return "fixed";
    case LengthDist::Kind::kUniform:
      return "uniform";
    case LengthDist::Kind::kLognormal:
      return "lognormal";
  }
  return "";
}

void describe_length(std::map<std::string, std::string>& x, const std::string& key,
                     const LengthDist& d) {
  x[key + ".dist"] = length_kind(d.kind);
  if (d.kind == LengthDist::Kind::kFixed) {
    x[key + ".tokens"] = num(d.tokens);
    return;
  }
  x[key + ".min"] = num(d.min);
  x[key + ".max"] = num(d.max);
  if (d.kind == LengthDist::Kind::kLognormal) {
    x[key + ".median"] = num(d.median);
    x[key + ".sigma"] = num(d.sigma);
  }
}

/// Every parameter of `s`, as metadata.
std::map<std::string, std::string> describe(const G& s) {
  std::map<std::string, std::string> x;
  x["generator"] = "moesim-gen";
  x["seed"] = num(s.seed);
  switch (s.mode) {
    case G::Mode::kDecode:
      x["mode"] = "decode";
      x["decode.batch"] = num(s.batch);
      x["decode.steps"] = num(s.steps);
      x["decode.context"] = num(s.context);
      break;
    case G::Mode::kPrefill:
      x["mode"] = "prefill";
      x["prefill.batch"] = num(s.batch);
      x["prefill.steps"] = num(s.steps);
      x["prefill.prompt_tokens"] = num(s.prompt_tokens);
      break;
    case G::Mode::kServing: {
      const ServingSpec& v = s.serving;
      x["mode"] = "serving";
      x["serving.requests"] = num(v.requests);
      x["serving.arrival_rate"] = num(v.arrival_rate);
      x["serving.step_time_s"] = num(v.step_time_s);
      x["serving.max_tokens"] = num(v.max_tokens);
      x["serving.max_requests"] = num(v.max_requests);
      x["serving.chunked_prefill"] = v.chunked_prefill ? "true" : "false";
      describe_length(x, "serving.prompt", v.prompt);
      describe_length(x, "serving.output", v.output);
      break;
    }
  }
  const char* pops[] = {"uniform", "zipf", "calibrated"};
  x["popularity"] = pops[static_cast<int>(s.popularity)];
  if (s.popularity == G::Popularity::kZipf) x["popularity.zipf_s"] = num(s.zipf_s);
  if (s.popularity == G::Popularity::kCalibrated) {
    x["popularity.selection"] = s.calibrate_topk ? "topk" : "top1";
  }
  if (s.popularity == G::Popularity::kCalibrated || s.affinity == G::Affinity::kCalibrated) {
    x["data"] = s.data.source;
    x["data.layer_map"] = s.layer_map == G::LayerMap::kRelative ? "relative" : "absolute";
    x["data.fill"] = s.fill == G::Fill::kNearest ? "nearest" : "interpolate";
  }
  x["locality.reuse"] = num(s.reuse);
  const char* affs[] = {"none", "calibrated", "permutation"};
  x["affinity"] = affs[static_cast<int>(s.affinity)];
  if (s.affinity != G::Affinity::kNone) x["affinity.strength"] = num(s.affinity_strength);
  if (s.affinity == G::Affinity::kPermutation) {
    x["affinity.permutation"] = s.identity_permutation ? "identity" : "random";
  }
  x["routing"] = routing_name(s.routing);
  x["routing.gate_temperature"] = num(s.gate_temperature);
  switch (s.routing) {
    case G::Routing::kTopP:
      x["routing.top_p"] = num(s.top_p);
      x["routing.min_k"] = num(s.min_k);
      x["routing.max_k"] = num(s.max_k);
      break;
    case G::Routing::kExpertChoice:
      x["routing.capacity_factor"] = num(s.ec_capacity_factor);
      break;
    case G::Routing::kGrouped:
      x["routing.n_groups"] = num(s.n_groups);
      x["routing.top_groups"] = num(s.top_groups);
      x["routing.group_score"] = s.group_top2_sum ? "top2_sum" : "max";
      break;
    case G::Routing::kTopK:
      break;
  }
  if (s.null_experts > 0) {
    x["special.null_experts"] = num(s.null_experts);
    x["special.null_rate"] = num(s.null_rate);
  }
  if (s.zero_rate > 0) x["special.zero_rate"] = num(s.zero_rate);
  if (s.copy_rate > 0) x["special.copy_rate"] = num(s.copy_rate);
  if (s.const_rate > 0) x["special.const_rate"] = num(s.const_rate);
  x["capacity.factor"] = num(s.capacity_factor);
  return x;
}

class GeneratedTrace final : public TraceReader {
 public:
  GeneratedTrace(const G& spec, uint64_t dropped_routes)
      : m_s(spec),
        m_race(m_s),
        m_rule(make_routing_rule(spec)),
        m_serving(spec.serving, spec.seed ^ 0x5e5e5e5e5e5e5e5eull) {
    m_meta.model = spec.model;
    m_meta.layers = spec.layers;
    m_meta.experts = spec.experts;
    m_meta.top_k = spec.top_k;
    m_meta.source = "synthetic";
    m_meta.extra = describe(spec);
    if (spec.capacity_factor > 0) m_meta.extra["dropped_routes"] = num(dropped_routes);

    // Candidates: routed experts, null slots, then zero, copy, constant.
    const double special = spec.null_rate + spec.zero_rate + spec.copy_rate + spec.const_rate;
    std::vector<double> special_rate;
    for (uint32_t i = 0; i < spec.null_experts; ++i) {
      m_ids.push_back(kNullExpert);
      special_rate.push_back(spec.null_rate / spec.null_experts);
    }
    const std::pair<int32_t, double> kinds[] = {{kZeroExpert, spec.zero_rate},
                                                {kCopyExpert, spec.copy_rate},
                                                {kConstantExpert, spec.const_rate}};
    for (const auto& [id, rate] : kinds) {
      if (rate > 0) {
        m_ids.push_back(id);
        special_rate.push_back(rate);
      }
    }
    m_ids.insert(m_ids.begin(), spec.experts, 0);
    for (uint32_t e = 0; e < spec.experts; ++e) m_ids[e] = static_cast<int32_t>(e);
    m_race.cands = static_cast<uint32_t>(m_ids.size());

    const auto pop = popularity(spec, m_race.rng);
    m_race.rate.resize(spec.layers);
    m_race.table.resize(spec.layers);
    for (uint32_t l = 0; l < spec.layers; ++l) {
      m_race.rate[l].resize(m_race.cands);
      for (uint32_t e = 0; e < spec.experts; ++e) m_race.rate[l][e] = pop[l][e] * (1 - special);
      for (uint32_t c = spec.experts; c < m_race.cands; ++c)
        m_race.rate[l][c] = special_rate[c - spec.experts];
      m_race.table[l].build(m_race.rate[l]);
    }
    if (spec.affinity == G::Affinity::kCalibrated) {
      const uint32_t E = spec.experts;
      m_rows.resize(spec.data.transitions.size());
      for (size_t i = 0; i < m_rows.size(); ++i) {
        m_rows[i].resize(E);
        for (uint32_t a = 0; a < E; ++a) {
          std::vector<double> row(spec.data.transitions[i].begin() + a * E,
                                  spec.data.transitions[i].begin() + (a + 1) * E);
          double total = 0;
          for (double x : row) total += x;
          if (total > 0) m_rows[i][a].build(normalised(row));  // else: popularity fallback
        }
      }
      for (uint32_t l = 0; l + 1 < spec.layers; ++l) m_row_of.push_back(transition_of(spec, l));
    }
    if (spec.affinity == G::Affinity::kPermutation) {
      m_perm.resize(spec.layers > 0 ? spec.layers - 1 : 0);
      for (auto& p : m_perm) {
        p.resize(spec.experts);
        std::iota(p.begin(), p.end(), 0u);
        if (spec.identity_permutation) continue;
        for (uint32_t i = spec.experts - 1; i > 0; --i) std::swap(p[i], p[m_race.rng.below(i + 1)]);
      }
    }
    m_race.max_sel = m_rule->max_selected(spec, m_race.cands);
    m_race.mark.assign(m_race.cands, 0);
    m_race.time.resize(m_race.cands);
    m_race.order.resize(m_race.cands);
  }

  const TraceMeta& meta() const override { return m_meta; }

  /// Routes dropped so far by the capacity limit.
  uint64_t dropped() const { return m_dropped; }

  bool next(TraceStep& step) override {
    step.clear();
    if (!make_tokens(step)) return false;
    step.layers = m_s.layers;
    const uint32_t T = step.num_tokens();
    m_top1.assign(T, -1);
    const size_t routes = static_cast<size_t>(T) * m_s.layers * m_race.max_sel;
    step.offsets.reserve(static_cast<size_t>(T) * m_s.layers + 1);
    step.experts.reserve(routes);
    step.weights.reserve(routes);
    m_race.sel.reserve(static_cast<size_t>(T) * m_race.max_sel);
    m_race.sel_w.reserve(static_cast<size_t>(T) * m_race.max_sel);
    m_race.sel_off.reserve(T + 1);
    step.offsets.push_back(0);
    for (uint32_t l = 0; l < m_s.layers; ++l) {
      m_race.sel_off.assign(1, 0);
      m_race.sel.clear();
      m_race.sel_w.clear();
      if (!m_rule->token_choice()) {
        m_rule->route_layer(m_race, l, T);
      } else {
        for (uint32_t t = 0; t < T; ++t) {
          route_token(l, t, step.tokens[t].request);
          m_race.sel_off.push_back(static_cast<uint32_t>(m_race.sel.size()));
        }
      }
      if (m_s.capacity_factor > 0) apply_capacity(T);
      for (uint32_t t = 0; t < T; ++t) {
        for (uint32_t i = m_race.sel_off[t]; i < m_race.sel_off[t + 1]; ++i) {
          if (m_race.sel[i] < 0) continue;  // dropped
          step.experts.push_back(m_ids[m_race.sel[i]]);
          step.weights.push_back(static_cast<float>(m_race.sel_w[i]));
        }
        step.offsets.push_back(static_cast<uint32_t>(step.experts.size()));
      }
    }
    for (uint32_t r : m_finished) m_prev.erase(r);
    return true;
  }

 private:
  /// Fills the step's index and tokens from the request stream; false at the end.
  bool make_tokens(TraceStep& step) {
    m_finished.clear();
    switch (m_s.mode) {
      case G::Mode::kDecode: {
        if (m_step == m_s.steps) return false;
        const uint32_t pos = m_s.context + static_cast<uint32_t>(m_step);
        for (uint32_t b = 0; b < m_s.batch; ++b) step.tokens.push_back(TraceToken{b, pos});
        step.index = m_step++;
        return true;
      }
      case G::Mode::kPrefill: {
        if (m_step == m_s.steps) return false;
        m_prev.clear();
        const uint32_t first = static_cast<uint32_t>(m_step * m_s.batch);
        for (uint32_t b = 0; b < m_s.batch; ++b) {
          for (uint32_t p = 0; p < m_s.prompt_tokens; ++p)
            step.tokens.push_back(TraceToken{first + b, p});
        }
        step.index = m_step++;
        return true;
      }
      case G::Mode::kServing:
        return m_serving.next(step.index, step.tokens, m_finished);
    }
    return false;
  }

  /// The previous token's choices of `request` at layer `l`: [count, c0, c1, ...].
  int32_t* prev_slot(uint32_t request, uint32_t l) {
    auto& v = m_prev[request];
    if (v.empty()) v.assign(static_cast<size_t>(m_s.layers) * (m_race.max_sel + 1), 0);
    return &v[static_cast<size_t>(l) * (m_race.max_sel + 1)];
  }

  /// Decides the candidates forced first (reuse, affinity) and excluded (reuse) for one
  /// token; marks both with the current stamp.
  void constrain(uint32_t l, uint32_t t, uint32_t request) {
    m_race.forced.clear();
    m_race.excluded.clear();
    ++m_race.stamp;
    if (m_s.reuse > 0) {
      int32_t* prev = prev_slot(request, l);
      for (int32_t i = 0; i < prev[0]; ++i) {
        (m_race.rng.chance(m_s.reuse) ? m_race.forced : m_race.excluded)
            .push_back(static_cast<uint32_t>(prev[1 + i]));
      }
      // Too few candidates left to fill k: allow the dropped ones again.
      if (m_race.cands - m_race.excluded.size() < m_s.top_k) m_race.excluded.clear();
    } else if (m_s.affinity != G::Affinity::kNone && l > 0 && m_top1[t] >= 0) {
      if (m_race.rng.chance(m_s.affinity_strength)) {
        const uint32_t from = static_cast<uint32_t>(m_top1[t]);
        if (m_s.affinity == G::Affinity::kPermutation) {
          m_race.forced.push_back(m_perm[l - 1][from]);
        } else {
          const AliasTable& row = m_rows[m_row_of[l - 1]][from];
          m_race.forced.push_back(row.prob.empty() ? m_race.table[l].draw(m_race.rng)
                                                   : row.draw(m_race.rng));
          // The popularity fallback may draw a special candidate; that is a fresh draw.
        }
      }
    }
    for (uint32_t c : m_race.forced) m_race.mark[c] = m_race.stamp;
    for (uint32_t c : m_race.excluded) m_race.mark[c] = m_race.stamp;
  }

  void route_token(uint32_t l, uint32_t t, uint32_t request) {
    constrain(l, t, request);
    const size_t first = m_race.sel.size();
    m_rule->choose(m_race, l);
    // Normalise the weights over the chosen candidates.
    double total = 0;
    for (size_t i = first; i < m_race.sel.size(); ++i) total += m_race.sel_w[i];
    for (size_t i = first; i < m_race.sel.size(); ++i) m_race.sel_w[i] /= total;
    m_top1[t] = m_race.sel.size() > first && m_race.sel[first] < static_cast<int32_t>(m_s.experts)
                    ? m_race.sel[first]
                    : -1;
    if (m_s.reuse > 0) {
      int32_t* prev = prev_slot(request, l);
      prev[0] = static_cast<int32_t>(m_race.sel.size() - first);
      for (size_t i = first; i < m_race.sel.size(); ++i) prev[1 + i - first] = m_race.sel[i];
    }
  }

  /// Drops the routes beyond each expert's capacity: routes are admitted by rank (every
  /// token's first choice, then every token's second choice, ...), tokens in step order.
  void apply_capacity(uint32_t T) {
    const double c = std::floor(m_s.capacity_factor * T * m_s.top_k / m_s.experts);
    const uint32_t cap = static_cast<uint32_t>(std::max(1.0, c));
    m_load.assign(m_s.experts, 0);
    for (uint32_t rank = 0;; ++rank) {
      bool any = false;
      for (uint32_t t = 0; t < T; ++t) {
        const uint32_t i = m_race.sel_off[t] + rank;
        if (i >= m_race.sel_off[t + 1]) continue;
        any = true;
        const int32_t cand = m_race.sel[i];
        if (cand >= static_cast<int32_t>(m_s.experts)) continue;  // special: no capacity
        if (m_load[cand] < cap) {
          ++m_load[cand];
        } else {
          m_race.sel[i] = -1;
          ++m_dropped;
        }
      }
      if (!any) break;
    }
  }

  G m_s;
  RaceState m_race;  // the rule's view: rng, rates, marks, selections (refers to m_s)
  std::unique_ptr<RoutingRule> m_rule;
  TraceMeta m_meta;
  ServingScheduler m_serving;
  std::vector<uint32_t> m_finished;
  uint64_t m_step = 0;
  std::vector<int32_t> m_ids;                   // candidate -> trace expert id
  std::vector<std::vector<AliasTable>> m_rows;  // calibrated affinity: [pair][from expert]
  std::vector<size_t> m_row_of;                 // [layer l]: pair used for l -> l+1
  std::vector<std::vector<uint32_t>> m_perm;    // permutation affinity: [layer l] for l -> l+1
  std::unordered_map<uint32_t, std::vector<int32_t>> m_prev;  // reuse: request -> choices
  std::vector<int32_t> m_top1;                                // per token: top-1 of last layer
  std::vector<uint32_t> m_load;
  uint64_t m_dropped = 0;
};

void check_or_throw(const G& spec) {
  if (const auto p = check_generator_spec(spec)) {
    throw InputError(fmt::format("trace generator: {}: {}", p->key, p->message));
  }
}

}  // namespace

std::unique_ptr<TraceReader> make_generated_trace(const GeneratorSpec& spec) {
  check_or_throw(spec);
  uint64_t dropped = 0;
  if (spec.capacity_factor > 0) {
    GeneratedTrace pass(spec, 0);
    TraceStep step;
    while (pass.next(step)) {
    }
    dropped = pass.dropped();
  }
  return std::make_unique<GeneratedTrace>(spec, dropped);
}

std::vector<std::vector<double>> generator_popularity(const GeneratorSpec& spec) {
  check_or_throw(spec);
  Rng rng(spec.seed);
  return popularity(spec, rng);
}

std::vector<double> calibration_target(const GeneratorSpec& spec, uint32_t layer) {
  return target_of(spec, layer);
}

}  // namespace moesim
