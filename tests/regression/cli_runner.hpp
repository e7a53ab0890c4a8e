#pragma once
// Runs the moesim program in a child process and captures its exit code and output.

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace moesim::testing_support {

/// The source tree (configs/, tests/regression/golden/), where run_moesim runs by default.
inline const std::filesystem::path kSource = MOESIM_SOURCE_DIR;

/// Exit code and captured output of one run_moesim call.
struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// A fresh empty directory under the system temp dir, unique per test.
inline std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("moesim_test_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// Runs `MOESIM_BIN args` in `cwd` (the source tree by default).
inline CliResult run_moesim(const std::string& args, const std::string& cwd = MOESIM_SOURCE_DIR) {
  static int counter = 0;
  const auto tmp = std::filesystem::temp_directory_path() /
                   ("moesim_cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  const std::string cmd = "cd '" + cwd + "' && '" MOESIM_BIN "' " + args + " >'" + tmp.string() +
                          ".out' 2>'" + tmp.string() + ".err' </dev/null";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(tmp.string() + ".out");
  r.err = read_text(tmp.string() + ".err");
  std::filesystem::remove(tmp.string() + ".out");
  std::filesystem::remove(tmp.string() + ".err");
  return r;
}

/// The value of stat `name` in stats.json text (our writer's fixed layout).
inline double json_stat(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\": {\"value\": ";
  const size_t at = json.find(key);
  if (at == std::string::npos) throw std::runtime_error("no stat " + name);
  return std::stod(json.substr(at + key.size()));
}

/// The value of summary field `name` in stats.json text.
inline std::string json_summary(const std::string& json, const std::string& name) {
  const std::string key = "    \"" + name + "\": ";
  const size_t at = json.find(key);
  if (at == std::string::npos) throw std::runtime_error("no summary field " + name);
  const size_t end = json.find_first_of(",\n", at + key.size());
  std::string v = json.substr(at + key.size(), end - at - key.size());
  if (!v.empty() && v.front() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

}  // namespace moesim::testing_support
