// The text form of the routing trace (see FORMAT.md): '#' metadata lines, a column header,
// then one row per (step, token, layer). The reader streams one step at a time, reading one
// row ahead to see where a step ends.

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "workloads/trace/line_reader.hpp"
#include "workloads/trace/step_assembler.hpp"
#include "workloads/trace/trace.hpp"
#include "workloads/trace/trace_io.hpp"

namespace moesim {

namespace {

constexpr std::string_view kColumns = "step,request,position,layer,experts,weights";
/// The columns of a multi-task trace (metadata tasks > 1): the token's task after position.
constexpr std::string_view kTaskColumns = "step,request,position,task,layer,experts,weights";
constexpr std::string_view kVersionPrefix = "# moesim-trace ";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// One parsed data row; its experts and weights live in the reader's row buffers.
class CsvTraceReader final : public TextTraceReader {
 public:
  explicit CsvTraceReader(const std::string& path) : TextTraceReader(path) {
    read_header();
    prime();
  }

 private:
  void read_header() {
    std::string_view line;
    if (!m_lines.next(line) || line.substr(0, kVersionPrefix.size()) != kVersionPrefix) {
      fail(1, "not a moesim trace (the first line must be '# moesim-trace 1')");
    }
    uint32_t version = 0;
    const std::string_view vtext = trim(line.substr(kVersionPrefix.size()));
    if (!trace_io::parse_u32(vtext, version)) {
      fail(1, fmt::format("bad format version '{}' (expected '# moesim-trace 1')", vtext));
    }
    if (version != kTraceFormatVersion) {
      fail(1, fmt::format("unsupported version {} (this build reads version {})", version,
                          kTraceFormatVersion));
    }
    bool seen[3] = {false, false, false};  // layers, experts, top_k
    bool have_columns = false;
    while (m_lines.next(line)) {
      const uint64_t n = m_lines.line_number();
      if (trim(line).empty()) continue;
      if (line.front() != '#') {
        if (trim(line) == kTaskColumns) {
          m_task_column = true;
        } else if (trim(line) != kColumns) {
          fail(n, fmt::format("expected the column header '{}', got '{}'",
                              m_meta.tasks > 1 ? kTaskColumns : kColumns, line));
        }
        have_columns = true;
        break;
      }
      std::string_view body = line.substr(1);
      const size_t eq = body.find('=');
      if (eq == body.npos) continue;  // a comment
      const std::string key(trim(body.substr(0, eq)));
      const std::string value(trim(body.substr(eq + 1)));
      if (key.empty()) fail(n, "metadata key is empty");
      if (!m_keys_seen.emplace(key, n).second) {
        fail(n, fmt::format("metadata '{}' given twice (first at line {})", key, m_keys_seen[key]));
      }
      auto number = [&](uint32_t& field, bool& flag) {
        if (!trace_io::parse_u32(value, field)) {
          fail(n, fmt::format("metadata '{}': expected an unsigned integer, got '{}'", key, value));
        }
        flag = true;
      };
      if (key == "model") {
        m_meta.model = value;
      } else if (key == "source") {
        m_meta.source = value;
      } else if (key == "layers") {
        number(m_meta.layers, seen[0]);
        if (m_meta.layers == 0) fail(n, "metadata 'layers' must be at least 1");
        if (m_meta.layers > trace_io::kMaxTraceLayers)
          fail(n, trace_io::too_many_layers(m_meta.layers));
      } else if (key == "experts") {
        number(m_meta.experts, seen[1]);
        if (m_meta.experts == 0) fail(n, "metadata 'experts' must be at least 1");
        if (m_meta.experts > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
          fail(n, fmt::format("metadata 'experts' = {} is too large", m_meta.experts));
        }
      } else if (key == "top_k") {
        number(m_meta.top_k, seen[2]);
      } else if (key == "tasks") {
        bool unused = false;
        number(m_meta.tasks, unused);
        if (m_meta.tasks == 0) fail(n, "metadata 'tasks' must be at least 1");
      } else {
        m_meta.extra[key] = value;
      }
    }
    const char* names[3] = {"layers", "experts", "top_k"};
    for (int i = 0; i < 3; ++i) {
      if (!seen[i]) fail(1, fmt::format("missing metadata '{}'", names[i]));
    }
    if (!have_columns) {
      fail(m_lines.line_number(), fmt::format("missing the column header '{}'", kColumns));
    }
  }

  /// Reads the next data row into m_row and the row buffers; false at the end of the file.
  bool read_row() override {
    std::string_view line;
    do {
      if (!m_lines.next(line)) return false;
    } while (trim(line).empty());
    const uint64_t n = m_lines.line_number();
    m_row.line = n;

    // Columns by meaning: a trace without the task column reads as if it had one of zeros.
    std::string_view cols[7];
    const size_t columns = m_task_column ? 7 : 6;
    size_t count = 0;
    size_t start = 0;
    for (;;) {
      const size_t comma = line.find(',', start);
      const std::string_view field =
          line.substr(start, comma == line.npos ? line.npos : comma - start);
      if (count < columns) cols[count] = trim(field);
      ++count;
      if (comma == line.npos) break;
      start = comma + 1;
    }
    if (count != columns) fail(n, fmt::format("expected {} columns, got {}", columns, count));
    if (m_task_column) {
      const std::string_view task = cols[3];
      if (!trace_io::parse_u32(task, m_row.task)) {
        fail(n, fmt::format("column 'task': expected an unsigned integer, got '{}'", task));
      }
      if (m_row.task >= m_meta.tasks) {
        fail(n, fmt::format("task {} out of range (tasks = {})", m_row.task, m_meta.tasks));
      }
      for (int c = 3; c < 6; ++c) cols[c] = cols[c + 1];
    }

    auto column_u32 = [&](int c, const char* name, uint32_t& out) {
      if (!trace_io::parse_u32(cols[c], out)) {
        fail(n, fmt::format("column '{}': expected an unsigned integer, got '{}'", name, cols[c]));
      }
    };
    if (!trace_io::parse_u64(cols[0], m_row.step)) {
      fail(n, fmt::format("column 'step': expected an unsigned integer, got '{}'", cols[0]));
    }
    column_u32(1, "request", m_row.request);
    column_u32(2, "position", m_row.position);
    column_u32(3, "layer", m_row.layer);
    if (m_row.layer >= m_meta.layers) {
      fail(n, fmt::format("layer {} out of range (layers = {})", m_row.layer, m_meta.layers));
    }

    m_row.experts.clear();
    m_row.weights.clear();
    for_each_item(cols[4], [&](std::string_view item) {
      int32_t e = 0;
      if (trace_io::parse_i32(item, e)) {
        if (e < 0 || static_cast<uint32_t>(e) >= m_meta.experts) {
          fail(n, fmt::format("expert {} out of range (experts = {})", e, m_meta.experts));
        }
      } else if (!trace_io::parse_special_expert(item, e)) {
        fail(n, fmt::format("expert '{}' is not an expert id (expected 0..{} or null, zero, "
                            "copy, const)",
                            item, m_meta.experts - 1));
      }
      m_row.experts.push_back(e);
    });
    size_t weights = 0;
    for_each_item(cols[5], [&](std::string_view) { ++weights; });
    if (weights != m_row.experts.size()) {
      fail(n, fmt::format("column 'weights': expected {} values, got {}", m_row.experts.size(),
                          weights));
    }
    for_each_item(cols[5], [&](std::string_view item) {
      float w = 0;
      const char* end = item.data() + item.size();
      auto [ptr, ec] = std::from_chars(item.data(), end, w);
      if (ec == std::errc::result_out_of_range && ptr == end) {
        fail(n, fmt::format("weight '{}' is out of range for a 32-bit float", item));
      }
      if (ec != std::errc() || ptr != end || item.empty()) {
        fail(n, fmt::format("weight '{}' is not a number", item));
      }
      if (!std::isfinite(w)) fail(n, fmt::format("weight '{}' is not finite", item));
      if (w < 0) fail(n, fmt::format("weight '{}' is negative", item));
      m_row.weights.push_back(w);
    });
    return true;
  }

  /// Calls f on each ';'-separated, trimmed item; an empty field has no items.
  template <typename F>
  static void for_each_item(std::string_view field, F&& f) {
    if (field.empty()) return;
    size_t start = 0;
    for (;;) {
      const size_t semi = field.find(';', start);
      f(trim(field.substr(start, semi == field.npos ? field.npos : semi - start)));
      if (semi == field.npos) return;
      start = semi + 1;
    }
  }

  std::unordered_map<std::string, uint64_t> m_keys_seen;
  bool m_task_column = false;  // the header has the task column
};

class CsvTraceWriter final : public trace_io::TextTraceWriter {
 public:
  CsvTraceWriter(const std::string& path, const TraceMeta& meta)
      : TextTraceWriter(path, meta), m_tasks(meta.tasks > 1) {
    auto out = std::back_inserter(m_buf);
    fmt::format_to(out, "{}{}\n", kVersionPrefix, kTraceFormatVersion);
    fmt::format_to(out, "# model={}\n# layers={}\n# experts={}\n# top_k={}\n# source={}\n",
                   meta.model, meta.layers, meta.experts, meta.top_k, meta.source);
    if (meta.tasks > 1) fmt::format_to(out, "# tasks={}\n", meta.tasks);
    for (const auto& [key, value] : meta.extra) fmt::format_to(out, "# {}={}\n", key, value);
    fmt::format_to(out, "{}\n", meta.tasks > 1 ? kTaskColumns : kColumns);
  }

 private:
  void append_row(const TraceStep& step, uint32_t layer, uint32_t t) override {
    if (m_tasks) {
      fmt::format_to(std::back_inserter(m_buf), "{},{},{},{},{},", step.index,
                     step.tokens[t].request, step.tokens[t].position, step.tokens[t].task, layer);
    } else {
      fmt::format_to(std::back_inserter(m_buf), "{},{},{},{},", step.index, step.tokens[t].request,
                     step.tokens[t].position, layer);
    }
    const uint32_t b = step.route_begin(layer, t);
    const uint32_t e = step.route_end(layer, t);
    append_experts(step, b, e, ';', false);
    m_buf.push_back(',');
    append_weights(step, b, e, ';');
    m_buf.push_back('\n');
  }

  const bool m_tasks;  // the task column is written (tasks > 1)
};

}  // namespace

std::unique_ptr<TraceReader> open_csv_trace(const std::string& path) {
  return std::make_unique<CsvTraceReader>(path);
}

std::unique_ptr<TraceWriter> create_csv_trace_writer(const std::string& path,
                                                     const TraceMeta& meta) {
  return std::make_unique<CsvTraceWriter>(path, meta);
}

}  // namespace moesim
