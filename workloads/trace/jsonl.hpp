#pragma once
/// A small parser for one line of JSON lines: an object whose values are scalars (string,
/// number, true/false/null), arrays of scalars, or objects of scalars. No dependencies; it
/// reuses its buffers, so parsing a stream of lines allocates nothing in the steady state.
///
/// Numbers follow the JSON grammar; NaN, Infinity and -Infinity (written by Python's json
/// module) are accepted too, so a reader can report them as bad values rather than bad JSON.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::jsonl {

/// The type of a parsed value.
enum class Kind { kString, kNumber, kBool, kNull, kArray, kObject };

/// One parsed value. Strings are decoded (escapes resolved); `raw` is the value's JSON text
/// as it appears in the line (for numbers: the exact digits, to parse as any type).
struct Value {
  Kind kind = Kind::kNull;
  std::string_view raw;  ///< the value's text in the line (valid until the next parse)
  std::string str;       ///< kString: the decoded string
  bool boolean = false;  ///< kBool
  uint32_t first = 0;    ///< kArray / kObject: first item in items() / members()
  uint32_t count = 0;    ///< kArray / kObject: number of items / members
};

/// A key and its value.
struct Member {
  std::string key;
  Value value;
};

/// A view of consecutive members.
struct MemberRange {
  const Member* first = nullptr;
  const Member* last = nullptr;
  const Member* begin() const { return first; }
  const Member* end() const { return last; }
  size_t size() const { return static_cast<size_t>(last - first); }
};

/// A parsed line. parse() returns "" or what is wrong, with the 1-based column. Storage is
/// reused from line to line (keys and strings keep their capacity).
class Object {
 public:
  /// Parses `line` (one JSON object, blanks around it allowed). Returns "" on success or a
  /// message such as "bad JSON at column 12: expected ':' after a key". Duplicate keys at the
  /// top level are errors ("duplicate key 'layer'"). `line` must outlive the Values' `raw`.
  std::string parse(std::string_view line);

  /// Top-level members in the order they appear.
  MemberRange members() const { return {m_members.data(), m_members.data() + m_member_count}; }
  /// The top-level value of `key`, or nullptr.
  const Value* find(std::string_view key) const;
  /// Items of an array value.
  const Value& item(const Value& array, uint32_t i) const { return m_items[array.first + i]; }
  /// Members of a nested object value.
  const Member& member(const Value& object, uint32_t i) const { return m_nested[object.first + i]; }

 private:
  std::vector<Member> m_members;  // the first m_member_count are this line's
  std::vector<Value> m_items;
  std::vector<Member> m_nested;
  size_t m_member_count = 0;
  size_t m_item_count = 0;
  size_t m_nested_count = 0;
  friend class Parser;
};

/// True when `v` is a number written as a plain non-negative integer (digits only).
bool is_unsigned(const Value& v);

/// Appends `s` as a JSON string literal (quotes and escapes) to `out`.
void append_string(std::string& out, std::string_view s);

/// A short form of a value's text for messages: the raw text, cut at 40 characters.
std::string shown(const Value& v);

}  // namespace moesim::jsonl
