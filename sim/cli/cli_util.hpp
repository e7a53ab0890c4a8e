#pragma once
/// Helpers shared by the subcommands: usage errors, --help detection, number parsing.

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/config/config.hpp"
#include "sim/core/error.hpp"

namespace moesim {

/// Throws the usage error every subcommand uses: "<cmd>: <msg> (see 'moesim <cmd> --help')".
[[noreturn]] inline void usage_error(const std::string& cmd, const std::string& msg) {
  throw InputError(fmt::format("{}: {} (see 'moesim {} --help')", cmd, msg, cmd));
}

/// Throws "unknown option" with a did-you-mean hint drawn from `known`.
[[noreturn]] inline void unknown_option(const std::string& cmd, const std::string& flag,
                                        const std::vector<std::string>& known) {
  const std::string hint = did_you_mean(flag, known);
  usage_error(cmd, fmt::format("unknown option '{}'{}", flag,
                               hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

inline bool wants_help(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

inline uint64_t parse_u64(const std::string& cmd, const std::string& opt, const std::string& v) {
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 19) {
    usage_error(cmd, fmt::format("{} expects a non-negative integer, got '{}'", opt, v));
  }
  return std::stoull(v);
}

}  // namespace moesim
