#pragma once
/// Runs commands in child processes, N at a time, with a wall-time limit each.
///
/// Each child gets its own process group, stdout on /dev/null and stderr in a file; it is
/// killed (SIGKILL) when its parent dies (PR_SET_PDEATHSIG), so a killed sweep leaves no
/// stray points running. A child over its time limit is killed and reported as a timeout.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace moesim::sweep {

/// One command to run.
struct Job {
  std::vector<std::string> argv;  ///< argv[0] is the program path
  std::string stderr_path;        ///< where the child's stderr goes (truncated)
  double timeout_s = 0.0;         ///< wall-time limit in seconds (0 = none)
  /// When set, the child runs this (its return value is the exit code) instead of exec'ing
  /// argv: a fork of an already-initialised process skips loading the program again.
  std::function<int()> in_process;
};

/// How a job ended.
struct JobResult {
  enum class Status { kOk, kFailed, kTimeout, kCrashed };
  Status status = Status::kOk;
  int exit_code = 0;      ///< kOk / kFailed
  int signal = 0;         ///< kCrashed: the signal that ended it
  std::string last_line;  ///< the last non-empty line of its stderr ("" if none)
  double wall_s = 0.0;    ///< from fork to reaping, seconds
};

/// Name of a status as written in results: ok, failed, timeout, crashed.
const char* status_name(JobResult::Status s);

/// Runs jobs 0..count-1 (made on demand by `make`), at most `parallel` at once, and calls
/// `done(i, result)` as each ends (in completion order) and `tick()` a few times a second.
/// A job that cannot be started (fork/exec failure) ends as kFailed with the reason.
void run_jobs(size_t count, size_t parallel, const std::function<Job(size_t)>& make,
              const std::function<void(size_t, const JobResult&)>& done,
              const std::function<void()>& tick);

/// The last non-empty line of the file at `path` ("" when missing or empty).
std::string last_line_of(const std::string& path);

}  // namespace moesim::sweep
