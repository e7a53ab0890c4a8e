#include "sim/config/config.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "sim/config/config_tree.hpp"

namespace moesim {

namespace fs = std::filesystem;
using namespace config_detail;

std::string SourceLoc::str() const {
  if (line <= 0) return file;
  if (column <= 0) return fmt::format("{}:{}", file, line);
  return fmt::format("{}:{}:{}", file, line, column);
}

std::string located_message(const SourceLoc& loc, const std::string& key_path,
                            const std::string& what) {
  if (loc.file == kSetFile && loc.line <= 0) {
    return key_path.empty() ? fmt::format("--set: {}", what)
                            : fmt::format("--set {}: {}", key_path, what);
  }
  if (key_path.empty()) return fmt::format("{}: {}", loc.str(), what);
  return fmt::format("{}: {}: {}", loc.str(), key_path, what);
}

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
