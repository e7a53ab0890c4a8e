#pragma once
/// One-line registration of models by name, per interface.
///
/// Each swappable interface (compute unit, memory, ...) has its own Registry. A model
/// registers with MOESIM_REGISTER(Interface, Class, "name", "description"); the class
/// provides `static void declare(ParamSchema&)` and a constructor taking the interface's
/// `Args`. `moesim list` walks every registry; the config picks a model with `type = "name"`.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/schema.hpp"

namespace moesim {

/// Registered models implementing `Interface`.
template <class Interface>
class Registry {
 public:
  using Args = typename Interface::Args;
  struct Entry {
    std::string name;
    std::string description;
    ParamSchema schema;
    std::function<std::unique_ptr<Interface>(const Args&)> create;
  };

  static Registry& instance() {
    static Registry registry;
    return registry;
  }

  /// Adds a model; returns true so it can initialise a static.
  bool add(Entry entry) {
    const std::string name = entry.name;
    m_entries.emplace(name, std::move(entry));
    return true;
  }
  const Entry* find(const std::string& name) const {
    auto it = m_entries.find(name);
    return it == m_entries.end() ? nullptr : &it->second;
  }
  /// Names in sorted order.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, entry] : m_entries) out.push_back(name);
    return out;
  }
  const std::map<std::string, Entry>& entries() const { return m_entries; }

 private:
  std::map<std::string, Entry> m_entries;
};

/// Builds the schema of a model class from its static declare().
template <class Model>
ParamSchema declared_schema(const std::string& owner) {
  ParamSchema schema(owner);
  Model::declare(schema);
  return schema;
}

}  // namespace moesim

#define MOESIM_CONCAT_INNER(a, b) a##b
#define MOESIM_CONCAT(a, b) MOESIM_CONCAT_INNER(a, b)

/// Registers `Class` as an implementation of `Interface` under `name`.
#define MOESIM_REGISTER(Interface, Class, name, description)               \
  static const bool MOESIM_CONCAT(kRegistered_, __LINE__) =                \
      ::moesim::Registry<Interface>::instance().add(                       \
          {name, description, ::moesim::declared_schema<Class>(name),      \
           [](const Interface::Args& args) -> std::unique_ptr<Interface> { \
             return std::make_unique<Class>(args);                         \
           }})
