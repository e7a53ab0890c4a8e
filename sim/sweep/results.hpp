#pragma once
/// Result rows of a sweep: the JSON Lines and CSV formats, and the append-only result files.
///
/// A row is one line in DIR/results.jsonl and one in DIR/results.csv. Each line is appended
/// with a single write() on a file opened with O_APPEND and then fdatasync()ed, so a sweep
/// killed at any moment leaves whole rows (and at most a torn last line, which resuming
/// truncates). results.jsonl is authoritative: resuming rebuilds results.csv from it.

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/json_text.hpp"  // json_quote: strings in the form json_text writes

namespace moesim::sweep {

/// A parsed JSON value; numbers keep their text exactly as written.
struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kObject, kArray };
  Kind kind = Kind::kNull;
  std::string text;  ///< number: as written; string: unescaped; bool: "true"/"false"
  std::vector<std::pair<std::string, JsonValue>> members;  ///< kObject, in order
  std::vector<JsonValue> items;                            ///< kArray

  /// The member `key` of an object, or nullptr.
  const JsonValue* find(const std::string& key) const;
  static JsonValue null() { return JsonValue{}; }
  static JsonValue number(std::string text);
  static JsonValue string(std::string text);
};

/// Parses JSON text; throws std::runtime_error with the offset on malformed input.
JsonValue parse_json(const std::string& text);
/// A JSON scalar or object in the sweep's compact form (no spaces; strings escaped with
/// \" \\ \n \r \t and \u00XX for other control characters; other bytes as they are).
std::string json_text(const JsonValue& v);

/// The columns of a sweep's results: fixed, axes, summary, metrics, then wall_s, error, out.
struct Columns {
  std::vector<std::string> axes;
  std::vector<std::string> summary;
  std::vector<std::string> metrics;
  /// The CSV header line (with '\n').
  std::string csv_header() const;
};

/// The outcome of one point.
struct Row {
  std::string id;
  uint64_t index = 0;
  std::string status;  ///< ok, failed, timeout, crashed or skipped
  std::vector<std::pair<std::string, JsonValue>> params;   ///< per axis
  std::vector<std::pair<std::string, JsonValue>> summary;  ///< per summary column (null if none)
  std::vector<std::pair<std::string, JsonValue>> metrics;  ///< per metric (null if none)
  double wall_s = 0.0;  ///< wall time of the point's process, seconds
  std::string error;    ///< "" when ok; else why (the last stderr line of a failed run)
  std::string out;      ///< the point's output directory, relative to the sweep directory

  /// One JSON Lines line (with '\n'); wall_s with 3 decimals.
  std::string jsonl() const;
  /// One CSV line (with '\n') in `cols` order; null is an empty field; fields holding
  /// , " CR or LF are quoted with "" for ".
  std::string csv(const Columns& cols) const;
  /// Reads a row written by jsonl(); throws std::runtime_error naming what is wrong.
  static Row from_json(const JsonValue& v);
};

/// Summary and metric values of a finished point from its stats.json text. Throws
/// std::runtime_error when the text is not a stats.json.
void fill_from_stats(const std::string& stats_json, const Columns& cols,
                     const std::vector<std::string>& metric_stats, Row* row);

/// The append-only result files of a sweep directory (results.jsonl + results.csv).
class ResultsLog {
 public:
  /// Opens (creating) `dir`/results.{jsonl,csv}. With `resume`, reads the existing rows
  /// (truncating a torn last line of results.jsonl, which is reported in `*note`) and
  /// rewrites results.csv from them; without it, existing rows are an InputError.
  ResultsLog(const std::string& dir, const Columns& cols, bool resume, std::string* note);
  ~ResultsLog();
  ResultsLog(const ResultsLog&) = delete;
  ResultsLog& operator=(const ResultsLog&) = delete;

  /// Ids of the rows already recorded.
  const std::set<std::string>& done() const { return m_done; }
  /// The rows already recorded, in file order.
  const std::vector<Row>& rows() const { return m_rows; }
  /// Appends `row` to both files (results.jsonl first) and syncs them.
  void append(const Row& row);

 private:
  std::string m_dir;
  Columns m_cols;
  int m_jsonl = -1;
  int m_csv = -1;
  std::set<std::string> m_done;
  std::vector<Row> m_rows;
};

/// Appends `line` to the file `fd` with one write() (retrying only on EINTR); throws
/// std::runtime_error when it cannot be written whole.
void append_line(int fd, const std::string& line, const std::string& path);

}  // namespace moesim::sweep
