#pragma once
/// Helpers shared by the trace tests: a per-test temp directory, step builders, comparisons.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "sim/core/error.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim::test {

/// A fixture with its own temporary directory, removed afterwards.
class TraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    m_dir = std::filesystem::temp_directory_path() /
            ("moesim-trace-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" +
             info->name());
    std::filesystem::remove_all(m_dir);
    std::filesystem::create_directories(m_dir);
  }
  void TearDown() override { std::filesystem::remove_all(m_dir); }

  std::string path(const std::string& name) const { return (m_dir / name).string(); }

  static void write_file(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
  }
  static std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::filesystem::path m_dir;
};

/// Routes of one (layer, token): (expert, weight) pairs.
using Routes = std::vector<std::pair<int32_t, float>>;

/// Builds a step; routes[l][t] are the routes of token t at layer l.
inline TraceStep make_step(uint64_t index, const std::vector<TraceToken>& tokens,
                           const std::vector<std::vector<Routes>>& routes) {
  TraceStep s;
  s.index = index;
  s.layers = static_cast<uint32_t>(routes.size());
  s.tokens = tokens;
  s.offsets.push_back(0);
  for (const auto& layer : routes) {
    EXPECT_EQ(layer.size(), tokens.size()) << "make_step: one Routes per token and layer";
    for (const auto& r : layer) {
      for (const auto& [e, w] : r) {
        s.experts.push_back(e);
        s.weights.push_back(w);
      }
      s.offsets.push_back(static_cast<uint32_t>(s.experts.size()));
    }
  }
  return s;
}

inline void expect_steps_equal(const TraceStep& a, const TraceStep& b) {
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.layers, b.layers);
  ASSERT_EQ(a.tokens.size(), b.tokens.size());
  for (size_t i = 0; i < a.tokens.size(); ++i) {
    EXPECT_EQ(a.tokens[i].request, b.tokens[i].request) << "token " << i;
    EXPECT_EQ(a.tokens[i].position, b.tokens[i].position) << "token " << i;
    EXPECT_EQ(a.tokens[i].task, b.tokens[i].task) << "token " << i;
  }
  EXPECT_EQ(a.offsets, b.offsets);
  EXPECT_EQ(a.experts, b.experts);
  EXPECT_EQ(a.weights, b.weights);
}

inline void expect_meta_equal(const TraceMeta& a, const TraceMeta& b) {
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.layers, b.layers);
  EXPECT_EQ(a.experts, b.experts);
  EXPECT_EQ(a.top_k, b.top_k);
  EXPECT_EQ(a.tasks, b.tasks);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.extra, b.extra);
}

inline std::vector<TraceStep> read_all(TraceReader& reader) {
  std::vector<TraceStep> steps;
  TraceStep s;
  while (reader.next(s)) steps.push_back(s);
  return steps;
}

/// Copies a trace from one file to another (the `moesim trace convert` loop).
inline void convert(const std::string& in, const std::string& out) {
  auto r = open_trace(in);
  auto w = create_trace_writer(out, r->meta());
  TraceStep s;
  while (r->next(s)) w->write(s);
  w->finish();
}

inline void write_all(const std::string& path, const TraceMeta& meta,
                      const std::vector<TraceStep>& steps) {
  auto w = create_trace_writer(path, meta);
  for (const auto& s : steps) w->write(s);
  w->finish();
}

/// The message of the InputError `f` throws ("" and a test failure when it throws none).
inline std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an InputError";
  return "";
}

/// Opens `path` and reads it to the end; returns the InputError message.
inline std::string read_error(const std::string& path) {
  return input_error([&] {
    auto r = open_trace(path);
    TraceStep s;
    while (r->next(s)) {
    }
  });
}

}  // namespace moesim::test
