#pragma once
/// Declared parameters (a schema per model) and the validated values a model receives.
///
/// A model declares every key it accepts, with its type, unit, range and default; the
/// config loader checks a table against the schema, so a key nobody declared is an error
/// and a model never sees raw TOML. Models read their values from Params by name.

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sim/config/units.hpp"

namespace moesim {

/// The type of one declared parameter.
enum class ParamType {
  kInt,        ///< TOML integer
  kFloat,      ///< TOML float or integer
  kBool,       ///< TOML boolean
  kString,     ///< TOML string
  kEnum,       ///< TOML string, one of `choices`
  kSize,       ///< quantity string, Dim::kSize (an integer is not accepted: units are explicit)
  kBandwidth,  ///< quantity string, Dim::kBandwidth
  kTime,       ///< quantity string, Dim::kTime ("14ns" or "12cycles")
  kFrequency,  ///< quantity string, Dim::kFrequency
  kPath,       ///< TOML string naming a file, resolved relative to the file that set it
};

/// Name of a ParamType as shown to users ("integer", "size", ...).
const char* param_type_name(ParamType type);

/// A value a parameter holds after validation (quantities are in base units).
using ParamValue = std::variant<int64_t, double, bool, std::string, Quantity>;

/// One declared parameter. Built with chained setters:
/// `schema.add("rows", ParamType::kInt, "array rows").range(1, 4096).default_value(int64_t{128});`
struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kInt;
  std::string description;
  std::optional<ParamValue> default_val;  ///< absent means the key is required
  std::optional<double> min;         ///< inclusive, in base units (a time in cycles is not checked)
  std::optional<double> max;         ///< inclusive, in base units (a time in cycles is not checked)
  std::vector<std::string> choices;  ///< for kEnum

  ParamSpec& default_value(ParamValue v) {
    default_val = std::move(v);
    return *this;
  }
  ParamSpec& range(double lo, double hi) {
    min = lo;
    max = hi;
    return *this;
  }
  ParamSpec& at_least(double lo) {
    min = lo;
    return *this;
  }
  ParamSpec& one_of(std::vector<std::string> c) {
    choices = std::move(c);
    return *this;
  }
};

/// The declared parameters of one model or config section, in declaration order.
class ParamSchema {
 public:
  ParamSchema() = default;
  /// `owner` names the model or section in messages ("unknown key for 'fast_dram'").
  explicit ParamSchema(std::string owner) : m_owner(std::move(owner)) {}

  /// Declares a parameter; declaring the same name twice is an InternalError.
  ParamSpec& add(const std::string& name, ParamType type, const std::string& description);
  const std::vector<ParamSpec>& params() const { return m_params; }
  const ParamSpec* find(const std::string& name) const;
  /// Declared names in declaration order (the did-you-mean candidates).
  std::vector<std::string> names() const;
  /// Model or section name shown in messages; may be empty.
  const std::string& owner() const { return m_owner; }

 private:
  std::string m_owner;
  std::vector<ParamSpec> m_params;
};

/// Validated values for one section (defaults resolved). Reading a name the schema did
/// not declare, or with the wrong accessor, is an InternalError (a bug in the model).
class Params {
 public:
  Params() = default;
  Params(std::string path, std::map<std::string, ParamValue> values)
      : m_path(std::move(path)), m_values(std::move(values)) {}
  /// With the declared type of every value, so accessors also check the dimension.
  Params(std::string path, std::map<std::string, ParamValue> values,
         std::map<std::string, ParamType> types)
      : m_path(std::move(path)), m_values(std::move(values)), m_types(std::move(types)) {}

  /// Dotted path of the section these values came from, e.g. "chip.hbm".
  const std::string& path() const { return m_path; }

  int64_t get_int(const std::string& name) const;
  double get_float(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  /// kString, kEnum and kPath (paths are already resolved to be usable as given).
  const std::string& get_string(const std::string& name) const;
  /// kSize in bytes.
  uint64_t get_bytes(const std::string& name) const;
  /// kBandwidth in bytes per second.
  double get_bytes_per_s(const std::string& name) const;
  /// kFrequency in hertz.
  double get_hz(const std::string& name) const;
  /// kTime in seconds; a value written in cycles is converted with `clock_hz`.
  double get_seconds(const std::string& name, double clock_hz) const;
  /// kTime in cycles of `clock_hz` (rounded up); a value in cycles is returned as is.
  uint64_t get_cycles(const std::string& name, double clock_hz) const;
  bool has(const std::string& name) const { return m_values.count(name) != 0; }
  /// Every value by name (quantities in base units, paths resolved).
  const std::map<std::string, ParamValue>& values() const { return m_values; }
  /// Same path and same values.
  bool operator==(const Params& other) const {
    return m_path == other.m_path && m_values == other.m_values;
  }
  bool operator!=(const Params& other) const { return !(*this == other); }

 private:
  /// The value of `name`, checking it was declared with one of `types` (when types are known)
  /// and holds alternative `T`; `accessor` names the caller in the InternalError.
  template <class T>
  const T& typed(const std::string& name, std::initializer_list<ParamType> types,
                 const char* accessor) const;
  const ParamValue& at(const std::string& name) const;
  std::string m_path;
  std::map<std::string, ParamValue> m_values;
  std::map<std::string, ParamType> m_types;
};

}  // namespace moesim
