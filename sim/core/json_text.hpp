#pragma once

/// \file
/// Escaping of text inside a double-quoted JSON (or TOML basic) string: the one
/// implementation behind every JSON and TOML writer (stats.json, trace JSONL headers, sweep
/// manifests, expanded configs). Header-only and dependency-free so that every library can
/// use it through moesim_includes.

#include <string>
#include <string_view>

namespace moesim {

/// How control characters are written; '"' and '\\' always get a backslash, every other
/// byte of 0x20 and above (UTF-8 included) is copied as is. The defaults are plain JSON.
/// The other choices keep the byte-exact output of writers that predate this header.
struct EscapeStyle {
  bool short_newline_tab = true;  ///< '\n', '\t' as \n, \t (otherwise \u000a, \u0009)
  bool short_cr = true;           ///< '\r' as \r (otherwise \u000d)
  bool upper_hex = false;         ///< \u00XX hex digits in upper case (\u001F, not \u001f)
  bool escape_del = false;        ///< 0x7f as \u007f too (TOML requires it, JSON does not)
};

/// Plain JSON: \n, \r, \t short, every other control character as \u00xx (lower-case hex).
inline constexpr EscapeStyle kJsonEscape{};

/// Appends `s` to `out`, escaped for the inside of a quoted string (no quotes added).
inline void append_escaped(std::string& out, std::string_view s,
                           const EscapeStyle& style = kJsonEscape) {
  const char* hex = style.upper_hex ? "0123456789ABCDEF" : "0123456789abcdef";
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (style.short_newline_tab && ch == '\n') {
      out += "\\n";
    } else if (style.short_newline_tab && ch == '\t') {
      out += "\\t";
    } else if (style.short_cr && ch == '\r') {
      out += "\\r";
    } else if (c < 0x20 || (style.escape_del && c == 0x7f)) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += ch;
    }
  }
}

/// `s` escaped for the inside of a quoted string, without the quotes.
inline std::string json_escape(std::string_view s, const EscapeStyle& style = kJsonEscape) {
  std::string out;
  append_escaped(out, s, style);
  return out;
}

/// `s` as a complete quoted string literal: '"', the escaped text, '"'.
inline std::string json_quote(std::string_view s, const EscapeStyle& style = kJsonEscape) {
  std::string out = "\"";
  append_escaped(out, s, style);
  return out + '"';
}

}  // namespace moesim
