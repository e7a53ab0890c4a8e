/// Placement tables: EPLB's JSON form (phy2log, log2phy, logcnt) and the CSV form of the
/// multi-chip issue (layer,expert,chip).

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "sim/plan/placement.hpp"

namespace moesim {
namespace {

/// A JSON value with the place it starts (enough JSON for the tables: numbers, arrays,
/// objects, strings, true/false/null).
struct JValue {
  enum class Kind { kNumber, kArray, kObject, kString, kOther };
  Kind kind = Kind::kOther;
  double number = 0;
  std::string text;  // kString; kNumber: as written
  std::vector<JValue> items;
  std::vector<std::pair<std::string, JValue>> members;
  uint32_t line = 1;
  uint32_t col = 1;
};

/// A small recursive-descent JSON parser with line:column positions.
class JsonParser {
 public:
  JsonParser(std::string path, std::string text) : m_path(std::move(path)), m_s(std::move(text)) {}

  JValue parse_document() {
    JValue v = value(0);
    skip();
    if (m_i < m_s.size()) fail("unexpected text after the JSON value");
    return v;
  }
  [[noreturn]] void fail_at(uint32_t line, uint32_t col, const std::string& what) const {
    throw InputError(fmt::format("{}:{}:{}: {}", m_path, line, col, what));
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { fail_at(m_line, m_col, what); }
  void advance() {
    if (m_s[m_i] == '\n') {
      ++m_line;
      m_col = 1;
    } else {
      ++m_col;
    }
    ++m_i;
  }
  void skip() {
    while (m_i < m_s.size() &&
           (m_s[m_i] == ' ' || m_s[m_i] == '\t' || m_s[m_i] == '\n' || m_s[m_i] == '\r')) {
      advance();
    }
  }
  void expect(char c) {
    skip();
    if (m_i >= m_s.size() || m_s[m_i] != c) {
      fail(m_i >= m_s.size() ? fmt::format("expected '{}', found the end of the file", c)
                             : fmt::format("expected '{}', found '{}'", c, m_s[m_i]));
    }
    advance();
  }
  std::string string_body() {
    std::string out;
    advance();  // opening quote
    while (m_i < m_s.size() && m_s[m_i] != '"') {
      if (m_s[m_i] == '\\' && m_i + 1 < m_s.size()) advance();
      out += m_s[m_i];
      advance();
    }
    if (m_i >= m_s.size()) fail("unterminated string");
    advance();
    return out;
  }
  JValue value(int depth) {
    if (depth > 64) fail("nested too deeply");
    skip();
    JValue v;
    v.line = m_line;
    v.col = m_col;
    if (m_i >= m_s.size()) fail("expected a value, found the end of the file");
    const char c = m_s[m_i];
    if (c == '[') {
      v.kind = JValue::Kind::kArray;
      advance();
      skip();
      if (m_i < m_s.size() && m_s[m_i] == ']') {
        advance();
        return v;
      }
      for (;;) {
        v.items.push_back(value(depth + 1));
        skip();
        if (m_i < m_s.size() && m_s[m_i] == ',') {
          advance();
          continue;
        }
        expect(']');
        return v;
      }
    }
    if (c == '{') {
      v.kind = JValue::Kind::kObject;
      advance();
      skip();
      if (m_i < m_s.size() && m_s[m_i] == '}') {
        advance();
        return v;
      }
      for (;;) {
        skip();
        if (m_i >= m_s.size() || m_s[m_i] != '"') fail("expected a key in double quotes");
        std::string key = string_body();
        expect(':');
        v.members.emplace_back(std::move(key), value(depth + 1));
        skip();
        if (m_i < m_s.size() && m_s[m_i] == ',') {
          advance();
          continue;
        }
        expect('}');
        return v;
      }
    }
    if (c == '"') {
      v.kind = JValue::Kind::kString;
      v.text = string_body();
      return v;
    }
    const size_t start = m_i;
    while (m_i < m_s.size() &&
           std::string_view("+-.eE0123456789abcdefghijklmnopqrstuvwxyz").find(m_s[m_i]) !=
               std::string_view::npos) {
      advance();
    }
    v.text = m_s.substr(start, m_i - start);
    if (v.text == "true" || v.text == "false" || v.text == "null") return v;
    try {
      size_t used = 0;
      v.number = std::stod(v.text, &used);
      if (used != v.text.size()) throw std::invalid_argument("");
    } catch (const std::exception&) {
      fail_at(v.line, v.col,
              v.text.empty() ? fmt::format("unexpected '{}'", c)
                             : fmt::format("'{}' is not a JSON value", v.text));
    }
    v.kind = JValue::Kind::kNumber;
    return v;
  }

  std::string m_path;
  std::string m_s;
  size_t m_i = 0;
  uint32_t m_line = 1;
  uint32_t m_col = 1;
};

std::string slurp(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open {}", path, what));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Placement read_placement_json(const std::string& path, uint32_t layers, uint32_t experts,
                              uint32_t chips) {
  JsonParser parser(path, slurp(path, "placement table"));
  const JValue doc = parser.parse_document();
  auto fail = [&](const JValue& v, const std::string& what) {
    parser.fail_at(v.line, v.col, what);
  };
  if (doc.kind != JValue::Kind::kObject) fail(doc, "expected an object with a \"phy2log\" key");
  const JValue* phy2log = nullptr;
  const JValue* log2phy = nullptr;
  const JValue* logcnt = nullptr;
  for (const auto& [k, v] : doc.members) {
    if (k == "phy2log" || k == "physical_to_logical_map") phy2log = &v;
    if (k == "log2phy" || k == "logical_to_physical_map") log2phy = &v;
    if (k == "logcnt" || k == "expert_count" || k == "logical_count") logcnt = &v;
  }
  if (phy2log == nullptr) fail(doc, "no \"phy2log\" key (the logical expert of each slot)");
  // A matrix of integers: rows x cols (cols 0: any, the same for every row).
  auto matrix = [&](const JValue& m, const char* name, size_t rows, size_t& cols, int64_t lo,
                    int64_t hi) {
    std::vector<int64_t> out;
    if (m.kind != JValue::Kind::kArray || m.items.size() != rows) {
      fail(m, fmt::format("\"{}\" must be an array of {} rows (one per MoE layer)", name, rows));
    }
    for (size_t r = 0; r < rows; ++r) {
      const JValue& row = m.items[r];
      if (row.kind != JValue::Kind::kArray)
        fail(row, fmt::format("\"{}\"[{}] is not an array", name, r));
      if (cols == 0) cols = row.items.size();
      if (row.items.size() != cols || cols == 0) {
        fail(row, fmt::format("\"{}\"[{}] has {} entries, expected {}", name, r, row.items.size(),
                              cols));
      }
      for (size_t c = 0; c < cols; ++c) {
        const JValue& x = row.items[c];
        if (x.kind != JValue::Kind::kNumber ||
            x.number != static_cast<double>(static_cast<int64_t>(x.number))) {
          fail(x, fmt::format("\"{}\"[{}][{}] is not an integer", name, r, c));
        }
        const auto n = static_cast<int64_t>(x.number);
        if (n < lo || n > hi) {
          fail(x, fmt::format("\"{}\"[{}][{}] = {} is outside [{}, {}]", name, r, c, n, lo, hi));
        }
        out.push_back(n);
      }
    }
    return out;
  };
  size_t slots = 0;
  const std::vector<int64_t> p2l = matrix(*phy2log, "phy2log", layers, slots, 0, experts - 1);
  if (slots % chips != 0) {
    fail(*phy2log,
         fmt::format("{} slots per layer do not split evenly over {} chips", slots, chips));
  }
  if (slots < experts) {
    fail(*phy2log, fmt::format("{} slots per layer are fewer than the {} experts", slots, experts));
  }
  Placement p;
  p.layers = layers;
  p.experts = experts;
  p.chips = chips;
  p.slots = static_cast<uint32_t>(slots);
  p.phy2log.assign(p2l.begin(), p2l.end());
  const std::string err = p.index();
  if (!err.empty()) fail(*phy2log, err);
  if (logcnt != nullptr) {
    size_t cols = experts;
    const std::vector<int64_t> cnt =
        matrix(*logcnt, "logcnt", layers, cols, 1, static_cast<int64_t>(slots));
    for (uint32_t l = 0; l < layers; ++l) {
      for (uint32_t e = 0; e < experts; ++e) {
        if (cnt[size_t{l} * experts + e] != p.replica_count(l, e)) {
          fail(logcnt->items[l].items[e],
               fmt::format("\"logcnt\"[{}][{}] = {}, but phy2log has {} replica{} of expert {}", l,
                           e, cnt[size_t{l} * experts + e], p.replica_count(l, e),
                           p.replica_count(l, e) == 1 ? "" : "s", e));
        }
      }
    }
  }
  if (log2phy != nullptr) {
    if (log2phy->kind != JValue::Kind::kArray || log2phy->items.size() != layers) {
      fail(*log2phy, fmt::format("\"log2phy\" must be an array of {} layers", layers));
    }
    for (uint32_t l = 0; l < layers; ++l) {
      const JValue& lay = log2phy->items[l];
      if (lay.kind != JValue::Kind::kArray || lay.items.size() != experts) {
        fail(lay, fmt::format("\"log2phy\"[{}] must have {} experts", l, experts));
      }
      for (uint32_t e = 0; e < experts; ++e) {
        const JValue& reps = lay.items[e];
        if (reps.kind != JValue::Kind::kArray)
          fail(reps, fmt::format("\"log2phy\"[{}][{}] is not an array", l, e));
        for (const JValue& x : reps.items) {
          if (x.kind != JValue::Kind::kNumber || x.number < -1 ||
              x.number >= static_cast<double>(slots) ||
              x.number != static_cast<double>(static_cast<int64_t>(x.number))) {
            fail(x,
                 fmt::format("\"log2phy\"[{}][{}]: a slot in [0, {}) or -1 expected", l, e, slots));
          }
          const auto s = static_cast<int64_t>(x.number);
          if (s >= 0 && p.phy2log[size_t{l} * slots + static_cast<size_t>(s)] != e) {
            fail(x, fmt::format("\"log2phy\"[{}][{}] names slot {}, which phy2log gives expert {}",
                                l, e, s, p.phy2log[size_t{l} * slots + static_cast<size_t>(s)]));
          }
        }
      }
    }
  }
  return p;
}

std::string placement_json(const Placement& p) {
  uint32_t maxcnt = 1;
  for (uint32_t l = 0; l < p.layers; ++l) {
    for (uint32_t e = 0; e < p.experts; ++e) maxcnt = std::max(maxcnt, p.replica_count(l, e));
  }
  std::string out = "{\n  \"phy2log\": [";
  for (uint32_t l = 0; l < p.layers; ++l) {
    out += l ? ",\n    [" : "\n    [";
    for (uint32_t s = 0; s < p.slots; ++s) {
      out += fmt::format("{}{}", s ? ", " : "", p.phy2log[size_t{l} * p.slots + s]);
    }
    out += "]";
  }
  out += "\n  ],\n  \"log2phy\": [";
  for (uint32_t l = 0; l < p.layers; ++l) {
    out += l ? ",\n    [" : "\n    [";
    for (uint32_t e = 0; e < p.experts; ++e) {
      out += e ? ", [" : "[";
      uint32_t k = 0;
      for (const uint32_t* s = p.replicas_begin(l, e); s != p.replicas_end(l, e); ++s, ++k) {
        out += fmt::format("{}{}", k ? ", " : "", *s);
      }
      for (; k < maxcnt; ++k) out += k ? ", -1" : "-1";
      out += "]";
    }
    out += "]";
  }
  out += "\n  ],\n  \"logcnt\": [";
  for (uint32_t l = 0; l < p.layers; ++l) {
    out += l ? ",\n    [" : "\n    [";
    for (uint32_t e = 0; e < p.experts; ++e) {
      out += fmt::format("{}{}", e ? ", " : "", p.replica_count(l, e));
    }
    out += "]";
  }
  out += "\n  ]\n}\n";
  return out;
}

Placement read_placement_csv(const std::string& path, uint32_t layers, uint32_t experts,
                             uint32_t n) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open placement table", path));
  std::vector<uint32_t> chip(size_t{layers} * experts, UINT32_MAX);
  std::vector<uint32_t> line_of(chip.size(), 0);
  std::string line;
  uint32_t lineno = 0;
  int col_layer = -1;
  int col_expert = -1;
  int col_chip = -1;
  size_t columns = 0;
  auto fail = [&](const std::string& what) -> void {
    throw InputError(fmt::format("{}:{}: {}", path, lineno, what));
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) {
      const size_t b = x.find_first_not_of(" \t\"");
      const size_t e = x.find_last_not_of(" \t\"");
      f.push_back(b == std::string::npos ? "" : x.substr(b, e - b + 1));
    }
    if (col_layer < 0) {
      for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] == "layer") col_layer = static_cast<int>(i);
        if (f[i] == "expert") col_expert = static_cast<int>(i);
        if (f[i] == "chip") col_chip = static_cast<int>(i);
      }
      if (col_layer < 0 || col_expert < 0 || col_chip < 0) {
        fail("expected a header naming the columns layer, expert and chip");
      }
      columns = f.size();
      continue;
    }
    if (f.size() != columns) fail(fmt::format("{} fields, the header has {}", f.size(), columns));
    auto number = [&](int col, const char* what, uint64_t limit, const std::string& range) {
      const std::string& v = f[static_cast<size_t>(col)];
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 9) {
        fail(fmt::format("{} '{}' is not a non-negative integer", what, v));
      }
      const uint64_t x = std::stoull(v);
      if (x >= limit) fail(fmt::format("{} {} does not exist ({})", what, x, range));
      return static_cast<uint32_t>(x);
    };
    const bool all = f[static_cast<size_t>(col_layer)] == "*";
    const uint32_t layer =
        all ? 0 : number(col_layer, "layer", layers, fmt::format("{} MoE layers", layers));
    const uint32_t expert =
        number(col_expert, "expert", experts, fmt::format("the model has {} experts", experts));
    const uint32_t c =
        number(col_chip, "chip", n, fmt::format("an expert-parallel group has {} chips", n));
    for (uint32_t l = all ? 0 : layer; l < (all ? layers : layer + 1); ++l) {
      const size_t key = size_t{l} * experts + expert;
      if (chip[key] != UINT32_MAX) {
        fail(fmt::format("expert {} of MoE layer {} is placed twice (also on line {})", expert, l,
                         line_of[key]));
      }
      chip[key] = c;
      line_of[key] = lineno;
    }
  }
  if (col_layer < 0) throw InputError(fmt::format("{}: empty placement table", path));
  for (size_t key = 0; key < chip.size(); ++key) {
    if (chip[key] == UINT32_MAX) {
      throw InputError(
          fmt::format("{}: expert {} of MoE layer {} has no chip (every expert of "
                      "every layer needs one)",
                      path, key % experts, key / experts));
    }
  }
  // One slot per expert, in expert order (a chip may hold any number of them).
  Placement p;
  p.layers = layers;
  p.experts = experts;
  p.chips = n;
  p.slots = experts;
  p.phy2log.resize(chip.size());
  p.slot_chip = chip;
  for (size_t i = 0; i < chip.size(); ++i) p.phy2log[i] = static_cast<uint32_t>(i % experts);
  const std::string err = p.index();
  if (!err.empty()) throw InputError(fmt::format("{}: {}", path, err));
  return p;
}

}  // namespace moesim
