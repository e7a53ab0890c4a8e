// Partial traces at run time: the real layers a trace records, and the readers that drop
// or refill the others (see FORMAT.md, "Partial traces in a run").

#include "workloads/trace/layer_fill.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "workloads/trace/gen_calibrate.hpp"
#include "workloads/trace/gen_rng.hpp"

namespace moesim {

namespace {

struct ModeName {
  UnloggedLayers mode;
  const char* name;
};
constexpr ModeName kModes[] = {{UnloggedLayers::kAsTraced, "as_traced"},
                               {UnloggedLayers::kSkip, "skip"},
                               {UnloggedLayers::kEmpty, "empty"},
                               {UnloggedLayers::kCopyNearest, "copy_nearest"},
                               {UnloggedLayers::kCalibrated, "calibrated"}};

/// Caps shares at `cap` (water-filling: the excess goes to the others in proportion).
std::vector<double> capped(std::vector<double> q, double cap) {
  for (int round = 0; round < 64; ++round) {
    double excess = 0, free = 0;
    for (double x : q) {
      if (x > cap) {
        excess += x - cap;
      } else if (x < cap) {
        free += x;
      }
    }
    if (excess <= 0 || free <= 0) break;
    for (double& x : q) {
      if (x > cap) {
        x = cap;
      } else if (x < cap) {
        x += excess * x / free;
      }
    }
  }
  return q;
}

class LayerFillReader final : public TraceReader {
 public:
  LayerFillReader(std::unique_ptr<TraceReader> inner, std::shared_ptr<const LayerFillPlan> plan)
      : m_inner(std::move(inner)), m_plan(std::move(plan)), m_rng(m_plan->seed) {
    m_meta = m_inner->meta();
    m_meta.extra["layer_fill"] = m_plan->rule();
    m_meta.extra["layer_fill_by"] = "run";
    if (m_plan->mode == UnloggedLayers::kSkip) {
      m_meta.layers = static_cast<uint32_t>(m_plan->real.size());
    }
    if (m_plan->mode == UnloggedLayers::kCalibrated) {
      m_meta.extra["layer_fill_seed"] = std::to_string(m_plan->seed);
      m_tables.resize(m_plan->rates.size());
      for (size_t l = 0; l < m_plan->rates.size(); ++l) {
        if (!m_plan->rates[l].empty()) m_tables[l].build(m_plan->rates[l]);
      }
    }
    m_real.assign(m_plan->layers, false);
    for (uint32_t l : m_plan->real) m_real[l] = true;
    m_taken.assign(m_plan->experts, 0);
  }

  const TraceMeta& meta() const override { return m_meta; }

  bool next(TraceStep& step) override {
    if (!m_inner->next(m_in)) return false;
    if (m_in.layers != m_plan->layers) {
      throw InternalError(fmt::format("step {} has {} layers, the trace {}", m_in.index,
                                      m_in.layers, m_plan->layers));
    }
    const uint32_t n = m_in.num_tokens();
    step.clear();
    step.index = m_in.index;
    step.tokens = m_in.tokens;
    step.offsets.push_back(0);
    const bool skip = m_plan->mode == UnloggedLayers::kSkip;
    step.layers = skip ? static_cast<uint32_t>(m_plan->real.size()) : m_plan->layers;
    for (uint32_t l = 0; l < m_plan->layers; ++l) {
      if (skip && !m_real[l]) continue;
      const bool fill = !m_real[l];
      const uint32_t src = fill ? m_plan->nearest[l] : l;
      for (uint32_t t = 0; t < n; ++t) {
        const uint32_t b = m_in.route_begin(src, t), e = m_in.route_end(src, t);
        if (fill && m_plan->mode == UnloggedLayers::kEmpty) {
          // no routes
        } else if (fill && m_plan->mode == UnloggedLayers::kCalibrated) {
          draw(src, b, e, step);
        } else {
          step.experts.insert(step.experts.end(), m_in.experts.begin() + b,
                              m_in.experts.begin() + e);
          step.weights.insert(step.weights.end(), m_in.weights.begin() + b,
                              m_in.weights.begin() + e);
        }
        step.offsets.push_back(static_cast<uint32_t>(step.experts.size()));
      }
    }
    return true;
  }

 private:
  /// The token's routes [b, e) at real layer `src`, with every routed expert replaced by a
  /// fresh draw (distinct, in draw order) from src's calibrated rates; special experts and
  /// all weights kept.
  void draw(uint32_t src, uint32_t b, uint32_t e, TraceStep& step) {
    const AliasTable& table = m_tables[src];
    const std::vector<double>& rate = m_plan->rates[src];
    m_drawn.clear();
    for (uint32_t i = b; i < e; ++i) {
      int32_t x = m_in.experts[i];
      if (x >= 0) {
        x = static_cast<int32_t>(one_draw(table, rate));
        m_taken[static_cast<size_t>(x)] = 1;
        m_drawn.push_back(static_cast<uint32_t>(x));
      }
      step.experts.push_back(x);
      step.weights.push_back(m_in.weights[i]);
    }
    for (uint32_t x : m_drawn) m_taken[x] = 0;
  }

  /// An expert not yet taken by this token, in proportion to `rate` among those left (the
  /// exponential race's next arrival): alias draws, rejected while taken; after 64 in a row,
  /// an exact draw over the experts left.
  uint32_t one_draw(const AliasTable& table, const std::vector<double>& rate) {
    for (int tries = 0; tries < 64; ++tries) {
      const uint32_t x = table.draw(m_rng);
      if (!m_taken[x]) return x;
    }
    double left = 0;
    for (size_t x = 0; x < rate.size(); ++x) left += m_taken[x] ? 0.0 : rate[x];
    double u = m_rng.uniform() * left;
    uint32_t last = 0;
    for (size_t x = 0; x < rate.size(); ++x) {
      if (m_taken[x]) continue;
      last = static_cast<uint32_t>(x);
      u -= rate[x];
      if (u < 0) return last;
    }
    return last;
  }

  std::unique_ptr<TraceReader> m_inner;
  std::shared_ptr<const LayerFillPlan> m_plan;
  TraceMeta m_meta;
  TraceStep m_in;
  Rng m_rng;
  std::vector<AliasTable> m_tables;
  std::vector<bool> m_real;
  std::vector<uint8_t> m_taken;
  std::vector<uint32_t> m_drawn;
};

}  // namespace

bool parse_unlogged_layers(const std::string& name, UnloggedLayers& out) {
  for (const ModeName& m : kModes) {
    if (name == m.name) {
      out = m.mode;
      return true;
    }
  }
  return false;
}

const char* unlogged_layers_name(UnloggedLayers mode) {
  for (const ModeName& m : kModes) {
    if (m.mode == mode) return m.name;
  }
  return "?";
}

std::vector<std::string> unlogged_layers_names() {
  std::vector<std::string> out;
  for (const ModeName& m : kModes) out.emplace_back(m.name);
  return out;
}

std::vector<uint32_t> trace_real_layers(const TraceMeta& meta, const std::string& path) {
  const auto it = meta.extra.find("real_layers");
  if (it == meta.extra.end()) return {};
  const std::string& text = it->second;
  auto bad = [&](const std::string& what) {
    throw InputError(fmt::format("{}: metadata 'real_layers': {}", path, what));
  };
  std::vector<uint32_t> out;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, comma - at);
    const size_t dash = item.find('-');
    auto num = [&](const std::string& s) {
      if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) {
        bad(fmt::format("expected MoE layers and ranges like 0-3,5, got '{}'", text));
      }
      return static_cast<uint32_t>(std::stoul(s));
    };
    const uint32_t a = num(item.substr(0, dash));
    const uint32_t b = dash == std::string::npos ? a : num(item.substr(dash + 1));
    if (b < a || (!out.empty() && a <= out.back())) {
      bad(fmt::format("layers must ascend without repeats, got '{}'", text));
    }
    if (b >= meta.layers) {
      bad(fmt::format("layer {} out of range (the trace has {} MoE layers)", b, meta.layers));
    }
    for (uint32_t l = a; l <= b; ++l) out.push_back(l);
    at = comma + 1;
  }
  return out;
}

std::string layer_list_text(const std::vector<uint32_t>& v) {
  std::string out;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? std::to_string(v[i]) : fmt::format("{}-{}", v[i], v[j]);
    i = j + 1;
  }
  return out;
}

std::vector<uint32_t> nearest_real_layers(const std::vector<uint32_t>& real, uint32_t layers) {
  std::vector<uint32_t> out(layers, 0);
  for (uint32_t l = 0; l < layers; ++l) {
    uint32_t best = real[0];
    for (uint32_t r : real) {
      const uint32_t d = r > l ? r - l : l - r, bd = best > l ? best - l : l - best;
      if (d < bd) best = r;
    }
    out[l] = best;
  }
  return out;
}

std::string LayerFillPlan::rule() const {
  switch (mode) {
    case UnloggedLayers::kSkip:
      return "skipped";
    case UnloggedLayers::kEmpty:
      return "none";
    case UnloggedLayers::kCopyNearest:
      return "copy-nearest";
    case UnloggedLayers::kCalibrated:
      return "calibrated";
    case UnloggedLayers::kAsTraced:
      break;
  }
  return "as traced";
}

LayerFillPlan plan_layer_fill(UnloggedLayers mode, const TraceMeta& meta,
                              const std::vector<uint32_t>& real, uint64_t seed,
                              TraceReader* calibration, uint64_t max_steps) {
  if (real.empty()) throw InternalError("plan_layer_fill: no real layer");
  LayerFillPlan p;
  p.mode = mode;
  p.layers = meta.layers;
  p.experts = meta.experts;
  p.real = real;
  p.nearest = nearest_real_layers(real, meta.layers);
  // The generator streams of the run are derived from sim.seed; this one has its own tag.
  uint64_t s = seed ^ 0x6c617965725f66ull;  // "layer_f"
  p.seed = splitmix64(s);
  if (mode != UnloggedLayers::kCalibrated) return p;
  if (calibration == nullptr) throw InternalError("plan_layer_fill: no calibration reader");
  std::vector<bool> source(meta.layers, false);
  for (uint32_t l = 0; l < meta.layers; ++l) {
    if (p.nearest[l] != l) source[p.nearest[l]] = true;
  }
  std::vector<std::vector<uint64_t>> counts(meta.layers);
  for (uint32_t l = 0; l < meta.layers; ++l) {
    if (source[l]) counts[l].assign(meta.experts, 0);
  }
  TraceStep step;
  while ((max_steps == 0 || p.calibration_steps < max_steps) && calibration->next(step)) {
    ++p.calibration_steps;
    for (uint32_t l = 0; l < step.layers && l < meta.layers; ++l) {
      if (!source[l]) continue;
      const uint32_t b = step.route_begin(l, 0), e = step.route_end(l, step.num_tokens() - 1);
      for (uint32_t i = b; i < e; ++i) {
        const int32_t x = step.experts[i];
        if (x >= 0 && static_cast<uint32_t>(x) < meta.experts) ++counts[l][x];
      }
    }
  }
  p.load.resize(meta.layers);
  p.rates.resize(meta.layers);
  const uint32_t k = std::max<uint32_t>(1, std::min(meta.top_k, meta.experts));
  for (uint32_t l = 0; l < meta.layers; ++l) {
    if (!source[l]) continue;
    uint64_t total = 0;
    for (uint64_t c : counts[l]) total += c;
    std::vector<double> q(meta.experts, 1.0 / meta.experts);
    if (total > 0) {
      for (uint32_t e = 0; e < meta.experts; ++e) {
        q[e] = static_cast<double>(counts[l][e]) / static_cast<double>(total);
      }
    }
    p.load[l] = q;
    // A tiny floor keeps experts never seen selectable (and the race finite), as the
    // generator does; a share above 1/k (possible when k varies) cannot be a top-k marginal.
    double sum = 0;
    for (double& x : q) sum += (x += 1e-9);
    for (double& x : q) x /= sum;
    q = capped(std::move(q), 1.0 / k);
    p.rates[l] = k > 1 ? calibrate_inclusion(q, k) : q;
  }
  return p;
}

std::unique_ptr<TraceReader> apply_layer_fill(std::unique_ptr<TraceReader> trace,
                                              std::shared_ptr<const LayerFillPlan> plan) {
  if (plan == nullptr || plan->mode == UnloggedLayers::kAsTraced) return trace;
  return std::make_unique<LayerFillReader>(std::move(trace), std::move(plan));
}

}  // namespace moesim
