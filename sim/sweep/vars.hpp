#pragma once
/// The names a constraint can use for one point: config keys, derived model quantities and
/// axis names, with their values.

#include <map>
#include <string>

#include "sim/sweep/expr.hpp"
#include "sim/sweep/spec.hpp"

namespace moesim::sweep {

/// Name -> value, for an ExprResolver.
using VarTable = std::map<std::string, ExprValue>;

/// Every leaf of a TOML text (an effective_config.toml) under its dotted path. Quantity
/// strings ("520MiB", "1.6TB/s") become numbers in base units, booleans 1 and 0, other
/// strings stay strings; arrays are left out.
VarTable flatten_toml(const std::string& text);

/// Adds the value of every axis at `choice` under the axis name.
void add_axis_values(const SweepSpec& spec, const std::vector<size_t>& choice, VarTable* vars);

/// A resolver reading `vars`.
ExprResolver resolver_of(const VarTable& vars);

}  // namespace moesim::sweep
