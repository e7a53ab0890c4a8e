// Output files: a plain path is replaced through a temporary file; a symbolic link, device or
// FIFO (/dev/stdout) is written in place, so the link or device node itself survives.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "sim/core/error.hpp"
#include "sim/core/output_path.hpp"
#include "sim/output/atomic_file.hpp"
#include "workloads/trace/trace_io.hpp"

namespace moesim::test {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class OutputPath : public ::testing::Test {
 protected:
  fs::path dir = fs::temp_directory_path() / ("moesim_output_path_" + std::to_string(::getpid()));
  void SetUp() override { fs::create_directories(dir); }
  void TearDown() override { fs::remove_all(dir); }
};

TEST_F(OutputPath, WhichPathsAreWrittenInPlace) {
  const fs::path file = dir / "a.json", link = dir / "link.json", fifo = dir / "fifo";
  EXPECT_FALSE(write_in_place((dir / "new.json").string()));  // does not exist yet
  std::ofstream(file) << "x";
  EXPECT_FALSE(write_in_place(file.string()));
  EXPECT_FALSE(write_in_place(dir.string()));  // a directory fails with its own message
  fs::create_symlink(file, link);
  EXPECT_TRUE(write_in_place(link.string()));
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_TRUE(write_in_place(fifo.string()));
  EXPECT_TRUE(write_in_place("/dev/null"));
  EXPECT_TRUE(write_in_place("/dev/stdout"));
}

TEST_F(OutputPath, PlainFileIsReplacedAndNoTemporaryIsLeft) {
  const fs::path file = dir / "stats.json";
  write_file_atomic(file.string(), "one");
  write_file_atomic(file.string(), "two");
  EXPECT_EQ(slurp(file), "two");
  EXPECT_FALSE(fs::exists(dir / "stats.json.tmp"));
}

TEST_F(OutputPath, LinkSurvivesAndItsTargetGetsTheText) {
  const fs::path target = dir / "results.json", link = dir / "latest.json";
  std::ofstream(target) << "old";
  fs::create_symlink(target, link);
  write_file_atomic(link.string(), "new");
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(link)));
  EXPECT_EQ(slurp(target), "new");
  // A link to a device (as /dev/stdout is): the link stays, nothing else is created.
  const fs::path null_link = dir / "null.json";
  fs::create_symlink("/dev/null", null_link);
  write_file_atomic(null_link.string(), "discarded");
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(null_link)));
  EXPECT_TRUE(fs::is_character_file(fs::status(null_link)));
  EXPECT_FALSE(fs::exists(dir / "null.json.tmp"));
}

TEST_F(OutputPath, TraceOutputToALinkIsWrittenInPlaceAndNeverRemoved) {
  const fs::path target = dir / "t.csv", link = dir / "link.csv";
  std::ofstream(target) << "old";
  fs::create_symlink(target, link);
  {
    trace_io::AtomicOutput out(link.string());
    out.write(std::string_view("new"));
    out.commit();
  }
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(link)));
  EXPECT_EQ(slurp(target), "new");
  {
    trace_io::AtomicOutput out(link.string());  // abandoned: a plain file would be removed
    out.write(std::string_view("partial"));
  }
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(link)));
  EXPECT_TRUE(fs::exists(target));
}

TEST_F(OutputPath, DirectoryIsAnErrorNamingItAndLeavesNothing) {
  try {
    write_file_atomic(dir.string(), "x");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), dir.string() + ": cannot rename into place (Is a directory)")
        << e.what();
  }
  EXPECT_FALSE(fs::exists(dir.string() + ".tmp"));
  EXPECT_TRUE(fs::is_directory(dir));
}

}  // namespace
}  // namespace moesim::test
