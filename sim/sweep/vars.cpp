#include "sim/sweep/vars.hpp"

#include <optional>

#include <toml++/toml.h>

#include "sim/config/units.hpp"
#include "sim/core/error.hpp"

namespace moesim::sweep {

namespace {

ExprValue string_value(const std::string& s) {
  for (Dim d : {Dim::kSize, Dim::kBandwidth, Dim::kTime, Dim::kFrequency}) {
    const std::optional<Quantity> q = parse_quantity(s, d, nullptr);
    if (q && !q->cycles) return ExprValue{false, q->value, ""};
  }
  return ExprValue{true, 0.0, s};
}

void flatten(const toml::table& t, const std::string& prefix, VarTable* out) {
  for (auto&& [k, v] : t) {
    const std::string key =
        prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const toml::table* sub = v.as_table()) {
      flatten(*sub, key, out);
    } else if (v.is_integer()) {
      (*out)[key] = ExprValue{false, static_cast<double>(v.as_integer()->get()), ""};
    } else if (v.is_floating_point()) {
      (*out)[key] = ExprValue{false, v.as_floating_point()->get(), ""};
    } else if (v.is_boolean()) {
      (*out)[key] = ExprValue{false, v.as_boolean()->get() ? 1.0 : 0.0, ""};
    } else if (v.is_string()) {
      (*out)[key] = string_value(v.as_string()->get());
    }
  }
}

}  // namespace

VarTable flatten_toml(const std::string& text) {
  VarTable out;
  try {
    const toml::table doc = toml::parse(std::string_view(text), std::string("effective config"));
    flatten(doc, "", &out);
  } catch (const toml::parse_error& e) {
    throw InternalError(std::string("effective config does not parse: ") +
                        std::string(e.description()));
  }
  return out;
}

void add_axis_values(const SweepSpec& spec, const std::vector<size_t>& choice, VarTable* vars) {
  for (size_t a = 0; a < spec.axes.size(); ++a) {
    const AxisValue& v = spec.axes[a].values[choice[a]];
    if (v.kind == AxisValue::Kind::kBool) {
      (*vars)[spec.axes[a].name] = ExprValue{false, v.text == "true" ? 1.0 : 0.0, ""};
    } else if (v.numeric) {
      (*vars)[spec.axes[a].name] = ExprValue{false, v.number, ""};
    } else {
      (*vars)[spec.axes[a].name] = ExprValue{true, 0.0, v.text};
    }
  }
}

ExprResolver resolver_of(const VarTable& vars) {
  return [&vars](const std::string& name) -> std::optional<ExprValue> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace moesim::sweep
