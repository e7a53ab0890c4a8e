#include "sim/sweep/results.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "sim/core/error.hpp"

namespace moesim::sweep {

namespace fs = std::filesystem;

const JsonValue* JsonValue::find(const std::string& key) const {
  for (const auto& [k, v] : members) {
    if (k == key) return &v;
  }
  return nullptr;
}

JsonValue JsonValue::number(std::string text) {
  JsonValue v;
  v.kind = Kind::kNumber;
  v.text = std::move(text);
  return v;
}

JsonValue JsonValue::string(std::string text) {
  JsonValue v;
  v.kind = Kind::kString;
  v.text = std::move(text);
  return v;
}

namespace {

class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : m_s(s) {}
  JsonValue parse() {
    JsonValue v = value();
    ws();
    if (m_i != m_s.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(fmt::format("malformed JSON at offset {}: {}", m_i, what));
  }
  void ws() {
    while (m_i < m_s.size() &&
           (m_s[m_i] == ' ' || m_s[m_i] == '\n' || m_s[m_i] == '\t' || m_s[m_i] == '\r')) {
      ++m_i;
    }
  }
  void expect(char c) {
    ws();
    if (m_i >= m_s.size() || m_s[m_i] != c) fail(fmt::format("expected '{}'", c));
    ++m_i;
  }
  std::string str() {
    expect('"');
    std::string out;
    while (true) {
      if (m_i >= m_s.size()) fail("unterminated string");
      const char c = m_s[m_i++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (m_i >= m_s.size()) fail("unterminated string");
      const char e = m_s[m_i++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          if (m_i + 4 > m_s.size()) fail("bad \\u escape");
          const unsigned cp = static_cast<unsigned>(std::stoul(m_s.substr(m_i, 4), nullptr, 16));
          m_i += 4;
          if (cp < 0x80) {
            out += static_cast<char>(cp);
          } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
          } else {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
          }
          break;
        }
        default:
          out += e;
      }
    }
  }
  JsonValue value() {
    ws();
    if (m_i >= m_s.size()) fail("unexpected end");
    const char c = m_s[m_i];
    JsonValue v;
    if (c == '{') {
      ++m_i;
      v.kind = JsonValue::Kind::kObject;
      ws();
      if (m_i < m_s.size() && m_s[m_i] == '}') {
        ++m_i;
        return v;
      }
      while (true) {
        std::string k = str();
        expect(':');
        v.members.emplace_back(std::move(k), value());
        ws();
        if (m_i < m_s.size() && m_s[m_i] == ',') {
          ++m_i;
          continue;
        }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      ++m_i;
      v.kind = JsonValue::Kind::kArray;
      ws();
      if (m_i < m_s.size() && m_s[m_i] == ']') {
        ++m_i;
        return v;
      }
      while (true) {
        v.items.push_back(value());
        ws();
        if (m_i < m_s.size() && m_s[m_i] == ',') {
          ++m_i;
          continue;
        }
        expect(']');
        return v;
      }
    }
    if (c == '"') return JsonValue::string(str());
    for (const char* word : {"true", "false", "null"}) {
      if (m_s.compare(m_i, std::strlen(word), word) == 0) {
        m_i += std::strlen(word);
        if (word[0] == 'n') return JsonValue::null();
        v.kind = JsonValue::Kind::kBool;
        v.text = word;
        return v;
      }
    }
    const size_t start = m_i;
    while (m_i < m_s.size() && std::strchr("+-0123456789.eE", m_s[m_i]) != nullptr) ++m_i;
    if (m_i == start) fail(fmt::format("unexpected '{}'", c));
    return JsonValue::number(m_s.substr(start, m_i - start));
  }

  const std::string& m_s;
  size_t m_i = 0;
};

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_value(const JsonValue& v) {
  return v.kind == JsonValue::Kind::kNull ? std::string() : csv_field(v.text);
}

std::string object_text(const std::vector<std::pair<std::string, JsonValue>>& members) {
  std::string out = "{";
  for (size_t i = 0; i < members.size(); ++i) {
    out += (i ? "," : "") + json_quote(members[i].first) + ":" + json_text(members[i].second);
  }
  return out + "}";
}

std::vector<std::pair<std::string, JsonValue>> object_members(const JsonValue& v, const char* key) {
  const JsonValue* m = v.find(key);
  if (m == nullptr || m->kind != JsonValue::Kind::kObject) {
    throw std::runtime_error(fmt::format("no \"{}\" object", key));
  }
  return m->members;
}

std::string string_member(const JsonValue& v, const char* key) {
  const JsonValue* m = v.find(key);
  if (m == nullptr || m->kind != JsonValue::Kind::kString) {
    throw std::runtime_error(fmt::format("no \"{}\" string", key));
  }
  return m->text;
}

std::string number_member(const JsonValue& v, const char* key) {
  const JsonValue* m = v.find(key);
  if (m == nullptr || m->kind != JsonValue::Kind::kNumber) {
    throw std::runtime_error(fmt::format("no \"{}\" number", key));
  }
  return m->text;
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int open_append(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw InputError(fmt::format("{}: cannot open for appending ({})", path, std::strerror(errno)));
  }
  return fd;
}

}  // namespace

JsonValue parse_json(const std::string& text) {
  return JsonParser(text).parse();
}

std::string json_text(const JsonValue& v) {
  switch (v.kind) {
    case JsonValue::Kind::kNull:
      return "null";
    case JsonValue::Kind::kBool:
    case JsonValue::Kind::kNumber:
      return v.text;
    case JsonValue::Kind::kString:
      return json_quote(v.text);
    case JsonValue::Kind::kObject:
      return object_text(v.members);
    case JsonValue::Kind::kArray:
      break;
  }
  std::string out = "[";
  for (size_t i = 0; i < v.items.size(); ++i) out += (i ? "," : "") + json_text(v.items[i]);
  return out + "]";
}

std::string Columns::csv_header() const {
  std::string out = "id,index,status";
  for (const auto* group : {&axes, &summary, &metrics}) {
    for (const std::string& c : *group) out += "," + csv_field(c);
  }
  return out + ",wall_s,error,out\n";
}

std::string Row::jsonl() const {
  std::string line = "{\"id\":" + json_quote(id) + fmt::format(",\"index\":{}", index) +
                     ",\"status\":" + json_quote(status);
  line += ",\"params\":" + object_text(params);
  line += ",\"summary\":" + object_text(summary);
  line += ",\"metrics\":" + object_text(metrics);
  line += fmt::format(",\"wall_s\":{:.3f}", wall_s);
  line += ",\"error\":" + json_quote(error) + ",\"out\":" + json_quote(out) + "}\n";
  return line;
}

std::string Row::csv(const Columns& cols) const {
  std::string line = csv_field(id) + fmt::format(",{},", index) + csv_field(status);
  const auto emit = [&line](const std::vector<std::string>& names,
                            const std::vector<std::pair<std::string, JsonValue>>& values) {
    for (const std::string& n : names) {
      line += ",";
      for (const auto& [k, v] : values) {
        if (k == n) {
          line += csv_value(v);
          break;
        }
      }
    }
  };
  emit(cols.axes, params);
  emit(cols.summary, summary);
  emit(cols.metrics, metrics);
  line += fmt::format(",{:.3f},", wall_s) + csv_field(error) + "," + csv_field(out) + "\n";
  return line;
}

Row Row::from_json(const JsonValue& v) {
  if (v.kind != JsonValue::Kind::kObject) throw std::runtime_error("not a JSON object");
  Row r;
  r.id = string_member(v, "id");
  const std::string index = number_member(v, "index");
  if (index.find_first_not_of("0123456789") != std::string::npos) {
    throw std::runtime_error("\"index\" is not a non-negative integer");
  }
  r.index = std::stoull(index);
  r.status = string_member(v, "status");
  r.params = object_members(v, "params");
  r.summary = object_members(v, "summary");
  r.metrics = object_members(v, "metrics");
  r.wall_s = std::stod(number_member(v, "wall_s"));
  r.error = string_member(v, "error");
  r.out = string_member(v, "out");
  return r;
}

void fill_from_stats(const std::string& stats_json, const Columns& cols,
                     const std::vector<std::string>& metric_stats, Row* row) {
  const JsonValue doc = parse_json(stats_json);
  const JsonValue* summary = doc.find("summary");
  const JsonValue* stats = doc.find("stats");
  if (summary == nullptr || stats == nullptr) {
    throw std::runtime_error("stats.json has no \"summary\" or \"stats\" object");
  }
  row->summary.clear();
  for (const std::string& c : cols.summary) {
    const JsonValue* v = summary->find(c);
    row->summary.emplace_back(c, v != nullptr ? *v : JsonValue::null());
  }
  row->metrics.clear();
  for (size_t i = 0; i < cols.metrics.size(); ++i) {
    const JsonValue* st = stats->find(metric_stats[i]);
    const JsonValue* v = st != nullptr ? st->find("value") : nullptr;
    row->metrics.emplace_back(cols.metrics[i], v != nullptr ? *v : JsonValue::null());
  }
}

void append_line(int fd, const std::string& line, const std::string& path) {
  ssize_t n = -1;
  do {
    n = ::write(fd, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(line.size())) {
    throw std::runtime_error(fmt::format("{}: cannot append a row ({})", path,
                                         n < 0 ? std::strerror(errno) : "short write"));
  }
}

ResultsLog::ResultsLog(const std::string& dir, const Columns& cols, bool resume, std::string* note)
    : m_dir(dir), m_cols(cols) {
  const std::string jsonl = (fs::path(dir) / "results.jsonl").string();
  const std::string csv = (fs::path(dir) / "results.csv").string();
  std::error_code ec;
  const bool have = fs::exists(jsonl, ec) && fs::file_size(jsonl, ec) > 0;
  if (have && !resume) {
    throw InputError(fmt::format(
        "{}: holds the results of an earlier sweep (add --resume to continue it, or choose "
        "another --out)",
        dir));
  }
  if (have) {
    std::string text = read_all(jsonl);
    const size_t last_nl = text.rfind('\n');
    const size_t keep = last_nl == std::string::npos ? 0 : last_nl + 1;
    if (keep != text.size()) {
      // A torn last line (the sweep died inside a write): drop it; the point runs again.
      if (::truncate(jsonl.c_str(), static_cast<off_t>(keep)) != 0) {
        throw InputError(
            fmt::format("{}: cannot truncate a torn last line ({})", jsonl, std::strerror(errno)));
      }
      if (note != nullptr) {
        *note = fmt::format("{}: dropped a torn last line ({} bytes)", jsonl, text.size() - keep);
      }
      text.resize(keep);
    }
    size_t pos = 0, line_no = 0;
    while (pos < text.size()) {
      const size_t nl = text.find('\n', pos);
      const std::string line = text.substr(pos, nl - pos);
      pos = nl + 1;
      ++line_no;
      Row r;
      try {
        r = Row::from_json(parse_json(line));
      } catch (const std::runtime_error& e) {
        throw InputError(fmt::format("{}:{}: not a result row ({})", jsonl, line_no, e.what()));
      }
      if (!m_done.insert(r.id).second) {
        throw InputError(fmt::format("{}:{}: point '{}' is recorded twice", jsonl, line_no, r.id));
      }
      m_rows.push_back(std::move(r));
    }
  }
  // results.csv is rebuilt from results.jsonl, so the two always hold the same rows.
  std::string csv_text = cols.csv_header();
  for (const Row& r : m_rows) csv_text += r.csv(cols);
  const std::string tmp = csv + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << csv_text;
    f.flush();
    if (!f) throw InputError(fmt::format("{}: cannot write", tmp));
  }
  fs::rename(tmp, csv, ec);
  if (ec) throw InputError(fmt::format("{}: cannot write ({})", csv, ec.message()));
  m_jsonl = open_append(jsonl);
  m_csv = open_append(csv);
}

ResultsLog::~ResultsLog() {
  if (m_jsonl >= 0) ::close(m_jsonl);
  if (m_csv >= 0) ::close(m_csv);
}

void ResultsLog::append(const Row& row) {
  append_line(m_jsonl, row.jsonl(), m_dir + "/results.jsonl");
  ::fdatasync(m_jsonl);
  append_line(m_csv, row.csv(m_cols), m_dir + "/results.csv");
  ::fdatasync(m_csv);
  m_done.insert(row.id);
  m_rows.push_back(row);
}

}  // namespace moesim::sweep
