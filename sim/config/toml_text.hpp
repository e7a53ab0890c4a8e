#pragma once
/// Words for TOML values in messages, shared by the config loader and the sweep-spec reader.

#include <string>

#include <toml++/toml.h>

namespace moesim {

/// "a table", "an array", "a string", "an integer", "a float", "a boolean", "a date",
/// "a time of day", "a date-time" or "nothing": what `n` is, for "expected X, got Y".
std::string toml_type_phrase(const toml::node& n);

}  // namespace moesim
