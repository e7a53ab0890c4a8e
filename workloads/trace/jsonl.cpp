// A recursive-descent parser for one JSON-lines object (see jsonl.hpp). Nesting is limited
// to what trace files use: arrays and objects of scalars inside the top-level object.

#include "workloads/trace/jsonl.hpp"

#include <cstring>

#include <fmt/format.h>

#include "sim/core/json_text.hpp"

namespace moesim::jsonl {

namespace {

/// The next reusable slot of `v` past `count` (grown when needed), with its value reset.
template <typename T>
T& slot(std::vector<T>& v, size_t& count) {
  if (count == v.size()) v.emplace_back();
  return v[count++];
}

void reset(Value& v) {
  v.kind = Kind::kNull;
  v.raw = {};
  v.boolean = false;
  v.first = 0;
  v.count = 0;
}

}  // namespace

/// The recursive-descent parser of one line into an Object's reused storage.
class Parser {
 public:
  Parser(std::string_view text, Object& o) : m_s(text), m_o(o) {}

  std::string run() {
    skip_blanks();
    if (at_end() || m_s[m_pos] != '{') return error("expected '{' (each line is one object)");
    if (!object(true)) return m_error;
    skip_blanks();
    if (!at_end()) return error("unexpected text after the object");
    return {};
  }

 private:
  bool at_end() const { return m_pos >= m_s.size(); }
  void skip_blanks() {
    while (!at_end() && (m_s[m_pos] == ' ' || m_s[m_pos] == '\t' || m_s[m_pos] == '\r')) ++m_pos;
  }
  std::string error(const std::string& what) const {
    return fmt::format("bad JSON at column {}: {}", m_pos + 1, what);
  }
  bool fail(const std::string& what) {
    m_error = error(what);
    return false;
  }

  /// Parses an object at m_pos: the top level into m_members, a nested one into m_nested.
  /// Returns false on error; a nested object's members are consecutive in m_nested.
  bool object(bool top) {
    ++m_pos;  // '{'
    skip_blanks();
    if (!at_end() && m_s[m_pos] == '}') {
      ++m_pos;
      return true;
    }
    for (;;) {
      skip_blanks();
      if (at_end() || m_s[m_pos] != '"') return fail("expected a key in double quotes");
      const size_t key_at = m_pos;
      Member& m =
          top ? slot(m_o.m_members, m_o.m_member_count) : slot(m_o.m_nested, m_o.m_nested_count);
      if (!string(m.key)) return false;
      if (top) {
        for (size_t i = 0; i + 1 < m_o.m_member_count; ++i) {
          if (m_o.m_members[i].key == m.key) {
            m_pos = key_at;
            return fail(fmt::format("duplicate key '{}'", m.key));
          }
        }
      }
      skip_blanks();
      if (at_end() || m_s[m_pos] != ':') return fail("expected ':' after a key");
      ++m_pos;
      skip_blanks();
      reset(m.value);
      if (!value(m.value, top ? 0 : 1)) return false;
      skip_blanks();
      if (at_end()) return fail("expected ',' or '}'");
      if (m_s[m_pos] == '}') {
        ++m_pos;
        return true;
      }
      if (m_s[m_pos] != ',') return fail("expected ',' or '}'");
      ++m_pos;
    }
  }

  /// depth 0: a top-level value (may be an array or object); 1: inside one (scalars only).
  bool value(Value& v, int depth) {
    if (at_end()) return fail("expected a value");
    const size_t start = m_pos;
    const char c = m_s[m_pos];
    bool ok = true;
    if (c == '"') {
      v.kind = Kind::kString;
      ok = string(v.str);
    } else if (c == '[' || c == '{') {
      if (depth > 0) return fail("nested arrays and objects are not supported here");
      ok = c == '[' ? array(v) : nested_object(v);
    } else if (c == 't' && word("true")) {
      v.kind = Kind::kBool;
      v.boolean = true;
    } else if (c == 'f' && word("false")) {
      v.kind = Kind::kBool;
    } else if (c == 'n' && word("null")) {
      v.kind = Kind::kNull;
    } else {
      v.kind = Kind::kNumber;
      ok = number();
    }
    if (ok) v.raw = m_s.substr(start, m_pos - start);
    return ok;
  }

  bool word(const char* w) {
    const size_t n = std::strlen(w);
    if (m_s.compare(m_pos, n, w) != 0) return false;
    m_pos += n;
    return true;
  }

  bool number() {
    const char c = m_s[m_pos];
    if ((c == 'N' && word("NaN")) || (c == 'I' && word("Infinity")) ||
        (c == '-' && m_pos + 1 < m_s.size() && m_s[m_pos + 1] == 'I' && word("-Infinity"))) {
      return true;
    }
    const size_t start = m_pos;
    if (m_s[m_pos] == '-') ++m_pos;
    auto digits = [&] {
      const size_t from = m_pos;
      while (!at_end() && m_s[m_pos] >= '0' && m_s[m_pos] <= '9') ++m_pos;
      return m_pos - from;
    };
    const size_t int_at = m_pos;
    const size_t int_digits = digits();
    if (int_digits == 0) {
      m_pos = start;
      return fail("expected a value");
    }
    if (int_digits > 1 && m_s[int_at] == '0') {
      m_pos = int_at;
      return fail("invalid number (leading zero)");
    }
    if (!at_end() && m_s[m_pos] == '.') {
      ++m_pos;
      if (digits() == 0) return fail("invalid number (digits expected after '.')");
    }
    if (!at_end() && (m_s[m_pos] == 'e' || m_s[m_pos] == 'E')) {
      ++m_pos;
      if (!at_end() && (m_s[m_pos] == '+' || m_s[m_pos] == '-')) ++m_pos;
      if (digits() == 0) return fail("invalid number (digits expected in the exponent)");
    }
    return true;
  }

  bool array(Value& v) {
    ++m_pos;  // '['
    v.kind = Kind::kArray;
    v.first = static_cast<uint32_t>(m_o.m_item_count);
    v.count = 0;
    skip_blanks();
    if (!at_end() && m_s[m_pos] == ']') {
      ++m_pos;
      return true;
    }
    for (;;) {
      skip_blanks();
      Value& item = slot(m_o.m_items, m_o.m_item_count);
      reset(item);
      if (!value(item, 1)) return false;
      ++v.count;
      skip_blanks();
      if (at_end()) return fail("expected ',' or ']'");
      if (m_s[m_pos] == ']') {
        ++m_pos;
        return true;
      }
      if (m_s[m_pos] != ',') return fail("expected ',' or ']'");
      ++m_pos;
    }
  }

  bool nested_object(Value& v) {
    v.kind = Kind::kObject;
    v.first = static_cast<uint32_t>(m_o.m_nested_count);
    if (!object(false)) return false;
    v.count = static_cast<uint32_t>(m_o.m_nested_count - v.first);
    return true;
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool hex4(uint32_t& cp) {
    if (m_pos + 4 > m_s.size()) return fail("incomplete \\u escape");
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex(m_s[m_pos + i]);
      if (h < 0) return fail("bad \\u escape");
      cp = cp * 16 + static_cast<uint32_t>(h);
    }
    m_pos += 4;
    return true;
  }

  static void utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool string(std::string& out) {
    ++m_pos;  // '"'
    out.clear();
    for (;;) {
      if (at_end()) return fail("unterminated string");
      const char c = m_s[m_pos];
      if (c == '"') {
        ++m_pos;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
      if (c != '\\') {
        // Copy the run of plain characters at once.
        size_t end = m_pos + 1;
        while (end < m_s.size() && m_s[end] != '"' && m_s[end] != '\\' &&
               static_cast<unsigned char>(m_s[end]) >= 0x20) {
          ++end;
        }
        out.append(m_s.data() + m_pos, end - m_pos);
        m_pos = end;
        continue;
      }
      ++m_pos;
      if (at_end()) return fail("unterminated string");
      const char e = m_s[m_pos++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo = 0;
            if (m_s.compare(m_pos, 2, "\\u") != 0) return fail("unpaired surrogate in \\u escape");
            m_pos += 2;
            if (!hex4(lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return fail("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail("unpaired surrogate in \\u escape");
          }
          utf8(out, cp);
          break;
        }
        default:
          --m_pos;
          return fail(fmt::format("bad escape '\\{}'", e));
      }
    }
  }

  std::string_view m_s;
  size_t m_pos = 0;
  Object& m_o;
  std::string m_error;
};

std::string Object::parse(std::string_view line) {
  m_member_count = 0;
  m_item_count = 0;
  m_nested_count = 0;
  return Parser(line, *this).run();
}

const Value* Object::find(std::string_view key) const {
  for (const Member& m : members()) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

bool is_unsigned(const Value& v) {
  return v.kind == Kind::kNumber && !v.raw.empty() &&
         v.raw.find_first_not_of("0123456789") == std::string_view::npos;
}

void append_string(std::string& out, std::string_view s) {
  out += '"';
  append_escaped(out, s);
  out += '"';
}

std::string shown(const Value& v) {
  if (v.raw.size() <= 40) return std::string(v.raw);
  return std::string(v.raw.substr(0, 37)) + "...";
}

}  // namespace moesim::jsonl
