// Importers of routing logs (see FORMAT.md, "Importing routing logs"): rows are checked one
// by one, grouped into passes (steps), warm-up and skipped passes dropped, logged layers mapped
// onto the model's MoE layers, and requests and positions numbered.

#include "workloads/trace/trace_import.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <numeric>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "workloads/trace/jsonl.hpp"
#include "workloads/trace/line_reader.hpp"
#include "workloads/trace/step_assembler.hpp"
#include "workloads/trace/trace_io.hpp"

namespace moesim {

namespace {

using jsonl::Kind;
using jsonl::Value;

/// One checked routing row.
struct RouteRow {
  uint64_t line = 0;
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

class Importer final : public LogImporter {
 public:
  Importer(const std::string& path, const ImportOptions& o)
      : m_path(path),
        m_o(o),
        m_keys(o.format == ImportFormat::kOlmoeJsonl ? kOlmoeKeys : kEngineKeys),
        m_lines(trace_io::open_input(path)) {
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
    if (!bad.empty()) throw InputError(fmt::format("{}: cannot import: {}", path, bad));
    for (size_t l = 0; l < o.is_moe.size(); ++l) {
      if (o.is_moe[l]) m_moe_ordinal.push_back(static_cast<uint32_t>(l));
    }
    m_has_row = read_row(m_row);
  }

  const TraceMeta& meta() const override { return m_meta; }
  const ImportReport& report() const override { return m_r; }

  bool next(TraceStep& step) override {
    for (;;) {
      if (!m_has_row) return false;
      // Batch-1 logs: a token must come after the earlier tokens of its request.
      if (olmoe() && m_pass_seen && m_row.request == m_last_pass_request &&
          m_row.token_idx <= m_last_pass_token) {
        bad_row(m_row.line,
                fmt::format("token_idx {} of problem {} after token_idx {} (the rows of a token "
                            "must be contiguous and token_idx ascend)",
                            m_row.token_idx, m_row.shown_request, m_last_pass_token));
        m_has_row = read_row(m_row);
        continue;
      }
      m_pass_seen = true;
      m_last_pass_request = m_row.request;
      m_last_pass_token = m_row.token_idx;
      begin_pass();
      uint64_t rows = 0;
      do {
        rows += add_row(m_row) ? 1 : 0;
        m_prev_layer = m_row.logged_layer;
        m_prev_token = m_row.token_idx;
        m_has_row = read_row(m_row);
      } while (m_has_row && !starts_pass(m_row));
      ++m_r.passes;
      const uint64_t end_line = m_has_row ? m_row.line : m_lines.line_number();
      if (m_r.passes <= m_o.skip_passes) {
        ++m_r.skipped_passes;
        m_r.skipped_pass_rows += rows;
        continue;
      }
      if (m_asm.tokens() == 0) continue;  // every row of the pass was bad and skipped
      const std::string bad = m_asm.finish(step);
      if (!bad.empty()) {
        const std::string what = fmt::format(
            "{} {}: {}", olmoe() ? "token" : "pass",
            olmoe() ? m_pass_label : std::to_string(m_r.passes - 1), rename_tokens(bad));
        if (!m_o.skip_bad_rows) fail(end_line, what);
        ++m_r.incomplete_passes;
        m_r.incomplete_rows += rows;
        continue;
      }
      if (!olmoe() && m_o.detect_warmup && is_warmup(step)) {
        ++m_r.warmup_passes;
        m_r.warmup_rows += rows;
        continue;
      }
      number_tokens(step);
      step.index = m_r.steps++;
      m_r.tokens += step.num_tokens();
      m_r.assignments += step.assignments();
      return true;
    }
  }

 private:
  bool olmoe() const { return m_o.format == ImportFormat::kOlmoeJsonl; }

  [[noreturn]] void fail(uint64_t line, const std::string& what) const {
    throw InputError(fmt::format("{}:{}: {}", m_path, line, what));
  }

  /// A malformed row: an error, or counted and skipped with skip_bad_rows.
  void bad_row(uint64_t line, const std::string& what) {
    if (!m_o.skip_bad_rows) fail(line, what);
    if (m_r.bad_rows++ == 0) m_r.first_bad_row = fmt::format("{}:{}: {}", m_path, line, what);
  }

  void begin_pass() {
    m_asm.begin(m_meta.layers);
    m_pass_requests.clear();
    m_pass_request_keys.clear();
    m_token_request.clear();
    m_pass_label = fmt::format("{} of problem {}", m_row.token_idx, m_row.shown_request);
  }

  /// True when `row` starts a new pass (see FORMAT.md).
  bool starts_pass(const RouteRow& row) const {
    if (olmoe()) {
      return row.request != m_last_pass_request || row.token_idx != m_last_pass_token;
    }
    return row.logged_layer < m_prev_layer ||
           (row.logged_layer == m_prev_layer && row.token_idx <= m_prev_token);
  }

  /// Adds a checked row to the pass; false when it was bad (and skipped).
  bool add_row(const RouteRow& row) {
    uint32_t req = 0;
    auto [it, inserted] =
        m_pass_requests.try_emplace(row.request, static_cast<uint32_t>(m_pass_requests.size()));
    if (inserted) m_pass_request_keys.push_back(&it->first);
    req = it->second;
    auto [tk, fresh] = m_token_request.try_emplace(row.token_idx, req);
    if (!fresh && tk->second != req) {
      bad_row(row.line,
              fmt::format("token_idx {} belongs to request {} in this pass, not {}", row.token_idx,
                          shown(*m_pass_request_keys[tk->second]), row.shown_request));
      return false;
    }
    const std::string bad =
        m_asm.add(req, row.token_idx, row.layer, row.experts.data(), row.weights.data(),
                  static_cast<uint32_t>(row.experts.size()), row.line);
    if (!bad.empty()) {
      bad_row(row.line, rename_tokens(bad));
      return false;
    }
    return true;
  }

  std::string shown(const std::string& key) const {
    if (!olmoe()) return "'" + key + "'";
    return key.substr(key.find('\n') + 1);
  }

  /// The assembler names tokens "(request R, position P)" with the pass-local request and
  /// the token_idx: say it in the log's terms.
  std::string rename_tokens(const std::string& msg) const {
    const std::string open = "token (request ";
    const size_t at = msg.find(open);
    if (at == std::string::npos) return msg;
    const size_t comma = msg.find(", position ", at);
    const size_t close = msg.find(')', comma);
    uint32_t req = 0;
    std::from_chars(msg.data() + at + open.size(), msg.data() + comma, req);
    const std::string pos = msg.substr(comma + 11, close - comma - 11);
    const std::string req_text =
        req < m_pass_request_keys.size() ? shown(*m_pass_request_keys[req]) : std::to_string(req);
    return msg.substr(0, at) + "token_idx " + pos + " (request " + req_text + ")" +
           msg.substr(close + 1);
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

  /// Replaces pass-local requests and token_idx by trace request ids and positions.
  void number_tokens(TraceStep& step) {
    if (olmoe()) {
      // One token per pass: request = ordinal of the run of rows of one (dataset, problem).
      if (!m_emitted_any || m_last_emitted_request != m_last_pass_request) ++m_olmoe_request;
      m_emitted_any = true;
      m_last_emitted_request = m_last_pass_request;
      step.tokens[0].request = m_olmoe_request - 1;
      return;  // position = token_idx already
    }
    // Engine passes: each request's tokens, in token_idx order, continue its positions.
    std::vector<uint32_t> order(step.num_tokens());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return step.tokens[a].position < step.tokens[b].position;
    });
    std::vector<uint32_t> global(m_pass_request_keys.size());
    for (size_t r = 0; r < m_pass_request_keys.size(); ++r) {
      auto [it, inserted] = m_requests.try_emplace(
          *m_pass_request_keys[r], RequestState{static_cast<uint32_t>(m_requests.size()), 0});
      global[r] = it->second.id;
    }
    for (uint32_t t : order) {
      TraceToken& tok = step.tokens[t];
      RequestState& st = m_requests[*m_pass_request_keys[tok.request]];
      if (st.next_position == UINT32_MAX) {
        throw InputError(fmt::format("{}: request {} exceeds the 32-bit position range", m_path,
                                     shown(*m_pass_request_keys[tok.request])));
      }
      tok.position = st.next_position++;
      tok.request = global[tok.request];
    }
  }

  // ---- rows -------------------------------------------------------------------------------

  /// Reads the next good routing row into `row`; false at the end of the file.
  bool read_row(RouteRow& row) {
    std::string_view line;
    for (;;) {
      if (!m_lines.next(line)) return false;
      ++m_r.lines;
      const uint64_t n = m_lines.line_number();
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      const std::string bad_json = m_obj.parse(line);
      const bool first = !m_seen_nonblank;
      m_seen_nonblank = true;
      if (!bad_json.empty()) {
        ++m_r.route_rows;
        bad_row(n, bad_json);
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
        bad_row(n, b.what);
        continue;
      }
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

  std::string m_path;
  ImportOptions m_o;
  Keys m_keys;
  trace_io::LineReader m_lines;
  jsonl::Object m_obj;
  TraceMeta m_meta;
  ImportReport m_r;
  std::vector<uint32_t> m_moe_ordinal;  // MoE ordinal -> transformer layer
  StepAssembler m_asm;

  bool m_has_row = false;
  RouteRow m_row;
  bool m_seen_nonblank = false;

  // The pass being built.
  uint32_t m_prev_layer = 0;
  uint32_t m_prev_token = 0;
  std::unordered_map<std::string, uint32_t> m_pass_requests;  // request key -> pass-local id
  std::vector<const std::string*> m_pass_request_keys;
  std::unordered_map<uint32_t, uint32_t> m_token_request;  // token_idx -> pass-local request
  std::string m_pass_label;

  // olmoe-jsonl: the last pass seen and the last one emitted.
  bool m_pass_seen = false;
  std::string m_last_pass_request;
  uint32_t m_last_pass_token = 0;
  bool m_emitted_any = false;
  std::string m_last_emitted_request;
  uint32_t m_olmoe_request = 0;

  // engine-jsonl: every request seen in a kept pass (bounded by the number of requests).
  std::unordered_map<std::string, RequestState> m_requests;
};

}  // namespace

bool parse_import_format(const std::string& name, ImportFormat& format) {
  if (name == "olmoe-jsonl") {
    format = ImportFormat::kOlmoeJsonl;
  } else if (name == "engine-jsonl") {
    format = ImportFormat::kEngineJsonl;
  } else {
    return false;
  }
  return true;
}

const char* import_format_name(ImportFormat format) {
  return format == ImportFormat::kOlmoeJsonl ? "olmoe-jsonl" : "engine-jsonl";
}

std::unique_ptr<LogImporter> open_import(const std::string& path, const ImportOptions& options) {
  return std::make_unique<Importer>(path, options);
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
  fmt::format_to(out, "  {:<26}{} ({} rows)\n", "incomplete passes dropped", r.incomplete_passes,
                 r.incomplete_rows);
  fmt::format_to(out, "  {:<26}{} ({} tokens, {} assignments)\n", "steps written", r.steps,
                 r.tokens, r.assignments);
  return o;
}

}  // namespace moesim
