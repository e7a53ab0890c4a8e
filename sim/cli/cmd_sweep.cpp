#include "sim/cli/cmd_sweep.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "sim/cli/cli_util.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cli/sweep_plan.hpp"
#include "sim/config/config.hpp"
#include "sim/core/error.hpp"
#include "sim/sweep/enumerate.hpp"
#include "sim/sweep/results.hpp"
#include "sim/sweep/runner.hpp"
#include "sim/sweep/spec.hpp"

namespace moesim {

namespace fs = std::filesystem;
using namespace sweep;

namespace {

constexpr const char* kSweepHelp =
    R"(usage: moesim sweep SWEEP.toml [-j N] [--out DIR] [--resume] [--timeout TIME]
                   [--slice K/N] [--fork] [--list-points] [--quiet]

Runs every point of a design-space sweep: each point is `moesim run BASE --set ...` in its own
process, writing DIR/points/<id>/. One row per point is appended to DIR/results.jsonl and
DIR/results.csv (id, index, status, one column per axis, the stats.json summary, the metrics,
wall_s, error, out); DIR/sweep.toml is the spec's effective copy. A point that fails, times
out or crashes is recorded with its status and the last line of its stderr, and the sweep
goes on. Points whose config does not load or that break a constraint are recorded as
skipped, with the reason. Rows are appended whole (one write(), then fdatasync), so a sweep
killed at any moment continues with --resume without losing or repeating a point.

  -j N, --jobs N     points run in parallel (default 1)
  --out DIR          output directory (default out/sweeps/<spec name>)
  --resume           continue the sweep in DIR (same spec required); finished points are kept
  --timeout TIME     wall-time limit per point, e.g. 30s (overrides [run] timeout; 0s = none)
  --slice K/N        run only the points with index % N == K; rows go to DIR/slices/K-of-N/
                     (for job arrays; merge with `python3 -m moesweep collect DIR`)
  --fork             run each point in a fork of this process instead of exec'ing moesim
                     again: same results, without the ~20 ms per point that loading
                     libsystemc costs (see docs/sweeps.md)
  --list-points      print the spec header and every point as JSON lines; run nothing
  --quiet            no progress output

Status: ok, failed (non-zero exit), timeout, crashed (killed by a signal), skipped.
Exit code 0 when every point has a row (whatever its status), 2 for a bad spec or arguments.

Spec (see docs/sweeps.md):
  [sweep]        base = "run config" (required), mode = "grid" | "random",
                 samples = N and seed = S (random: N distinct grid points)
  [set]          fixed overrides for every point (nested keys: workload.max_steps = 4)
  [constraints]  NAME = "expression" over axis names, config keys and model.expert_bytes,
                 model.shared_expert_bytes, model.dense_ffn_bytes, model.attention_bytes,
                 model.router_bytes, model.total_weight_bytes, model.moe_layers;
                 e.g. sram_fits = "chip.sram.capacity >= model.expert_bytes"
  [metrics]      NAME = "stats.json stat name", an extra result column per metric
  [axis.NAME]    key = "config.key", and values = [...] or from, to, steps, scale =
                 "linear" | "log"; zip = "group" advances axes of one group together
  [run]          timeout = "600s"
)";

struct Options {
  std::string spec;
  size_t jobs = 1;
  std::optional<std::string> out;
  bool resume = false;
  std::optional<double> timeout_s;
  uint64_t slice_k = 0, slice_n = 1;
  bool slice = false;
  bool list = false;
  bool quiet = false;
  bool fork_only = false;
};

Options parse_options(const std::vector<std::string>& args) {
  Options o;
  const std::vector<std::string> known = {"--jobs",        "--out",   "--resume",
                                          "--timeout",     "--slice", "--quiet",
                                          "--list-points", "--fork",  "-j"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const std::string flag = a.substr(0, a.find('='));
    auto value = [&]() -> std::string {
      if (a.find('=') != std::string::npos && a.rfind("--", 0) == 0)
        return a.substr(a.find('=') + 1);
      if (i + 1 >= args.size()) usage_error("sweep", fmt::format("{} needs a value", flag));
      return args[++i];
    };
    if (flag == "-j" || flag == "--jobs") {
      const uint64_t j = parse_u64("sweep", flag, value());
      if (j == 0 || j > 1024) usage_error("sweep", fmt::format("{} expects 1 to 1024", flag));
      o.jobs = j;
    } else if (a.rfind("-j", 0) == 0 && a.size() > 2 && a[1] == 'j' && a[2] != '=') {
      const uint64_t j = parse_u64("sweep", "-j", a.substr(2));
      if (j == 0 || j > 1024) usage_error("sweep", "-j expects 1 to 1024");
      o.jobs = j;
    } else if (flag == "--out") {
      o.out = value();
    } else if (a == "--resume") {
      o.resume = true;
    } else if (a == "--quiet") {
      o.quiet = true;
    } else if (a == "--fork") {
      o.fork_only = true;
    } else if (a == "--list-points") {
      o.list = true;
    } else if (flag == "--timeout") {
      const std::string v = value();
      std::string error;
      const std::optional<Quantity> q = parse_quantity(v, Dim::kTime, &error);
      if (!q || q->cycles) {
        usage_error("sweep", fmt::format("--timeout expects a time such as \"30s\", got '{}'", v));
      }
      o.timeout_s = q->value;
    } else if (flag == "--slice") {
      const std::string v = value();
      const size_t slash = v.find('/');
      if (slash == std::string::npos) {
        usage_error("sweep", fmt::format("--slice expects K/N (0 <= K < N), got '{}'", v));
      }
      o.slice_k = parse_u64("sweep", "--slice", v.substr(0, slash));
      o.slice_n = parse_u64("sweep", "--slice", v.substr(slash + 1));
      if (o.slice_n == 0 || o.slice_k >= o.slice_n) {
        usage_error("sweep", fmt::format("--slice expects K/N (0 <= K < N), got '{}'", v));
      }
      o.slice = true;
    } else if (a.size() > 1 && a[0] == '-') {
      unknown_option("sweep", flag, known);
    } else if (o.spec.empty()) {
      o.spec = a;
    } else {
      usage_error("sweep", fmt::format("unexpected argument '{}'", a));
    }
  }
  if (o.spec.empty()) usage_error("sweep", "missing SWEEP.toml");
  return o;
}

std::vector<std::pair<std::string, JsonValue>> nulls(const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, JsonValue>> out;
  for (const std::string& n : names) out.emplace_back(n, JsonValue::null());
  return out;
}

int list_points(const SweepPlan& plan) {
  const SweepSpec& spec = plan.spec;
  const auto strings = [](const std::vector<std::string>& v) {
    JsonValue a;
    a.kind = JsonValue::Kind::kArray;
    for (const std::string& s : v) a.items.push_back(JsonValue::string(s));
    return json_text(a);
  };
  std::string out =
      "{\"sweep\":" + json_quote(spec.name) + ",\"spec_hash\":" + json_quote(plan.hash) +
      ",\"base\":" + json_quote(spec.base) +
      ",\"points\":" + fmt::format("{}", plan.points.size()) +
      ",\"axes\":" + strings(plan.cols.axes) + ",\"summary\":" + strings(plan.cols.summary) +
      ",\"metrics\":" + strings(plan.cols.metrics) +
      ",\"metric_stats\":" + strings(plan.metric_stats) +
      ",\"timeout_s\":" + float_text(spec.timeout_s) +
      ",\"effective\":" + json_quote(spec.effective_text(plan.hash)) + "}\n";
  std::fputs(out.c_str(), stdout);
  for (size_t i = 0; i < plan.points.size(); ++i) {
    const Point& p = plan.points[i];
    JsonValue params;
    params.kind = JsonValue::Kind::kObject;
    params.members = params_of(spec, p);
    const std::string line =
        "{\"id\":" + json_quote(p.id) + fmt::format(",\"index\":{}", p.index) +
        ",\"params\":" + json_text(params) + ",\"overrides\":" + strings(point_overrides(spec, p)) +
        ",\"status\":" + json_quote(plan.skip[i].empty() ? "pending" : "skipped") +
        ",\"error\":" + json_quote(plan.skip[i]) + "}\n";
    std::fputs(line.c_str(), stdout);
  }
  return 0;
}

std::string duration_text(double s) {
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  return fmt::format("{}h{:02}m", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
}

/// Holds an exclusive lock on `path` for the life of the sweep.
class DirLock {
 public:
  DirLock(const std::string& path, const std::string& dir) {
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0) {
      throw InputError(
          fmt::format("{}: cannot create the lock file ({})", path, std::strerror(errno)));
    }
    if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(m_fd);
      throw InputError(fmt::format("{}: another moesim sweep is running in this directory", dir));
    }
  }
  ~DirLock() { ::close(m_fd); }

 private:
  int m_fd = -1;
};

/// The spec_hash recorded in an effective copy, or "".
std::string recorded_hash(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  const std::string tag = "# spec_hash = ";
  while (std::getline(f, line)) {
    if (line.rfind(tag, 0) == 0) return line.substr(tag.size());
  }
  return "";
}

/// Writes the effective copy through a temporary file of this process's own, so the array
/// tasks of a sliced sweep, starting together on a shared file system, never rename one
/// another's half-written file into place.
void write_copy(const std::string& path, const std::string& text) {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  const std::string tmp = fmt::format("{}.{}.{}.tmp", path, host, ::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.flush();
    if (!f) throw InputError(fmt::format("{}: cannot write", tmp));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw InputError(fmt::format("{}: cannot write ({})", path, ec.message()));
}

/// `moesim run` inside a forked child, reporting errors as main() does.
int run_in_child(const std::vector<std::string>& args) {
  try {
    return cli_main(args);
  } catch (const InputError& e) {
    std::fprintf(stderr, "moesim: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "moesim: internal error: %s\n", e.what());
    return 1;
  }
}

std::string self_exe() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw InternalError("cannot read /proc/self/exe: " + ec.message());
  return p.string();
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::fputs(kSweepHelp, stdout);
    return 0;
  }
  const Options o = parse_options(args);
  SweepPlan plan = make_sweep_plan(o.spec, o.timeout_s);
  const SweepSpec& spec = plan.spec;
  if (o.list) return list_points(plan);

  const std::string dir = o.out ? *o.out : (fs::path("out") / "sweeps" / spec.name).string();
  const std::string rows_dir =
      o.slice ? (fs::path(dir) / "slices" / fmt::format("{}-of-{}", o.slice_k, o.slice_n)).string()
              : dir;
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "points", ec);
  if (!ec) fs::create_directories(rows_dir, ec);
  if (ec)
    throw InputError(fmt::format("{}: cannot create output directory ({})", dir, ec.message()));
  const DirLock lock((fs::path(rows_dir) / ".lock").string(), rows_dir);

  const std::string copy = (fs::path(dir) / "sweep.toml").string();
  const std::string old_hash = recorded_hash(copy);
  const bool has_rows = fs::exists(fs::path(rows_dir) / "results.jsonl", ec) &&
                        fs::file_size(fs::path(rows_dir) / "results.jsonl", ec) > 0;
  if ((o.resume || o.slice || has_rows) && !old_hash.empty() && old_hash != plan.hash) {
    throw InputError(fmt::format(
        "{}: the results in {} come from another sweep spec (spec_hash {}; {} gives {}); "
        "resume with the spec that made them, or choose another --out",
        copy, dir, old_hash, o.spec, plan.hash));
  }
  std::string note;
  ResultsLog log(rows_dir, plan.cols, o.resume, &note);
  write_copy(copy, spec.effective_text(plan.hash));
  const bool tty = !o.quiet && ::isatty(2) != 0;
  if (!note.empty() && !o.quiet) std::fprintf(stderr, "moesim sweep: %s\n", note.c_str());

  // The points of this run (this slice, not yet recorded).
  std::vector<size_t> todo;
  size_t mine = 0;
  for (size_t i = 0; i < plan.points.size(); ++i) {
    if (plan.points[i].index % o.slice_n != o.slice_k) continue;
    ++mine;
    if (log.done().count(plan.points[i].id) == 0) todo.push_back(i);
  }
  std::map<std::string, size_t> counts;
  for (const Row& r : log.rows()) ++counts[r.status];
  size_t recorded = log.rows().size();

  const auto start = std::chrono::steady_clock::now();
  size_t finished_runs = 0, to_run = 0;
  std::vector<size_t> runs;
  for (size_t i : todo) {
    const Point& p = plan.points[i];
    if (plan.skip[i].empty()) {
      runs.push_back(i);
      continue;
    }
    Row r;
    r.id = p.id;
    r.index = p.index;
    r.status = "skipped";
    r.params = params_of(spec, p);
    r.summary = nulls(plan.cols.summary);
    r.metrics = nulls(plan.cols.metrics);
    r.error = plan.skip[i];
    log.append(r);
    ++counts["skipped"];
    ++recorded;
  }
  to_run = runs.size();

  const auto counts_text = [&]() {
    std::string s;
    for (const char* st : {"ok", "failed", "timeout", "crashed", "skipped"}) {
      if (counts[st] > 0) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", counts[st], st);
    }
    return s;
  };
  const auto eta_text = [&]() -> std::string {
    if (finished_runs == 0) return "ETA --";
    const double el =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return "ETA " + duration_text(el / static_cast<double>(finished_runs) *
                                  static_cast<double>(to_run - finished_runs));
  };
  const auto draw_bar = [&]() {
    if (!tty) return;
    constexpr int kWidth = 30;
    const double frac = mine == 0 ? 1.0 : static_cast<double>(recorded) / static_cast<double>(mine);
    const int fill = static_cast<int>(frac * kWidth);
    std::fprintf(stderr, "\r\033[Ksweep [%s%s] %zu/%zu  %s  %s", std::string(fill, '#').c_str(),
                 std::string(kWidth - fill, '.').c_str(), recorded, mine, counts_text().c_str(),
                 eta_text().c_str());
    std::fflush(stderr);
  };

  const std::string exe = self_exe();
  const auto point_dir = [&](const Point& p) { return (fs::path(dir) / "points" / p.id).string(); };
  run_jobs(
      runs.size(), o.jobs,
      [&](size_t k) {
        const Point& p = plan.points[runs[k]];
        fs::create_directories(point_dir(p), ec);
        Job job;
        job.argv = {exe, "run", spec.base};
        for (const std::string& ov : point_overrides(spec, p)) {
          job.argv.push_back("--set");
          job.argv.push_back(ov);
        }
        job.argv.insert(job.argv.end(), {"--out", point_dir(p), "--quiet"});
        job.stderr_path = (fs::path(point_dir(p)) / "stderr.log").string();
        job.timeout_s = spec.timeout_s;
        if (o.fork_only) {
          const std::vector<std::string> run_args(job.argv.begin() + 1, job.argv.end());
          job.in_process = [run_args]() { return run_in_child(run_args); };
        }
        return job;
      },
      [&](size_t k, const JobResult& res) {
        const Point& p = plan.points[runs[k]];
        Row r;
        r.id = p.id;
        r.index = p.index;
        r.status = status_name(res.status);
        r.params = params_of(spec, p);
        r.summary = nulls(plan.cols.summary);
        r.metrics = nulls(plan.cols.metrics);
        r.wall_s = res.wall_s;
        r.out = (fs::path("points") / p.id).string();
        switch (res.status) {
          case JobResult::Status::kOk: {
            const std::string stats = (fs::path(point_dir(p)) / "stats.json").string();
            std::ifstream f(stats, std::ios::binary);
            std::stringstream ss;
            ss << f.rdbuf();
            try {
              if (!f) throw std::runtime_error("missing");
              fill_from_stats(ss.str(), plan.cols, plan.metric_stats, &r);
            } catch (const std::runtime_error& e) {
              r.status = "failed";
              r.error = fmt::format("{}: unreadable after a successful run ({})", stats, e.what());
            }
            break;
          }
          case JobResult::Status::kFailed:
            r.error =
                res.last_line.empty() ? fmt::format("exit code {}", res.exit_code) : res.last_line;
            break;
          case JobResult::Status::kTimeout:
            r.error = fmt::format("timed out after {} (killed)",
                                  format_quantity(Quantity{spec.timeout_s, false}, Dim::kTime));
            break;
          case JobResult::Status::kCrashed:
            r.error = fmt::format("killed by signal {} ({}){}", res.signal, strsignal(res.signal),
                                  res.last_line.empty() ? "" : ": " + res.last_line);
            break;
        }
        // An empty stderr log is clutter; a non-empty one is kept for the record.
        const fs::path err_log = fs::path(point_dir(p)) / "stderr.log";
        if (fs::exists(err_log, ec) && fs::file_size(err_log, ec) == 0) fs::remove(err_log, ec);
        log.append(r);
        ++counts[r.status];
        ++recorded;
        ++finished_runs;
        if (!o.quiet && !tty) {
          std::fprintf(stderr, "sweep: %zu/%zu %s %s %.2fs %s%s\n", recorded, mine, r.id.c_str(),
                       r.status.c_str(), r.wall_s, eta_text().c_str(),
                       r.error.empty() ? "" : ("  " + r.error).c_str());
        }
        draw_bar();
      },
      draw_bar);
  const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (tty) std::fputs("\n", stderr);
  if (!o.quiet) {
    std::fprintf(stderr, "sweep: %zu points: %s; %zu run now in %s\n", mine, counts_text().c_str(),
                 finished_runs, duration_text(el).c_str());
  }
  std::printf("%s\n", (fs::path(rows_dir) / "results.csv").string().c_str());
  return 0;
}

}  // namespace moesim
