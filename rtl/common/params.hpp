#pragma once
/// Strict reader of rtl_verify NAME=VALUE parameters: every key must be consumed.

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>

#include "rtl/rtl_verify.hpp"

namespace moesim::rtl {

/// Reads typed values from a ParamMap and rejects keys nobody read.
class ParamReader {
 public:
  explicit ParamReader(const ParamMap& params) : m_params(params) {}

  /// Integer parameter `name`, or `def` when absent.
  int64_t get_int(const std::string& name, int64_t def) {
    m_used.insert(name);
    const auto it = m_params.find(name);
    if (it == m_params.end()) return def;
    size_t pos = 0;
    int64_t v = 0;
    try {
      v = std::stoll(it->second, &pos, 0);
    } catch (const std::exception&) {
      pos = 0;
    }
    if (pos == 0 || pos != it->second.size())
      throw std::invalid_argument("parameter " + name + "=" + it->second + ": expected an integer");
    return v;
  }
  /// String parameter `name`, or `def` when absent.
  std::string get_str(const std::string& name, const std::string& def) {
    m_used.insert(name);
    const auto it = m_params.find(name);
    return it == m_params.end() ? def : it->second;
  }
  /// Throws std::invalid_argument naming the first parameter nobody read.
  void finish(const std::string& accepted) const {
    for (const auto& [k, v] : m_params)
      if (!m_used.count(k))
        throw std::invalid_argument("unknown parameter '" + k + "' (accepted: " + accepted + ")");
  }

 private:
  const ParamMap& m_params;
  std::set<std::string> m_used;
};

}  // namespace moesim::rtl
