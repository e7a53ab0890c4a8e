// The JSON-lines form: exact writer output, reader leniency (key order, blanks, layer order)
// and every reader error message; the JSON-lines parser itself.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/trace/trace_test_util.hpp"
#include "workloads/trace/jsonl.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim::test {
namespace {

class JsonlTrace : public TraceTest {
 protected:
  std::string jsonl(const std::string& rows, const std::string& header = kHeader) {
    const std::string p = path("t.jsonl");
    write_file(p, header + rows);
    return p;
  }
  void expect_error(const std::string& rows, const std::string& what,
                    const std::string& header = kHeader) {
    const std::string p = jsonl(rows, header);
    EXPECT_EQ(read_error(p), p + ":" + what);
  }
  /// A row of step 0, request 0, position 0 at `layer` with `experts` and `weights`.
  static std::string row(int layer, const std::string& experts = "[1,2]",
                         const std::string& weights = "[0.5,0.5]", int step = 0, int request = 0) {
    return "{\"step\":" + std::to_string(step) + ",\"request\":" + std::to_string(request) +
           ",\"position\":0,\"layer\":" + std::to_string(layer) + ",\"experts\":" + experts +
           ",\"weights\":" + weights + "}\n";
  }

  // Line 1; the first data row is line 2.
  static inline const std::string kHeader =
      "{\"moesim_trace\":1,\"model\":\"m\",\"layers\":2,\"experts\":8,\"top_k\":2,"
      "\"source\":\"test\",\"extra\":{}}\n";
};

TEST_F(JsonlTrace, WriterProducesTheDocumentedText) {
  TraceMeta meta;
  meta.model = "tiny";
  meta.layers = 2;
  meta.experts = 8;
  meta.top_k = 2;
  meta.source = "test";
  meta.extra = {{"note", "a \"b\"=c"}, {"generator", "hand"}};
  std::vector<TraceStep> steps;
  steps.push_back(make_step(
      3, {{0, 5}, {1, 9}},
      {{{{3, 0.75f}, {5, 0.25f}}, {{kNullExpert, 1.0f}}},
       {{}, {{kZeroExpert, 0.5f}, {kCopyExpert, 0.25f}, {kConstantExpert, 0.125f}, {7, 0.125f}}}}));
  const std::string p = path("out.jsonl");
  write_all(p, meta, steps);
  EXPECT_EQ(read_file(p),
            "{\"moesim_trace\":1,\"model\":\"tiny\",\"layers\":2,\"experts\":8,\"top_k\":2,"
            "\"source\":\"test\",\"extra\":{\"generator\":\"hand\",\"note\":\"a \\\"b\\\"=c\"}}\n"
            "{\"step\":3,\"request\":0,\"position\":5,\"layer\":0,\"experts\":[3,5],"
            "\"weights\":[0.75,0.25]}\n"
            "{\"step\":3,\"request\":1,\"position\":9,\"layer\":0,\"experts\":[\"null\"],"
            "\"weights\":[1]}\n"
            "{\"step\":3,\"request\":0,\"position\":5,\"layer\":1,\"experts\":[],\"weights\":[]}\n"
            "{\"step\":3,\"request\":1,\"position\":9,\"layer\":1,\"experts\":[\"zero\",\"copy\","
            "\"const\",7],\"weights\":[0.5,0.25,0.125,0.125]}\n");
  auto r = open_trace(p);
  expect_meta_equal(r->meta(), meta);
  const auto back = read_all(*r);
  ASSERT_EQ(back.size(), 1u);
  expect_steps_equal(back[0], steps[0]);
}

TEST_F(JsonlTrace, ReaderAcceptsAnyKeyOrderBlanksAndLayerOrder) {
  const std::string p = jsonl(
      "\n { \"weights\" : [ 1 ] , \"experts\" : [ 4 ] , \"layer\" : 1 , \"position\" : 0 ,"
      " \"request\" : 0 , \"step\" : 2 } \r\n" +
          row(0, "[6,7]", "[0.25,7.5e-1]", 2),
      "{\"top_k\":2,\"experts\":8,\"layers\":2,\"moesim_trace\":1}\n");
  auto r = open_trace(p);
  EXPECT_EQ(r->meta().model, "");
  const auto steps = read_all(*r);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].index, 2u);
  EXPECT_EQ(steps[0].experts, (std::vector<int32_t>{6, 7, 4}));
  EXPECT_EQ(steps[0].weights, (std::vector<float>{0.25f, 0.75f, 1.0f}));
}

TEST_F(JsonlTrace, HeaderErrors) {
  expect_error("",
               "1: not a moesim JSONL trace (the first line must be an object with "
               "\"moesim_trace\": 1)",
               "# moesim-trace 1\n");
  expect_error("", "1: unsupported version 2 (this build reads version 1)",
               "{\"moesim_trace\":2,\"layers\":1,\"experts\":1,\"top_k\":1}\n");
  expect_error("", "1: missing metadata 'experts'",
               "{\"moesim_trace\":1,\"layers\":1,\"top_k\":1}\n");
  expect_error("", "1: metadata 'layers': expected an unsigned integer, got \"two\"",
               "{\"moesim_trace\":1,\"layers\":\"two\",\"experts\":1,\"top_k\":1}\n");
  expect_error("", "1: metadata 'layers' must be at least 1",
               "{\"moesim_trace\":1,\"layers\":0,\"experts\":1,\"top_k\":1}\n");
  expect_error("", "1: metadata 'layers' = 4096 is too large (at most 1024, the most a model has)",
               "{\"moesim_trace\":1,\"layers\":4096,\"experts\":1,\"top_k\":1}\n");
  expect_error("",
               "1: unknown header key 'topk' (expected moesim_trace, model, layers, experts, "
               "top_k, tasks, source, extra)",
               "{\"moesim_trace\":1,\"layers\":1,\"experts\":1,\"topk\":1}\n");
  expect_error(
      "", "1: metadata 'extra.seed': expected a string, got 1",
      "{\"moesim_trace\":1,\"layers\":1,\"experts\":1,\"top_k\":1,\"extra\":{\"seed\":1}}\n");
  expect_error("", "1: bad format version \"1\" (expected \"moesim_trace\": 1)",
               "{\"moesim_trace\":\"1\",\"layers\":1,\"experts\":1,\"top_k\":1}\n");
  expect_error("", "1: metadata 'experts' must be at least 1",
               "{\"moesim_trace\":1,\"layers\":1,\"experts\":0,\"top_k\":1}\n");
  expect_error("", "1: metadata 'model': expected a string, got 3",
               "{\"moesim_trace\":1,\"layers\":1,\"experts\":1,\"top_k\":1,\"model\":3}\n");
  expect_error("", "1: metadata 'extra': expected an object, got [1]",
               "{\"moesim_trace\":1,\"layers\":1,\"experts\":1,\"top_k\":1,\"extra\":[1]}\n");
  expect_error("", "1: metadata 'extra.a' given twice",
               "{\"moesim_trace\":1,\"layers\":1,\"experts\":1,\"top_k\":1,"
               "\"extra\":{\"a\":\"1\",\"a\":\"2\"}}\n");
  expect_error("", "1: metadata 'model' contains a line break",
               "{\"moesim_trace\":1,\"layers\":1,\"experts\":1,\"top_k\":1,\"model\":\"a\\nb\"}\n");
}

TEST_F(JsonlTrace, RowErrors) {
  expect_error("{\"step\":0,", "2: bad JSON at column 11: expected a key in double quotes");
  expect_error(row(0) + "{\"step\":0 \"request\":0}\n",
               "3: bad JSON at column 11: expected ',' or '}'");
  expect_error("{\"step\":0,\"request\":0,\"position\":0,\"layer\":0,\"experts\":[]}\n",
               "2: missing key 'weights'");
  expect_error("{\"step\":0,\"step\":1}\n", "2: bad JSON at column 11: duplicate key 'step'");
  expect_error("{\"step\":0,\"token\":1}\n",
               "2: unknown key 'token' (expected step, request, position, layer, experts, "
               "weights)");
  expect_error(row(0, "[1]", "[1]", 0, -1),
               "2: key 'request': expected an unsigned integer, got -1");
  expect_error(row(2), "2: layer 2 out of range (layers = 2)");
  expect_error(row(0, "[9]", "[1]"), "2: expert 9 out of range (experts = 8)");
  expect_error(row(0, "[\"nul\"]", "[1]"),
               "2: expert \"nul\" is not an expert id (expected 0..7 or \"null\", \"zero\", "
               "\"copy\", \"const\")");
  expect_error(row(0, "[1,2]", "[1]"), "2: key 'weights': expected 2 values, got 1");
  expect_error(row(0, "[1]", "[\"a\"]"), "2: weight \"a\" is not a number");
  expect_error(row(0, "[1]", "[-0.5]"), "2: weight -0.5 is negative");
  expect_error(row(0, "[1]", "[NaN]"), "2: weight NaN is not finite");
  expect_error(row(0, "[1]", "[1e39]"), "2: weight 1e39 is out of range for a 32-bit float");
  expect_error(row(0, "5", "[1]"), "2: key 'experts': expected an array, got 5");
  expect_error(row(0, "[1]", "{}"), "2: key 'weights': expected an array, got {}");
  expect_error(row(0) + row(0),
               "3: step 0: duplicate row for token (request 0, position 0) at "
               "layer 0 (first at line 2)");
  expect_error(row(0) + row(0, "[1]", "[1]", 1),
               "3: step 0: token (request 0, position 0) has no row for layer 1");
  expect_error(row(0), "2: step 0: token (request 0, position 0) has no row for layer 1");
  expect_error(row(0, "[1]", "[1]", 1) + row(1, "[1]", "[1]", 1) + row(0),
               "4: step 0 after step 1 (steps must ascend and the rows of a step be contiguous)");
}

TEST_F(JsonlTrace, RowsOffTheFastPathReadTheSameAndFailTheSame) {
  // Rows are parsed by simdjson first and, when anything is unusual, by jsonl::Object: an
  // escaped key, exponents, -0, special words and blanks read as the plain rows do...
  const std::string odd =
      "{\"st\\u0065p\":0,\"request\":0,\"position\":0,\"layer\":0,\"experts\":[\"null\",3],"
      "\"weights\":[1E-1,-0]}\n"
      "{\"step\":0,\"request\":0,\"position\":0,\"layer\":1,\"experts\":[ 5 ],"
      "\"weights\":[ 0.25e+1 ]}  \n";
  const std::string plain =
      "{\"step\":0,\"request\":0,\"position\":0,\"layer\":0,\"experts\":[\"null\",3],"
      "\"weights\":[0.1,0]}\n"
      "{\"step\":0,\"request\":0,\"position\":0,\"layer\":1,\"experts\":[5],"
      "\"weights\":[2.5]}\n";
  const auto a = read_all(*open_trace(jsonl(odd)));
  const auto b = read_all(*open_trace(jsonl(plain)));
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].experts, b[0].experts);
  EXPECT_EQ(a[0].weights, b[0].weights);
  // ...and what simdjson alone would accept, or report otherwise, fails with our message.
  const std::string bad[] = {
      row(0, "[1]", "[01]"),                         // leading zero
      row(0).substr(0, row(0).size() - 1) + " x\n",  // text after the object
      row(0, "[[1]]", "[1]"),                        // nested array
      row(0, "[1]", "[1.]"),                         // no digit after the point
      "{\"step\":1.0,\"request\":0,\"position\":0,\"layer\":0,\"experts\":[1],\"weights\":[1]}\n",
  };
  for (const std::string& r : bad) {
    jsonl::Object o;
    std::string what = o.parse(r.substr(0, r.size() - 1));
    if (what.empty()) what = "key 'step': expected an unsigned integer, got 1.0";
    const std::string p = jsonl(r);
    EXPECT_EQ(read_error(p), p + ":2: " + what) << r;
  }
}

TEST(Jsonl, ParsesScalarsArraysObjectsAndEscapes) {
  jsonl::Object o;
  ASSERT_EQ(o.parse("{\"a\": -1.5e3, \"b\": [1, \"x\", true, null], \"c\": {\"k\": \"\\u00e9\\n\"},"
                    " \"d\": \"q\\\"\\\\\\/\\ud83d\\ude00\", \"e\": false, \"f\": Infinity}"),
            "");
  ASSERT_EQ(o.members().size(), 6u);
  EXPECT_EQ(o.find("a")->raw, "-1.5e3");
  const jsonl::Value& b = *o.find("b");
  ASSERT_EQ(b.count, 4u);
  EXPECT_EQ(o.item(b, 1).str, "x");
  EXPECT_TRUE(o.item(b, 2).boolean);
  EXPECT_EQ(o.item(b, 3).kind, jsonl::Kind::kNull);
  EXPECT_EQ(o.member(*o.find("c"), 0).value.str, "\xc3\xa9\n");
  EXPECT_EQ(o.find("d")->str, "q\"\\/\xf0\x9f\x98\x80");
  EXPECT_EQ(o.find("f")->raw, "Infinity");
  EXPECT_EQ(o.find("zz"), nullptr);
  EXPECT_TRUE(jsonl::is_unsigned(o.item(b, 0)));
  EXPECT_FALSE(jsonl::is_unsigned(*o.find("a")));
  std::string out;
  jsonl::append_string(out, "a\"b\\c\n\x01");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(Jsonl, RejectsMalformedLinesWithTheColumn) {
  jsonl::Object o;
  EXPECT_EQ(o.parse("[1]"), "bad JSON at column 1: expected '{' (each line is one object)");
  EXPECT_EQ(o.parse("{\"a\":1} x"), "bad JSON at column 9: unexpected text after the object");
  EXPECT_EQ(o.parse("{\"a\":01}"), "bad JSON at column 6: invalid number (leading zero)");
  EXPECT_EQ(o.parse("{\"a\":1.}"),
            "bad JSON at column 8: invalid number (digits expected after '.')");
  EXPECT_EQ(o.parse("{\"a\":[[1]]}"),
            "bad JSON at column 7: nested arrays and objects are not supported here");
  EXPECT_EQ(o.parse("{\"a\":\"x}"), "bad JSON at column 9: unterminated string");
  EXPECT_EQ(o.parse("{\"a\":\"\\q\"}"), "bad JSON at column 8: bad escape '\\q'");
  EXPECT_EQ(o.parse("{\"a\":\"\\ud800\"}"),
            "bad JSON at column 13: unpaired surrogate in \\u escape");
  EXPECT_EQ(o.parse("{\"a\" 1}"), "bad JSON at column 6: expected ':' after a key");
  EXPECT_EQ(o.parse("{\"a\":}"), "bad JSON at column 6: expected a value");
  EXPECT_EQ(o.parse("{\"a\":[1 2]}"), "bad JSON at column 9: expected ',' or ']'");
  EXPECT_EQ(o.parse(""), "bad JSON at column 1: expected '{' (each line is one object)");
  EXPECT_EQ(o.parse("{\"a\":1e}"),
            "bad JSON at column 8: invalid number (digits expected in the exponent)");
  EXPECT_EQ(o.parse("{\"a\":\"x\ty\"}"), "bad JSON at column 8: control character in a string");
  EXPECT_EQ(o.parse("{\"a\":\"\\u12\"}"), "bad JSON at column 9: bad \\u escape");
  EXPECT_EQ(o.parse("{\"a\":\"\\u12"), "bad JSON at column 9: incomplete \\u escape");
  EXPECT_EQ(o.parse("{\"a\":tru}"), "bad JSON at column 6: expected a value");
}

}  // namespace
}  // namespace moesim::test
