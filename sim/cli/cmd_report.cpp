#include "sim/cli/cmd_report.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "sim/cli/cli_util.hpp"
#include "sim/core/error.hpp"

namespace moesim {

namespace fs = std::filesystem;

namespace {

constexpr const char* kReportHelp = R"(usage: moesim report OUT_DIR [--output FILE]

Turns the results of 'moesim run' in OUT_DIR (stats.json; expert_load.csv when present) into
one self-contained HTML page, OUT_DIR/report.html (or FILE), with its plots embedded: the
summary, time by op class, unit utilisation, bytes per memory tier and between tiers, the
expert-load heat map, and, when the run has them, cache hit rates, link utilisation and
energy by unit. Made by scripts/report.py with /usr/bin/python3 and matplotlib (Debian's
python3-matplotlib); prints the page's path.
)";

constexpr const char* kPython = "/usr/bin/python3";

}  // namespace

int cmd_report(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::fputs(kReportHelp, stdout);
    return 0;
  }
  std::string dir;
  std::string output;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--output" || a.rfind("--output=", 0) == 0) {
      if (a == "--output") {
        if (i + 1 >= args.size()) usage_error("report", "--output needs a value");
        output = args[++i];
      } else {
        output = a.substr(9);
      }
      if (output.empty()) usage_error("report", "--output expects a file name, got ''");
    } else if (a.size() > 1 && a[0] == '-') {
      unknown_option("report", a.substr(0, a.find('=')), {"--output"});
    } else if (dir.empty()) {
      dir = a;
    } else {
      usage_error("report", fmt::format("unexpected argument '{}'", a));
    }
  }
  if (dir.empty()) usage_error("report", "missing OUT_DIR");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw InputError(fmt::format(
        "report: {}: no such directory (expected the output directory of 'moesim run')", dir));
  }
  if (!fs::is_regular_file(fs::path(dir) / "stats.json", ec)) {
    throw InputError(fmt::format(
        "report: {}: no stats.json (expected the output directory of 'moesim run')", dir));
  }
  const fs::path script = fs::path(MOESIM_SOURCE_DIR) / "scripts" / "report.py";
  if (!fs::is_regular_file(script, ec) || access(kPython, X_OK) != 0) {
    throw InputError(fmt::format("report: needs {} and {} (scripts/setup.sh installs them)",
                                 kPython, script.string()));
  }
  std::vector<std::string> argv_s = {kPython, script.string(), dir};
  if (!output.empty()) argv_s.insert(argv_s.end(), {"--output", output});
  std::vector<char*> argv;
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) throw InternalError("report: fork failed");
  if (pid == 0) {
    execv(kPython, argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status) == 127 ? 1 : WEXITSTATUS(status);
  return 1;
}

}  // namespace moesim
