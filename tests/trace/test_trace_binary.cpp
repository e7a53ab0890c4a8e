// The binary form: byte layout, checksums and every error, writers' temp-file behaviour,
// wide encodings and format detection.

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/trace/trace_test_util.hpp"
#include "workloads/trace/trace.hpp"
#include "workloads/trace/trace_io.hpp"

namespace moesim::test {
namespace {

namespace fs = std::filesystem;

// Independent little-endian encoders for the layout test.
void le32(std::string& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void le64(std::string& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void le16(std::string& b, uint16_t v) {
  b.push_back(static_cast<char>(v & 0xFF));
  b.push_back(static_cast<char>(v >> 8));
}
void f32(std::string& b, float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  le32(b, u);
}
void str(std::string& b, const std::string& s) {
  le32(b, static_cast<uint32_t>(s.size()));
  b += s;
}
uint32_t rd32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(static_cast<unsigned char>(b[at + i])) << (8 * i);
  return v;
}
uint32_t crc(const std::string& b, size_t from, size_t to) {
  return trace_io::crc32(0, b.data() + from, to - from);
}

/// Offsets of the records (tag) in a binary trace, the end record last.
std::vector<size_t> record_offsets(const std::string& b) {
  std::vector<size_t> out;
  size_t at = 16 + rd32(b, 12) + 4;
  while (at + 8 <= b.size()) {
    out.push_back(at);
    at += 8 + rd32(b, at + 4) + 4;
  }
  return out;
}

/// Rewrites the CRC of the record at `at` (after a deliberate edit of its contents).
void fix_crc(std::string& b, size_t at) {
  const uint32_t size = rd32(b, at + 4);
  std::string c;
  le32(c, crc(b, at, at + 8 + size));
  b.replace(at + 8 + size, 4, c);
}

TraceMeta small_meta() {
  TraceMeta m;
  m.model = "m";
  m.layers = 2;
  m.experts = 8;
  m.top_k = 2;
  m.source = "test";
  m.extra["seed"] = "1";
  return m;
}

std::vector<TraceStep> small_steps() {
  std::vector<TraceStep> s;
  for (uint64_t i = 10; i < 13; ++i) {
    s.push_back(make_step(
        i, {{0, uint32_t(i)}, {1, uint32_t(i)}},
        {{{{1, 0.75f}, {2, 0.25f}}, {{3, 1.0f}}}, {{{kZeroExpert, 0.5f}, {7, 0.5f}}, {}}}));
  }
  return s;
}

class BinaryTrace : public TraceTest {
 protected:
  /// Writes the small trace and returns its bytes.
  std::string small_file() {
    const std::string p = path("ok.moetrace");
    write_all(p, small_meta(), small_steps());
    return read_file(p);
  }
  /// Writes `bytes` to t.moetrace and expects reading it to fail with `<path>: <what>`.
  void expect_error(const std::string& bytes, const std::string& what) {
    const std::string p = path("t.moetrace");
    write_file(p, bytes);
    EXPECT_EQ(read_error(p), p + ": " + what);
  }
};

TEST(TraceCrc, MatchesTheStandardCheckValue) {
  EXPECT_EQ(trace_io::crc32(0, "123456789", 9), 0xCBF43926u);
  // Chunked updates equal one pass.
  const std::string s = "The quick brown fox jumps over the lazy dog";
  EXPECT_EQ(trace_io::crc32(trace_io::crc32(0, s.data(), 5), s.data() + 5, s.size() - 5),
            trace_io::crc32(0, s.data(), s.size()));
  EXPECT_EQ(trace_io::crc32(0, s.data(), s.size()), 0x414FA339u);
}

TEST_F(BinaryTrace, ByteLayoutMatchesFormatMd) {
  TraceMeta m;
  m.model = "m";
  m.layers = 1;
  m.experts = 4;
  m.top_k = 1;
  m.source = "s";
  m.extra["k"] = "v";
  const std::string p = path("tiny.moetrace");
  write_all(p, m, {make_step(7, {{1, 2}}, {{{{3, 0.5f}, {kNullExpert, 0.5f}}}})});

  std::string want = "MOETRACE";
  le32(want, 1);
  std::string block;
  str(block, "m");
  le32(block, 1);
  le32(block, 4);
  le32(block, 1);
  str(block, "s");
  le32(block, 1);
  str(block, "k");
  str(block, "v");
  le32(want, static_cast<uint32_t>(block.size()));
  want += block;
  le32(want, crc(want, 8, want.size()));
  const size_t rec = want.size();
  want += "STEP";
  le32(want, 24 + 8 + 1 + 2 * 2 + 2 * 4);
  le64(want, 7);
  le32(want, 1);      // tokens
  le32(want, 1);      // layers
  le32(want, 0);      // flags: u8 counts, i16 experts
  le32(want, 2);      // assignments
  le32(want, 1);      // request
  le32(want, 2);      // position
  want.push_back(2);  // k
  le16(want, 3);
  le16(want, static_cast<uint16_t>(int16_t(-1)));
  f32(want, 0.5f);
  f32(want, 0.5f);
  le32(want, crc(want, rec, want.size()));
  const size_t end = want.size();
  want += "END ";
  le32(want, 16);
  le64(want, 1);
  le64(want, 2);
  le32(want, crc(want, end, want.size()));
  EXPECT_EQ(read_file(p), want);
}

TEST_F(BinaryTrace, WideCountsAndExpertsRoundTrip) {
  TraceMeta m = small_meta();
  m.layers = 1;
  m.experts = 70000;
  Routes many;
  for (int i = 0; i < 300; ++i) many.push_back({69999 - i, 1.0f / 300});
  many.push_back({kCopyExpert, 0.0f});
  const std::vector<TraceStep> steps = {make_step(0, {{0, 0}, {0, 1}}, {{many, {{5, 1.0f}}}})};
  for (const char* name : {"wide.moetrace", "wide.csv"}) {
    const std::string p = path(name);
    write_all(p, m, steps);
    auto r = open_trace(p);
    expect_meta_equal(r->meta(), m);
    const auto back = read_all(*r);
    ASSERT_EQ(back.size(), 1u) << name;
    expect_steps_equal(back[0], steps[0]);
  }
}

TEST_F(BinaryTrace, StreamsStepsBeforeTheEndIsSeen) {
  std::string b = small_file();
  b.resize(record_offsets(b)[2] + 10);  // cut inside the third record
  const std::string p = path("cut.moetrace");
  write_file(p, b);
  auto r = open_trace(p);
  TraceStep s;
  ASSERT_TRUE(r->next(s));
  expect_steps_equal(s, small_steps()[0]);
  ASSERT_TRUE(r->next(s));
  expect_steps_equal(s, small_steps()[1]);
  EXPECT_EQ(input_error([&] { r->next(s); }), p + ": truncated: no end record");
}

TEST_F(BinaryTrace, ErrorChecksumMismatch) {
  std::string b = small_file();
  const auto rec = record_offsets(b);
  const size_t last_weight_byte = rec[1] + 8 + rd32(b, rec[1] + 4) - 1;
  b[last_weight_byte] ^= 0x01;
  expect_error(b, "record 1 (step 11): checksum mismatch");
}

TEST_F(BinaryTrace, ErrorEndRecordChecksumMismatch) {
  std::string b = small_file();
  b[record_offsets(b)[3] + 9] ^= 0x01;
  expect_error(b, "record 3 (end): checksum mismatch");
}

TEST_F(BinaryTrace, ErrorHeaderChecksumMismatch) {
  std::string b = small_file();
  b[20] ^= 0x20;  // first byte of the model name
  expect_error(b, "header: checksum mismatch");
}

TEST_F(BinaryTrace, ErrorBadMagic) {
  expect_error("hello, this is not a trace", "bad magic (not a moesim binary trace)");
  expect_error("", "truncated: incomplete header");
  // A binary file is recognised by content; a non-trace with the extension says why.
  const std::string p = path("text.moetrace");
  write_file(p, "# moesim-trace 1\n");
  EXPECT_EQ(read_error(p), p + ": bad magic (not a moesim binary trace)");
}

TEST_F(BinaryTrace, ErrorUnsupportedVersion) {
  std::string b = small_file();
  b[8] = 3;
  expect_error(b, "unsupported version 3 (this build reads versions 1 and 2)");
}

TEST_F(BinaryTrace, ErrorTruncated) {
  const std::string b = small_file();
  const auto rec = record_offsets(b);
  expect_error(b.substr(0, rec[3]), "truncated: no end record");       // end record missing
  expect_error(b.substr(0, rec[1] + 5), "truncated: no end record");   // inside a record head
  expect_error(b.substr(0, rec[1] + 40), "truncated: no end record");  // inside a payload
  expect_error(b.substr(0, rec[0]), "truncated: no end record");       // header only
  expect_error(b.substr(0, 20), "truncated: incomplete header");
  expect_error(b.substr(0, 4), "truncated: incomplete header");
}

TEST_F(BinaryTrace, ErrorDataAfterEnd) {
  expect_error(small_file() + "x", "data after the end record");
}

TEST_F(BinaryTrace, ErrorEndRecordCounts) {
  std::string b = small_file();
  const size_t end = record_offsets(b)[3];
  b[end + 8] = 5;  // steps
  fix_crc(b, end);
  expect_error(b,
               "end record counts 5 steps and 15 assignments, but the file holds 3 steps and "
               "15 assignments");
}

TEST_F(BinaryTrace, ErrorUnknownRecordTag) {
  std::string b = small_file();
  b.replace(record_offsets(b)[1], 4, "STOP");
  expect_error(b, "record 1: unknown record tag 0x504f5453");
}

TEST_F(BinaryTrace, ErrorBadContentsWithValidChecksum) {
  std::string b = small_file();
  const size_t r0 = record_offsets(b)[0];
  // Payload: 24 fixed + 2 tokens * 8 + 4 counts, then i16 experts; make the first expert 9.
  b[r0 + 8 + 24 + 16 + 4] = 9;
  fix_crc(b, r0);
  expect_error(b, "record 0 (step 10): expert 9 out of range (experts = 8)");

  b = small_file();
  b[r0 + 8 + 20] = 6;  // assignments 5 -> 6
  fix_crc(b, r0);
  expect_error(b, "record 0 (step 10): record size 74 does not match its contents (80 bytes)");

  b = small_file();
  b[r0 + 8 + 12] = 3;  // layers
  fix_crc(b, r0);
  expect_error(b, "record 0 (step 10): 3 layers but the header says 2");

  b = small_file();
  const size_t r1 = record_offsets(b)[1];
  b[r1 + 8] = 10;  // step index 11 -> 10
  fix_crc(b, r1);
  expect_error(b, "record 1 (step 10): step 10 after step 10 (steps must ascend)");

  b = small_file();
  b[r0 + 8 + 24 + 8] = 0;  // second token's request 1 -> 0: the same token twice
  fix_crc(b, r0);
  expect_error(b, "record 0 (step 10): token (request 0, position 10) appears twice");

  b = small_file();
  const size_t w0 = r0 + 8 + 24 + 16 + 4 + 2 * 5;        // first weight
  b.replace(w0, 4, std::string("\x00\x00\xc0\x7f", 4));  // NaN
  fix_crc(b, r0);
  expect_error(b, "record 0 (step 10): weight nan is not finite");
}

TEST_F(BinaryTrace, EveryTruncationAndEveryBitFlipIsAnInputError) {
  const std::string b = small_file();
  const std::string p = path("t.moetrace");
  size_t checked = 0;
  for (size_t n = 0; n < b.size(); ++n) {
    write_file(p, b.substr(0, n));
    const std::string e = read_error(p);
    EXPECT_EQ(e.rfind(p + ": ", 0), 0u) << "cut at " << n << ": " << e;
    ++checked;
  }
  for (size_t i = 0; i < b.size(); ++i) {
    for (int bit = 0; bit < 8; bit += 3) {
      std::string f = b;
      f[i] = static_cast<char>(f[i] ^ (1 << bit));
      write_file(p, f);
      const std::string e = read_error(p);
      EXPECT_EQ(e.rfind(p + ": ", 0), 0u) << "byte " << i << " bit " << bit << ": " << e;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4 * b.size());
}

TEST_F(BinaryTrace, ErrorMissingFile) {
  const std::string p = path("absent.moetrace");
  EXPECT_EQ(read_error(p), p + ": cannot open trace (No such file or directory)");
}

TEST_F(BinaryTrace, OpenTraceDetectsBinaryByContent) {
  const std::string src = small_file();
  const std::string p = path("trace.data");
  write_file(p, src);
  auto r = open_trace(p);
  expect_meta_equal(r->meta(), small_meta());
  EXPECT_EQ(read_all(*r).size(), 3u);

  const std::string txt = path("trace.txt");
  write_file(txt, "# moesim-trace 1\n");
  EXPECT_EQ(read_error(txt), txt + ": unknown trace format (expected .csv, .jsonl or .moetrace)");
  const std::string json = path("out.json");
  EXPECT_EQ(input_error([&] { create_trace_writer(json, small_meta()); }),
            json + ": unknown trace format (expected .csv, .jsonl or .moetrace)");
}

TEST_F(BinaryTrace, WritersRenameOnFinishAndCleanUpWhenAbandoned) {
  for (const char* name : {"w.moetrace", "w.csv", "w.jsonl"}) {
    const std::string p = path(name);
    {
      auto w = create_trace_writer(p, small_meta());
      w->write(small_steps()[0]);
      EXPECT_TRUE(fs::exists(p + ".tmp")) << name;
      EXPECT_FALSE(fs::exists(p)) << name;
      w->finish();
      EXPECT_TRUE(fs::exists(p)) << name;
      EXPECT_FALSE(fs::exists(p + ".tmp")) << name;
    }
    EXPECT_TRUE(fs::exists(p)) << name;
    fs::remove(p);
    {
      auto w = create_trace_writer(p, small_meta());
      w->write(small_steps()[0]);
    }  // destroyed without finish()
    EXPECT_FALSE(fs::exists(p)) << name;
    EXPECT_FALSE(fs::exists(p + ".tmp")) << name;
  }
}

TEST_F(BinaryTrace, WritersRejectInvalidSteps) {
  for (const char* name : {"w.moetrace", "w.csv", "w.jsonl"}) {
    const std::string p = path(name);
    auto w = create_trace_writer(p, small_meta());
    TraceStep bad = small_steps()[0];
    bad.experts[0] = 9;
    EXPECT_EQ(input_error([&] { w->write(bad); }),
              p + ": cannot write step 10: expert 9 out of range (experts = 8)");
    bad = small_steps()[0];
    bad.weights[1] = -1.0f;
    EXPECT_EQ(input_error([&] { w->write(bad); }),
              p + ": cannot write step 10: weight -1 is negative");
    bad = small_steps()[0];
    bad.tokens[1] = bad.tokens[0];
    EXPECT_EQ(input_error([&] { w->write(bad); }),
              p + ": cannot write step 10: token (request 0, position 10) appears twice");
    bad = small_steps()[0];
    bad.layers = 3;
    EXPECT_EQ(input_error([&] { w->write(bad); }),
              p + ": cannot write step 10: step has 3 layers but the trace has 2");
    TraceStep empty;
    empty.layers = 2;
    empty.offsets = {0};
    EXPECT_EQ(input_error([&] { w->write(empty); }),
              p + ": cannot write step 0: step has no tokens");
    w->write(small_steps()[0]);
    EXPECT_EQ(input_error([&] { w->write(small_steps()[0]); }),
              p + ": cannot write step 10: step 10 after step 10 (steps must ascend)");
    w->finish();
    auto r = open_trace(p);
    EXPECT_EQ(read_all(*r).size(), 1u) << name;
  }
}

TEST_F(BinaryTrace, WritersRejectInvalidMetadata) {
  TraceMeta m = small_meta();
  m.extra["layers"] = "3";
  const std::string p = path("m.moetrace");
  EXPECT_EQ(input_error([&] { create_trace_writer(p, m); }),
            p + ": cannot write trace: metadata key 'layers' is reserved and cannot be an extra "
                "key");
  m = small_meta();
  m.model = "two\nlines";
  const std::string c = path("m.csv");
  EXPECT_EQ(input_error([&] { create_trace_writer(c, m); }),
            c + ": cannot write trace: metadata 'model' contains a line break");
  m = small_meta();
  m.extra["note"] = " padded";
  EXPECT_EQ(input_error([&] { create_trace_writer(c, m); }),
            c + ": cannot write trace: metadata 'note' begins or ends with a blank");
  m = small_meta();
  m.layers = 0;
  EXPECT_EQ(input_error([&] { create_trace_writer(c, m); }),
            c + ": cannot write trace: metadata 'layers' must be at least 1");
  EXPECT_FALSE(fs::exists(c + ".tmp"));
}

}  // namespace
}  // namespace moesim::test
