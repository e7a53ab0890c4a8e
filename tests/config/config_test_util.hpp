#pragma once
/// Helpers for the config tests: a scratch directory that is the working directory for the
/// test (so file names in messages are short and relative), and exact-message checks.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "sim/config/config.hpp"
#include "sim/core/error.hpp"

namespace moesim {

/// Runs each test inside a fresh temporary directory, restoring the working directory after.
class ScratchDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_old = std::filesystem::current_path();
    std::string tmpl = (std::filesystem::temp_directory_path() / "moesim_cfg_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    m_dir = tmpl;
    std::filesystem::current_path(m_dir);
  }
  void TearDown() override {
    std::filesystem::current_path(m_old);
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }

  /// Writes `text` to `path` (relative to the scratch directory), creating directories.
  static void write(const std::string& path, const std::string& text) {
    const std::filesystem::path p(path);
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }

  std::filesystem::path m_dir;
  std::filesystem::path m_old;
};

/// The message of the InputError `fn` throws, or a marker when it throws nothing.
inline std::string input_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no InputError>";
}

/// A memory model's schema, as a model would declare it.
inline ParamSchema hbm_schema() {
  ParamSchema s("fast_dram");
  s.add("capacity", ParamType::kSize, "capacity of the tier").at_least(1);
  s.add("bandwidth", ParamType::kBandwidth, "peak bandwidth").at_least(1);
  s.add("latency", ParamType::kTime, "latency")
      .at_least(1e-9)
      .default_value(Quantity{50e-9, false});
  s.add("efficiency", ParamType::kFloat, "achievable fraction").range(0, 1).default_value(0.9);
  return s;
}

/// A compute unit's schema.
inline ParamSchema compute_schema() {
  ParamSchema s("systolic");
  s.add("rows", ParamType::kInt, "array rows").range(1, 4096).default_value(int64_t{128});
  s.add("dataflow", ParamType::kEnum, "dataflow")
      .one_of({"weight_stationary", "output_stationary"})
      .default_value(std::string("weight_stationary"));
  s.add("enabled", ParamType::kBool, "on").default_value(true);
  return s;
}

}  // namespace moesim
