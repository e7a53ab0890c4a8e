// Streaming routing statistics (definitions in FORMAT.md, "Trace statistics").

#include "workloads/trace/trace_stats.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "workloads/trace/jsonl.hpp"

namespace moesim {

namespace {

constexpr int32_t kNoExpert = -1000;

/// The routed expert with the highest weight among routes [b, e), ties to the lower id;
/// kNoExpert when there is none.
int32_t top1(const TraceStep& s, uint32_t b, uint32_t e) {
  int32_t best = kNoExpert;
  float best_w = 0;
  for (uint32_t i = b; i < e; ++i) {
    const int32_t x = s.experts[i];
    if (x < 0) continue;
    const float w = s.weights[i];
    if (best == kNoExpert || w > best_w || (w == best_w && x < best)) {
      best = x;
      best_w = w;
    }
  }
  return best;
}

/// Load statistics of one layer's per-expert counts.
LoadStats load_stats(const uint64_t* counts, uint32_t experts) {
  LoadStats ls;
  uint64_t max = 0;
  for (uint32_t e = 0; e < experts; ++e) {
    ls.routed += counts[e];
    max = std::max(max, counts[e]);
  }
  if (ls.routed == 0) return ls;
  const double total = static_cast<double>(ls.routed);
  const double mean = total / experts;
  double var = 0;
  double h = 0;
  for (uint32_t e = 0; e < experts; ++e) {
    const double c = static_cast<double>(counts[e]);
    var += (c - mean) * (c - mean);
    if (counts[e] > 0) h -= (c / total) * std::log2(c / total);
  }
  ls.max_over_mean = static_cast<double>(max) / mean;
  ls.cv = std::sqrt(var / experts) / mean;
  ls.entropy_bits = h + 0.0;  // + 0.0 turns -0 into 0
  if (experts > 1) ls.normalised_entropy = *ls.entropy_bits / std::log2(double(experts));
  return ls;
}

/// Mean of an optional metric over the layers where it is defined.
std::optional<double> mean_of(const std::vector<LoadStats>& layers,
                              std::optional<double> LoadStats::*field) {
  double sum = 0;
  uint64_t n = 0;
  for (const LoadStats& l : layers) {
    if (l.*field) {
      sum += *(l.*field);
      ++n;
    }
  }
  if (n == 0) return std::nullopt;
  return sum / static_cast<double>(n);
}

std::string num(const std::optional<double>& v) {
  return v ? fmt::format("{:.6g}", *v) : "null";
}

std::string text_num(const std::optional<double>& v, const char* fmt_spec = "{:.4f}") {
  return v ? fmt::format(fmt::runtime(fmt_spec), *v) : "n/a";
}

}  // namespace

TraceStatsCollector::TraceStatsCollector(const TraceMeta& meta) {
  m_s.meta = meta;
  m_load.assign(static_cast<size_t>(meta.layers) * meta.experts, 0);
  const uint64_t cells =
      meta.layers > 1 ? uint64_t{meta.layers - 1} * meta.experts * meta.experts : 0;
  m_s.affinity_computed = meta.layers > 1 && cells <= kMaxAffinityCells;
  if (m_s.affinity_computed) m_transition.assign(cells, 0);
  m_top1.resize(meta.layers);
  if (meta.tasks > 1) {
    m_s.task_tokens.assign(meta.tasks, 0);
    m_s.task_requests.assign(meta.tasks, 0);
  }
}

void TraceStatsCollector::add(const TraceStep& step) {
  ++m_s.steps;
  m_s.tokens += step.num_tokens();
  m_s.assignments += step.assignments();
  if (!m_s.task_tokens.empty()) {
    for (const TraceToken& t : step.tokens) {
      ++m_s.task_tokens[t.task];
      if (m_task_request_seen.emplace(t.request, true).second) ++m_s.task_requests[t.task];
    }
  }
  const uint32_t tokens = step.num_tokens();
  const uint32_t experts = m_s.meta.experts;
  for (uint32_t l = 0; l < step.layers; ++l) {
    uint64_t* load = m_load.data() + static_cast<size_t>(l) * experts;
    for (uint32_t t = 0; t < tokens; ++t) {
      const uint32_t b = step.route_begin(l, t);
      const uint32_t e = step.route_end(l, t);
      ++m_s.k_histogram[e - b];
      for (uint32_t i = b; i < e; ++i) {
        const int32_t x = step.experts[i];
        if (x >= 0) {
          ++load[x];
          ++m_s.routed_assignments;
        } else {
          ++m_s.special[-x - 1];
        }
      }
    }
  }
  add_locality(step);
  if (m_s.affinity_computed) add_affinity(step);
}

void TraceStatsCollector::add_locality(const TraceStep& step) {
  const uint32_t tokens = step.num_tokens();
  // A request's previous token: its token with the highest position in the previous step.
  for (uint32_t t = 0; t < tokens; ++t) {
    auto it = m_prev_last.find(step.tokens[t].request);
    if (it == m_prev_last.end()) continue;
    const uint32_t p = it->second;
    for (uint32_t l = 0; l < step.layers; ++l) {
      const uint32_t b = step.route_begin(l, t), e = step.route_end(l, t);
      const uint32_t pb = m_prev.route_begin(l, p), pe = m_prev.route_end(l, p);
      uint32_t k = 0;
      uint32_t shared = 0;
      for (uint32_t i = b; i < e; ++i) {
        const int32_t x = step.experts[i];
        if (x < 0) continue;
        // Distinct experts only: skip a repeat of an earlier route of this token.
        if (std::find(step.experts.begin() + b, step.experts.begin() + i, x) !=
            step.experts.begin() + i) {
          continue;
        }
        ++k;
        if (std::find(m_prev.experts.begin() + pb, m_prev.experts.begin() + pe, x) !=
            m_prev.experts.begin() + pe) {
          ++shared;
        }
      }
      if (k == 0) continue;
      ++m_s.locality_pairs;
      m_shared_sum += shared;
      m_fraction_sum += static_cast<double>(shared) / k;
    }
  }
  m_cur_last.clear();
  for (uint32_t t = 0; t < tokens; ++t) {
    auto [it, inserted] = m_cur_last.try_emplace(step.tokens[t].request, t);
    if (!inserted && step.tokens[it->second].position < step.tokens[t].position) it->second = t;
  }
  std::swap(m_prev_last, m_cur_last);
  m_prev = step;
}

void TraceStatsCollector::add_affinity(const TraceStep& step) {
  const uint32_t experts = m_s.meta.experts;
  for (uint32_t t = 0; t < step.num_tokens(); ++t) {
    for (uint32_t l = 0; l < step.layers; ++l) {
      m_top1[l] = top1(step, step.route_begin(l, t), step.route_end(l, t));
    }
    for (uint32_t l = 0; l + 1 < step.layers; ++l) {
      if (m_top1[l] < 0 || m_top1[l + 1] < 0) continue;
      ++m_transition[(static_cast<size_t>(l) * experts + m_top1[l]) * experts + m_top1[l + 1]];
    }
  }
}

TraceStats TraceStatsCollector::result() const {
  TraceStats s = m_s;
  const uint32_t experts = s.meta.experts;
  s.layers.clear();
  for (uint32_t l = 0; l < s.meta.layers; ++l) {
    s.layers.push_back(load_stats(m_load.data() + static_cast<size_t>(l) * experts, experts));
  }
  s.mean_over_layers.routed = s.routed_assignments;
  s.mean_over_layers.max_over_mean = mean_of(s.layers, &LoadStats::max_over_mean);
  s.mean_over_layers.cv = mean_of(s.layers, &LoadStats::cv);
  s.mean_over_layers.entropy_bits = mean_of(s.layers, &LoadStats::entropy_bits);
  s.mean_over_layers.normalised_entropy = mean_of(s.layers, &LoadStats::normalised_entropy);
  if (s.locality_pairs > 0) {
    s.locality_shared = m_shared_sum / static_cast<double>(s.locality_pairs);
    s.locality_fraction = m_fraction_sum / static_cast<double>(s.locality_pairs);
  }
  if (s.affinity_computed) {
    uint64_t total_best = 0, total_col = 0, total_n = 0;
    std::vector<uint64_t> col(experts);
    for (uint32_t l = 0; l + 1 < s.meta.layers; ++l) {
      uint64_t best = 0, n = 0;
      std::fill(col.begin(), col.end(), 0);
      for (uint32_t a = 0; a < experts; ++a) {
        const uint64_t* row =
            m_transition.data() + (static_cast<size_t>(l) * experts + a) * experts;
        uint64_t row_max = 0;
        for (uint32_t b = 0; b < experts; ++b) {
          row_max = std::max(row_max, row[b]);
          n += row[b];
          col[b] += row[b];
        }
        best += row_max;
      }
      s.affinity_per_layer.push_back(n ? std::optional<double>(double(best) / double(n))
                                       : std::nullopt);
      total_best += best;
      total_col += *std::max_element(col.begin(), col.end());
      total_n += n;
    }
    s.affinity_pairs = total_n;
    if (total_n > 0) {
      s.affinity = double(total_best) / double(total_n);
      s.affinity_independent = double(total_col) / double(total_n);
    }
  }
  return s;
}

TraceStats compute_trace_stats(TraceReader& reader) {
  TraceStatsCollector c(reader.meta());
  TraceStep step;
  while (reader.next(step)) c.add(step);
  return c.result();
}

std::string trace_stats_json(const TraceStats& s, const std::string& trace_path) {
  std::string o;
  auto str = [&](std::string_view v) {
    std::string q;
    jsonl::append_string(q, v);
    return q;
  };
  auto qty = [&](const char* name, const std::string& value, const char* unit, bool comma = true) {
    o += fmt::format("  \"{}\": {{\"value\": {}, \"unit\": \"{}\"}}{}\n", name, value, unit,
                     comma ? "," : "");
  };
  auto load = [&](const LoadStats& l) {
    return fmt::format(
        "{{\"routed_assignments\": {}, \"max_over_mean\": {}, \"cv\": {}, \"entropy\": {}, "
        "\"normalised_entropy\": {}}}",
        l.routed, num(l.max_over_mean), num(l.cv), num(l.entropy_bits), num(l.normalised_entropy));
  };
  o += "{\n  \"schema\": \"moesim-trace-stats 1\",\n";
  o += fmt::format("  \"trace\": {},\n", str(trace_path));
  o += fmt::format(
      "  \"meta\": {{\"model\": {}, \"layers\": {}, \"experts\": {}, \"top_k\": {}, "
      "\"source\": {}}},\n",
      str(s.meta.model), s.meta.layers, s.meta.experts, s.meta.top_k, str(s.meta.source));
  qty("steps", std::to_string(s.steps), "steps");
  qty("tokens", std::to_string(s.tokens), "tokens");
  if (!s.task_tokens.empty()) {
    o += "  \"tasks\": {\"units\": {\"requests\": \"requests\", \"tokens\": \"tokens\"}, "
         "\"per_task\": [";
    for (size_t t = 0; t < s.task_tokens.size(); ++t) {
      o += fmt::format("{}{{\"task\": {}, \"requests\": {}, \"tokens\": {}}}", t ? ", " : "", t,
                       s.task_requests[t], s.task_tokens[t]);
    }
    o += "]},\n";
  }
  qty("assignments", std::to_string(s.assignments), "assignments");
  qty("routed_assignments", std::to_string(s.routed_assignments), "assignments");
  o += fmt::format(
      "  \"special_routes\": {{\"unit\": \"assignments\", \"null\": {}, \"zero\": {}, \"copy\": "
      "{}, \"const\": {}}},\n",
      s.special[0], s.special[1], s.special[2], s.special[3]);
  o += "  \"k_histogram\": {\"unit\": \"(token, layer) pairs\", \"counts\": {";
  bool first = true;
  for (const auto& [k, n] : s.k_histogram) {
    o += fmt::format("{}\"{}\": {}", first ? "" : ", ", k, n);
    first = false;
  }
  o += "}},\n";
  o += "  \"load\": {\n";
  o += "    \"units\": {\"routed_assignments\": \"assignments\", \"max_over_mean\": \"ratio\", "
       "\"cv\": \"ratio\", \"entropy\": \"bits\", \"normalised_entropy\": \"ratio\"},\n";
  o += fmt::format("    \"mean_over_layers\": {},\n", load(s.mean_over_layers));
  o += "    \"per_layer\": [";
  for (size_t l = 0; l < s.layers.size(); ++l) {
    o += fmt::format("{}\n      {{\"layer\": {}, {}", l ? "," : "", l, load(s.layers[l]).substr(1));
  }
  o += "\n    ]\n  },\n";
  o += fmt::format(
      "  \"temporal_locality\": {{\"pairs\": {}, \"shared_experts\": {{\"value\": {}, \"unit\": "
      "\"experts\"}}, \"shared_fraction\": {{\"value\": {}, \"unit\": \"ratio\"}}}},\n",
      s.locality_pairs, num(s.locality_shared), num(s.locality_fraction));
  o += fmt::format(
      "  \"inter_layer_affinity\": {{\"computed\": {}, \"pairs\": {}, \"affinity\": {{\"value\": "
      "{}, \"unit\": \"probability\"}}, \"independent_baseline\": {{\"value\": {}, \"unit\": "
      "\"probability\"}}, \"per_layer\": [",
      s.affinity_computed ? "true" : "false", s.affinity_pairs, num(s.affinity),
      num(s.affinity_independent));
  for (size_t l = 0; l < s.affinity_per_layer.size(); ++l) {
    o += fmt::format("{}{}", l ? ", " : "", num(s.affinity_per_layer[l]));
  }
  o += "]}\n}\n";
  return o;
}

std::string trace_stats_text(const TraceStats& s, const std::string& trace_path) {
  std::string o;
  auto out = std::back_inserter(o);
  fmt::format_to(out, "trace {}: model '{}', {} MoE layers, {} experts, top-{}, source '{}'\n",
                 trace_path, s.meta.model, s.meta.layers, s.meta.experts, s.meta.top_k,
                 s.meta.source);
  fmt::format_to(out, "  {:<28}{}\n", "steps", s.steps);
  fmt::format_to(out, "  {:<28}{}\n", "tokens", s.tokens);
  for (size_t t = 0; t < s.task_tokens.size(); ++t) {
    fmt::format_to(out, "  {:<28}{} requests, {} tokens\n", fmt::format("task {}", t),
                   s.task_requests[t], s.task_tokens[t]);
  }
  fmt::format_to(out, "  {:<28}{} ({} routed; special: {} null, {} zero, {} copy, {} const)\n",
                 "assignments", s.assignments, s.routed_assignments, s.special[0], s.special[1],
                 s.special[2], s.special[3]);
  std::string hist;
  for (const auto& [k, n] : s.k_histogram) {
    hist += fmt::format("{}k={}: {}", hist.empty() ? "" : ", ", k, n);
  }
  fmt::format_to(out, "  {:<28}{}\n", "k histogram (token-layers)", hist.empty() ? "-" : hist);
  const LoadStats& m = s.mean_over_layers;
  fmt::format_to(out,
                 "  expert load, mean over layers: max/mean {}, CV {}, entropy {} bits "
                 "(normalised {})\n",
                 text_num(m.max_over_mean), text_num(m.cv), text_num(m.entropy_bits),
                 text_num(m.normalised_entropy));
  fmt::format_to(out, "    {:>5} {:>12} {:>9} {:>8} {:>13} {:>10}\n", "layer", "routed", "max/mean",
                 "CV", "entropy(bit)", "norm.ent.");
  for (size_t l = 0; l < s.layers.size(); ++l) {
    const LoadStats& x = s.layers[l];
    fmt::format_to(out, "    {:>5} {:>12} {:>9} {:>8} {:>13} {:>10}\n", l, x.routed,
                   text_num(x.max_over_mean), text_num(x.cv), text_num(x.entropy_bits),
                   text_num(x.normalised_entropy));
  }
  fmt::format_to(out,
                 "  temporal locality: {} experts shared with the previous token ({} of k) over "
                 "{} token-layers\n",
                 text_num(s.locality_shared), text_num(s.locality_fraction), s.locality_pairs);
  if (s.affinity_computed) {
    fmt::format_to(out,
                   "  inter-layer affinity: {} (independent baseline {}) over {} token-layer "
                   "pairs\n",
                   text_num(s.affinity), text_num(s.affinity_independent), s.affinity_pairs);
  } else {
    fmt::format_to(out, "  inter-layer affinity: not computed ({})\n",
                   s.meta.layers > 1 ? "layers x experts^2 above 8M cells" : "one layer");
  }
  return o;
}

}  // namespace moesim
