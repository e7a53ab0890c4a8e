// Importers of routing logs (see FORMAT.md, "Importing routing logs"): rows are checked one
// by one and gathered into units (a request's run of rows for olmoe-jsonl, a forward pass for
// engine-jsonl) in whatever order they come; several files are concatenated or merged per
// layer; each unit is sorted by token and layer, incomplete tokens dropped (or an error with
// strict), warm-up and skipped passes dropped, and requests and positions numbered.

#include "workloads/trace/trace_import.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <numeric>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <simdjson.h>

#include "sim/core/error.hpp"
#include "workloads/trace/json_fast.hpp"
#include "workloads/trace/jsonl.hpp"
#include "workloads/trace/line_reader.hpp"
#include "workloads/trace/logits_import.hpp"
#include "workloads/trace/trace_io.hpp"

namespace moesim {

namespace {

using jsonl::Kind;
using jsonl::Value;

/// One checked routing row.
struct RouteRow {
  uint64_t line = 0;
  uint32_t file = 0;          ///< index of its input file
  std::string request;        ///< request key: req_id, or dataset + '\n' + problem_id
  std::string shown_request;  ///< for messages
  uint32_t token_idx = 0;
  uint32_t logged_layer = 0;
  uint32_t layer = 0;  ///< MoE layer ordinal
  std::vector<int32_t> experts;
  std::vector<float> weights;
};

/// A malformed row: its message (without the file:line prefix).
struct BadRow {
  std::string what;
};

/// Key names of one format.
struct Keys {
  const char* request;
  const char* token;
  const char* layer;
  const char* experts;
  const char* weights;
};
constexpr Keys kOlmoeKeys = {"problem_id", "token_idx", "layer", "experts", "gating_probs"};
constexpr Keys kEngineKeys = {"req_id", "token_idx", "layer", "topk_ids", "topk_weights"};

std::string clean_meta(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '=') c = '_';
  }
  const size_t b = out.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return out.substr(b, out.find_last_not_of(" \t") - b + 1);
}

/// "0-3,5,7-8" for a sorted list.
std::string range_text(const std::vector<uint32_t>& v) {
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

/// One input file read row by row.
struct Source {
  Source(std::string p, uint32_t i)
      : path(std::move(p)), index(i), lines(trace_io::open_input(path)) {}
  std::string path;
  uint32_t index = 0;
  trace_io::LineReader lines;
  bool seen_nonblank = false;
  bool has_row = false;
  RouteRow row;  ///< read ahead, when has_row
};

/// One row of a unit, its routes in the unit's flat arrays.
struct UnitRow {
  uint32_t token = 0;
  uint32_t layer = 0;
  uint32_t request = 0;  ///< unit-local request (engine)
  uint32_t begin = 0;
  uint32_t count = 0;
  uint32_t file = 0;
  uint64_t line = 0;
};

/// The rows of one request (olmoe) or pass (engine), from one or several files.
struct Unit {
  std::string request;  ///< olmoe: the request key
  std::string shown;    ///< olmoe: problem id for messages
  std::vector<UnitRow> rows;
  std::vector<int32_t> experts;
  std::vector<float> weights;
  std::unordered_map<std::string, uint32_t> request_ids;  ///< engine: req_id -> unit-local
  std::vector<std::string> request_keys;
  std::unordered_map<uint32_t, uint32_t> token_request;  ///< engine: token_idx -> unit-local
  std::unordered_set<uint64_t> seen;                     ///< engine: (token, layer) of this file
  uint32_t end_file = 0;
  uint64_t end_line = 0;  ///< the row that starts the next unit, or the file's last line
  void clear() {
    request.clear();
    rows.clear();
    experts.clear();
    weights.clear();
    request_ids.clear();
    request_keys.clear();
    token_request.clear();
    seen.clear();
  }
};

/// One token of a processed unit: its rows sorted by layer in [first, last).
struct TokenSpan {
  uint32_t token = 0;
  uint32_t first = 0;
  uint32_t last = 0;
  int32_t missing = -1;  ///< first required layer without a row, -1 when complete
};

class Importer final : public LogImporter {
 public:
  Importer(const std::vector<std::string>& paths, const ImportOptions& o)
      : m_o(o), m_keys(o.format == ImportFormat::kOlmoeJsonl ? kOlmoeKeys : kEngineKeys) {
    const std::string_view names[6] = {olmoe() ? "dataset" : "type",
                                       m_keys.request,
                                       m_keys.token,
                                       m_keys.layer,
                                       m_keys.experts,
                                       m_keys.weights};
    std::copy(std::begin(names), std::end(names), std::begin(m_names));
    if (paths.empty()) throw InputError("trace import: no input file");
    uint32_t moe = 0;
    for (bool b : o.is_moe) moe += b ? 1 : 0;
    m_meta.model = o.model;
    m_meta.layers = moe;
    m_meta.experts = o.experts;
    m_meta.top_k = o.top_k;
    m_meta.source = std::string("import:") + import_format_name(o.format);
    m_meta.extra["layer_map"] = o.layer_map == LayerMap::kMoe ? "moe" : "transformer";
    m_meta.extra["skip_passes"] = std::to_string(o.skip_passes);
    if (o.format == ImportFormat::kEngineJsonl) {
      m_meta.extra["warmup_detect"] =
          o.detect_warmup ? fmt::format("min_tokens={}", o.warmup_min_tokens) : "off";
    }
    const std::string bad = trace_io::check_meta(m_meta);
    if (!bad.empty()) throw InputError(fmt::format("{}: cannot import: {}", paths[0], bad));
    for (size_t l = 0; l < o.is_moe.size(); ++l) {
      if (o.is_moe[l]) m_moe_ordinal.push_back(static_cast<uint32_t>(l));
    }
    m_logged.assign(moe, o.layers.empty());
    for (uint32_t l : o.layers) {
      if (l >= moe) {
        throw InputError(
            fmt::format("{}: cannot import: --layers names MoE layer {} (model '{}' "
                        "has {} MoE layers)",
                        paths[0], l, o.model, moe));
      }
      m_logged[l] = true;
    }
    for (uint32_t l = 0; l < moe; ++l) {
      if (m_logged[l]) m_required.push_back(l);
    }
    if (!o.layers.empty()) {
      m_meta.extra["real_layers"] = range_text(m_required);
      m_meta.extra["layer_fill"] = o.fill == LayerFill::kNone ? "none" : "copy-nearest";
      m_fill_from.assign(moe, 0);
      for (uint32_t l = 0; l < moe; ++l) {
        uint32_t best = m_required[0];
        for (uint32_t r : m_required) {
          const uint32_t d = r > l ? r - l : l - r, bd = best > l ? best - l : l - best;
          if (d < bd) best = r;
        }
        m_fill_from[l] = best;
      }
    }
    for (size_t i = 0; i < paths.size(); ++i) {
      m_sources.push_back(std::make_unique<Source>(paths[i], static_cast<uint32_t>(i)));
    }
    m_r.files = paths.size();
    m_r.files_mode = "single";
    if (paths.size() > 1) choose_files_mode(paths);
    for (auto& s : m_sources) s->has_row = read_row(*s, s->row);
  }

  const TraceMeta& meta() const override { return m_meta; }
  const ImportReport& report() const override { return m_r; }

  bool next(TraceStep& step) override {
    for (;;) {
      if (olmoe()) {
        while (m_cursor < m_spans.size()) {
          const TokenSpan& sp = m_spans[m_cursor++];
          ++m_r.passes;
          const uint64_t rows = sp.last - sp.first;
          if (m_r.passes <= m_o.skip_passes) {
            ++m_r.skipped_passes;
            m_r.skipped_pass_rows += rows;
            continue;
          }
          if (sp.missing >= 0) {
            incomplete(sp,
                       fmt::format("token {} of problem {}: token_idx {} (request {}) has no "
                                   "row for layer {}",
                                   sp.token, m_unit.shown, sp.token, request_now(), sp.missing),
                       fmt::format("request {} position {} (problem {}, token_idx {}): no row for "
                                   "layer {}",
                                   request_now(), sp.token, m_unit.shown, sp.token, sp.missing));
            continue;
          }
          if (!m_unit_emitted) {
            m_unit_emitted = true;
            ++m_olmoe_request;
          }
          build_step(step, &sp, 1);
          step.tokens[0] = TraceToken{m_olmoe_request - 1, sp.token};
          return emit(step);
        }
        if (!collect_unit()) return false;
        m_cursor = 0;
        m_unit_emitted = false;
        process_unit();
        continue;
      }
      // engine-jsonl: one unit is one pass.
      if (!collect_unit()) return false;
      process_unit();
      ++m_r.passes;
      if (m_r.passes <= m_o.skip_passes) {
        ++m_r.skipped_passes;
        m_r.skipped_pass_rows += m_unit.rows.size();
        continue;
      }
      m_complete.clear();
      for (const TokenSpan& sp : m_spans) {
        if (sp.missing < 0) {
          m_complete.push_back(sp);
          continue;
        }
        const std::string req = "'" + m_unit.request_keys[m_unit.token_request[sp.token]] + "'";
        incomplete(sp,
                   fmt::format("pass {}: token_idx {} (request {}) has no row for layer {}",
                               m_r.passes - 1, sp.token, req, sp.missing),
                   fmt::format("pass {} token_idx {} (request {}): no row for layer {}",
                               m_r.passes - 1, sp.token, req, sp.missing));
      }
      if (m_complete.empty()) continue;
      build_step(step, m_complete.data(), m_complete.size());
      for (size_t t = 0; t < m_complete.size(); ++t) {
        step.tokens[t] = TraceToken{m_unit.token_request[m_complete[t].token], m_complete[t].token};
      }
      if (m_o.detect_warmup && is_warmup(step)) {
        ++m_r.warmup_passes;
        m_r.warmup_rows += m_unit.rows.size();
        continue;
      }
      number_tokens(step);
      return emit(step);
    }
  }

 private:
  bool olmoe() const { return m_o.format == ImportFormat::kOlmoeJsonl; }
  /// olmoe: the trace request id of the request being emitted (or that it will take).
  uint32_t request_now() const { return m_unit_emitted ? m_olmoe_request - 1 : m_olmoe_request; }
  bool merged() const { return m_merge; }
  const std::string& path_of(uint32_t file) const { return m_sources[file]->path; }

  [[noreturn]] void fail(uint32_t file, uint64_t line, const std::string& what) const {
    throw InputError(fmt::format("{}:{}: {}", path_of(file), line, what));
  }

  /// A malformed row: an error, or counted and skipped with skip_bad_rows.
  void bad_row(uint32_t file, uint64_t line, const std::string& what) {
    if (!m_o.skip_bad_rows) fail(file, line, what);
    if (m_r.bad_rows++ == 0) {
      m_r.first_bad_row = fmt::format("{}:{}: {}", path_of(file), line, what);
    }
  }

  bool emit(TraceStep& step) {
    step.index = m_r.steps++;
    m_r.tokens += step.num_tokens();
    m_r.assignments += step.assignments();
    return true;
  }

  /// An incomplete token: an error with strict, else dropped and counted.
  void incomplete(const TokenSpan& sp, const std::string& error, const std::string& example) {
    if (m_o.strict) fail(m_unit.end_file, m_unit.end_line, error);
    ++m_r.incomplete_tokens;
    m_r.incomplete_rows += sp.last - sp.first;
    if (m_r.incomplete_examples.size() < 10) m_r.incomplete_examples.push_back(example);
  }

  // ---- files ------------------------------------------------------------------------------

  /// Several files: merged when each one's first unit logs one layer and the layers differ,
  /// concatenated when all log the same layers; anything else is an error naming two files.
  void choose_files_mode(const std::vector<std::string>& paths) {
    std::vector<std::set<uint32_t>> sets;
    for (size_t i = 0; i < paths.size(); ++i) {
      Importer probe({paths[i]}, probe_options());
      std::set<uint32_t> layers;
      if (probe.collect_unit()) {
        for (const UnitRow& r : probe.m_unit.rows) layers.insert(r.layer);
      }
      sets.push_back(layers);
    }
    bool one_each = true;
    std::set<uint32_t> all;
    for (const auto& s : sets) {
      one_each = one_each && s.size() == 1;
      all.insert(s.begin(), s.end());
    }
    if (one_each && all.size() == sets.size()) {
      m_merge = true;
      m_r.files_mode = "merged per layer";
      return;
    }
    for (size_t i = 1; i < sets.size(); ++i) {
      if (sets[i] != sets[0]) {
        auto text = [](const std::set<uint32_t>& s) {
          return range_text(std::vector<uint32_t>(s.begin(), s.end()));
        };
        throw InputError(fmt::format(
            "{}: its first {} logs MoE layers {} but {}'s logs {} (several files must each log "
            "one distinct layer, to be merged, or all log the same layers, to be concatenated)",
            paths[i], olmoe() ? "request" : "pass", text(sets[i]), paths[0], text(sets[0])));
      }
    }
    m_r.files_mode = "concatenated";
  }

  ImportOptions probe_options() const {
    ImportOptions p = m_o;
    p.skip_bad_rows = true;
    p.layers.clear();
    return p;
  }

  /// Concatenated files: the current source (advancing past exhausted ones).
  Source* stream_source() {
    while (m_stream < m_sources.size() && !m_sources[m_stream]->has_row) ++m_stream;
    return m_stream < m_sources.size() ? m_sources[m_stream].get() : nullptr;
  }

  /// Reads the next unit into m_unit; false when the input is exhausted.
  bool collect_unit() {
    m_unit.clear();
    if (!merged()) {
      Source* s = stream_source();
      if (!s) return false;
      if (olmoe()) {
        m_unit.request = s->row.request;
        m_unit.shown = s->row.shown_request;
      }
      for (;;) {
        Source* cur = stream_source();
        if (!cur || !same_unit(cur->row)) {
          if (cur) {
            m_unit.end_file = cur->index;
            m_unit.end_line = cur->row.line;
          }
          break;
        }
        add_row(cur->row);
        m_unit.end_file = cur->index;
        cur->has_row = read_row(*cur, cur->row);
        if (!cur->has_row) m_unit.end_line = cur->lines.line_number();
      }
      return true;
    }
    // Merged per-layer files: the next unit of each file, which must match the first's.
    Source& first = *m_sources[0];
    bool any = false, all = true;
    for (auto& s : m_sources) {
      any = any || s->has_row;
      all = all && s->has_row;
    }
    if (!any) return false;
    if (!all) {
      const auto& a = *std::find_if(m_sources.begin(), m_sources.end(),
                                    [](const auto& s) { return s->has_row; });
      const auto& b = *std::find_if(m_sources.begin(), m_sources.end(),
                                    [](const auto& s) { return !s->has_row; });
      throw InputError(
          fmt::format("{}:{}: this {} has no counterpart in {}, which has ended "
                      "(per-layer files must hold the same passes)",
                      a->path, a->row.line, olmoe() ? "request" : "pass", b->path));
    }
    if (olmoe()) {
      m_unit.request = first.row.request;
      m_unit.shown = first.row.shown_request;
    }
    const uint64_t first_line = first.row.line;
    std::vector<std::pair<uint32_t, uint32_t>> extent;  // per file: rows [begin, end)
    for (auto& sp : m_sources) {
      Source& s = *sp;
      if (olmoe() && s.row.request != m_unit.request) {
        throw InputError(fmt::format(
            "{}:{}: problem {} where {}:{} has problem {} (per-layer files must hold the same "
            "passes)",
            s.path, s.row.line, s.row.shown_request, first.path, first_line, m_unit.shown));
      }
      m_unit.seen.clear();
      const uint32_t begin = static_cast<uint32_t>(m_unit.rows.size());
      while (s.has_row && same_unit(s.row)) {
        add_row(s.row);
        s.has_row = read_row(s, s.row);
      }
      extent.emplace_back(begin, static_cast<uint32_t>(m_unit.rows.size()));
      m_unit.end_file = s.index;
      m_unit.end_line = s.has_row ? s.row.line : s.lines.line_number();
    }
    check_merged_tokens(extent);
    return true;
  }

  /// Per-layer files of one unit must hold the same tokens, except that a request may end
  /// early in some files (its unfinished last tokens, which are then incomplete).
  void check_merged_tokens(const std::vector<std::pair<uint32_t, uint32_t>>& extent) {
    std::vector<std::vector<uint32_t>> toks(extent.size());
    for (size_t f = 0; f < extent.size(); ++f) {
      for (uint32_t i = extent[f].first; i < extent[f].second; ++i) {
        toks[f].push_back(m_unit.rows[i].token);
      }
      std::sort(toks[f].begin(), toks[f].end());
      toks[f].erase(std::unique(toks[f].begin(), toks[f].end()), toks[f].end());
    }
    uint32_t limit = UINT32_MAX;
    if (olmoe()) {
      for (const auto& t : toks) limit = std::min(limit, t.empty() ? 0u : t.back());
    }
    auto below = [&](const std::vector<uint32_t>& t) {
      return std::vector<uint32_t>(t.begin(), std::upper_bound(t.begin(), t.end(), limit));
    };
    const std::vector<uint32_t> ref = below(toks[0]);
    for (size_t f = 1; f < toks.size(); ++f) {
      const std::vector<uint32_t> got = below(toks[f]);
      if (got == ref) continue;
      std::vector<uint32_t> only_a, only_b;
      std::set_difference(ref.begin(), ref.end(), got.begin(), got.end(),
                          std::back_inserter(only_a));
      std::set_difference(got.begin(), got.end(), ref.begin(), ref.end(),
                          std::back_inserter(only_b));
      const bool in_first = !only_a.empty();
      const uint32_t tok = in_first ? only_a[0] : only_b[0];
      const std::string unit =
          olmoe() ? "problem " + m_unit.shown : fmt::format("pass {}", m_r.passes);
      throw InputError(
          fmt::format("{}: {}: token_idx {} is in {} but not in {} (per-layer files "
                      "must hold the same tokens)",
                      path_of(static_cast<uint32_t>(in_first ? 0 : f)), unit, tok,
                      path_of(static_cast<uint32_t>(in_first ? 0 : f)),
                      path_of(static_cast<uint32_t>(in_first ? f : 0))));
    }
    // Engine: the same token must belong to the same request in every file (add_row checks).
  }

  /// True when `row` belongs to the unit being collected.
  bool same_unit(const RouteRow& row) const {
    if (olmoe()) return row.request == m_unit.request;
    return m_unit.seen.count((static_cast<uint64_t>(row.token_idx) << 32) | row.layer) == 0;
  }

  void add_row(const RouteRow& row) {
    if (!m_logged[row.layer]) {
      bad_row(row.file, row.line,
              fmt::format("MoE layer {} is not among --layers ({})", row.layer,
                          range_text(m_required)));
      return;
    }
    uint32_t req = 0;
    if (!olmoe()) {
      m_unit.seen.insert((static_cast<uint64_t>(row.token_idx) << 32) | row.layer);
      auto [it, inserted] = m_unit.request_ids.try_emplace(
          row.request, static_cast<uint32_t>(m_unit.request_keys.size()));
      if (inserted) m_unit.request_keys.push_back(row.request);
      req = it->second;
      auto [tk, fresh] = m_unit.token_request.try_emplace(row.token_idx, req);
      if (!fresh && tk->second != req && merged()) {
        // Per-layer files: the token's first row came from another file (or this one).
        const auto first = std::find_if(m_unit.rows.begin(), m_unit.rows.end(),
                                        [&](const UnitRow& u) { return u.token == row.token_idx; });
        if (first != m_unit.rows.end() && first->file != row.file) {
          fail(row.file, row.line,
               fmt::format("pass {}: token_idx {} is request {} here but '{}' in {}:{} "
                           "(per-layer files must hold the same tokens)",
                           m_r.passes, row.token_idx, row.shown_request,
                           m_unit.request_keys[tk->second], path_of(first->file), first->line));
        }
      }
      if (!fresh && tk->second != req) {
        bad_row(row.file, row.line,
                fmt::format("token_idx {} belongs to request '{}' in this pass, not {}",
                            row.token_idx, m_unit.request_keys[tk->second], row.shown_request));
        return;
      }
    }
    if (m_unit.experts.size() + row.experts.size() > 0xFFFFFFFFu) {
      fail(row.file, row.line, "too many routes in one pass");
    }
    m_unit.rows.push_back(UnitRow{row.token_idx, row.layer, req,
                                  static_cast<uint32_t>(m_unit.experts.size()),
                                  static_cast<uint32_t>(row.experts.size()), row.file, row.line});
    m_unit.experts.insert(m_unit.experts.end(), row.experts.begin(), row.experts.end());
    m_unit.weights.insert(m_unit.weights.end(), row.weights.begin(), row.weights.end());
  }

  /// Sorts the unit's rows by token and layer (keeping the order read among equal ones),
  /// reports duplicates and finds each token's span and first missing layer.
  void process_unit() {
    auto& rows = m_unit.rows;
    std::stable_sort(rows.begin(), rows.end(), [](const UnitRow& a, const UnitRow& b) {
      return a.token != b.token ? a.token < b.token : a.layer < b.layer;
    });
    m_spans.clear();
    size_t i = 0;
    std::vector<UnitRow> kept;
    kept.reserve(rows.size());
    while (i < rows.size()) {
      const uint32_t tok = rows[i].token;
      TokenSpan sp;
      sp.token = tok;
      sp.first = static_cast<uint32_t>(kept.size());
      size_t need = 0;
      for (; i < rows.size() && rows[i].token == tok; ++i) {
        if (!kept.empty() && kept.size() > sp.first && kept.back().layer == rows[i].layer) {
          const std::string req = olmoe() ? std::to_string(request_now())
                                          : "'" + m_unit.request_keys[rows[i].request] + "'";
          bad_row(rows[i].file, rows[i].line,
                  fmt::format("duplicate row for token_idx {} (request {}) at layer {} (first at "
                              "{}line {})",
                              tok, req, rows[i].layer,
                              kept.back().file == rows[i].file ? std::string()
                                                               : path_of(kept.back().file) + " ",
                              kept.back().line));
          continue;
        }
        kept.push_back(rows[i]);
      }
      sp.last = static_cast<uint32_t>(kept.size());
      for (uint32_t k = sp.first; k < sp.last && need < m_required.size(); ++k) {
        if (kept[k].layer != m_required[need]) break;
        ++need;
      }
      if (need < m_required.size()) sp.missing = static_cast<int32_t>(m_required[need]);
      m_spans.push_back(sp);
    }
    rows.swap(kept);
  }

  /// Builds a step from complete tokens: layer-major CSR, unlogged layers filled.
  void build_step(TraceStep& step, const TokenSpan* spans, size_t n) {
    step.clear();
    step.layers = m_meta.layers;
    step.tokens.resize(n);
    step.offsets.reserve(static_cast<size_t>(m_meta.layers) * n + 1);
    step.offsets.push_back(0);
    for (uint32_t l = 0; l < m_meta.layers; ++l) {
      const uint32_t src = m_logged[l] ? l : m_fill_from[l];
      const bool empty = !m_logged[l] && m_o.fill == LayerFill::kNone;
      const size_t pos = static_cast<size_t>(
          std::lower_bound(m_required.begin(), m_required.end(), src) - m_required.begin());
      for (size_t t = 0; t < n; ++t) {
        if (!empty) {
          const UnitRow& r = m_unit.rows[spans[t].first + pos];
          step.experts.insert(step.experts.end(), m_unit.experts.begin() + r.begin,
                              m_unit.experts.begin() + r.begin + r.count);
          step.weights.insert(step.weights.end(), m_unit.weights.begin() + r.begin,
                              m_unit.weights.begin() + r.begin + r.count);
        }
        step.offsets.push_back(static_cast<uint32_t>(step.experts.size()));
      }
    }
  }

  /// Warm-up: at least warmup_min_tokens tokens, and at every layer all tokens' routes equal.
  bool is_warmup(const TraceStep& s) const {
    const uint32_t n = s.num_tokens();
    if (n < m_o.warmup_min_tokens || n < 2) return false;
    for (uint32_t l = 0; l < s.layers; ++l) {
      const uint32_t b0 = s.route_begin(l, 0), e0 = s.route_end(l, 0);
      for (uint32_t t = 1; t < n; ++t) {
        const uint32_t b = s.route_begin(l, t), e = s.route_end(l, t);
        if (e - b != e0 - b0 ||
            !std::equal(s.experts.begin() + b, s.experts.begin() + e, s.experts.begin() + b0) ||
            !std::equal(s.weights.begin() + b, s.weights.begin() + e, s.weights.begin() + b0)) {
          return false;
        }
      }
    }
    return true;
  }

  /// Engine passes: tokens (in token_idx order) hold unit-local requests; each request's
  /// tokens continue its positions.
  void number_tokens(TraceStep& step) {
    // Request ids in order of first appearance in the pass's rows as read.
    std::vector<uint32_t> global(m_unit.request_keys.size());
    for (size_t r = 0; r < m_unit.request_keys.size(); ++r) {
      auto [it, inserted] = m_requests.try_emplace(
          m_unit.request_keys[r], RequestState{static_cast<uint32_t>(m_requests.size()), 0});
      global[r] = it->second.id;
    }
    for (TraceToken& tok : step.tokens) {
      RequestState& st = m_requests[m_unit.request_keys[tok.request]];
      if (st.next_position == UINT32_MAX) {
        throw InputError(fmt::format("{}: request '{}' exceeds the 32-bit position range",
                                     path_of(0), m_unit.request_keys[tok.request]));
      }
      tok.position = st.next_position++;
      tok.request = global[tok.request];
    }
  }

  // ---- rows -------------------------------------------------------------------------------

  /// Reads the next good routing row of `s` into `row`; false at the end of the file.
  bool read_row(Source& s, RouteRow& row) {
    std::string_view line;
    for (;;) {
      if (!s.lines.next(line)) return false;
      ++m_r.lines;
      const uint64_t n = s.lines.line_number();
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      const bool first = !s.seen_nonblank;
      s.seen_nonblank = true;
      if (fast_row(line, row)) {
        ++m_r.route_rows;
        row.line = n;
        row.file = s.index;
        return true;
      }
      const std::string bad_json = m_obj.parse(line);
      if (!bad_json.empty()) {
        ++m_r.route_rows;
        bad_row(s.index, n, bad_json);
        continue;
      }
      if (!olmoe()) {
        const Value* type = m_obj.find("type");
        if (type && (type->kind != Kind::kString || type->str != "route")) {
          if (first) {
            read_metadata_row();
          } else {
            ++m_r.other_rows;
          }
          continue;
        }
      }
      ++m_r.route_rows;
      try {
        check_row(row, n);
      } catch (const BadRow& b) {
        bad_row(s.index, n, b.what);
        continue;
      }
      row.file = s.index;
      return true;
    }
  }

  void read_metadata_row() {
    ++m_r.metadata_rows;
    for (const jsonl::Member& m : m_obj.members()) {
      if (m.key == "type") continue;
      const std::string key = clean_meta("log." + m.key);
      m_meta.extra[key] =
          clean_meta(m.value.kind == Kind::kString ? m.value.str : std::string(m.value.raw));
    }
  }

  const Value& need(const char* key) const {
    const Value* v = m_obj.find(key);
    if (!v) throw BadRow{fmt::format("missing key '{}'", key)};
    return *v;
  }

  uint32_t need_u32(const char* key) const {
    const Value& v = need(key);
    uint32_t out = 0;
    if (!jsonl::is_unsigned(v) || !trace_io::parse_u32(v.raw, out)) {
      throw BadRow{
          fmt::format("key '{}': expected an unsigned integer, got {}", key, jsonl::shown(v))};
    }
    return out;
  }

  /// The scalar text of a request id (string or number).
  std::string request_text(const char* key) const {
    const Value& v = need(key);
    if (v.kind == Kind::kString) return v.str;
    if (v.kind == Kind::kNumber) return std::string(v.raw);
    throw BadRow{
        fmt::format("key '{}': expected a string or a number, got {}", key, jsonl::shown(v))};
  }

  void check_row(RouteRow& row, uint64_t n) {
    row.line = n;
    if (olmoe()) {
      const Value& ds = need("dataset");
      if (ds.kind != Kind::kString) {
        throw BadRow{fmt::format("key 'dataset': expected a string, got {}", jsonl::shown(ds))};
      }
      const std::string pid = request_text(m_keys.request);
      row.request = ds.str + "\n" + pid;
      row.shown_request = pid;
    } else {
      row.request = request_text(m_keys.request);
      row.shown_request = "'" + row.request + "'";
    }
    row.token_idx = need_u32(m_keys.token);
    row.logged_layer = need_u32(m_keys.layer);
    row.layer = map_layer(row.logged_layer);
    const Value& ex = need(m_keys.experts);
    const Value& wt = need(m_keys.weights);
    if (ex.kind != Kind::kArray) {
      throw BadRow{
          fmt::format("key '{}': expected an array, got {}", m_keys.experts, jsonl::shown(ex))};
    }
    if (wt.kind != Kind::kArray) {
      throw BadRow{
          fmt::format("key '{}': expected an array, got {}", m_keys.weights, jsonl::shown(wt))};
    }
    if (ex.count != wt.count) {
      throw BadRow{fmt::format("'{}' has {} values but '{}' has {}", m_keys.weights, wt.count,
                               m_keys.experts, ex.count)};
    }
    row.experts.clear();
    row.weights.clear();
    for (uint32_t i = 0; i < ex.count; ++i) {
      const Value& item = m_obj.item(ex, i);
      uint32_t e = 0;
      if (!jsonl::is_unsigned(item) || !trace_io::parse_u32(item.raw, e)) {
        throw BadRow{fmt::format("expert {} is not an expert id (expected 0..{})",
                                 jsonl::shown(item), m_meta.experts - 1)};
      }
      if (e >= m_meta.experts) {
        throw BadRow{fmt::format("expert {} out of range (model '{}' has {} experts)", e,
                                 m_meta.model, m_meta.experts)};
      }
      if (std::find(row.experts.begin(), row.experts.end(), static_cast<int32_t>(e)) !=
          row.experts.end()) {
        throw BadRow{fmt::format("expert {} appears twice", e)};
      }
      row.experts.push_back(static_cast<int32_t>(e));
    }
    for (uint32_t i = 0; i < wt.count; ++i) {
      const Value& item = m_obj.item(wt, i);
      const std::string_view raw = item.raw;
      if (item.kind != Kind::kNumber) {
        throw BadRow{fmt::format("weight {} is not a number", jsonl::shown(item))};
      }
      if (raw == "NaN" || raw == "Infinity" || raw == "-Infinity") {
        throw BadRow{fmt::format("weight {} is not finite", raw)};
      }
      float w = 0;
      const char* end = raw.data() + raw.size();
      auto [ptr, ec] = std::from_chars(raw.data(), end, w);
      if (ec == std::errc::result_out_of_range && ptr == end) {
        throw BadRow{fmt::format("weight {} is out of range for a 32-bit float", raw)};
      }
      if (ec != std::errc() || ptr != end) {
        throw BadRow{fmt::format("weight {} is not a number", raw)};
      }
      if (w < 0) throw BadRow{fmt::format("weight {} is negative", raw)};
      row.weights.push_back(w);
    }
  }

  // ---- the fast path ---------------------------------------------------------------------

  /// A routing row by simdjson On-Demand, when it is a good one: the format's keys once each
  /// (for engine-jsonl `type` absent or "route"), unescaped keys and request strings, unsigned
  /// integers of digits only, distinct expert ids in range, finite non-negative 32-bit weights
  /// of the same count, a mapped layer, other keys (ignored) with scalar values or arrays of
  /// scalars, nothing after the object. Numbers are read from their text as check_row reads
  /// them, so the row is the same bit for bit. Anything else (a bad row, a metadata row, or
  /// one merely unusual) returns false, and the line is parsed again by jsonl::Object and
  /// check_row, which give the row or the message: rows and errors are the same either way.
  bool fast_row(std::string_view line, RouteRow& row) {
    namespace od = simdjson::ondemand;
    if (m_pad.size() < line.size() + simdjson::SIMDJSON_PADDING) {
      m_pad.resize(line.size() + simdjson::SIMDJSON_PADDING);
    }
    std::memcpy(m_pad.data(), line.data(), line.size());
    const char* end = m_pad.data() + line.size();
    od::document doc;
    od::object obj;
    if (m_parser.iterate(m_pad.data(), line.size(), m_pad.size()).get(doc) ||
        doc.get_object().get(obj)) {
      return false;
    }
    // A scalar as jsonl.hpp reads it (for the ignored keys).
    auto scalar_ok = [end](od::value& v, od::json_type t) {
      std::string_view raw = v.raw_json_token();
      bool ok = false;
      switch (t) {
        case od::json_type::string:
          json_fast::plain_string(raw.data() + 1, end, ok);
          return ok;
        case od::json_type::number:
          return !json_fast::json_number(raw).empty();
        case od::json_type::boolean:
          raw = json_fast::trimmed(raw);
          return raw == "true" || raw == "false";
        case od::json_type::null:
          return json_fast::trimmed(raw) == "null";
        default:
          return false;
      }
    };
    const std::string_view* names = m_names;
    std::string_view dataset, request;
    uint32_t token = 0, logged = 0;
    unsigned seen = 0;
    m_extra_keys.clear();
    row.experts.clear();
    row.weights.clear();
    for (auto f : obj) {
      od::field field;
      if (std::move(f).get(field)) return false;
      bool ok = false;
      const std::string_view key = json_fast::plain_string(field.key().raw(), end, ok);
      if (!ok) return false;
      int i = 0;
      while (i < 6 && key != names[i]) ++i;
      od::value v = field.value();
      od::json_type t;
      if (v.type().get(t)) return false;
      if (i == 6) {
        if (std::find(m_extra_keys.begin(), m_extra_keys.end(), key) != m_extra_keys.end()) {
          return false;
        }
        m_extra_keys.push_back(key);
        if (t != od::json_type::array) {
          if (!scalar_ok(v, t)) return false;
          continue;
        }
        od::array arr;
        if (v.get_array().get(arr)) return false;
        for (auto it : arr) {
          od::value item;
          if (std::move(it).get(item) || item.type().get(t) || !scalar_ok(item, t)) return false;
        }
        continue;
      }
      if (seen & (1u << i)) return false;
      seen |= 1u << i;
      std::string_view raw;
      if (i <= 1) {
        if (t == od::json_type::string) {
          raw = v.raw_json_token();
          const std::string_view text = json_fast::plain_string(raw.data() + 1, end, ok);
          if (!ok) return false;
          if (i == 0 && !olmoe() && text != "route") return false;
          (i == 0 ? dataset : request) = text;
        } else if (i == 1 && t == od::json_type::number) {
          raw = v.raw_json_token();
          request = json_fast::json_number(raw);
          if (request.empty()) return false;
        } else {
          return false;
        }
        continue;
      }
      if (i <= 3) {
        if (t != od::json_type::number ||
            !json_fast::parse_u32(v.raw_json_token(), i == 2 ? token : logged)) {
          return false;
        }
        continue;
      }
      od::array arr;
      if (v.get_array().get(arr)) return false;
      for (auto it : arr) {
        od::value item;
        if (std::move(it).get(item) || item.type().get(t) || t != od::json_type::number) {
          return false;
        }
        raw = item.raw_json_token();
        if (i == 4) {
          uint32_t e = 0;
          if (!json_fast::parse_u32(raw, e) || e >= m_meta.experts ||
              std::find(row.experts.begin(), row.experts.end(), static_cast<int32_t>(e)) !=
                  row.experts.end()) {
            return false;
          }
          row.experts.push_back(static_cast<int32_t>(e));
        } else {
          raw = json_fast::json_number(raw);
          float w = 0;
          if (raw.empty()) return false;
          auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), w);
          if (ec != std::errc() || ptr != raw.data() + raw.size() || w < 0) return false;
          row.weights.push_back(w);
        }
      }
    }
    // Nothing may follow the object (the iterator is then out of bounds).
    const char* rest = nullptr;
    if (doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) return false;
    if ((seen | (olmoe() ? 0u : 1u)) != 0x3F || row.experts.size() != row.weights.size()) {
      return false;
    }
    if (!fast_map_layer(logged, row.layer)) return false;
    row.token_idx = token;
    row.logged_layer = logged;
    if (olmoe()) {
      row.request.assign(dataset);
      row.request += '\n';
      row.request.append(request);
      row.shown_request.assign(request);
    } else {
      row.request.assign(request);
      row.shown_request.assign(1, '\'');
      row.shown_request.append(request);
      row.shown_request += '\'';
    }
    return true;
  }

  /// map_layer() without its messages: false when the layer is not one of the model's.
  bool fast_map_layer(uint32_t logged, uint32_t& layer) const {
    if (m_o.layer_map == LayerMap::kMoe) {
      layer = logged;
      return logged < m_meta.layers;
    }
    if (logged >= m_o.is_moe.size() || !m_o.is_moe[logged]) return false;
    layer =
        static_cast<uint32_t>(std::lower_bound(m_moe_ordinal.begin(), m_moe_ordinal.end(), logged) -
                              m_moe_ordinal.begin());
    return true;
  }

  uint32_t map_layer(uint32_t logged) const {
    const uint32_t moe = m_meta.layers;
    if (m_o.layer_map == LayerMap::kMoe) {
      if (logged >= moe) {
        throw BadRow{
            fmt::format("layer {} out of range (model '{}' has {} MoE layers; see "
                        "--layer-map)",
                        logged, m_meta.model, moe)};
      }
      return logged;
    }
    if (logged >= m_o.is_moe.size()) {
      throw BadRow{fmt::format("layer {} out of range (model '{}' has {} layers)", logged,
                               m_meta.model, m_o.is_moe.size())};
    }
    if (!m_o.is_moe[logged]) {
      throw BadRow{fmt::format("layer {} is not an MoE layer of model '{}'", logged, m_meta.model)};
    }
    return static_cast<uint32_t>(
        std::lower_bound(m_moe_ordinal.begin(), m_moe_ordinal.end(), logged) -
        m_moe_ordinal.begin());
  }

  struct RequestState {
    uint32_t id = 0;
    uint32_t next_position = 0;
  };

  ImportOptions m_o;
  Keys m_keys;
  std::vector<std::unique_ptr<Source>> m_sources;
  size_t m_stream = 0;   // concatenated: the current file
  bool m_merge = false;  // per-layer files merged
  jsonl::Object m_obj;
  std::string_view m_names[6];  // fast path: "dataset" or "type", then the format's keys
  simdjson::ondemand::parser m_parser;
  std::vector<char> m_pad;                     // the line, padded for simdjson
  std::vector<std::string_view> m_extra_keys;  // fast path: the row's ignored keys
  TraceMeta m_meta;
  ImportReport m_r;
  std::vector<uint32_t> m_moe_ordinal;  // MoE ordinal -> transformer layer
  std::vector<bool> m_logged;           // per MoE layer: covered by the log
  std::vector<uint32_t> m_required;     // the logged MoE layers, ascending
  std::vector<uint32_t> m_fill_from;    // per MoE layer: the logged layer it copies

  Unit m_unit;
  std::vector<TokenSpan> m_spans;
  std::vector<TokenSpan> m_complete;
  size_t m_cursor = 0;  // olmoe: next token span to emit
  bool m_unit_emitted = false;
  uint32_t m_olmoe_request = 0;  // olmoe: requests emitted so far

  // engine-jsonl: every request seen in a kept pass (bounded by the number of requests).
  std::unordered_map<std::string, RequestState> m_requests;
};

}  // namespace

bool parse_import_format(const std::string& name, ImportFormat& format) {
  if (name == "olmoe-jsonl") {
    format = ImportFormat::kOlmoeJsonl;
  } else if (name == "engine-jsonl") {
    format = ImportFormat::kEngineJsonl;
  } else if (name == "logits-npz") {
    format = ImportFormat::kLogitsNpz;
  } else {
    return false;
  }
  return true;
}

const char* import_format_name(ImportFormat format) {
  switch (format) {
    case ImportFormat::kOlmoeJsonl:
      return "olmoe-jsonl";
    case ImportFormat::kEngineJsonl:
      return "engine-jsonl";
    case ImportFormat::kLogitsNpz:
      return "logits-npz";
  }
  return "?";
}

std::unique_ptr<LogImporter> open_import(const std::string& path, const ImportOptions& options) {
  return open_import(std::vector<std::string>{path}, options);
}

std::unique_ptr<LogImporter> open_import(const std::vector<std::string>& paths,
                                         const ImportOptions& options) {
  if (options.format == ImportFormat::kLogitsNpz) return open_logits_import(paths, options);
  return std::make_unique<Importer>(paths, options);
}

std::string import_report_text(const ImportReport& r) {
  std::string o;
  auto out = std::back_inserter(o);
  fmt::format_to(out, "  {:<26}{} ({} routing rows, {} metadata rows, {} other rows ignored)\n",
                 "lines read", r.lines, r.route_rows, r.metadata_rows, r.other_rows);
  fmt::format_to(out, "  {:<26}{}\n", "passes found", r.passes);
  fmt::format_to(out, "  {:<26}{} ({} rows)\n", "skipped (--skip-passes)", r.skipped_passes,
                 r.skipped_pass_rows);
  fmt::format_to(out, "  {:<26}{} ({} rows)\n", "warm-up passes dropped", r.warmup_passes,
                 r.warmup_rows);
  fmt::format_to(out, "  {:<26}{}{}\n", "bad rows skipped", r.bad_rows,
                 r.bad_rows ? " (first: " + r.first_bad_row + ")" : std::string());
  fmt::format_to(out, "  {:<26}{} ({} rows)\n", "incomplete tokens dropped", r.incomplete_tokens,
                 r.incomplete_rows);
  for (const std::string& e : r.incomplete_examples) fmt::format_to(out, "    {}\n", e);
  if (r.incomplete_tokens > r.incomplete_examples.size()) {
    fmt::format_to(out, "    ... and {} more\n",
                   r.incomplete_tokens - r.incomplete_examples.size());
  }
  if (r.files > 1) fmt::format_to(out, "  {:<26}{} ({})\n", "input files", r.files, r.files_mode);
  if (r.dropped_routes) {
    fmt::format_to(out, "  {:<26}{}\n", "routes over capacity", r.dropped_routes);
  }
  fmt::format_to(out, "  {:<26}{} ({} tokens, {} assignments)\n", "steps written", r.steps,
                 r.tokens, r.assignments);
  return o;
}

}  // namespace moesim
