#pragma once
/// The sweep spec (SWEEP.toml): a base config, fixed overrides, axes, constraints, metrics.
///
/// Read strictly: every table and key is declared, and any problem is one InputError in the
/// house format ("file:line:col: key.path: what"). Axes are lists of values or linear / log
/// ranges (quantities with units allowed); the spec's effective copy lists every axis value.
/// See docs/sweeps.md for the format.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/config/config.hpp"

namespace moesim::sweep {

/// One value an axis takes.
struct AxisValue {
  /// TOML type of the value.
  enum class Kind { kInt, kFloat, kBool, kString };
  Kind kind = Kind::kString;
  std::string text;      ///< as shown in results and messages: "1TB/s", "4", "fast"
  std::string set_text;  ///< the value as TOML text for `--set key=...`: "\"1TB/s\"", "4"
  bool numeric = false;  ///< an integer, a float or a quantity string ("1TB/s")
  double number = 0.0;   ///< numeric value in base units (B, B/s, s, Hz) when `numeric`
};

/// One swept parameter.
struct Axis {
  std::string name;  ///< identifier: results column and name in constraints
  std::string key;   ///< config key path it overrides ("chip.memory.hbm.bandwidth")
  std::vector<AxisValue> values;
  std::string zip;  ///< zip group ("" = crossed with everything)
  SourceLoc loc;    ///< the [axis.NAME] header
  SourceLoc key_loc;
};

/// A named expression or stat name from [constraints] or [metrics].
struct NamedText {
  std::string name;
  std::string text;
  SourceLoc loc;  ///< where the string value starts
};

/// How points are drawn from the axes.
enum class SweepMode { kGrid, kRandom };

/// A validated sweep spec.
struct SweepSpec {
  std::string path;    ///< the spec file as given
  std::string name;    ///< file name without directory and extension
  std::string base;    ///< the base run config, absolute
  SourceLoc base_loc;  ///< where `base` was set
  SweepMode mode = SweepMode::kGrid;
  uint64_t samples = 0;  ///< kRandom: points drawn from the grid
  uint64_t seed = 1;     ///< kRandom: seed of the draw
  /// Fixed overrides for every point: (key path, TOML value text), in file order.
  std::vector<std::pair<std::string, std::string>> sets;
  std::vector<SourceLoc> set_locs;     ///< where each fixed override was set
  std::vector<NamedText> constraints;  ///< expressions a point must satisfy to run
  std::vector<NamedText> metrics;      ///< column name -> stats.json stat name
  std::vector<Axis> axes;              ///< in file order
  double timeout_s = 0.0;              ///< per point wall-time limit, seconds (0 = none)

  /// The spec as TOML with every default resolved and ranges expanded into `values`, without
  /// the [run] section. Loading it gives the same points. `hash` goes into its header.
  std::string effective_points_text() const;
  /// The effective copy written beside the results: a header naming the spec and `hash`,
  /// effective_points_text(), then [run].
  std::string effective_text(const std::string& hash) const;
};

/// Reads and validates `path`. Throws InputError (house format) for any problem.
SweepSpec load_sweep_spec(const std::string& path);

/// Like load_sweep_spec, from text in memory; `name` is the file name used in messages and
/// the directory relative paths (base) are resolved against.
SweepSpec parse_sweep_spec(const std::string& text, const std::string& name);

/// The fixed result columns, before the axis columns.
const std::vector<std::string>& fixed_columns();
/// The summary fields of stats.json that become result columns, in order.
const std::vector<std::string>& summary_columns();

/// 64-bit FNV-1a of `text`, as 16 lowercase hex digits.
std::string hash_text(const std::string& text);

/// `s` as a TOML basic string (quoted, escaped).
std::string toml_quote(const std::string& s);

/// A float as TOML text that reads back to the same double ("0.5", "2.0", "1e+16").
std::string float_text(double d);

}  // namespace moesim::sweep
