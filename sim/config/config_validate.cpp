#include "sim/config/config_tree.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

#include <toml++/toml.h>

#include "sim/config/toml_text.hpp"
#include "sim/core/error.hpp"
#include "sim/core/time_range.hpp"

namespace moesim {

namespace fs = std::filesystem;
using namespace config_detail;

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const size_t limit = std::max<size_t>(1, word.size() / 3);
  std::string best;
  size_t best_d = 0;
  for (const std::string& c : candidates) {
    if (c == word) continue;
    // Optimal string alignment distance (Damerau-Levenshtein without repeated edits).
    const size_t n = word.size(), m = c.size();
    std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1, 0));
    for (size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (size_t j = 0; j <= m; ++j) d[0][j] = j;
    for (size_t i = 1; i <= n; ++i) {
      for (size_t j = 1; j <= m; ++j) {
        const size_t cost = word[i - 1] == c[j - 1] ? 0 : 1;
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
        if (i > 1 && j > 1 && word[i - 1] == c[j - 2] && word[i - 2] == c[j - 1]) {
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    const size_t dist = d[n][m];
    const bool prefix = !word.empty() && c.compare(0, word.size(), word) == 0;
    if (dist > limit && !prefix) continue;
    if (best.empty() || dist < best_d) {
      best = c;
      best_d = dist;
    }
  }
  return best;
}

namespace config_detail {

/// Dimension of a quantity type.
Dim dim_of(ParamType t) {
  switch (t) {
    case ParamType::kBandwidth:
      return Dim::kBandwidth;
    case ParamType::kTime:
      return Dim::kTime;
    case ParamType::kFrequency:
      return Dim::kFrequency;
    default:
      break;
  }
  return Dim::kSize;
}

}  // namespace config_detail

namespace {

bool is_quantity(ParamType t) {
  return t == ParamType::kSize || t == ParamType::kBandwidth || t == ParamType::kTime ||
         t == ParamType::kFrequency;
}

/// What a value of `spec` looks like, for "expected ..." in messages.
std::string expected_text(const ParamSpec& spec) {
  switch (spec.type) {
    case ParamType::kInt:
      return "an integer";
    case ParamType::kFloat:
      return "a number";
    case ParamType::kBool:
      return "a boolean";
    case ParamType::kString:
      return "a string";
    case ParamType::kEnum:
      return "one of " + quote_list(spec.choices);
    case ParamType::kPath:
      return "a file path";
    default:
      break;
  }
  return dim_example(dim_of(spec.type));
}

/// A bound of a range in messages: integral numbers without a fraction.
std::string number_text(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return fmt::format("{}", static_cast<int64_t>(v));
  }
  return fmt::format("{}", v);
}

std::string bound_text(const ParamSpec& spec, double v) {
  if (is_quantity(spec.type)) return format_quantity(Quantity{v, false}, dim_of(spec.type));
  return number_text(v);
}

/// Throws when `x` lies outside the declared range; `shown` is the value as in the file.
void check_range(const ParamSpec& spec, double x, const std::string& shown, const SourceLoc& loc,
                 const std::string& path) {
  const bool low = spec.min && x < *spec.min;
  const bool high = spec.max && x > *spec.max;
  if (!low && !high) return;
  std::string expected;
  if (spec.min && spec.max) {
    expected = bound_text(spec, *spec.min) + " to " + bound_text(spec, *spec.max);
  } else if (spec.min) {
    expected = "at least " + bound_text(spec, *spec.min);
  } else {
    expected = "at most " + bound_text(spec, *spec.max);
  }
  fail(loc, path, fmt::format("{} is out of range (expected {})", shown, expected));
}

std::string resolve_path(const std::string& value, const std::string& base_dir) {
  if (value.empty()) return value;  // an empty path stays empty ("none"), never the directory
  fs::path p(value);
  if (p.is_relative()) p = fs::path(base_dir) / p;
  return fs::absolute(p).lexically_normal().string();
}

}  // namespace

ParamValue ConfigTree::validate(const ParamSpec& spec, const Node& leaf) const {
  const toml::node& v = *leaf.value;
  const SourceLoc& loc = leaf.loc;
  const std::string& path = leaf.path;
  const auto type_error = [&]() {
    fail(loc, path, fmt::format("expected {}, got {}", expected_text(spec), toml_type_phrase(v)));
  };
  switch (spec.type) {
    case ParamType::kInt: {
      if (!v.is_integer()) type_error();
      const int64_t x = v.as_integer()->get();
      check_range(spec, static_cast<double>(x), fmt::format("{}", x), loc, path);
      return x;
    }
    case ParamType::kFloat: {
      double x = 0;
      if (v.is_floating_point()) {
        x = v.as_floating_point()->get();
      } else if (v.is_integer()) {
        x = static_cast<double>(v.as_integer()->get());
      } else {
        type_error();
      }
      if (std::isnan(x)) fail(loc, path, "expected a number, got nan");
      check_range(spec, x, toml_float(x), loc, path);
      return x;
    }
    case ParamType::kBool:
      if (!v.is_boolean()) type_error();
      return v.as_boolean()->get();
    case ParamType::kString:
      if (!v.is_string()) type_error();
      return v.as_string()->get();
    case ParamType::kEnum: {
      if (!v.is_string()) type_error();
      const std::string& s = v.as_string()->get();
      if (std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end()) {
        fail(loc, path,
             with_hint(fmt::format("\"{}\" is not one of {}", s, quote_list(spec.choices)),
                       did_you_mean(s, spec.choices)));
      }
      return s;
    }
    case ParamType::kPath:
      if (!v.is_string()) type_error();
      return resolve_path(v.as_string()->get(), leaf.base_dir);
    default:
      break;
  }
  const Dim dim = dim_of(spec.type);
  if (v.is_integer() || v.is_floating_point()) {
    const std::string shown = v.is_integer() ? fmt::format("{}", v.as_integer()->get())
                                             : toml_float(v.as_floating_point()->get());
    fail(loc, path, fmt::format("{} has no unit (expected {})", shown, dim_example(dim)));
  }
  if (!v.is_string()) type_error();
  const std::string& s = v.as_string()->get();
  std::string error;
  const std::optional<Quantity> q = parse_quantity(s, dim, &error);
  if (!q) fail(loc, path, fmt::format("\"{}\" is not a {} (expected {})", s, dim_name(dim), error));
  // A time in cycles has no length in seconds until a clock is known: not range-checked.
  if (!q->cycles) check_range(spec, q->value, "\"" + s + "\"", loc, path);
  // Simulated time is 64-bit picoseconds: a longer time overflows every sum it enters.
  if (dim == Dim::kTime && !q->cycles && q->value >= kMaxSimSeconds) {
    fail(loc, path,
         fmt::format("\"{}\" is longer than simulated time can represent ({:.0f} s = 2^63 ps)", s,
                     kMaxSimSeconds));
  }
  return *q;
}

ParamValue ConfigTree::default_of(const std::string& owner, const ParamSpec& spec) {
  const ParamValue& d = *spec.default_val;
  const auto bad = [&]() {
    throw InternalError(fmt::format("schema '{}': the default of '{}' is not a valid {}", owner,
                                    spec.name, param_type_name(spec.type)));
  };
  switch (spec.type) {
    case ParamType::kInt:
      if (!std::holds_alternative<int64_t>(d)) bad();
      return d;
    case ParamType::kFloat:
      if (const auto* i = std::get_if<int64_t>(&d)) return static_cast<double>(*i);
      if (!std::holds_alternative<double>(d)) bad();
      return d;
    case ParamType::kBool:
      if (!std::holds_alternative<bool>(d)) bad();
      return d;
    case ParamType::kString:
      if (!std::holds_alternative<std::string>(d)) bad();
      return d;
    case ParamType::kEnum: {
      const auto* s = std::get_if<std::string>(&d);
      if (s == nullptr ||
          std::find(spec.choices.begin(), spec.choices.end(), *s) == spec.choices.end()) {
        bad();
      }
      return d;
    }
    case ParamType::kPath: {
      const auto* s = std::get_if<std::string>(&d);
      if (s == nullptr) bad();
      return resolve_path(*s, "");
    }
    default:
      break;
  }
  const auto* q = std::get_if<Quantity>(&d);
  if (q == nullptr || (q->cycles && spec.type != ParamType::kTime)) bad();
  return d;
}

Params ConfigTree::section(const std::string& path, const ParamSchema& schema) {
  Node* table = table_at(path);
  std::map<std::string, ParamValue> values;
  std::map<std::string, ParamType> types;
  if (table != nullptr) {
    table->validated = true;
    table->owner = schema.owner();
    table->schema_names = schema.names();
    touch(table);
    for (const auto& c : table->children) {
      const ParamSpec* spec = schema.find(c->name);
      if (c->is_table) {
        if (spec != nullptr) {
          fail(c->loc, c->path, fmt::format("expected {}, got a table", expected_text(*spec)));
        }
        continue;  // left for its own section()
      }
      if (spec == nullptr) {
        if (c->consumed) continue;  // e.g. "type", read by choose()
        const std::string what = schema.owner().empty()
                                     ? std::string("unknown key")
                                     : fmt::format("unknown key for '{}'", schema.owner());
        fail(c->key_loc, c->path, with_hint(what, did_you_mean(c->name, schema.names())));
      }
      values[c->name] = validate(*spec, *c);
      c->consumed = true;
    }
  }
  Record& rec = record(path);
  for (const ParamSpec& spec : schema.params()) {
    types[spec.name] = spec.type;
    if (values.count(spec.name) == 0) {
      if (!spec.default_val) {
        fail(table != nullptr && table != &root ? table->loc : top_loc(),
             path.empty() ? spec.name : path + "." + spec.name,
             fmt::format("missing required key (expected {})", expected_text(spec)));
      }
      values[spec.name] = default_of(schema.owner(), spec);
    }
    rec.set(spec.name, spec.type, values[spec.name]);
  }
  return Params(path, std::move(values), std::move(types));
}

std::string ConfigTree::choose(const std::string& path_key,
                               const std::vector<std::string>& choices) {
  const size_t dot = path_key.rfind('.');
  const std::string parent_path = dot == std::string::npos ? "" : path_key.substr(0, dot);
  const std::string key = dot == std::string::npos ? path_key : path_key.substr(dot + 1);
  Node* parent = table_at(parent_path);
  Node* leaf = parent != nullptr ? parent->child(key) : nullptr;
  const std::string expected = "one of " + quote_list(choices);
  if (leaf == nullptr) {
    fail(parent != nullptr && parent != &root ? parent->loc : top_loc(), path_key,
         fmt::format("missing required key (expected {})", expected));
  }
  if (leaf->is_table) fail(leaf->loc, path_key, "expected " + expected + ", got a table");
  if (!leaf->value->is_string()) {
    fail(leaf->loc, path_key, "expected " + expected + ", got " + toml_type_phrase(*leaf->value));
  }
  const std::string s = leaf->value->as_string()->get();
  if (std::find(choices.begin(), choices.end(), s) == choices.end()) {
    fail(leaf->loc, path_key,
         with_hint(fmt::format("\"{}\" is not one of {}", s, quote_list(choices)),
                   did_you_mean(s, choices)));
  }
  leaf->consumed = true;
  touch(parent);
  record(parent_path).set(key, ParamType::kString, s);
  return s;
}

}  // namespace moesim
