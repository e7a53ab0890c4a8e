#include "sim/cli/scalesim_files.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "sim/core/error.hpp"

namespace moesim {

namespace {

/// The file's lines without their line ends ("\n", "\r\n" or a lone "\r") and without a
/// leading UTF-8 byte-order mark.
std::vector<std::string> read_lines(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw InputError(fmt::format("{}: cannot open {} ({})", path, what, std::strerror(errno)));
  std::stringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  std::vector<std::string> lines;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r') {
      lines.push_back(cur);
      cur.clear();
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  return lines;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace

std::string shown(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += ch;
  }
  return out;
}

namespace {

/// "+123" or "123" (what Python's int() takes, less '_' separators), as a number; nullopt
/// when it is not one or does not fit 64 bits.
std::optional<uint64_t> parse_unsigned(const std::string& s) {
  size_t i = s.size() > 0 && s[0] == '+' ? 1 : 0;
  if (i >= s.size()) return std::nullopt;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// ---------------------------------------------------------------------------------------
// Topology CSV

struct Field {
  std::string text;  ///< without surrounding blanks and quotes
  int col = 1;       ///< 1-based column of its first character
};

/// Splits one CSV line on commas; a field may be quoted ("a, b" with "" for a quote).
std::vector<Field> split_csv(const std::string& line, const std::string& path, int lineno) {
  std::vector<Field> fields;
  size_t i = 0;
  while (true) {
    while (i < line.size() && is_space(line[i])) ++i;
    Field f;
    f.col = static_cast<int>(i) + 1;
    if (i < line.size() && line[i] == '"') {
      const size_t open = i++;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            f.text += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        f.text += line[i++];
      }
      if (!closed)
        throw InputError(
            fmt::format("{}:{}:{}: unterminated quoted field", path, lineno, open + 1));
      while (i < line.size() && is_space(line[i])) ++i;
      if (i < line.size() && line[i] != ',')
        throw InputError(fmt::format("{}:{}:{}: expected ',' after the quoted field, got '{}'",
                                     path, lineno, i + 1, shown(std::string(1, line[i]))));
      f.text = trim(f.text);
    } else {
      const size_t start = i;
      while (i < line.size() && line[i] != ',') ++i;
      f.text = trim(line.substr(start, i - start));
    }
    fields.push_back(f);
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  // SCALE-Sim's rows end with a comma (it drops the last field); trailing empty fields go.
  while (!fields.empty() && fields.back().text.empty()) fields.pop_back();
  return fields;
}

bool is_number(const std::string& s) {
  return parse_unsigned(s).has_value();
}

class TopologyReader {
 public:
  TopologyReader(const std::string& path) : m_path(path) {}

  uint64_t dim(const Field& f, int lineno, const char* name) const {
    const auto v = parse_unsigned(f.text);
    if (!v || *v == 0 || *v > kMaxDim)
      throw InputError(fmt::format("{}:{}:{}: {}: expected a positive integer{}, got '{}'", m_path,
                                   lineno, f.col, name,
                                   v && *v > kMaxDim ? " at most 2^32 - 1" : "", shown(f.text)));
    return *v;
  }

  void add(Topology& t, std::string name, uint64_t m, uint64_t n, uint64_t k, int lineno) const {
    // M x N x K at most 2^53: every count below is exact in a double, as in SCALE-Sim's
    // Python integers.
    constexpr uint64_t kMaxMacs = uint64_t{1} << 53;
    uint64_t mn = 0, mnk = 0;
    if (__builtin_mul_overflow(m, n, &mn) || __builtin_mul_overflow(mn, k, &mnk) || mnk > kMaxMacs)
      throw InputError(
          fmt::format("{}:{}: layer '{}': M x N x K = {} x {} x {} is more than 2^53 MACs", m_path,
                      lineno, shown(name), m, n, k));
    t.layers.push_back({std::move(name), m, n, k, lineno});
  }

  void gemm_row(Topology& t, const std::vector<Field>& f, int lineno) const {
    if (f.size() < 4)
      throw InputError(fmt::format("{}:{}: expected at least 4 fields (Layer, M, N, K), got {}",
                                   m_path, lineno, f.size()));
    const uint64_t m = dim(f[1], lineno, "M");
    const uint64_t n = dim(f[2], lineno, "N");
    const uint64_t k = dim(f[3], lineno, "K");
    add(t, f[0].text, m, n, k, lineno);
  }

  void conv_row(Topology& t, const std::vector<Field>& f, int lineno) const {
    if (f.size() < 8)
      throw InputError(fmt::format(
          "{}:{}: expected at least 8 fields (Layer name, IFMAP Height, IFMAP Width, Filter "
          "Height, Filter Width, Channels, Num Filter, Strides), got {}",
          m_path, lineno, f.size()));
    const uint64_t ih = dim(f[1], lineno, "IFMAP Height");
    const uint64_t iw = dim(f[2], lineno, "IFMAP Width");
    const uint64_t fh = dim(f[3], lineno, "Filter Height");
    const uint64_t fw = dim(f[4], lineno, "Filter Width");
    const uint64_t ch = dim(f[5], lineno, "Channels");
    const uint64_t nf = dim(f[6], lineno, "Num Filter");
    const uint64_t sh = dim(f[7], lineno, "Strides");
    // One stride for both directions, or a second one for the width (as SCALE-Sim reads).
    const uint64_t sw = f.size() >= 9 ? dim(f[8], lineno, "Stride width") : sh;
    if (fh > ih)
      throw InputError(fmt::format("{}:{}:{}: Filter Height {} is larger than IFMAP Height {}",
                                   m_path, lineno, f[3].col, fh, ih));
    if (fw > iw)
      throw InputError(fmt::format("{}:{}:{}: Filter Width {} is larger than IFMAP Width {}",
                                   m_path, lineno, f[4].col, fw, iw));
    // SCALE-Sim's im2col mapping: one GEMM row per output pixel, one column per filter,
    // K = the filter window over all channels. Its output size is ceil((I - F + S) / S):
    // a last window that overhangs the input counts.
    const uint64_t oh = (ih - fh + sh - 1) / sh + 1;
    const uint64_t ow = (iw - fw + sw - 1) / sw + 1;
    const std::string& name = f[0].text;
    if (name.find("DP") != std::string::npos) {
      // SCALE-Sim's depth-wise layers ('DP' in the name): one single-channel layer per channel.
      for (uint64_t c = 0; c < ch; ++c)
        add(t, name + "Channel_" + std::to_string(c), oh * ow, nf, fh * fw, lineno);
    } else {
      uint64_t k = 0;
      if (__builtin_mul_overflow(fh * fw, ch, &k)) k = UINT64_MAX;
      add(t, name, oh * ow, nf, k, lineno);
    }
  }

  static constexpr uint64_t kMaxDim = (uint64_t{1} << 32) - 1;

 private:
  std::string m_path;
};

// ---------------------------------------------------------------------------------------
// SCALE-Sim .cfg (Python configparser: '=' or ':', keys case-insensitive, '#' and ';'
// comment lines, indented continuation lines, no inline comments)

struct CfgValue {
  std::string key;  ///< as written
  std::string value;
  int line = 0;
  int col = 0;  ///< of the value
};

struct CfgSection {
  int line = 0;
  std::map<std::string, CfgValue> values;  ///< by lower-cased key
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Topology read_topology_csv(const std::string& path, TopologyForm form) {
  const std::vector<std::string> lines = read_lines(path, "topology file");
  const TopologyReader reader(path);
  Topology t;
  bool first = true;
  for (size_t i = 0; i < lines.size(); ++i) {
    const int lineno = static_cast<int>(i) + 1;
    const std::vector<Field> f = split_csv(lines[i], path, lineno);
    if (f.empty()) continue;  // a blank line, or only commas
    if (first) {
      first = false;
      // SCALE-Sim always skips the first line; here it is a header when its second field
      // is not a number (a header-less file loses no layer).
      t.header = f.size() < 2 || !is_number(f[1].text);
      if (form == TopologyForm::kAuto) {
        bool conv = false;
        if (t.header) {
          for (const Field& h : f) conv = conv || lower(h.text).find("ifmap") != std::string::npos;
        } else {
          size_t numbers = 0;
          while (numbers + 1 < f.size() && is_number(f[numbers + 1].text)) ++numbers;
          conv = numbers >= 7;
        }
        form = conv ? TopologyForm::kConv : TopologyForm::kGemm;
      }
      t.form = form;
      if (t.header) continue;
    }
    if (form == TopologyForm::kConv)
      reader.conv_row(t, f, lineno);
    else
      reader.gemm_row(t, f, lineno);
  }
  if (first) t.form = form == TopologyForm::kAuto ? TopologyForm::kGemm : form;
  if (t.layers.empty())
    throw InputError(
        fmt::format("{}: no layers (expected rows like 'Layer1, 128, 64, 256,')", path));
  return t;
}

ScaleSimArch read_scalesim_cfg(const std::string& path) {
  const std::vector<std::string> lines = read_lines(path, "SCALE-Sim config file");
  std::map<std::string, CfgSection> sections;
  CfgSection* cur = nullptr;
  std::string cur_name;
  CfgValue* last = nullptr;  // the value a continuation line extends
  size_t last_indent = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const int lineno = static_cast<int>(i) + 1;
    const std::string& line = lines[i];
    const std::string s = trim(line);
    if (s.empty() || s[0] == '#' || s[0] == ';') {
      if (s.empty()) last = nullptr;
      continue;
    }
    size_t indent = 0;
    while (indent < line.size() && is_space(line[indent])) ++indent;
    if (last && indent > last_indent) {
      last->value += "\n" + s;
      continue;
    }
    last = nullptr;
    if (s[0] == '[') {
      if (s.back() != ']' || s.size() < 3)
        throw InputError(
            fmt::format("{}:{}: expected a section header like '[architecture_presets]', got '{}'",
                        path, lineno, shown(s)));
      cur_name = s.substr(1, s.size() - 2);
      auto [it, fresh] = sections.emplace(cur_name, CfgSection{});
      if (!fresh)
        throw InputError(fmt::format("{}:{}: section [{}] again (first at line {})", path, lineno,
                                     shown(cur_name), it->second.line));
      it->second.line = lineno;
      cur = &it->second;
      continue;
    }
    const size_t d = line.find_first_of("=:");
    if (d == std::string::npos)
      throw InputError(fmt::format("{}:{}: expected 'key = value' or 'key: value', got '{}'", path,
                                   lineno, shown(s)));
    const std::string key = trim(line.substr(0, d));
    if (key.empty())
      throw InputError(fmt::format("{}:{}: a value without a key: '{}'", path, lineno, shown(s)));
    if (!cur)
      throw InputError(
          fmt::format("{}:{}: '{}' before any section header (SCALE-Sim's keys are under "
                      "[general], [architecture_presets] and [run_presets])",
                      path, lineno, shown(key)));
    size_t v = d + 1;
    while (v < line.size() && is_space(line[v])) ++v;
    CfgValue val{key, trim(line.substr(v)), lineno, static_cast<int>(v) + 1};
    auto [it, fresh] = cur->values.emplace(lower(key), val);
    if (!fresh)
      throw InputError(fmt::format("{}:{}: [{}] {} again (first at line {})", path, lineno,
                                   shown(cur_name), shown(key), it->second.line));
    last = &it->second;
    last_indent = indent;
  }

  auto find = [&](const char* section, const char* key) -> const CfgValue* {
    const auto s = sections.find(section);
    if (s == sections.end()) return nullptr;
    const auto v = s->second.values.find(lower(key));
    return v == s->second.values.end() ? nullptr : &v->second;
  };
  auto bad = [&](const char* section, const CfgValue& v, const std::string& expected) {
    throw InputError(fmt::format("{}:{}:{}: [{}] {}: expected {}, got '{}'", path, v.line, v.col,
                                 section, shown(v.key), expected, shown(v.value)));
  };

  ScaleSimArch a;
  if (const CfgValue* v = find("general", "run_name")) a.run_name = v->value;
  bool user_bandwidth = false;
  if (const CfgValue* v = find("run_presets", "InterfaceBandwidth")) {
    if (v->value != "USER" && v->value != "CALC") bad("run_presets", *v, "USER or CALC");
    user_bandwidth = v->value == "USER";
  }
  const char* arch = "architecture_presets";
  auto array_dim = [&](const char* key, std::optional<uint64_t>& out) {
    if (const CfgValue* v = find(arch, key)) {
      const auto n = parse_unsigned(v->value);
      if (!n || *n == 0 || *n > 4096) bad(arch, *v, "an integer from 1 to 4096");
      out = *n;
    }
  };
  array_dim("ArrayHeight", a.rows);
  array_dim("ArrayWidth", a.cols);
  for (const char* key : {"IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB", "IfmapOffset",
                          "FilterOffset", "OfmapOffset"}) {
    if (const CfgValue* v = find(arch, key)) {
      if (!parse_unsigned(v->value)) bad(arch, *v, "a non-negative integer");
    }
  }
  // SCALE-Sim reads Bandwidth only with a USER interface bandwidth.
  if (const CfgValue* v = user_bandwidth ? find(arch, "Bandwidth") : nullptr) {
    std::stringstream ss(v->value);
    std::string item;
    bool ok = !v->value.empty();
    while (ok && std::getline(ss, item, ',')) ok = parse_unsigned(trim(item)).has_value();
    if (!ok) bad(arch, *v, "non-negative integers separated by commas");
  }
  if (const CfgValue* v = find(arch, "Dataflow")) {
    if (v->value != "ws" && v->value != "os" && v->value != "is") bad(arch, *v, "ws, os or is");
    a.dataflow = v->value;
  }
  return a;
}

}  // namespace moesim
