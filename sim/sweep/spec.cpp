#include "sim/sweep/spec.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "sim/config/schema.hpp"
#include "sim/config/toml_text.hpp"
#include "sim/config/units.hpp"
#include "sim/core/error.hpp"
#include "sim/core/json_text.hpp"

namespace moesim::sweep {

namespace fs = std::filesystem;

namespace {

/// Largest number of points a sweep may enumerate.
constexpr uint64_t kMaxPoints = 1000000;

const Dim kDims[] = {Dim::kSize, Dim::kBandwidth, Dim::kTime, Dim::kFrequency};

SourceLoc loc_of(const std::string& file, const toml::source_region& r) {
  return SourceLoc{file, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

[[noreturn]] void fail(const SourceLoc& loc, const std::string& key, const std::string& what) {
  throw InputError(located_message(loc, key, what));
}

std::string with_hint(const std::string& what, const std::string& hint) {
  return hint.empty() ? what : fmt::format("{} (did you mean '{}'?)", what, hint);
}

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

/// The entries of a table in file order (toml++ keeps keys sorted).
std::vector<std::pair<std::string, const toml::node*>> in_file_order(const toml::table& t) {
  std::vector<std::tuple<int, int, std::string, const toml::node*>> items;
  for (auto&& [k, v] : t) {
    items.emplace_back(k.source().begin.line, k.source().begin.column, std::string(k.str()), &v);
  }
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    return std::make_pair(std::get<0>(a), std::get<1>(a)) <
           std::make_pair(std::get<0>(b), std::get<1>(b));
  });
  std::vector<std::pair<std::string, const toml::node*>> out;
  for (auto& [l, c, k, v] : items) out.emplace_back(k, v);
  return out;
}

/// Checks a table's keys against a schema: unknown keys (with a did-you-mean) and keys of the
/// wrong TOML type are errors; missing required keys are reported at the table header.
class TableReader {
 public:
  TableReader(const std::string& file, const std::string& path, const toml::table* table,
              const ParamSchema& schema, const SourceLoc& fallback)
      : m_file(file), m_path(path), m_table(table), m_schema(schema), m_fallback(fallback) {
    if (m_table == nullptr) return;
    for (const auto& [k, v] : in_file_order(*m_table)) {
      if (m_schema.find(k) == nullptr) {
        fail(loc_of(m_file, m_table->get(k) != nullptr ? key_source(k) : v->source()), full(k),
             with_hint(fmt::format("unknown key for '{}'", m_schema.owner()),
                       did_you_mean(k, m_schema.names())));
      }
    }
  }

  std::string full(const std::string& k) const { return m_path.empty() ? k : m_path + "." + k; }
  SourceLoc header() const {
    return m_table != nullptr && m_table->source().begin.line > 0
               ? loc_of(m_file, m_table->source())
               : m_fallback;
  }
  const toml::node* get(const std::string& k) const {
    return m_table != nullptr ? m_table->get(k) : nullptr;
  }
  SourceLoc loc(const std::string& k) const {
    const toml::node* n = get(k);
    return n != nullptr ? loc_of(m_file, n->source()) : header();
  }
  [[noreturn]] void missing(const std::string& k, const std::string& expected) const {
    fail(header(), full(k), fmt::format("missing required key (expected {})", expected));
  }
  [[noreturn]] void bad(const std::string& k, const std::string& what) const {
    fail(loc(k), full(k), what);
  }
  [[noreturn]] void wrong_type(const std::string& k, const std::string& expected) const {
    bad(k, fmt::format("expected {}, got {}", expected, toml_type_phrase(*get(k))));
  }

  std::optional<std::string> string(const std::string& k) const {
    const toml::node* n = get(k);
    if (n == nullptr) return std::nullopt;
    if (!n->is_string()) wrong_type(k, "a string");
    return n->as_string()->get();
  }
  std::optional<int64_t> integer(const std::string& k) const {
    const toml::node* n = get(k);
    if (n == nullptr) return std::nullopt;
    if (!n->is_integer()) wrong_type(k, "an integer");
    return n->as_integer()->get();
  }
  std::string choice(const std::string& k, const std::vector<std::string>& choices,
                     const std::string& def) const {
    const std::optional<std::string> s = string(k);
    if (!s) return def;
    if (std::find(choices.begin(), choices.end(), *s) == choices.end()) {
      std::string list;
      for (const std::string& c : choices) list += (list.empty() ? "'" : ", '") + c + "'";
      bad(k,
          with_hint(fmt::format("\"{}\" is not one of {}", *s, list), did_you_mean(*s, choices)));
    }
    return *s;
  }

 private:
  toml::source_region key_source(const std::string& k) const {
    for (auto&& [key, v] : *m_table) {
      if (key.str() == k) return key.source();
    }
    return m_table->source();
  }
  std::string m_file;
  std::string m_path;
  const toml::table* m_table;
  const ParamSchema& m_schema;
  SourceLoc m_fallback;
};

ParamSchema sweep_schema() {
  ParamSchema s("sweep");
  s.add("base", ParamType::kPath, "the run config every point starts from");
  s.add("mode", ParamType::kEnum, "grid: every combination; random: `samples` grid points")
      .one_of({"grid", "random"})
      .default_value(std::string("grid"));
  s.add("samples", ParamType::kInt, "random: number of distinct grid points drawn").at_least(1);
  s.add("seed", ParamType::kInt, "random: seed of the draw").default_value(int64_t{1});
  return s;
}

ParamSchema axis_schema() {
  ParamSchema s("axis");
  s.add("key", ParamType::kString, "config key path the axis overrides");
  s.add("values", ParamType::kString, "explicit list of values");
  s.add("from", ParamType::kString, "range: first value (number or quantity)");
  s.add("to", ParamType::kString, "range: last value (same kind as from)");
  s.add("steps", ParamType::kInt, "range: number of values, both ends included").at_least(2);
  s.add("scale", ParamType::kEnum, "range: linear or log spacing")
      .one_of({"linear", "log"})
      .default_value(std::string("linear"));
  s.add("zip", ParamType::kString, "zip group: axes of one group advance together")
      .default_value(std::string(""));
  return s;
}

ParamSchema run_schema() {
  ParamSchema s("run");
  s.add("timeout", ParamType::kTime, "wall-time limit per point (\"0s\" = none)")
      .default_value(Quantity{0.0, false});
  return s;
}

/// A scalar TOML value as an axis value (or an error naming `key`).
AxisValue axis_value(const toml::node& n, const std::function<void(const std::string&)>& bad) {
  AxisValue v;
  if (n.is_integer()) {
    v.kind = AxisValue::Kind::kInt;
    v.text = fmt::format("{}", n.as_integer()->get());
    v.set_text = v.text;
    v.numeric = true;
    v.number = static_cast<double>(n.as_integer()->get());
  } else if (n.is_floating_point()) {
    const double d = n.as_floating_point()->get();
    if (!std::isfinite(d)) bad("expected a finite number");
    v.kind = AxisValue::Kind::kFloat;
    v.text = float_text(d);
    v.set_text = v.text;
    v.numeric = true;
    v.number = d;
  } else if (n.is_boolean()) {
    v.kind = AxisValue::Kind::kBool;
    v.text = n.as_boolean()->get() ? "true" : "false";
    v.set_text = v.text;
  } else if (n.is_string()) {
    v.kind = AxisValue::Kind::kString;
    v.text = n.as_string()->get();
    v.set_text = toml_quote(v.text);
    for (Dim d : kDims) {
      const std::optional<Quantity> q = parse_quantity(v.text, d, nullptr);
      if (q && !q->cycles) {
        v.numeric = true;
        v.number = q->value;
        break;
      }
    }
  } else {
    bad(fmt::format("expected a number, string or boolean, got {}", toml_type_phrase(n)));
  }
  return v;
}

/// One end of a range: an integer, a float, or a quantity with its dimension.
struct RangeEnd {
  enum class Kind { kInt, kFloat, kQuantity } kind = Kind::kInt;
  double value = 0.0;
  Dim dim = Dim::kSize;
};

RangeEnd range_end(const TableReader& r, const std::string& k) {
  const toml::node* n = r.get(k);
  RangeEnd e;
  if (n->is_integer()) {
    e.kind = RangeEnd::Kind::kInt;
    e.value = static_cast<double>(n->as_integer()->get());
  } else if (n->is_floating_point()) {
    e.kind = RangeEnd::Kind::kFloat;
    e.value = n->as_floating_point()->get();
    if (!std::isfinite(e.value)) r.bad(k, "expected a finite number");
  } else if (n->is_string()) {
    const std::string& s = n->as_string()->get();
    e.kind = RangeEnd::Kind::kQuantity;
    bool found = false;
    for (Dim d : kDims) {
      const std::optional<Quantity> q = parse_quantity(s, d, nullptr);
      if (q && !q->cycles) {
        e.value = q->value;
        e.dim = d;
        found = true;
        break;
      }
    }
    if (!found) {
      r.bad(k, fmt::format("\"{}\" is not a number or a quantity with a unit (expected e.g. "
                           "\"1TB/s\", \"64MiB\", \"14ns\", \"1.4GHz\")",
                           s));
    }
  } else {
    r.wrong_type(k, "a number or a quantity string");
  }
  return e;
}

const char* end_kind_phrase(const RangeEnd& e) {
  if (e.kind == RangeEnd::Kind::kInt) return "an integer";
  if (e.kind == RangeEnd::Kind::kFloat) return "a float";
  return dim_name(e.dim);
}

std::vector<AxisValue> range_values(const TableReader& r) {
  if (r.get("from") == nullptr) r.missing("from", "the first value of the range");
  if (r.get("to") == nullptr) r.missing("to", "the last value of the range");
  if (r.get("steps") == nullptr) r.missing("steps", "an integer, the number of values");
  const RangeEnd from = range_end(r, "from");
  const RangeEnd to = range_end(r, "to");
  if (from.kind != to.kind || (from.kind == RangeEnd::Kind::kQuantity && from.dim != to.dim)) {
    r.bad("to", fmt::format("is {} but 'from' is {}", end_kind_phrase(to), end_kind_phrase(from)));
  }
  const int64_t steps = *r.integer("steps");
  if (steps < 2) r.bad("steps", fmt::format("{} is out of range (expected at least 2)", steps));
  if (static_cast<uint64_t>(steps) > kMaxPoints) {
    r.bad("steps", fmt::format("{} is out of range (expected at most {})", steps, kMaxPoints));
  }
  const bool log = r.choice("scale", {"linear", "log"}, "linear") == "log";
  if (log && (from.value <= 0 || to.value <= 0)) {
    r.bad(from.value <= 0 ? "from" : "to", "a log range needs values above zero");
  }
  std::vector<AxisValue> out;
  for (int64_t i = 0; i < steps; ++i) {
    const double t = static_cast<double>(i) / static_cast<double>(steps - 1);
    double x = log ? from.value * std::pow(to.value / from.value, t)
                   : from.value + (to.value - from.value) * t;
    if (i == 0) x = from.value;  // the ends exactly as written
    if (i == steps - 1) x = to.value;
    AxisValue v;
    v.numeric = true;
    if (from.kind == RangeEnd::Kind::kInt) {
      x = std::round(x);
      v.kind = AxisValue::Kind::kInt;
      v.text = fmt::format("{}", static_cast<int64_t>(x));
      v.set_text = v.text;
    } else if (from.kind == RangeEnd::Kind::kFloat) {
      v.kind = AxisValue::Kind::kFloat;
      v.text = float_text(x);
      v.set_text = v.text;
    } else {
      if (from.dim == Dim::kSize) x = std::round(x);  // sizes are whole bytes
      v.kind = AxisValue::Kind::kString;
      v.text = format_quantity(Quantity{x, false}, from.dim);
      v.set_text = toml_quote(v.text);
    }
    v.number = x;
    if (!out.empty() && out.back().text == v.text) {
      r.bad("steps", fmt::format("{} steps from {} to {} repeat the value {} after rounding; use "
                                 "fewer steps",
                                 steps, out.front().text,
                                 from.kind == RangeEnd::Kind::kQuantity
                                     ? format_quantity(Quantity{to.value, false}, from.dim)
                                     : fmt::format("{}", to.value),
                                 v.text));
    }
    out.push_back(v);
  }
  return out;
}

/// Flattens [set] into (dotted key, TOML text) pairs in file order.
void flatten_set(const std::string& file, const toml::table& t, const std::string& prefix,
                 SweepSpec& spec) {
  for (const auto& [k, v] : in_file_order(t)) {
    const std::string key = prefix.empty() ? k : prefix + "." + k;
    if (const toml::table* sub = v->as_table()) {
      flatten_set(file, *sub, key, spec);
      continue;
    }
    // Init-captures: C++17 lambdas cannot capture structured bindings (clang rejects it).
    const auto bad = [&, v = v](const std::string& what) {
      fail(loc_of(file, v->source()), "set." + key, what);
    };
    if (v->is_array()) bad("expected a number, string or boolean, got an array");
    spec.sets.emplace_back(key, axis_value(*v, bad).set_text);
    spec.set_locs.push_back(loc_of(file, v->source()));
  }
}

void read_named(const std::string& file, const toml::table* t, const std::string& section,
                std::vector<NamedText>& out) {
  if (t == nullptr) return;
  for (const auto& [k, v] : in_file_order(*t)) {
    const SourceLoc loc = loc_of(file, v->source());
    if (!is_identifier(k)) {
      fail(loc, section + "." + k,
           "a name must be an identifier (letters, digits and '_', not starting with a digit)");
    }
    if (!v->is_string()) {
      fail(loc, section + "." + k, fmt::format("expected a string, got {}", toml_type_phrase(*v)));
    }
    out.push_back(NamedText{k, v->as_string()->get(), loc});
  }
}

std::string quoted_list(const std::vector<AxisValue>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + values[i].set_text;
  return out + "]";
}

}  // namespace

const std::vector<std::string>& fixed_columns() {
  static const std::vector<std::string> k = {"id", "index", "status"};
  return k;
}

const std::vector<std::string>& summary_columns() {
  static const std::vector<std::string> k = {"cycles",          "clock_hz",
                                             "time_s",          "steps",
                                             "tokens",          "assignments",
                                             "tokens_per_s",    "bottleneck",
                                             "bottleneck_kind", "bottleneck_utilisation",
                                             "energy_j",        "energy_per_token_j",
                                             "average_power_w"};
  return k;
}

std::string hash_text(const std::string& text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

std::string toml_quote(const std::string& s) {
  // \n \t short; '\r', other control characters and DEL as \u00XX (upper-case hex).
  constexpr EscapeStyle kSweepTomlEscape{true, false, true, true};
  return json_quote(s, kSweepTomlEscape);
}

std::string float_text(double d) {
  std::string s = fmt::format("{}", d);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

SweepSpec parse_sweep_spec(const std::string& text, const std::string& file) {
  toml::table doc;
  try {
    doc = toml::parse(std::string_view(text), std::string(file));
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: TOML syntax error: {}", file, e.source().begin.line,
                                 e.source().begin.column, e.description()));
  }
  SweepSpec spec;
  spec.path = file;
  spec.name = fs::path(file).stem().string();
  const SourceLoc top{file, 0, 0};
  const std::vector<std::string> tables = {"sweep", "set", "constraints", "metrics", "axis", "run"};
  for (const auto& [k, v] : in_file_order(doc)) {
    const SourceLoc loc = loc_of(file, v->source());
    if (std::find(tables.begin(), tables.end(), k) == tables.end()) {
      fail(loc, k,
           with_hint(v->is_table() ? "unknown table" : "unknown key", did_you_mean(k, tables)));
    }
    if (!v->is_table()) fail(loc, k, fmt::format("expected a table, got {}", toml_type_phrase(*v)));
  }

  // [sweep]
  const ParamSchema ss = sweep_schema();
  const TableReader sw(file, "sweep", doc["sweep"].as_table(), ss, top);
  const std::optional<std::string> base = sw.string("base");
  if (!base) sw.missing("base", "a file path");
  if (base->empty()) sw.bad("base", "expected a file path, got an empty string");
  spec.base = fs::absolute(fs::path(file).parent_path() / *base).lexically_normal().string();
  spec.base_loc = sw.loc("base");
  spec.mode = sw.choice("mode", {"grid", "random"}, "grid") == "random" ? SweepMode::kRandom
                                                                        : SweepMode::kGrid;
  if (spec.mode == SweepMode::kGrid) {
    for (const char* k : {"samples", "seed"}) {
      if (sw.get(k) != nullptr) sw.bad(k, "only used with mode = \"random\"");
    }
  } else {
    const std::optional<int64_t> n = sw.integer("samples");
    if (!n) sw.missing("samples", "an integer, the number of points mode = \"random\" draws");
    if (*n < 1) sw.bad("samples", fmt::format("{} is out of range (expected at least 1)", *n));
    spec.samples = static_cast<uint64_t>(*n);
    const std::optional<int64_t> seed = sw.integer("seed");
    if (seed && *seed < 0)
      sw.bad("seed", fmt::format("{} is out of range (expected at least 0)", *seed));
    spec.seed = seed ? static_cast<uint64_t>(*seed) : 1;
  }

  // [set], [constraints], [metrics]
  if (const toml::table* t = doc["set"].as_table()) flatten_set(file, *t, "", spec);
  read_named(file, doc["constraints"].as_table(), "constraints", spec.constraints);
  read_named(file, doc["metrics"].as_table(), "metrics", spec.metrics);

  // [axis.NAME]
  const toml::table* axes = doc["axis"].as_table();
  if (axes == nullptr || axes->empty()) {
    fail(axes != nullptr ? loc_of(file, axes->source()) : top, "axis",
         "a sweep needs at least one [axis.NAME] table");
  }
  const ParamSchema as = axis_schema();
  for (const auto& [name, node] : in_file_order(*axes)) {
    const SourceLoc loc = loc_of(file, node->source());
    if (!node->is_table()) {
      fail(loc, "axis." + name, fmt::format("expected a table, got {}", toml_type_phrase(*node)));
    }
    if (!is_identifier(name)) {
      fail(loc, "axis." + name,
           "an axis name must be an identifier (letters, digits and '_', not starting with a "
           "digit)");
    }
    const TableReader r(file, "axis." + name, node->as_table(), as, loc);
    Axis a;
    a.name = name;
    a.loc = r.header();
    const std::optional<std::string> key = r.string("key");
    if (!key) r.missing("key", "a config key path such as \"chip.sram.capacity\"");
    a.key = *key;
    a.key_loc = r.loc("key");
    a.zip = r.string("zip").value_or("");
    if (const toml::node* vals = r.get("values")) {
      for (const char* k : {"from", "to", "steps", "scale"}) {
        if (r.get(k) != nullptr) {
          r.bad(k, "give either 'values' or a range ('from', 'to', 'steps'), not both");
        }
      }
      const toml::array* arr = vals->as_array();
      if (arr == nullptr) r.wrong_type("values", "an array of values");
      if (arr->empty()) r.bad("values", "expected at least one value");
      std::set<std::string> seen;
      for (const toml::node& el : *arr) {
        const SourceLoc el_loc = loc_of(file, el.source());
        const auto bad = [&, &name = name](const std::string& what) {
          fail(el_loc, "axis." + name + ".values", what);
        };
        AxisValue v = axis_value(el, bad);
        if (!seen.insert(v.set_text).second) bad(fmt::format("the value {} appears twice", v.text));
        a.values.push_back(std::move(v));
      }
    } else if (r.get("from") != nullptr || r.get("to") != nullptr || r.get("steps") != nullptr) {
      a.values = range_values(r);
    } else {
      fail(r.header(), "axis." + name,
           "needs 'values = [...]' or a range ('from', 'to', 'steps', optional 'scale')");
    }
    spec.axes.push_back(std::move(a));
  }

  // Names and keys must be distinct.
  std::map<std::string, std::string> columns;  // column name -> what holds it
  for (const std::string& c : fixed_columns()) columns[c] = "a fixed column";
  for (const std::string& c : summary_columns()) columns[c] = "a summary column";
  for (const char* c : {"wall_s", "error", "out"}) columns[c] = "a fixed column";
  std::map<std::string, std::string> keys;  // config key -> axis name
  std::map<std::string, std::vector<const Axis*>> groups;
  for (const Axis& a : spec.axes) {
    const auto it = columns.find(a.name);
    if (it != columns.end()) {
      fail(a.loc, "axis." + a.name, fmt::format("the name '{}' is {}", a.name, it->second));
    }
    columns[a.name] = "an axis";
    if (keys.count(a.key) != 0) {
      fail(a.key_loc, "axis." + a.name + ".key",
           fmt::format("'{}' is already swept by axis '{}'", a.key, keys[a.key]));
    }
    keys[a.key] = a.name;
    if (!a.zip.empty()) {
      auto& g = groups[a.zip];
      if (!g.empty() && g.front()->values.size() != a.values.size()) {
        fail(a.loc, "axis." + a.name + ".zip",
             fmt::format("axis '{}' has {} values but '{}' in zip group '{}' has {}", a.name,
                         a.values.size(), g.front()->name, a.zip, g.front()->values.size()));
      }
      g.push_back(&a);
    }
  }
  for (size_t i = 0; i < spec.sets.size(); ++i) {
    const auto it = keys.find(spec.sets[i].first);
    if (it != keys.end()) {
      fail(spec.set_locs[i], "set." + spec.sets[i].first,
           fmt::format("also swept by axis '{}'", it->second));
    }
  }
  for (const NamedText& m : spec.metrics) {
    const auto it = columns.find(m.name);
    if (it != columns.end()) {
      fail(m.loc, "metrics." + m.name, fmt::format("the name '{}' is {}", m.name, it->second));
    }
    columns[m.name] = "a metric";
  }

  // The grid size (zip groups count once).
  double grid = 1;
  std::set<std::string> counted;
  for (const Axis& a : spec.axes) {
    if (!a.zip.empty() && !counted.insert(a.zip).second) continue;
    grid *= static_cast<double>(a.values.size());
  }
  if (grid > static_cast<double>(kMaxPoints)) {
    fail(spec.axes.front().loc, "axis",
         fmt::format("the grid has {:.0f} points (at most {} are allowed)", grid, kMaxPoints));
  }
  if (spec.mode == SweepMode::kRandom && static_cast<double>(spec.samples) > grid) {
    sw.bad("samples",
           fmt::format("{} samples but the grid has only {:.0f} points", spec.samples, grid));
  }

  // [run]
  const ParamSchema rs = run_schema();
  const TableReader run(file, "run", doc["run"].as_table(), rs, top);
  if (const std::optional<std::string> t = run.string("timeout")) {
    std::string error;
    const std::optional<Quantity> q = parse_quantity(*t, Dim::kTime, &error);
    if (!q) run.bad("timeout", fmt::format("\"{}\" is not a time (expected {})", *t, error));
    if (q->cycles)
      run.bad("timeout", fmt::format("\"{}\": a wall-time limit cannot be in cycles", *t));
    spec.timeout_s = q->value;
  }
  return spec;
}

SweepSpec load_sweep_spec(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    throw InputError(fmt::format("{}: cannot open sweep spec ({})", path, std::strerror(errno)));
  }
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_sweep_spec(ss.str(), path);
}

std::string SweepSpec::effective_points_text() const {
  std::string out = "[sweep]\n";
  out += "base = " + toml_quote(base) + "\n";
  out += fmt::format("mode = \"{}\"\n", mode == SweepMode::kGrid ? "grid" : "random");
  if (mode == SweepMode::kRandom) out += fmt::format("samples = {}\nseed = {}\n", samples, seed);
  if (!sets.empty()) {
    out += "\n[set]\n";
    for (const auto& [k, v] : sets) out += k + " = " + v + "\n";
  }
  if (!constraints.empty()) {
    out += "\n[constraints]\n";
    for (const NamedText& c : constraints) out += c.name + " = " + toml_quote(c.text) + "\n";
  }
  if (!metrics.empty()) {
    out += "\n[metrics]\n";
    for (const NamedText& m : metrics) out += m.name + " = " + toml_quote(m.text) + "\n";
  }
  for (const Axis& a : axes) {
    out += "\n[axis." + a.name + "]\n";
    out += "key = " + toml_quote(a.key) + "\n";
    out += "values = " + quoted_list(a.values) + "\n";
    if (!a.zip.empty()) out += "zip = " + toml_quote(a.zip) + "\n";
  }
  return out;
}

std::string SweepSpec::effective_text(const std::string& hash) const {
  std::string out = fmt::format(
      "# Effective sweep spec '{}' (from {}): defaults resolved, ranges expanded.\n"
      "# spec_hash = {}\n\n",
      name, path, hash);
  out += effective_points_text();
  out += fmt::format("\n[run]\ntimeout = \"{}\"\n",
                     format_quantity(Quantity{timeout_s, false}, Dim::kTime));
  return out;
}

}  // namespace moesim::sweep
