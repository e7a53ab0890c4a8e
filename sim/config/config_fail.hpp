#pragma once
/// The one way the run spec's readers reject a config value.

#include <string>

#include "sim/config/config.hpp"
#include "sim/core/error.hpp"

namespace moesim {

/// Throws the house-format message for `key` at the place the config set it.
[[noreturn]] inline void fail(const Config& cfg, const std::string& key, const std::string& what) {
  throw InputError(located_message(cfg.where(key), key, what));
}

}  // namespace moesim
