// The JSON-lines form of the routing trace (see FORMAT.md): a header object on line 1, then
// one object per (step, token, layer). The reader streams one step at a time, reading one row
// ahead to see where a step ends.

#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "sim/core/error.hpp"
#include "workloads/trace/json_fast.hpp"
#include "workloads/trace/jsonl.hpp"
#include "workloads/trace/line_reader.hpp"
#include "workloads/trace/step_assembler.hpp"
#include "workloads/trace/trace.hpp"
#include "workloads/trace/trace_io.hpp"

namespace moesim {

namespace {

using jsonl::Kind;
using jsonl::Value;

constexpr const char* kVersionKey = "moesim_trace";
constexpr const char* kHeaderKeys =
    "moesim_trace, model, layers, experts, top_k, tasks, source, extra";
constexpr const char* kRowKeys = "step, request, position, layer, experts, weights";
/// The keys of a row of a multi-task trace (header tasks > 1).
constexpr const char* kTaskRowKeys = "step, request, position, task, layer, experts, weights";

bool blank_line(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

class JsonlTraceReader final : public TextTraceReader {
 public:
  explicit JsonlTraceReader(const std::string& path) : TextTraceReader(path) {
    read_header();
    prime();
  }

 private:
  void parse_line(std::string_view line, uint64_t n) {
    const std::string bad = m_obj.parse(line);
    if (!bad.empty()) fail(n, bad);
  }

  void read_header() {
    std::string_view line;
    const char* not_trace =
        "not a moesim JSONL trace (the first line must be an object with \"moesim_trace\": 1)";
    if (!m_lines.next(line)) fail(1, not_trace);
    // A first line that is meant as a JSON object gets its syntax error (where it is, what
    // was expected); anything else is not this format at all.
    const size_t first = line.find_first_not_of(" \t");
    const std::string syntax = m_obj.parse(line);
    if (!syntax.empty() && first != std::string_view::npos && line[first] == '{') {
      fail(1, syntax);
    }
    if (!syntax.empty() || !m_obj.find(kVersionKey)) fail(1, not_trace);
    const Value& version = *m_obj.find(kVersionKey);
    uint32_t v = 0;
    if (!jsonl::is_unsigned(version) || !trace_io::parse_u32(version.raw, v)) {
      fail(1, fmt::format("bad format version {} (expected \"moesim_trace\": 1)",
                          jsonl::shown(version)));
    }
    if (v != kTraceFormatVersion) {
      fail(1, fmt::format("unsupported version {} (this build reads version {})", v,
                          kTraceFormatVersion));
    }
    bool seen[3] = {false, false, false};
    for (const jsonl::Member& m : m_obj.members()) {
      const std::string& key = m.key;
      const Value& val = m.value;
      auto number = [&](uint32_t& field, bool& flag) {
        if (!jsonl::is_unsigned(val) || !trace_io::parse_u32(val.raw, field)) {
          fail(1, fmt::format("metadata '{}': expected an unsigned integer, got {}", key,
                              jsonl::shown(val)));
        }
        flag = true;
      };
      auto text = [&](std::string& field) {
        if (val.kind != Kind::kString) {
          fail(1, fmt::format("metadata '{}': expected a string, got {}", key, jsonl::shown(val)));
        }
        field = val.str;
      };
      if (key == kVersionKey) {
        continue;
      } else if (key == "model") {
        text(m_meta.model);
      } else if (key == "source") {
        text(m_meta.source);
      } else if (key == "layers") {
        number(m_meta.layers, seen[0]);
        if (m_meta.layers == 0) fail(1, "metadata 'layers' must be at least 1");
      } else if (key == "experts") {
        number(m_meta.experts, seen[1]);
        if (m_meta.experts == 0) fail(1, "metadata 'experts' must be at least 1");
      } else if (key == "top_k") {
        number(m_meta.top_k, seen[2]);
      } else if (key == "tasks") {
        bool unused = false;
        number(m_meta.tasks, unused);
        if (m_meta.tasks == 0) fail(1, "metadata 'tasks' must be at least 1");
      } else if (key == "extra") {
        if (val.kind != Kind::kObject) {
          fail(1, fmt::format("metadata 'extra': expected an object, got {}", jsonl::shown(val)));
        }
        for (uint32_t i = 0; i < val.count; ++i) {
          const jsonl::Member& e = m_obj.member(val, i);
          if (e.value.kind != Kind::kString) {
            fail(1, fmt::format("metadata 'extra.{}': expected a string, got {}", e.key,
                                jsonl::shown(e.value)));
          }
          if (!m_meta.extra.emplace(e.key, e.value.str).second) {
            fail(1, fmt::format("metadata 'extra.{}' given twice", e.key));
          }
        }
      } else {
        fail(1, fmt::format("unknown header key '{}' (expected {})", key, kHeaderKeys));
      }
    }
    const char* names[3] = {"layers", "experts", "top_k"};
    for (int i = 0; i < 3; ++i) {
      if (!seen[i]) fail(1, fmt::format("missing metadata '{}'", names[i]));
    }
    // Anything the writers would refuse cannot come back out of a conversion: refuse it here.
    const std::string bad = trace_io::check_meta(m_meta);
    if (!bad.empty()) fail(1, bad);
  }

  /// Reads the next data row; false at the end of the file.
  bool read_row() override {
    std::string_view line;
    do {
      if (!m_lines.next(line)) return false;
    } while (blank_line(line));
    const uint64_t n = m_lines.line_number();
    m_row.line = n;
    if (fast_row(line)) return true;
    parse_line(line, n);
    // `task` (index 6) is optional: 0 when absent.
    const Value* v[7] = {};
    static constexpr std::string_view kNames[7] = {"step",    "request", "position", "layer",
                                                   "experts", "weights", "task"};
    for (const jsonl::Member& m : m_obj.members()) {
      int i = 0;
      while (i < 7 && m.key != kNames[i]) ++i;
      if (i == 7) {
        fail(n, fmt::format("unknown key '{}' (expected {})", m.key,
                            m_meta.tasks > 1 ? kTaskRowKeys : kRowKeys));
      }
      v[i] = &m.value;
    }
    for (int i = 0; i < 6; ++i) {
      if (!v[i]) fail(n, fmt::format("missing key '{}'", kNames[i]));
    }
    auto integer = [&](int i, auto& out) {
      bool ok = jsonl::is_unsigned(*v[i]);
      if (ok) {
        if constexpr (sizeof(out) == 8) {
          ok = trace_io::parse_u64(v[i]->raw, out);
        } else {
          ok = trace_io::parse_u32(v[i]->raw, out);
        }
      }
      if (!ok) {
        fail(n, fmt::format("key '{}': expected an unsigned integer, got {}", kNames[i],
                            jsonl::shown(*v[i])));
      }
    };
    integer(0, m_row.step);
    integer(1, m_row.request);
    integer(2, m_row.position);
    m_row.task = 0;
    if (v[6]) {
      integer(6, m_row.task);
      if (m_row.task >= m_meta.tasks) {
        fail(n, fmt::format("task {} out of range (tasks = {})", m_row.task, m_meta.tasks));
      }
    }
    integer(3, m_row.layer);
    if (m_row.layer >= m_meta.layers) {
      fail(n, fmt::format("layer {} out of range (layers = {})", m_row.layer, m_meta.layers));
    }
    const Value& ex = *v[4];
    const Value& wt = *v[5];
    if (ex.kind != Kind::kArray) {
      fail(n, fmt::format("key 'experts': expected an array, got {}", jsonl::shown(ex)));
    }
    if (wt.kind != Kind::kArray) {
      fail(n, fmt::format("key 'weights': expected an array, got {}", jsonl::shown(wt)));
    }
    m_row.experts.clear();
    m_row.weights.clear();
    for (uint32_t i = 0; i < ex.count; ++i) {
      const Value& item = m_obj.item(ex, i);
      int32_t e = 0;
      if (item.kind == Kind::kNumber && trace_io::parse_i32(item.raw, e)) {
        if (e < 0 || static_cast<uint32_t>(e) >= m_meta.experts) {
          fail(n, fmt::format("expert {} out of range (experts = {})", e, m_meta.experts));
        }
      } else if (item.kind != Kind::kString || !trace_io::parse_special_expert(item.str, e)) {
        fail(n, fmt::format("expert {} is not an expert id (expected 0..{} or \"null\", "
                            "\"zero\", \"copy\", \"const\")",
                            jsonl::shown(item), m_meta.experts - 1));
      }
      m_row.experts.push_back(e);
    }
    if (wt.count != ex.count) {
      fail(n, fmt::format("key 'weights': expected {} values, got {}", ex.count, wt.count));
    }
    for (uint32_t i = 0; i < wt.count; ++i) {
      const Value& item = m_obj.item(wt, i);
      const std::string_view raw = item.raw;
      float w = 0;
      if (item.kind != Kind::kNumber) {
        fail(n, fmt::format("weight {} is not a number", jsonl::shown(item)));
      }
      if (raw == "NaN" || raw == "Infinity" || raw == "-Infinity") {
        fail(n, fmt::format("weight {} is not finite", raw));
      }
      const char* end = raw.data() + raw.size();
      auto [ptr, ec] = std::from_chars(raw.data(), end, w);
      if (ec == std::errc::result_out_of_range && ptr == end) {
        fail(n, fmt::format("weight {} is out of range for a 32-bit float", raw));
      }
      if (ec != std::errc() || ptr != end) {
        fail(n, fmt::format("weight {} is not a number", raw));
      }
      if (w < 0) fail(n, fmt::format("weight {} is negative", raw));
      m_row.weights.push_back(w);
    }
    return true;
  }

  // ---- the fast path ---------------------------------------------------------------------

  /// A data row by simdjson On-Demand, when it is a good row: exactly the six keys (and
  /// optionally `task`, in range), unsigned
  /// integers in range, expert ids in range or the special words, finite non-negative 32-bit
  /// weights of the same count, nothing after the object. Numbers are read from their text as
  /// the jsonl path reads them, so the row is the same bit for bit. Anything else (a bad row,
  /// or merely an unusual one) returns false and the row is parsed again by jsonl::Object,
  /// which gives the row or the message: rows and errors are the same on either path.
  bool fast_row(std::string_view line) {
    namespace od = simdjson::ondemand;
    if (m_pad.size() < line.size() + simdjson::SIMDJSON_PADDING) {
      m_pad.resize(line.size() + simdjson::SIMDJSON_PADDING);
    }
    std::memcpy(m_pad.data(), line.data(), line.size());
    od::document doc;
    od::object obj;
    if (m_parser.iterate(m_pad.data(), line.size(), m_pad.size()).get(doc) ||
        doc.get_object().get(obj)) {
      return false;
    }
    static constexpr std::string_view kNames[7] = {"step",    "request", "position", "layer",
                                                   "experts", "weights", "task"};
    unsigned seen = 0;
    m_row.task = 0;
    m_row.experts.clear();
    m_row.weights.clear();
    for (auto f : obj) {
      od::field field;
      std::string_view key;
      if (std::move(f).get(field) || field.unescaped_key().get(key)) return false;
      int i = 0;
      while (i < 7 && key != kNames[i]) ++i;
      if (i == 7 || (seen & (1u << i))) return false;
      seen |= 1u << i;
      od::value v = field.value();
      od::json_type t;
      if (i == 6) {
        if (v.type().get(t) || t != od::json_type::number ||
            !json_fast::parse_u32(v.raw_json_token(), m_row.task) || m_row.task >= m_meta.tasks) {
          return false;
        }
        continue;
      }
      if (i < 4) {
        if (v.type().get(t) || t != od::json_type::number) return false;
        const std::string_view raw = json_fast::digits(v.raw_json_token());
        const bool ok = !raw.empty() && (i == 0   ? trace_io::parse_u64(raw, m_row.step)
                                         : i == 1 ? trace_io::parse_u32(raw, m_row.request)
                                         : i == 2 ? trace_io::parse_u32(raw, m_row.position)
                                                  : trace_io::parse_u32(raw, m_row.layer));
        if (!ok) return false;
        continue;
      }
      od::array arr;
      if (v.get_array().get(arr)) return false;
      for (auto it : arr) {
        od::value item;
        if (std::move(it).get(item) || item.type().get(t)) return false;
        if (i == 4) {
          int32_t e = 0;
          if (t == od::json_type::number) {
            const std::string_view raw = json_fast::digits(item.raw_json_token());
            uint32_t u = 0;
            if (raw.empty() || !trace_io::parse_u32(raw, u) || u >= m_meta.experts) return false;
            e = static_cast<int32_t>(u);
          } else {
            std::string_view word;
            if (t != od::json_type::string || item.get_string().get(word) ||
                !trace_io::parse_special_expert(word, e)) {
              return false;
            }
          }
          m_row.experts.push_back(e);
        } else {
          if (t != od::json_type::number) return false;
          const std::string_view raw = json_fast::json_number(item.raw_json_token());
          float w = 0;
          if (raw.empty()) return false;
          auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), w);
          if (ec != std::errc() || ptr != raw.data() + raw.size() || w < 0) return false;
          m_row.weights.push_back(w);
        }
      }
    }
    // Nothing may follow the object (the iterator is then out of bounds).
    const char* rest = nullptr;
    if (doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) return false;
    return (seen & 0x3F) == 0x3F && m_row.layer < m_meta.layers &&
           m_row.experts.size() == m_row.weights.size();
  }

  jsonl::Object m_obj;
  simdjson::ondemand::parser m_parser;
  std::vector<char> m_pad;
};

class JsonlTraceWriter final : public trace_io::TextTraceWriter {
 public:
  JsonlTraceWriter(const std::string& path, const TraceMeta& meta)
      : TextTraceWriter(path, meta), m_tasks(meta.tasks > 1) {
    std::string h = fmt::format("{{\"{}\":{},\"model\":", kVersionKey, kTraceFormatVersion);
    jsonl::append_string(h, meta.model);
    h += fmt::format(",\"layers\":{},\"experts\":{},\"top_k\":{},", meta.layers, meta.experts,
                     meta.top_k);
    if (meta.tasks > 1) h += fmt::format("\"tasks\":{},", meta.tasks);
    h += "\"source\":";
    jsonl::append_string(h, meta.source);
    h += ",\"extra\":{";
    bool first = true;
    for (const auto& [key, value] : meta.extra) {
      if (!first) h += ',';
      first = false;
      jsonl::append_string(h, key);
      h += ':';
      jsonl::append_string(h, value);
    }
    h += "}}\n";
    m_buf.append(h.data(), h.data() + h.size());
  }

 private:
  void append_row(const TraceStep& step, uint32_t layer, uint32_t t) override {
    if (m_tasks) {
      fmt::format_to(
          std::back_inserter(m_buf),
          "{{\"step\":{},\"request\":{},\"position\":{},\"task\":{},\"layer\":{},\"experts\":[",
          step.index, step.tokens[t].request, step.tokens[t].position, step.tokens[t].task, layer);
    } else {
      fmt::format_to(std::back_inserter(m_buf),
                     "{{\"step\":{},\"request\":{},\"position\":{},\"layer\":{},\"experts\":[",
                     step.index, step.tokens[t].request, step.tokens[t].position, layer);
    }
    const uint32_t b = step.route_begin(layer, t);
    const uint32_t e = step.route_end(layer, t);
    append_experts(step, b, e, ',', true);
    append_text("],\"weights\":[");
    append_weights(step, b, e, ',');
    append_text("]}\n");
  }

  void append_text(std::string_view text) { m_buf.append(text.data(), text.data() + text.size()); }

  const bool m_tasks;  // rows carry "task" (tasks > 1)
};

}  // namespace

std::unique_ptr<TraceReader> open_jsonl_trace(const std::string& path) {
  return std::make_unique<JsonlTraceReader>(path);
}

std::unique_ptr<TraceWriter> create_jsonl_trace_writer(const std::string& path,
                                                       const TraceMeta& meta) {
  return std::make_unique<JsonlTraceWriter>(path, meta);
}

}  // namespace moesim
