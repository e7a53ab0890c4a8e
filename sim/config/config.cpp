#include "sim/config/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

#include <toml++/toml.h>

#include "sim/config/toml_text.hpp"
#include "sim/core/error.hpp"
#include "sim/core/json_text.hpp"

namespace moesim {

namespace fs = std::filesystem;

std::string SourceLoc::str() const {
  if (line <= 0) return file;
  if (column <= 0) return fmt::format("{}:{}", file, line);
  return fmt::format("{}:{}:{}", file, line, column);
}

std::string toml_type_phrase(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time of day";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

namespace {

constexpr const char* kSetFile = "--set";

}  // namespace

std::string located_message(const SourceLoc& loc, const std::string& key_path,
                            const std::string& what) {
  if (loc.file == kSetFile && loc.line <= 0) {
    return key_path.empty() ? fmt::format("--set: {}", what)
                            : fmt::format("--set {}: {}", key_path, what);
  }
  if (key_path.empty()) return fmt::format("{}: {}", loc.str(), what);
  return fmt::format("{}: {}: {}", loc.str(), key_path, what);
}

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

namespace {

/// One key of the merged tree: a table or a leaf value, with where it was set.
struct Node {
  bool is_table = false;
  std::string name;  ///< last path segment
  std::string path;  ///< dotted path from the root ("" for the root)
  Node* parent = nullptr;
  SourceLoc key_loc;  ///< where the key first appears (leaf: where it was last set)
  SourceLoc loc;      ///< table: its header; leaf: its value
  int order = 0;      ///< index of the file (or --set) that set it, for file order

  // Leaf.
  const toml::node* value = nullptr;  ///< owned by ConfigTree::docs
  std::string base_dir;               ///< directory of the file that set it (kPath values)
  bool consumed = false;

  // Table.
  std::vector<std::unique_ptr<Node>> children;  ///< in file order
  bool touched = false;                         ///< validated, or something below it was consumed
  bool validated = false;                       ///< section() checked it against a schema
  std::string owner;
  std::vector<std::string> schema_names;

  Node* child(std::string_view n) const {
    for (const auto& c : children) {
      if (c->name == n) return c.get();
    }
    return nullptr;
  }
  Node* add_child(const std::string& n, bool table) {
    auto c = std::make_unique<Node>();
    c->is_table = table;
    c->name = n;
    c->path = path.empty() ? n : path + "." + n;
    c->parent = this;
    children.push_back(std::move(c));
    return children.back().get();
  }
};

/// One resolved value of the effective configuration.
struct Entry {
  std::string name;
  ParamType type;
  ParamValue value;
};

/// The consumed keys of one table, in the order they were consumed/declared.
struct Record {
  std::string path;
  std::vector<Entry> entries;
  void set(const std::string& name, ParamType type, const ParamValue& value) {
    for (Entry& e : entries) {
      if (e.name == name) {
        e.type = type;
        e.value = value;
        return;
      }
    }
    entries.push_back({name, type, value});
  }
};

[[noreturn]] void fail(const SourceLoc& loc, const std::string& key, const std::string& what) {
  throw InputError(located_message(loc, key, what));
}

std::string with_hint(const std::string& what, const std::string& hint) {
  return hint.empty() ? what : fmt::format("{} (did you mean '{}'?)", what, hint);
}

std::string quote_list(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += ", ";
    out += "'" + s + "'";
  }
  return out;
}

SourceLoc loc_of(const std::string& file, const toml::source_region& r) {
  return SourceLoc{file, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

bool is_bare_key(const std::string& k) {
  if (k.empty()) return false;
  for (char c : k) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  if (path.empty()) return out;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    out.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

bool read_file(const std::string& path, std::string* text, std::string* error) {
  errno = 0;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    *error = std::strerror(errno);
    return false;
  }
  char buf[65536];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text->append(buf, n);
  const bool bad = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (bad) {
    *error = std::strerror(err != 0 ? err : EIO);
    return false;
  }
  return true;
}

std::string canonical_of(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(path, ec);
  if (ec) p = fs::absolute(path, ec).lexically_normal();
  return p.string();
}

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

std::string toml_string(const std::string& s) {
  // TOML basic string: \n \t \r short, other control characters and DEL as \u00XX.
  constexpr EscapeStyle kTomlEscape{true, true, true, true};
  return json_quote(s, kTomlEscape);
}

std::string toml_key(const std::string& k) {
  return is_bare_key(k) ? k : toml_string(k);
}

std::string toml_float(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", d);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string toml_value(const Entry& e) {
  if (const auto* i = std::get_if<int64_t>(&e.value)) return fmt::format("{}", *i);
  if (const auto* d = std::get_if<double>(&e.value)) return toml_float(*d);
  if (const auto* b = std::get_if<bool>(&e.value)) return *b ? "true" : "false";
  if (const auto* s = std::get_if<std::string>(&e.value)) return toml_string(*s);
  return toml_string(format_quantity(std::get<Quantity>(e.value), dim_of(e.type)));
}

}  // namespace

/// The merged tree, the parsed documents it points into, and what was consumed.
class ConfigTree {
 public:
  ConfigTree() {
    root.is_table = true;
    root.touched = true;
  }

  std::vector<std::unique_ptr<toml::table>> docs;
  Node root;
  std::string top_file;
  std::string name;
  int next_order = 0;
  std::vector<Record> records;

  SourceLoc top_loc() const { return SourceLoc{top_file, 0, 0}; }

  /// Include stack: (canonical path, path as shown) of the files being loaded.
  using Stack = std::vector<std::pair<std::string, std::string>>;

  void load_file(const std::string& display, const SourceLoc* included_from, Stack& stack) {
    std::string text, error;
    if (!read_file(display, &text, &error)) {
      if (included_from != nullptr) {
        fail(*included_from, "include",
             fmt::format("cannot open included file \"{}\" ({})", display, error));
      }
      throw InputError(fmt::format("{}: cannot open config file ({})", display, error));
    }
    load_text(text, display, stack);
  }

  void load_text(const std::string& text, const std::string& display, Stack& stack) {
    std::unique_ptr<toml::table> doc;
    try {
      doc =
          std::make_unique<toml::table>(toml::parse(std::string_view(text), std::string(display)));
    } catch (const toml::parse_error& e) {
      throw InputError(fmt::format("{}:{}:{}: TOML syntax error: {}", display,
                                   e.source().begin.line, e.source().begin.column,
                                   e.description()));
    }
    const std::string dir = fs::path(display).parent_path().string();
    if (const toml::node* inc = doc->get("include")) {
      const toml::array* files = inc->as_array();
      if (files == nullptr) {
        fail(loc_of(display, inc->source()), "include",
             "expected an array of file names, got " + toml_type_phrase(*inc));
      }
      for (const toml::node& el : *files) {
        const SourceLoc el_loc = loc_of(display, el.source());
        if (!el.is_string()) {
          fail(el_loc, "include", "expected a file name (a string), got " + toml_type_phrase(el));
        }
        const std::string path =
            (fs::path(dir) / fs::path(el.as_string()->get())).lexically_normal().string();
        const std::string canon = canonical_of(path);
        for (size_t i = 0; i < stack.size(); ++i) {
          if (stack[i].first != canon) continue;
          std::string chain;
          for (size_t j = i; j < stack.size(); ++j) chain += stack[j].second + " -> ";
          fail(el_loc, "include", "include cycle: " + chain + path);
        }
        stack.emplace_back(canon, path);
        load_file(path, &el_loc, stack);
        stack.pop_back();
      }
    }
    merge(root, *doc, next_order++, display, dir, /*from_set=*/false);
    docs.push_back(std::move(doc));
  }

  /// Merges `src` into the table `dst`: tables merge deeply, a leaf replaces the earlier one.
  void merge(Node& dst, const toml::table& src, int order, const std::string& file,
             const std::string& base_dir, bool from_set) {
    std::vector<std::pair<const toml::key*, const toml::node*>> items;
    for (auto&& [k, v] : src) items.emplace_back(&k, &v);
    // toml++ keeps keys sorted; the key positions give back the file order.
    std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
      const auto& pa = a.first->source().begin;
      const auto& pb = b.first->source().begin;
      return std::make_pair(pa.line, pa.column) < std::make_pair(pb.line, pb.column);
    });
    for (const auto& [k, v] : items) {
      const std::string key(k->str());
      if (&dst == &root && !from_set && key == "include") continue;  // consumed by loading
      const SourceLoc key_loc = from_set ? SourceLoc{kSetFile} : loc_of(file, k->source());
      const SourceLoc val_loc = from_set ? SourceLoc{kSetFile} : loc_of(file, v->source());
      if (const toml::table* t = v->as_table()) {
        Node* n = table_child(dst, key, key_loc, val_loc, order);
        merge(*n, *t, order, file, base_dir, from_set);
      } else {
        set_leaf(dst, key, *v, key_loc, val_loc, order, base_dir);
      }
    }
  }

  /// The child table `key` of `dst`, created when missing.
  Node* table_child(Node& dst, const std::string& key, const SourceLoc& key_loc,
                    const SourceLoc& loc, int order) {
    Node* n = dst.child(key);
    if (n == nullptr) {
      n = dst.add_child(key, true);
      n->key_loc = key_loc;
      n->loc = loc;
      n->order = order;
    } else if (!n->is_table) {
      fail(key_loc, n->path,
           fmt::format("a table cannot replace the value set at {}", n->loc.str()));
    }
    return n;
  }

  void set_leaf(Node& dst, const std::string& key, const toml::node& v, const SourceLoc& key_loc,
                const SourceLoc& loc, int order, const std::string& base_dir) {
    Node* n = dst.child(key);
    if (n == nullptr) {
      n = dst.add_child(key, false);
    } else if (n->is_table) {
      fail(key_loc, n->path,
           fmt::format("a value cannot replace the table set at {}", n->loc.str()));
    }
    n->value = &v;
    n->key_loc = key_loc;
    n->loc = loc;
    n->order = order;
    n->base_dir = base_dir;
  }

  void apply_set(const std::string& spec) {
    const auto malformed = [&]() {
      throw InputError(fmt::format("--set '{}': expected key.path=value", spec));
    };
    const size_t eq = spec.find('=');
    if (eq == std::string::npos) malformed();
    const auto trim = [](std::string s) {
      const size_t b = s.find_first_not_of(" \t");
      if (b == std::string::npos) return std::string();
      return s.substr(b, s.find_last_not_of(" \t") - b + 1);
    };
    const std::string key = trim(spec.substr(0, eq));
    const std::string text = trim(spec.substr(eq + 1));
    const std::vector<std::string> segs = split_path(key);
    if (segs.empty()) malformed();
    for (const std::string& s : segs) {
      if (!is_bare_key(s)) malformed();
    }

    // A TOML value when it parses as exactly one, else the text as a string.
    auto doc = std::make_unique<toml::table>();
    try {
      toml::table t = toml::parse("v = " + text, std::string(kSetFile));
      if (t.size() == 1 && t.get("v") != nullptr) *doc = std::move(t);
    } catch (const toml::parse_error&) {
    }
    if (doc->empty()) doc->insert("v", text);
    const toml::node& value = *doc->get("v");

    const int order = next_order++;
    const SourceLoc set_loc{kSetFile};
    Node* cur = &root;
    for (size_t i = 0; i + 1 < segs.size(); ++i) {
      Node* n = cur->child(segs[i]);
      if (n != nullptr && !n->is_table) {
        fail(set_loc, key,
             fmt::format("cannot set a key inside '{}', a value set at {}", n->path, n->loc.str()));
      }
      cur = table_child(*cur, segs[i], set_loc, set_loc, order);
    }
    if (const toml::table* t = value.as_table()) {
      Node* n = cur->child(segs.back());
      if (n != nullptr && !n->is_table) {
        fail(set_loc, key, fmt::format("a table cannot replace the value set at {}", n->loc.str()));
      }
      merge(*table_child(*cur, segs.back(), set_loc, set_loc, order), *t, order, kSetFile, "",
            /*from_set=*/true);
    } else {
      Node* n = cur->child(segs.back());
      if (n != nullptr && n->is_table) {
        fail(set_loc, key, fmt::format("a value cannot replace the table set at {}", n->loc.str()));
      }
      set_leaf(*cur, segs.back(), value, set_loc, set_loc, order, "");
    }
    docs.push_back(std::move(doc));
  }

  /// The node at `path`, or nullptr. When a value stands where a table is needed on the way,
  /// `*blocking` is set to it.
  Node* lookup(const std::string& path, Node** blocking = nullptr) {
    Node* cur = &root;
    for (const std::string& seg : split_path(path)) {
      if (!cur->is_table) {
        if (blocking != nullptr) *blocking = cur;
        return nullptr;
      }
      cur = cur->child(seg);
      if (cur == nullptr) return nullptr;
    }
    return cur;
  }

  /// The table at `path` (nullptr when missing); a value there or on the way is an error.
  Node* table_at(const std::string& path) {
    Node* blocking = nullptr;
    Node* n = lookup(path, &blocking);
    if (n != nullptr && !n->is_table) blocking = n;
    if (blocking != nullptr) {
      fail(blocking->loc, blocking->path,
           "expected a table, got " + toml_type_phrase(*blocking->value));
    }
    return n;
  }

  Record& record(const std::string& path) {
    for (Record& r : records) {
      if (r.path == path) return r;
    }
    records.push_back(Record{path, {}});
    return records.back();
  }

  static void touch(Node* n) {
    for (; n != nullptr; n = n->parent) n->touched = true;
  }

  ParamValue validate(const ParamSpec& spec, const Node& leaf) const {
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
    if (!q)
      fail(loc, path, fmt::format("\"{}\" is not a {} (expected {})", s, dim_name(dim), error));
    // A time in cycles has no length in seconds until a clock is known: not range-checked.
    if (!q->cycles) check_range(spec, q->value, "\"" + s + "\"", loc, path);
    return *q;
  }

  static ParamValue default_of(const std::string& owner, const ParamSpec& spec) {
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

  Params section(const std::string& path, const ParamSchema& schema) {
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

  std::string choose(const std::string& path_key, const std::vector<std::string>& choices) {
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

  void check_all_consumed() const {
    std::vector<const Node*> left;
    collect_unconsumed(root, &left);
    if (left.empty()) return;
    std::stable_sort(left.begin(), left.end(), [](const Node* a, const Node* b) {
      return std::make_tuple(a->order, a->key_loc.line, a->key_loc.column) <
             std::make_tuple(b->order, b->key_loc.line, b->key_loc.column);
    });
    const Node* x = left.front();
    // The outermost table on the way that nobody looked at is what is unknown.
    const Node* unknown_table = nullptr;
    for (const Node* n = x->is_table ? x : x->parent; n != nullptr && n != &root; n = n->parent) {
      if (!n->touched) unknown_table = n;
    }
    const Node* item = unknown_table != nullptr ? unknown_table : x;
    const Node* parent = item->parent;
    std::vector<std::string> candidates;
    if (parent->validated) candidates = parent->schema_names;
    for (const auto& c : parent->children) {
      const bool used = c->is_table ? c->touched : c->consumed;
      if (used && c.get() != item) candidates.push_back(c->name);
    }
    std::string what = unknown_table != nullptr ? "unknown table" : "unknown key";
    if (parent->validated && !parent->owner.empty()) {
      what += fmt::format(" for '{}'", parent->owner);
    }
    fail(unknown_table != nullptr ? item->loc : item->key_loc, item->path,
         with_hint(what, did_you_mean(item->name, candidates)));
  }

  static void collect_unconsumed(const Node& t, std::vector<const Node*>* out) {
    for (const auto& c : t.children) {
      if (!c->is_table) {
        if (!c->consumed) out->push_back(c.get());
      } else if (c->children.empty()) {
        if (!c->touched) out->push_back(c.get());
      } else {
        collect_unconsumed(*c, out);
      }
    }
  }

  std::string effective_toml() const {
    std::string out = fmt::format(
        "# Effective configuration of '{}': every consumed key, defaults resolved.\n", name);
    const auto emit = [&out](const Record& r) {
      if (!r.path.empty()) {
        std::string header;
        for (const std::string& seg : split_path(r.path)) {
          if (!header.empty()) header += ".";
          header += toml_key(seg);
        }
        out += "\n[" + header + "]\n";
      }
      for (const Entry& e : r.entries) out += toml_key(e.name) + " = " + toml_value(e) + "\n";
    };
    for (const Record& r : records) {
      if (r.path.empty()) emit(r);
    }
    for (const Record& r : records) {
      if (!r.path.empty()) emit(r);
    }
    return out;
  }
};

Config::Config() : m_tree(std::make_unique<ConfigTree>()) {}
Config::Config(Config&&) noexcept = default;
Config& Config::operator=(Config&&) noexcept = default;
Config::~Config() = default;

Config Config::load(const std::string& path, const std::vector<std::string>& overrides) {
  Config c;
  ConfigTree& t = *c.m_tree;
  t.top_file = path;
  t.name = fs::path(path).stem().string();
  ConfigTree::Stack stack{{canonical_of(path), path}};
  t.load_file(path, nullptr, stack);
  for (const std::string& o : overrides) t.apply_set(o);
  return c;
}

Config Config::from_string(const std::string& text, const std::string& name,
                           const std::vector<std::string>& overrides) {
  Config c;
  ConfigTree& t = *c.m_tree;
  t.top_file = name;
  t.name = fs::path(name).stem().string();
  ConfigTree::Stack stack{{canonical_of(name), name}};
  t.load_text(text, name, stack);
  for (const std::string& o : overrides) t.apply_set(o);
  return c;
}

bool Config::has(const std::string& path) const {
  return m_tree->lookup(path) != nullptr;
}

Params Config::section(const std::string& path, const ParamSchema& schema) {
  return m_tree->section(path, schema);
}

std::string Config::choose(const std::string& path_key, const std::vector<std::string>& choices) {
  return m_tree->choose(path_key, choices);
}

std::vector<std::string> Config::subtables(const std::string& path) const {
  std::vector<std::string> out;
  const Node* n = m_tree->lookup(path);
  if (n == nullptr || !n->is_table) return out;
  for (const auto& c : n->children) {
    if (c->is_table) out.push_back(c->name);
  }
  return out;
}

void Config::check_all_consumed() const {
  m_tree->check_all_consumed();
}

std::string Config::effective_toml() const {
  return m_tree->effective_toml();
}

SourceLoc Config::where(const std::string& path) const {
  const Node* cur = &m_tree->root;
  for (const std::string& seg : split_path(path)) {
    if (!cur->is_table) break;
    const Node* next = cur->child(seg);
    if (next == nullptr) break;
    cur = next;
  }
  return cur == &m_tree->root ? m_tree->top_loc() : cur->loc;
}

const std::string& Config::name() const {
  return m_tree->name;
}

}  // namespace moesim
