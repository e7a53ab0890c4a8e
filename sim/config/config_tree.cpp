#include "sim/config/config_tree.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <utility>

#include <toml++/toml.h>

#include "sim/config/toml_text.hpp"
#include "sim/core/error.hpp"

namespace moesim {

namespace fs = std::filesystem;
using namespace config_detail;

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

namespace config_detail {

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

std::string canonical_of(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(path, ec);
  if (ec) p = fs::absolute(path, ec).lexically_normal();
  return p.string();
}

}  // namespace config_detail

namespace {

SourceLoc loc_of(const std::string& file, const toml::source_region& r) {
  return SourceLoc{file, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
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

}  // namespace

void ConfigTree::load_file(const std::string& display, const SourceLoc* included_from,
                           Stack& stack) {
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

void ConfigTree::load_text(const std::string& text, const std::string& display, Stack& stack) {
  std::unique_ptr<toml::table> doc;
  try {
    doc = std::make_unique<toml::table>(toml::parse(std::string_view(text), std::string(display)));
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: TOML syntax error: {}", display, e.source().begin.line,
                                 e.source().begin.column, e.description()));
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

void ConfigTree::merge(Node& dst, const toml::table& src, int order, const std::string& file,
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

Node* ConfigTree::table_child(Node& dst, const std::string& key, const SourceLoc& key_loc,
                              const SourceLoc& loc, int order) {
  Node* n = dst.child(key);
  if (n == nullptr) {
    n = dst.add_child(key, true);
    n->key_loc = key_loc;
    n->loc = loc;
    n->order = order;
  } else if (!n->is_table) {
    fail(key_loc, n->path, fmt::format("a table cannot replace the value set at {}", n->loc.str()));
  }
  return n;
}

void ConfigTree::set_leaf(Node& dst, const std::string& key, const toml::node& v,
                          const SourceLoc& key_loc, const SourceLoc& loc, int order,
                          const std::string& base_dir) {
  Node* n = dst.child(key);
  if (n == nullptr) {
    n = dst.add_child(key, false);
  } else if (n->is_table) {
    fail(key_loc, n->path, fmt::format("a value cannot replace the table set at {}", n->loc.str()));
  }
  n->value = &v;
  n->key_loc = key_loc;
  n->loc = loc;
  n->order = order;
  n->base_dir = base_dir;
}

void ConfigTree::apply_set(const std::string& spec) {
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
    if (s.empty()) malformed();
    // A key with other characters (a space, a non-ASCII letter) has its '=': say what is wrong.
    if (!is_bare_key(s)) {
      throw InputError(fmt::format(
          "--set '{}': '{}' is not a valid key (expected letters A-Z a-z, digits, '_' or '-')",
          spec, s));
    }
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

Node* ConfigTree::lookup(const std::string& path, Node** blocking) {
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

Node* ConfigTree::table_at(const std::string& path) {
  Node* blocking = nullptr;
  Node* n = lookup(path, &blocking);
  if (n != nullptr && !n->is_table) blocking = n;
  if (blocking != nullptr) {
    fail(blocking->loc, blocking->path,
         "expected a table, got " + toml_type_phrase(*blocking->value));
  }
  return n;
}

Record& ConfigTree::record(const std::string& path) {
  for (Record& r : records) {
    if (r.path == path) return r;
  }
  records.push_back(Record{path, {}});
  return records.back();
}

void ConfigTree::touch(Node* n) {
  for (; n != nullptr; n = n->parent) n->touched = true;
}

}  // namespace moesim
