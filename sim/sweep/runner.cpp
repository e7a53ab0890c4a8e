#include "sim/sweep/runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>

namespace moesim::sweep {

namespace {

using Clock = std::chrono::steady_clock;

struct Running {
  size_t index = 0;
  Clock::time_point start;
  double timeout_s = 0.0;
  std::string stderr_path;
  bool killed_for_timeout = false;
};

/// Forks and execs `job`; returns the child's pid, or -1 with `*error` set.
pid_t spawn(const Job& job, std::string* error) {
  std::vector<char*> argv;
  for (const std::string& a : job.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const int err_fd =
      ::open(job.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (err_fd < 0) {
    *error = fmt::format("{}: cannot open ({})", job.stderr_path, std::strerror(errno));
    return -1;
  }
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = fmt::format("cannot fork ({})", std::strerror(errno));
    ::close(err_fd);
    if (null_fd >= 0) ::close(null_fd);
    return -1;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec (in_process jobs run in the copy of a
    // single-threaded parent, so ordinary calls are safe there).
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    if (null_fd >= 0) {
      ::dup2(null_fd, 0);
      ::dup2(null_fd, 1);
    }
    ::dup2(err_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (job.in_process) {
      const int rc = job.in_process();
      std::fflush(stdout);
      std::fflush(stderr);
      ::_exit(rc);
    }
    ::execv(argv[0], argv.data());
    const char msg[] = "moesim sweep: cannot execute the point's command\n";
    [[maybe_unused]] ssize_t w = ::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  ::close(err_fd);
  if (null_fd >= 0) ::close(null_fd);
  return pid;
}

}  // namespace

const char* status_name(JobResult::Status s) {
  switch (s) {
    case JobResult::Status::kOk:
      return "ok";
    case JobResult::Status::kFailed:
      return "failed";
    case JobResult::Status::kTimeout:
      return "timeout";
    case JobResult::Status::kCrashed:
      break;
  }
  return "crashed";
}

std::string last_line_of(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string line, last;
  while (std::getline(f, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) last = line;
  }
  return last;
}

void run_jobs(size_t count, size_t parallel, const std::function<Job(size_t)>& make,
              const std::function<void(size_t, const JobResult&)>& done,
              const std::function<void()>& tick) {
  if (parallel == 0) parallel = 1;
  std::map<pid_t, Running> running;
  size_t next = 0;
  auto last_tick = Clock::now();
  while (next < count || !running.empty()) {
    while (next < count && running.size() < parallel) {
      const size_t i = next++;
      const Job job = make(i);
      std::string error;
      const auto start = Clock::now();
      const pid_t pid = spawn(job, &error);
      if (pid < 0) {
        JobResult r;
        r.status = JobResult::Status::kFailed;
        r.exit_code = -1;
        r.last_line = error;
        done(i, r);
        continue;
      }
      running[pid] = Running{i, start, job.timeout_s, job.stderr_path, false};
    }
    if (running.empty()) continue;
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      const auto it = running.find(pid);
      if (it == running.end()) continue;  // not ours
      const Running r = it->second;
      running.erase(it);
      JobResult res;
      res.wall_s = std::chrono::duration<double>(Clock::now() - r.start).count();
      res.last_line = last_line_of(r.stderr_path);
      if (r.killed_for_timeout) {
        res.status = JobResult::Status::kTimeout;
      } else if (WIFEXITED(status)) {
        res.exit_code = WEXITSTATUS(status);
        res.status = res.exit_code == 0 ? JobResult::Status::kOk : JobResult::Status::kFailed;
      } else {
        res.status = JobResult::Status::kCrashed;
        res.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
      }
      done(r.index, res);
      continue;
    }
    // Nothing ended: enforce time limits, report progress, and wait a little.
    const auto now = Clock::now();
    for (auto& [p, r] : running) {
      if (r.timeout_s > 0 && !r.killed_for_timeout &&
          std::chrono::duration<double>(now - r.start).count() > r.timeout_s) {
        ::kill(-p, SIGKILL);
        ::kill(p, SIGKILL);
        r.killed_for_timeout = true;
      }
    }
    if (now - last_tick >= std::chrono::milliseconds(200)) {
      last_tick = now;
      if (tick) tick();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (tick) tick();
}

}  // namespace moesim::sweep
