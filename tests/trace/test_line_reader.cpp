// LineReader: every line comes back exactly, whatever its length against the buffer (64 KiB at
// first, doubling while a long file fills it, and for any line longer than the buffer).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "workloads/trace/line_reader.hpp"

namespace moesim::test {
namespace {

std::vector<std::string> read_all(const std::string& path, std::vector<uint64_t>* numbers) {
  trace_io::LineReader reader(trace_io::open_input(path));
  std::vector<std::string> lines;
  std::string_view line;
  while (reader.next(line)) {
    lines.emplace_back(line);
    numbers->push_back(reader.line_number());
  }
  return lines;
}

class LineReaderTest : public ::testing::Test {
 protected:
  std::string path = (std::filesystem::temp_directory_path() /
                      ("moesim_line_reader_" + std::to_string(::getpid()) + ".txt"))
                         .string();
  void TearDown() override { std::filesystem::remove(path); }
  void write(const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
};

TEST_F(LineReaderTest, LinesOfEveryLengthAroundTheBufferSizesComeBackExactly) {
  // Lines from empty to 3 MiB, with lengths right at the 64 KiB, 128 KiB and 1 MiB buffer
  // sizes and one byte either side, CRLF and LF endings, and no final line break.
  std::vector<std::string> want;
  std::mt19937_64 rng(7);
  const std::vector<size_t> lengths = {
      0,       1, 80, 65535, 65536, 65537, 131071, 131072, (1u << 20) - 1, 1u << 20, (1u << 20) + 1,
      3u << 20};
  for (size_t n : lengths) {
    std::string s(n, 'x');
    for (char& c : s) c = static_cast<char>('a' + rng() % 26);
    want.push_back(s);
  }
  for (int i = 0; i < 20000; ++i) want.push_back(std::to_string(rng()));  // a long file
  std::string text;
  for (size_t i = 0; i < want.size(); ++i) {
    text += want[i];
    if (i + 1 < want.size()) text += i % 3 == 0 ? "\r\n" : "\n";
  }
  write(text);
  std::vector<uint64_t> numbers;
  const std::vector<std::string> got = read_all(path, &numbers);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i], want[i]) << "line " << i + 1;
    ASSERT_EQ(numbers[i], i + 1);
  }
}

TEST_F(LineReaderTest, EmptyFileAndLoneLineBreaks) {
  write("");
  std::vector<uint64_t> numbers;
  EXPECT_TRUE(read_all(path, &numbers).empty());
  write("\n\r\n\n");
  numbers.clear();
  EXPECT_EQ(read_all(path, &numbers), (std::vector<std::string>{"", "", ""}));
}

}  // namespace
}  // namespace moesim::test
