// The text form: exact writer output, reader leniency (layer order, blanks, CRLF, comments)
// and every reader error message.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/trace/trace_test_util.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim::test {
namespace {

class CsvTrace : public TraceTest {
 protected:
  /// Writes `header` + `rows` to t.csv; returns the path.
  std::string csv(const std::string& rows, const std::string& header = kHeader) {
    const std::string p = path("t.csv");
    write_file(p, header + rows);
    return p;
  }
  /// Expects reading t.csv to fail with `<path>:<what>`.
  void expect_error(const std::string& rows, const std::string& what,
                    const std::string& header = kHeader) {
    const std::string p = csv(rows, header);
    EXPECT_EQ(read_error(p), p + ":" + what);
  }

  // Lines 1-7; the first data row is line 8.
  static inline const std::string kHeader =
      "# moesim-trace 1\n# model=m\n# layers=2\n# experts=8\n# top_k=2\n# source=test\n"
      "step,request,position,layer,experts,weights\n";
};

TEST_F(CsvTrace, WriterProducesTheDocumentedText) {
  TraceMeta meta;
  meta.model = "tiny";
  meta.layers = 2;
  meta.experts = 8;
  meta.top_k = 2;
  meta.source = "test";
  meta.extra = {{"note", "a b=c"}, {"generator", "hand"}};
  std::vector<TraceStep> steps;
  steps.push_back(make_step(
      3, {{0, 5}, {1, 9}},
      {{{{3, 0.75f}, {5, 0.25f}}, {{kNullExpert, 1.0f}}},
       {{}, {{kZeroExpert, 0.5f}, {kCopyExpert, 0.25f}, {kConstantExpert, 0.125f}, {7, 0.125f}}}}));
  steps.push_back(make_step(4, {{0, 6}}, {{{{1, 0.1f}}}, {{{2, 1e-05f}, {0, 0.33333334f}}}}));
  const std::string p = path("out.csv");
  write_all(p, meta, steps);
  EXPECT_EQ(read_file(p),
            "# moesim-trace 1\n"
            "# model=tiny\n"
            "# layers=2\n"
            "# experts=8\n"
            "# top_k=2\n"
            "# source=test\n"
            "# generator=hand\n"
            "# note=a b=c\n"
            "step,request,position,layer,experts,weights\n"
            "3,0,5,0,3;5,0.75;0.25\n"
            "3,1,9,0,null,1\n"
            "3,0,5,1,,\n"
            "3,1,9,1,zero;copy;const;7,0.5;0.25;0.125;0.125\n"
            "4,0,6,0,1,0.1\n"
            "4,0,6,1,2;0,1e-05;0.33333334\n");

  auto r = open_trace(p);
  expect_meta_equal(r->meta(), meta);
  const auto back = read_all(*r);
  ASSERT_EQ(back.size(), 2u);
  expect_steps_equal(back[0], steps[0]);
  expect_steps_equal(back[1], steps[1]);
}

TEST_F(CsvTrace, ReaderAcceptsAnyLayerOrderBlanksCommentsAndCrlf) {
  const std::string p = path("hand.csv");
  write_file(p,
             "# moesim-trace 1\n"
             "# a comment without an equals sign\n"
             "# layers = 2\n"
             "#experts=4\n"
             "# top_k=1\n"
             "# model =  hand made \t\n"
             "\n"
             "step,request,position,layer,experts,weights\n"
             "0,7,1,1,2,1\r\n"
             "0,3,0,0,0;1,0.5;0.5\n"
             "0,7,1,0,null,1\n"
             "0, 3 , 0 ,1, copy ; 3 , 0.25 ; 0.75\n"
             "\n"
             "5,1,1,0,,\n"
             "5,1,1,1,3,2.5");  // no final line break
  auto r = open_trace(p);
  EXPECT_EQ(r->meta().model, "hand made");
  EXPECT_EQ(r->meta().layers, 2u);
  EXPECT_EQ(r->meta().experts, 4u);
  EXPECT_EQ(r->meta().top_k, 1u);
  EXPECT_EQ(r->meta().source, "");
  EXPECT_TRUE(r->meta().extra.empty());
  TraceStep s;
  ASSERT_TRUE(r->next(s));
  // Tokens in order of first appearance; routes layer-major whatever the row order.
  expect_steps_equal(s, make_step(0, {{7, 1}, {3, 0}},
                                  {{{{kNullExpert, 1.0f}}, {{0, 0.5f}, {1, 0.5f}}},
                                   {{{2, 1.0f}}, {{kCopyExpert, 0.25f}, {3, 0.75f}}}}));
  ASSERT_TRUE(r->next(s));
  expect_steps_equal(s, make_step(5, {{1, 1}}, {{Routes{}}, {{{3, 2.5f}}}}));
  EXPECT_FALSE(r->next(s));
  EXPECT_FALSE(r->next(s));
}

TEST_F(CsvTrace, HeaderOnlyTraceHasNoSteps) {
  auto r = open_trace(csv(""));
  TraceStep s;
  EXPECT_FALSE(r->next(s));
  EXPECT_EQ(r->meta().source, "test");
}

TEST_F(CsvTrace, StreamsStepsBeforeALaterError) {
  // The reader hands out step 0 before it has seen the broken row of step 1.
  const std::string p = csv("0,0,0,0,1,1\n0,0,0,1,2,1\n1,0,1,0,1,1\n1,0,1,1,9,1\n");
  auto r = open_trace(p);
  TraceStep s;
  ASSERT_TRUE(r->next(s));
  EXPECT_EQ(s.index, 0u);
  EXPECT_EQ(input_error([&] { r->next(s); }), p + ":11: expert 9 out of range (experts = 8)");
}

TEST_F(CsvTrace, EveryTruncationReadsOrFailsWithALocatedError) {
  const std::string full = kHeader + "0,0,0,0,1;2,0.5;0.5\n0,0,0,1,3,1\n1,0,1,0,,\n1,0,1,1,4,1\n";
  const std::string p = path("t.csv");
  size_t ok = 0, failed = 0;
  for (size_t n = 0; n <= full.size(); ++n) {
    write_file(p, full.substr(0, n));
    try {
      auto r = open_trace(p);
      TraceStep s;
      while (r->next(s)) {
      }
      ++ok;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(p + ":", 0), 0u) << e.what();
      ++failed;
    }
  }
  EXPECT_EQ(ok + failed, full.size() + 1);
  EXPECT_GT(ok, 0u);
  EXPECT_GT(failed, 0u);
}

TEST_F(CsvTrace, ErrorExpertOutOfRange) {
  expect_error("0,0,0,0,9;1,0.5;0.5\n", "8: expert 9 out of range (experts = 8)");
  expect_error("0,0,0,0,-1,1\n", "8: expert -1 out of range (experts = 8)");
}

TEST_F(CsvTrace, ErrorUnknownExpertWord) {
  expect_error("0,0,0,0,nul,1\n",
               "8: expert 'nul' is not an expert id (expected 0..7 or null, zero, copy, const)");
}

TEST_F(CsvTrace, ErrorWeightCount) {
  expect_error("0,0,0,0,1;2,0.5\n", "8: column 'weights': expected 2 values, got 1");
  expect_error("0,0,0,0,,1\n", "8: column 'weights': expected 0 values, got 1");
}

TEST_F(CsvTrace, ErrorWeightNotANumber) {
  expect_error("0,0,0,0,1,abc\n", "8: weight 'abc' is not a number");
  expect_error("0,0,0,0,1;2,0.5;\n", "8: weight '' is not a number");
}

TEST_F(CsvTrace, ErrorNegativeWeight) {
  expect_error("0,0,0,0,1,-0.5\n", "8: weight '-0.5' is negative");
}

TEST_F(CsvTrace, ErrorNanOrInfiniteWeight) {
  expect_error("0,0,0,0,1,nan\n", "8: weight 'nan' is not finite");
  expect_error("0,0,0,0,1,inf\n", "8: weight 'inf' is not finite");
  expect_error("0,0,0,0,1,1e39\n", "8: weight '1e39' is out of range for a 32-bit float");
}

TEST_F(CsvTrace, ErrorMissingMetadata) {
  expect_error("", "1: missing metadata 'layers'",
               "# moesim-trace 1\n# experts=8\n# top_k=2\n"
               "step,request,position,layer,experts,weights\n");
  expect_error("", "1: missing metadata 'top_k'",
               "# moesim-trace 1\n# layers=1\n# experts=8\n"
               "step,request,position,layer,experts,weights\n");
}

TEST_F(CsvTrace, ErrorBadMetadataValue) {
  expect_error("", "3: metadata 'layers': expected an unsigned integer, got 'two'",
               "# moesim-trace 1\n# experts=8\n# layers=two\n");
  expect_error("", "2: metadata 'layers' must be at least 1", "# moesim-trace 1\n# layers=0\n");
  // Found by fuzz_trace_csv: 255,555,555 layers made the reader allocate 20 GB per step.
  expect_error("", "2: metadata 'layers' = 1025 is too large (at most 1024, the most a model has)",
               "# moesim-trace 1\n# layers=1025\n");
  expect_error("", "3: metadata 'top_k' given twice (first at line 2)",
               "# moesim-trace 1\n# top_k=1\n# top_k=2\n");
}

TEST_F(CsvTrace, ErrorNotATraceOrWrongVersion) {
  expect_error("", "1: not a moesim trace (the first line must be '# moesim-trace 1')",
               "step,request,position,layer,experts,weights\n");
  expect_error("", "1: unsupported version 2 (this build reads version 1)",
               "# moesim-trace 2\n# layers=1\n");
  expect_error("", "1: not a moesim trace (the first line must be '# moesim-trace 1')", "");
}

TEST_F(CsvTrace, ErrorColumnHeader) {
  expect_error("",
               "4: expected the column header 'step,request,position,layer,experts,weights', "
               "got 'step,request,layer,experts,weights'",
               "# moesim-trace 1\n# layers=1\n# experts=8\nstep,request,layer,experts,weights\n");
  expect_error("", "4: missing the column header 'step,request,position,layer,experts,weights'",
               "# moesim-trace 1\n# layers=1\n# experts=8\n# top_k=2\n");
}

TEST_F(CsvTrace, ErrorTokenMissingALayer) {
  // Detected where the step ends: at the first row of the next step...
  expect_error("3,4,17,0,1,1\n3,5,17,0,1,1\n3,5,17,1,1,1\n4,4,18,0,1,1\n",
               "11: step 3: token (request 4, position 17) has no row for layer 1");
  // ...or at the last line of the file.
  expect_error("3,4,17,1,1,1\n3,5,17,0,1,1\n3,5,17,1,1,1\n",
               "10: step 3: token (request 4, position 17) has no row for layer 0");
}

TEST_F(CsvTrace, ErrorStepsNotAscending) {
  expect_error("1,0,0,0,1,1\n1,0,0,1,1,1\n0,0,0,0,1,1\n0,0,0,1,1,1\n",
               "10: step 0 after step 1 (steps must ascend and the rows of a step be "
               "contiguous)");
  // A step split by another step is reported the same way.
  expect_error("0,0,0,0,1,1\n1,0,1,0,1,1\n1,0,1,1,1,1\n0,0,0,1,1,1\n",
               "9: step 0: token (request 0, position 0) has no row for layer 1");
}

TEST_F(CsvTrace, ErrorColumnCount) {
  expect_error("0,0,0,0,1\n", "8: expected 6 columns, got 5");
  expect_error("0,0,0,0,1,1,1\n", "8: expected 6 columns, got 7");
}

TEST_F(CsvTrace, ErrorDuplicateRow) {
  expect_error("0,0,0,0,1,1\n0,0,0,1,1,1\n0,0,0,0,2,1\n",
               "10: step 0: duplicate row for token (request 0, position 0) at layer 0 (first "
               "at line 8)");
}

TEST_F(CsvTrace, ErrorBadIntegerColumns) {
  expect_error("x,0,0,0,1,1\n", "8: column 'step': expected an unsigned integer, got 'x'");
  expect_error("0,-1,0,0,1,1\n", "8: column 'request': expected an unsigned integer, got '-1'");
  expect_error("0,0,,0,1,1\n", "8: column 'position': expected an unsigned integer, got ''");
  expect_error("0,0,0,1.0,1,1\n", "8: column 'layer': expected an unsigned integer, got '1.0'");
}

TEST_F(CsvTrace, ErrorLayerOutOfRange) {
  expect_error("0,0,0,2,1,1\n", "8: layer 2 out of range (layers = 2)");
}

TEST_F(CsvTrace, ErrorMissingFile) {
  const std::string p = path("absent.csv");
  EXPECT_EQ(read_error(p), p + ": cannot open trace (No such file or directory)");
  const std::string dir = m_dir.string();
  EXPECT_EQ(read_error(dir), dir + ": cannot open trace (Is a directory)");
}

}  // namespace
}  // namespace moesim::test
