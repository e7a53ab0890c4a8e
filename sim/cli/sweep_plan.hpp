#pragma once
/// The plan of a sweep: its spec checked against the base config, its points, and which
/// points are skipped (invalid config or a false constraint) and why.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/sweep/enumerate.hpp"
#include "sim/sweep/expr.hpp"
#include "sim/sweep/results.hpp"
#include "sim/sweep/spec.hpp"

namespace moesim {

/// A sweep spec with its base config checked: keys, constraints, and the points.
struct SweepPlan {
  sweep::SweepSpec spec;
  std::string hash;  ///< spec_hash: effective spec (without [run]) + base effective config
  sweep::Columns cols;
  std::vector<std::string> metric_stats;  ///< stat name of each metric column
  std::vector<sweep::Expr> constraints;   ///< parsed [constraints], in spec order
  std::vector<sweep::Point> points;
  std::vector<std::string> skip;  ///< per point: why it is skipped ("" = runs)
};

/// Loads the spec at `spec_path` (with `timeout_s` overriding [run] timeout), checks its
/// [set] and axis keys against the base config's keys and its constraints' names and types,
/// enumerates the points and loads each point's config to decide which are skipped. Throws
/// InputError (house format) for a bad spec.
SweepPlan make_sweep_plan(const std::string& spec_path, std::optional<double> timeout_s);

/// The result-row parameters of point `p`: numbers as numbers, booleans, other values as
/// strings (quantities as written: "1TB/s").
std::vector<std::pair<std::string, sweep::JsonValue>> params_of(const sweep::SweepSpec& spec,
                                                                const sweep::Point& p);

}  // namespace moesim
