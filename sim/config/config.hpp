#pragma once
/// Loading, composing and strictly checking a TOML configuration.
///
/// A Config is the merged tree of a file, its `include = [...]` files (depth first, later
/// values override earlier ones, the including file overrides what it includes) and the
/// command-line `--set key.path=value` overrides. Every leaf remembers the file, line and
/// column that set it. Sections are validated against schemas; after elaboration
/// `check_all_consumed()` turns any key nobody consumed into an error.

#include <memory>
#include <string>
#include <vector>

#include "sim/config/schema.hpp"

namespace moesim {

class ConfigTree;  // implementation detail (wraps toml::table plus source locations)

/// Where a value came from, for error messages: "configs/x.toml:12:3" or "--set".
struct SourceLoc {
  std::string file;  ///< file path as given (relative paths stay relative), or "--set"
  int line = 0;      ///< 1-based; 0 when unknown
  int column = 0;    ///< 1-based; 0 when unknown
  /// "file:line:column" (or just "file" when line is 0).
  std::string str() const;
};

/// A loaded configuration. Not copyable; cheap to move.
class Config {
 public:
  /// Loads `path` with its includes and applies `overrides` ("key.path=value", value parsed
  /// as a TOML value when it is one, else taken as a string). Throws InputError naming the
  /// file, line and column for syntax errors, missing files, include cycles and bad --set.
  /// `include = ["a.toml", ...]` (top level only; paths relative to the including file) loads
  /// the listed files first, in order, depth first; the including file then overrides them.
  /// Tables merge deeply; a value (arrays included) replaces the earlier one and its location;
  /// a table and a value never replace each other (InputError). File names in messages are
  /// the path as given joined with include directories (lexically normalised, never made
  /// absolute).
  static Config load(const std::string& path, const std::vector<std::string>& overrides = {});
  /// Parses TOML text held in memory; `name` is used as the file name in messages.
  static Config from_string(const std::string& text, const std::string& name,
                            const std::vector<std::string>& overrides = {});

  Config(Config&&) noexcept;
  Config& operator=(Config&&) noexcept;
  ~Config();

  /// True when a table or value exists at `path` ("chip.hbm").
  bool has(const std::string& path) const;

  /// Validates the table at `path` against `schema` and marks its keys consumed. Unknown
  /// keys (with a did-you-mean), missing required keys, wrong types, out-of-range values and
  /// bad units are InputErrors. A missing table is treated as empty (so defaults apply and
  /// required keys are reported missing). Keys that are sub-tables are left for their own
  /// section() call unless `schema` declares them. Keys already consumed by choose() (e.g.
  /// "type") are skipped, so call choose() first. Problems with present keys are reported in
  /// file order (unknown keys at the key, bad values at the value), then missing keys in
  /// declaration order (at the table's header, or the top file when the table is absent).
  /// Times written in cycles are not range-checked (no clock is known here). kPath values are
  /// made absolute, relative to the directory of the file that set them (the current
  /// directory for --set and defaults); an empty path stays empty. `path` "" is the root.
  Params section(const std::string& path, const ParamSchema& schema);

  /// Reads and consumes the string at `path_key` ("chip.hbm.type") as a choice among
  /// `choices` (registered model names). Missing or unknown -> InputError with did-you-mean.
  std::string choose(const std::string& path_key, const std::vector<std::string>& choices);

  /// Names of the sub-tables directly under `path` in file order (e.g. the memories listed
  /// under "chip.memory"); does not consume them. Tables from an included file come first,
  /// in its order; new ones from later files and --set follow.
  std::vector<std::string> subtables(const std::string& path) const;

  /// Every key not consumed by section()/choose() -> InputError for the first one in file
  /// order (files in load order, then --set in order), with a did-you-mean among the keys
  /// its table does accept when known. When the key lies in a table nobody looked at, the
  /// outermost such table is reported ("chpi: unknown table (did you mean 'chip'?)"),
  /// with suggestions among its siblings that were used. Empty unused tables count too.
  void check_all_consumed() const;

  /// The effective configuration: every consumed key with defaults resolved, as TOML text.
  /// Tables in the order they were first read (root keys first), keys in declaration order
  /// after any choose()n key; quantities via format_quantity, paths absolute. Loading it
  /// again and reading it the same way gives identical Params.
  std::string effective_toml() const;

  /// Where the value or table at `path` was set (for messages raised by models): a value's
  /// own position, a table's header; for a missing path, its deepest existing table (the top
  /// file without a line at the root). Build messages with located_message() so a --set
  /// value reads "--set key.path: ...". Dotted paths cannot name keys that contain '.'.
  SourceLoc where(const std::string& path) const;

  /// The top-level file name without directory and extension ("mixtral_decode").
  const std::string& name() const;

 private:
  Config();
  std::unique_ptr<ConfigTree> m_tree;
};

/// The closest candidate to `word` by edit distance, or "" when none is close enough.
/// Damerau-Levenshtein (optimal string alignment) distance; a candidate qualifies when its
/// distance is at most max(1, word.size() / 3) or when it starts with `word`; the smallest
/// distance wins, ties go to the first in `candidates`; `word` itself is never suggested.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

/// One-line message in the house format: "file:line:col: key.path: what" ("file: key.path:
/// what" without a line; "--set key.path: what" for a --set override; no "key.path: " when
/// `key_path` is empty).
std::string located_message(const SourceLoc& loc, const std::string& key_path,
                            const std::string& what);

}  // namespace moesim
