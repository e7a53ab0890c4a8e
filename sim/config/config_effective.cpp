#include "sim/config/config_tree.hpp"

#include <fmt/format.h>

#include <cmath>

#include "sim/core/json_text.hpp"

namespace moesim {

using namespace config_detail;

namespace config_detail {

std::string toml_float(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", d);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

}  // namespace config_detail

namespace {

std::string toml_string(const std::string& s) {
  // TOML basic string: \n \t \r short, other control characters and DEL as \u00XX.
  constexpr EscapeStyle kTomlEscape{true, true, true, true};
  return json_quote(s, kTomlEscape);
}

std::string toml_key(const std::string& k) {
  return is_bare_key(k) ? k : toml_string(k);
}

std::string toml_value(const Entry& e) {
  if (const auto* i = std::get_if<int64_t>(&e.value)) return fmt::format("{}", *i);
  if (const auto* d = std::get_if<double>(&e.value)) return toml_float(*d);
  if (const auto* b = std::get_if<bool>(&e.value)) return *b ? "true" : "false";
  if (const auto* s = std::get_if<std::string>(&e.value)) return toml_string(*s);
  return toml_string(format_quantity(std::get<Quantity>(e.value), dim_of(e.type)));
}

}  // namespace

std::string ConfigTree::effective_toml() const {
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

}  // namespace moesim
