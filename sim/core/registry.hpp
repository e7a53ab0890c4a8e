#pragma once
/// One-line registration of models by name, per interface.
///
/// Each swappable interface (compute unit, memory, ...) has its own Registry. A model
/// registers with MOESIM_REGISTER(Interface, Class, "name", "description"); the class
/// provides `static void declare(ParamSchema&)` and a constructor taking the interface's
/// `Args`. `moesim list` walks every registry; the config picks a model with `type = "name"`.
///
/// An interface may define `Facts`: what others need to know of a configured model (its
/// capacity, its shape) without reading its parameters by name. A model then provides
/// `static Facts describe(const Params&)`, and Registry::describe() answers for it.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sim/config/schema.hpp"

namespace moesim {

/// The Facts of an interface that declares none.
struct NoFacts {};

/// `Interface::Facts`, or NoFacts.
template <class Interface, class = void>
struct FactsOf {
  using type = NoFacts;
};
template <class Interface>
struct FactsOf<Interface, std::void_t<typename Interface::Facts>> {
  using type = typename Interface::Facts;
};

/// Registered models implementing `Interface`.
template <class Interface>
class Registry {
 public:
  using Args = typename Interface::Args;
  using Facts = typename FactsOf<Interface>::type;
  struct Entry {
    std::string name;
    std::string description;
    ParamSchema schema;
    std::function<std::unique_ptr<Interface>(const Args&)> create;
    std::function<Facts(const Params&)> describe;  ///< empty: default Facts
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
  /// What the model of `entry` configured with `params` tells others.
  static Facts describe(const Entry& entry, const Params& params) {
    return entry.describe ? entry.describe(params) : Facts{};
  }
  /// The same for the model registered as `name` (default Facts when there is none).
  Facts describe(const std::string& name, const Params& params) const {
    const Entry* e = find(name);
    return e ? describe(*e, params) : Facts{};
  }

 private:
  std::map<std::string, Entry> m_entries;
};

/// Whether `Model` has `static Facts describe(const Params&)`.
template <class Model, class = void>
struct HasDescribe : std::false_type {};
template <class Model>
struct HasDescribe<Model, std::void_t<decltype(Model::describe(std::declval<const Params&>()))>>
    : std::true_type {};

/// The describe() of a model class, or an empty function.
template <class Interface, class Model>
std::function<typename FactsOf<Interface>::type(const Params&)> declared_describe() {
  if constexpr (HasDescribe<Model>::value) {
    return [](const Params& p) { return Model::describe(p); };
  } else {
    return {};
  }
}

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
           },                                                              \
           ::moesim::declared_describe<Interface, Class>()})
