#include "sim/config/config_tree.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace moesim {

using namespace config_detail;

void ConfigTree::check_all_consumed() const {
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

void ConfigTree::collect_unconsumed(const Node& t, std::vector<const Node*>* out) {
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

}  // namespace moesim
