#include "sim/config/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sim/core/error.hpp"

namespace moesim {

const char* param_type_name(ParamType type) {
  switch (type) {
    case ParamType::kInt:
      return "integer";
    case ParamType::kFloat:
      return "float";
    case ParamType::kBool:
      return "boolean";
    case ParamType::kString:
      return "string";
    case ParamType::kEnum:
      return "enum";
    case ParamType::kSize:
      return "size";
    case ParamType::kBandwidth:
      return "bandwidth";
    case ParamType::kTime:
      return "time";
    case ParamType::kFrequency:
      return "frequency";
    case ParamType::kPath:
      break;
  }
  return "path";
}

ParamSpec& ParamSchema::add(const std::string& name, ParamType type,
                            const std::string& description) {
  if (find(name) != nullptr) {
    throw InternalError(
        fmt::format("schema '{}': parameter '{}' is declared twice", m_owner, name));
  }
  ParamSpec spec;
  spec.name = name;
  spec.type = type;
  spec.description = description;
  m_params.push_back(std::move(spec));
  return m_params.back();
}

const ParamSpec* ParamSchema::find(const std::string& name) const {
  for (const ParamSpec& p : m_params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<std::string> ParamSchema::names() const {
  std::vector<std::string> out;
  out.reserve(m_params.size());
  for (const ParamSpec& p : m_params) out.push_back(p.name);
  return out;
}

const ParamValue& Params::at(const std::string& name) const {
  auto it = m_values.find(name);
  if (it == m_values.end()) {
    throw InternalError(fmt::format("Params '{}': no parameter '{}' was declared", m_path, name));
  }
  return it->second;
}

template <class T>
const T& Params::typed(const std::string& name, std::initializer_list<ParamType> types,
                       const char* accessor) const {
  const ParamValue& v = at(name);
  auto t = m_types.find(name);
  bool ok = std::holds_alternative<T>(v);
  if (ok && t != m_types.end()) {
    ok = false;
    for (ParamType want : types) ok = ok || t->second == want;
  }
  if (!ok) {
    throw InternalError(
        fmt::format("Params '{}': parameter '{}' {}cannot be read with {}()", m_path, name,
                    t == m_types.end() ? std::string()
                                       : fmt::format("is a {} and ", param_type_name(t->second)),
                    accessor));
  }
  return std::get<T>(v);
}

int64_t Params::get_int(const std::string& name) const {
  return typed<int64_t>(name, {ParamType::kInt}, "get_int");
}

double Params::get_float(const std::string& name) const {
  return typed<double>(name, {ParamType::kFloat}, "get_float");
}

bool Params::get_bool(const std::string& name) const {
  return typed<bool>(name, {ParamType::kBool}, "get_bool");
}

const std::string& Params::get_string(const std::string& name) const {
  return typed<std::string>(name, {ParamType::kString, ParamType::kEnum, ParamType::kPath},
                            "get_string");
}

uint64_t Params::get_bytes(const std::string& name) const {
  const Quantity& q = typed<Quantity>(name, {ParamType::kSize}, "get_bytes");
  if (q.cycles) {
    throw InternalError(
        fmt::format("Params '{}': parameter '{}' is in cycles, not bytes", m_path, name));
  }
  return static_cast<uint64_t>(q.value);
}

double Params::get_bytes_per_s(const std::string& name) const {
  const Quantity& q = typed<Quantity>(name, {ParamType::kBandwidth}, "get_bytes_per_s");
  if (q.cycles) {
    throw InternalError(
        fmt::format("Params '{}': parameter '{}' is in cycles, not bytes/s", m_path, name));
  }
  return q.value;
}

double Params::get_hz(const std::string& name) const {
  const Quantity& q = typed<Quantity>(name, {ParamType::kFrequency}, "get_hz");
  if (q.cycles) {
    throw InternalError(
        fmt::format("Params '{}': parameter '{}' is in cycles, not hertz", m_path, name));
  }
  return q.value;
}

double Params::get_seconds(const std::string& name, double clock_hz) const {
  const Quantity& q = typed<Quantity>(name, {ParamType::kTime}, "get_seconds");
  if (!q.cycles) return q.value;
  if (!(clock_hz > 0)) {
    throw InternalError(fmt::format("Params '{}': get_seconds('{}') needs a positive clock, got {}",
                                    m_path, name, clock_hz));
  }
  return q.value / clock_hz;
}

uint64_t Params::get_cycles(const std::string& name, double clock_hz) const {
  const Quantity& q = typed<Quantity>(name, {ParamType::kTime}, "get_cycles");
  if (q.cycles) return static_cast<uint64_t>(q.value);
  if (!(clock_hz > 0)) {
    throw InternalError(fmt::format("Params '{}': get_cycles('{}') needs a positive clock, got {}",
                                    m_path, name, clock_hz));
  }
  // Rounded up, but a product within floating-point noise of a whole number is that number
  // (14ns at 1GHz is 14.000000000000002 in doubles and must be 14 cycles, not 15).
  const double c = q.value * clock_hz;
  const double r = std::round(c);
  if (std::fabs(c - r) <= 1e-9 * std::max(1.0, std::fabs(c))) return static_cast<uint64_t>(r);
  return static_cast<uint64_t>(std::ceil(c));
}

}  // namespace moesim
