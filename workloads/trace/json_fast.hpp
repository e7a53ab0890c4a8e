#pragma once
/// Helpers of the simdjson On-Demand fast paths for JSON-lines rows (the trace reader in
/// trace_jsonl.cpp and the log importers in trace_import.cpp). A fast path accepts only what
/// jsonl.hpp accepts and reads it to the same values; anything else (a bad row, or one merely
/// unusual) makes it give up, and the row is parsed again by jsonl::Object, which gives the
/// row or the message. These helpers check raw token text against jsonl.hpp's grammar.

#include <cstdint>
#include <string_view>

namespace moesim::json_fast {

/// `raw` without the blanks simdjson leaves after a token.
inline std::string_view trimmed(std::string_view raw) {
  while (!raw.empty() &&
         (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\r' || raw.back() == '\n')) {
    raw.remove_suffix(1);
  }
  return raw;
}

/// `raw` (a number token) when it is a JSON integer of digits only: no sign, fraction,
/// exponent or leading zero (what jsonl::is_unsigned accepts); else empty.
inline std::string_view digits(std::string_view raw) {
  raw = trimmed(raw);
  if (raw.empty() || (raw.size() > 1 && raw[0] == '0')) return {};
  for (char c : raw) {
    if (c < '0' || c > '9') return {};
  }
  return raw;
}

/// Reads a number token that digits() accepts into `out`; false when it is not such a token
/// or exceeds 32 bits (what trace_io::parse_u32 rejects).
inline bool parse_u32(std::string_view raw, uint32_t& out) {
  raw = digits(raw);
  if (raw.empty() || raw.size() > 10) return false;
  uint64_t v = 0;
  for (char c : raw) v = v * 10 + static_cast<uint64_t>(c - '0');
  if (v > 0xFFFFFFFFull) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

/// `raw` (a number token) when it follows the JSON number grammar
/// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; else empty.
inline std::string_view json_number(std::string_view raw) {
  raw = trimmed(raw);
  size_t i = 0;
  const size_t n = raw.size();
  auto digit = [&](size_t at) { return at < n && raw[at] >= '0' && raw[at] <= '9'; };
  if (i < n && raw[i] == '-') ++i;
  if (!digit(i)) return {};
  if (raw[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (i < n && raw[i] == '.') {
    ++i;
    if (!digit(i)) return {};
    while (digit(i)) ++i;
  }
  if (i < n && (raw[i] == 'e' || raw[i] == 'E')) {
    ++i;
    if (i < n && (raw[i] == '+' || raw[i] == '-')) ++i;
    if (!digit(i)) return {};
    while (digit(i)) ++i;
  }
  return i == n ? raw : std::string_view();
}

/// The text of a JSON string whose content starts at `body` (just after its opening quote)
/// and ends before `end`, when it has no escape and no control character: then the text is
/// the decoded string. Else (or when no closing quote comes before `end`) `ok` is false.
inline std::string_view plain_string(const char* body, const char* end, bool& ok) {
  const char* p = body;
  while (p < end && *p != '"') {
    if (*p == '\\' || static_cast<unsigned char>(*p) < 0x20) {
      ok = false;
      return {};
    }
    ++p;
  }
  ok = p < end;
  return std::string_view(body, static_cast<size_t>(p - body));
}

}  // namespace moesim::json_fast
