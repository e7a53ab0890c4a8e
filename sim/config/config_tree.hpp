#pragma once
/// The inside of a Config, shared by the files that implement it (not a public interface):
/// the merged tree of keys with their source locations (config_tree.cpp loads files,
/// includes and --set into it), schema checks and choices (config_validate.cpp), the
/// unconsumed-key check (config_consumed.cpp) and the effective config writer
/// (config_effective.cpp). Only sim/config/ includes it.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "sim/config/config.hpp"
#include "sim/config/schema.hpp"
#include "sim/config/units.hpp"

namespace moesim {

namespace config_detail {

/// The file name of locations set on the command line.
constexpr const char* kSetFile = "--set";

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

/// Throws InputError(located_message(loc, key, what)).
[[noreturn]] void fail(const SourceLoc& loc, const std::string& key, const std::string& what);
/// `what`, with " (did you mean 'hint'?)" when `hint` is not empty.
std::string with_hint(const std::string& what, const std::string& hint);
/// "'a', 'b', 'c'".
std::string quote_list(const std::vector<std::string>& items);
/// True when `k` can stand in TOML unquoted.
bool is_bare_key(const std::string& k);
/// "a.b.c" -> {"a", "b", "c"}; "" -> {}.
std::vector<std::string> split_path(const std::string& path);
/// `path` made canonical for include-cycle checks (absolute and normalised when it does not
/// exist).
std::string canonical_of(const std::string& path);
/// Dimension of a quantity type (kSize for the types that are not quantities).
Dim dim_of(ParamType t);
/// A float as TOML writes it: always with a '.' or an exponent; nan, inf, -inf.
std::string toml_float(double d);

}  // namespace config_detail

/// The merged tree, the parsed documents it points into, and what was consumed.
class ConfigTree {
 public:
  using Node = config_detail::Node;
  using Record = config_detail::Record;

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

  // Loading and merging (config_tree.cpp).

  /// Include stack: (canonical path, path as shown) of the files being loaded.
  using Stack = std::vector<std::pair<std::string, std::string>>;

  void load_file(const std::string& display, const SourceLoc* included_from, Stack& stack);
  void load_text(const std::string& text, const std::string& display, Stack& stack);
  /// Merges `src` into the table `dst`: tables merge deeply, a leaf replaces the earlier one.
  void merge(Node& dst, const toml::table& src, int order, const std::string& file,
             const std::string& base_dir, bool from_set);
  /// The child table `key` of `dst`, created when missing.
  Node* table_child(Node& dst, const std::string& key, const SourceLoc& key_loc,
                    const SourceLoc& loc, int order);
  void set_leaf(Node& dst, const std::string& key, const toml::node& v, const SourceLoc& key_loc,
                const SourceLoc& loc, int order, const std::string& base_dir);
  /// Applies one "key.path=value" override.
  void apply_set(const std::string& spec);
  /// The node at `path`, or nullptr. When a value stands where a table is needed on the way,
  /// `*blocking` is set to it.
  Node* lookup(const std::string& path, Node** blocking = nullptr);
  /// The table at `path` (nullptr when missing); a value there or on the way is an error.
  Node* table_at(const std::string& path);
  /// The record of consumed keys of the table at `path`, created on first use.
  Record& record(const std::string& path);
  /// Marks `n` and every table above it as looked at.
  static void touch(Node* n);

  // Schema checks and choices (config_validate.cpp).

  ParamValue validate(const ParamSpec& spec, const Node& leaf) const;
  static ParamValue default_of(const std::string& owner, const ParamSpec& spec);
  Params section(const std::string& path, const ParamSchema& schema);
  std::string choose(const std::string& path_key, const std::vector<std::string>& choices);

  // Keys nobody consumed (config_consumed.cpp).

  void check_all_consumed() const;
  static void collect_unconsumed(const Node& t, std::vector<const Node*>* out);

  // The effective configuration (config_effective.cpp).

  std::string effective_toml() const;
};

}  // namespace moesim
