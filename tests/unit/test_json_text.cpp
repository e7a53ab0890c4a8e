// Unit tests of the shared JSON/TOML string escaping (sim/core/json_text.hpp).

#include "sim/core/json_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace moesim {
namespace {

TEST(JsonText, PlainTextIsCopiedAsIs) {
  EXPECT_EQ(json_escape(""), "");
  EXPECT_EQ(json_escape("ffn_busy cycles / s"), "ffn_busy cycles / s");
  EXPECT_EQ(json_escape("\xc2\xb5s"), "\xc2\xb5s");  // UTF-8 bytes stay as they are
  EXPECT_EQ(json_escape("del\x7f"), "del\x7f");
}

TEST(JsonText, QuoteAndBackslashAreEscaped) {
  EXPECT_EQ(json_escape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(json_quote("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(json_quote(""), "\"\"");
}

TEST(JsonText, JsonControlCharacters) {
  EXPECT_EQ(json_escape("n\nr\rt\t"), "n\\nr\\rt\\t");
  EXPECT_EQ(json_escape(std::string("\x01\x1f\x00", 3)), "\\u0001\\u001f\\u0000");
  EXPECT_EQ(json_escape("\x08\x0c"), "\\u0008\\u000c");
}

TEST(JsonText, AppendEscapedAppends) {
  std::string out = "x=";
  append_escaped(out, "\"\n");
  EXPECT_EQ(out, "x=\\\"\\n");
}

TEST(JsonText, StylesWithoutShortEscapes) {
  const EscapeStyle no_cr{true, false};
  EXPECT_EQ(json_escape("\n\r\t", no_cr), "\\n\\u000d\\t");
  const EscapeStyle none{false, false};
  EXPECT_EQ(json_quote("a\"\n\r\t\\", none), "\"a\\\"\\u000a\\u000d\\u0009\\\\\"");
}

TEST(JsonText, TomlStyleUsesUpperHexAndEscapesDel) {
  const EscapeStyle toml{true, true, true, true};
  EXPECT_EQ(json_quote("\x1f\x7f\r\n", toml), "\"\\u001F\\u007F\\r\\n\"");
  const EscapeStyle toml_no_cr{true, false, true, true};
  EXPECT_EQ(json_escape("\r\x1b", toml_no_cr), "\\u000D\\u001B");
}

}  // namespace
}  // namespace moesim
