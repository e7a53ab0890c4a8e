#include "hw_models/memory/dram/dram_calibration.hpp"

#include <fmt/format.h>

#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <sstream>

#include "hw_models/memory/dram/period_skip.hpp"
#include "hw_models/memory/dram/timing_checker.hpp"
#include "sim/core/error.hpp"

namespace moesim {
namespace {

struct HostRequest {
  uint64_t cycle;
  uint64_t addr;
  bool is_write;
};

// A stream drive() may skip periods of (DramPeriodSkip): request k of it is at base +
// ((start + k) % atoms) x 64, all reads or all writes, `count` of them, issued at cycle 0.
struct SkippableStream {
  uint64_t base, start, atoms, count;
  // Moves the source `n` requests on (it must then produce request k + n next).
  std::function<void(uint64_t n)> advance;
};

// Pulls requests from `next` (in order) and drives the memory, skipping idle cycles (and the
// periods of `stream`, if given).
DramRunResult drive(const DramSpec& spec, const DramConfig& config, bool check_timing,
                    const std::function<std::optional<HostRequest>()>& next,
                    const SkippableStream* stream = nullptr) {
  DramSystem sys(spec, config);
  std::unique_ptr<TimingChecker> checker;
  if (check_timing) {
    checker = std::make_unique<TimingChecker>(spec);
    sys.set_command_observer([&](const DramCommand& c) { checker->observe(c); });
  }
  uint64_t completed = 0;
  uint64_t last_done = 0;
  sys.set_completion_callback([&](const DramRequest&, uint64_t done) {
    ++completed;
    last_done = done;
  });

  uint64_t id = 0;
  std::optional<HostRequest> p = next();
  // The host's checkpoints: the first loop pass after each row step of requests has been
  // queued. Its state there is how far past the step it is and the request it holds.
  std::unique_ptr<DramPeriodSkip> skip;
  const uint64_t step = sys.row_step_bytes() / spec.atom_bytes;
  if (stream && step) skip = std::make_unique<DramPeriodSkip>(sys, step, check_timing);
  uint64_t mark = step;
  std::vector<int64_t> host;
  for (;;) {
    if (skip && id >= mark) {
      const uint64_t index = mark / step;
      const uint64_t at = (stream->start + id) % stream->atoms;  // position of request `id`
      host.assign({static_cast<int64_t>(id - mark), p.has_value(),
                   static_cast<int64_t>(at) - static_cast<int64_t>(index * step)});
      // Room: the requests left (one step kept to finish on), the footprint before it wraps,
      // and the address space.
      const uint64_t addr = stream->base + at * spec.atom_bytes;
      uint64_t room = std::min((stream->count - id) / step, (stream->atoms - at) / step);
      room = room > 0 ? room - 1 : 0;
      while (room > 0 && !sys.translates(addr, room)) room /= 2;
      const uint64_t moved = skip->checkpoint(index, host, room);
      if (moved) {
        const uint64_t n = moved * step;
        id += n;
        stream->advance(n);
        if (p) p->addr += n * spec.atom_bytes;
      }
      mark += step;
      while (mark <= id) mark += step;
    }
    while (p && p->cycle <= sys.cycle() && sys.can_accept(p->addr, p->is_write)) {
      sys.enqueue(DramRequest{p->addr, p->is_write, id++, sys.cycle()});
      p = next();
    }
    if (!p && sys.idle()) break;
    uint64_t ne = sys.next_event_cycle();
    if (p && p->cycle > sys.cycle()) {
      // Idle until the next request: one advance_to() over the gap, so its refreshes are
      // applied at once (DramSystem::set_idle_skip) rather than one event each.
      ne = sys.idle() ? p->cycle : std::min(ne, p->cycle);
    }
    if (ne > sys.cycle()) {
      sys.advance_to(ne);
      continue;
    }
    sys.tick();
  }

  DramRunResult r;
  const DramStats& st = sys.stats();
  const double ns = spec.tck_ps * 1e-3;
  r.requests = completed;
  r.bytes = st.read_bytes + st.write_bytes;
  r.cycles = completed ? last_done + 1 : 0;
  r.seconds = r.cycles * spec.tck_ps * 1e-12;
  r.bytes_per_s = r.seconds > 0 ? r.bytes / r.seconds : 0.0;
  r.peak_bytes_per_s = spec.peak_bytes_per_s();
  r.mean_latency_ns = st.latency.mean() * ns;
  r.p50_latency_ns = st.latency.percentile(0.50) * ns;
  r.p99_latency_ns = st.latency.percentile(0.99) * ns;
  r.row_hit_rate = st.row_hit_rate();
  r.refresh_overhead = sys.refresh_overhead();
  if (skip) {
    r.skipped_requests = skip->skipped_requests();
    // Replayed to the callback only for the checker; otherwise counted here.
    if (!check_timing) r.requests += r.skipped_requests;
  }
  if (checker) {
    checker->finish(sys.cycle());
    r.commands_checked = checker->commands();
    r.timing_violation = checker->first_violation();
  }
  r.stats = st;
  return r;
}

}  // namespace

DramPattern parse_dram_pattern(const std::string& name) {
  if (name == "sequential") return DramPattern::kSequential;
  if (name == "strided") return DramPattern::kStrided;
  if (name == "random") return DramPattern::kRandom;
  throw InputError(
      fmt::format("unknown DRAM pattern '{}' (expected sequential, strided or random)", name));
}

DramRunResult run_dram_pattern(const DramSpec& spec, const DramConfig& config,
                               const DramPatternSpec& pat, bool check_timing) {
  spec.validate();
  const uint64_t atom = spec.atom_bytes;
  const uint64_t footprint = pat.footprint_bytes ? pat.footprint_bytes : spec.capacity_bytes();
  if (footprint < atom)
    throw InputError(fmt::format("dram pattern: footprint must be at least {} bytes", atom));
  if (pat.read_ratio < 0.0 || pat.read_ratio > 1.0)
    throw InputError("dram pattern: read_ratio must be within [0, 1]");
  if (pat.pattern == DramPattern::kStrided && pat.stride_bytes == 0)
    throw InputError("dram pattern: stride_bytes must be positive");

  // mt19937_64 is specified bit-exactly by the standard, unlike the distributions, so the
  // stream (and the results) are the same on every platform.
  std::mt19937_64 addr_rng(pat.seed);
  std::mt19937_64 rw_rng(pat.seed ^ 0x9e3779b97f4a7c15ull);
  const uint64_t atoms = footprint / atom;
  uint64_t i = 0;
  auto next = [&]() -> std::optional<HostRequest> {
    if (i == pat.requests) return std::nullopt;
    uint64_t off = 0;
    switch (pat.pattern) {
      case DramPattern::kSequential:
        off = (i % atoms) * atom;
        break;
      case DramPattern::kStrided:
        off = (i * pat.stride_bytes) % footprint;
        break;
      case DramPattern::kRandom:
        off = (addr_rng() % atoms) * atom;
        break;
    }
    bool is_write = false;
    if (pat.read_ratio < 1.0) {
      const double u = static_cast<double>(rw_rng() >> 11) * 0x1.0p-53;
      is_write = u >= pat.read_ratio;
    }
    ++i;
    return HostRequest{0, pat.base + off, is_write};
  };
  if (pat.period_skip && pat.pattern == DramPattern::kSequential &&
      (pat.read_ratio == 1.0 || pat.read_ratio == 0.0)) {
    // Reads only, or writes only: every request is the same kind, drawn or not.
    const bool write = pat.read_ratio == 0.0;
    auto plain = [&]() -> std::optional<HostRequest> {
      if (i == pat.requests) return std::nullopt;
      const uint64_t off = (i % atoms) * atom;
      ++i;
      return HostRequest{0, pat.base + off, write};
    };
    const SkippableStream stream{pat.base, 0, atoms, pat.requests, [&](uint64_t n) { i += n; }};
    return drive(spec, config, check_timing, plain, &stream);
  }
  return drive(spec, config, check_timing, next);
}

DramRunResult run_dram_trace(const DramSpec& spec, const DramConfig& config, std::istream& in,
                             const std::string& name, bool check_timing) {
  uint64_t line_no = 0;
  uint64_t prev_cycle = 0;
  std::string line;
  auto next = [&]() -> std::optional<HostRequest> {
    while (std::getline(in, line)) {
      ++line_no;
      const std::string body = line.substr(0, line.find('#'));
      std::istringstream ss(body);
      std::string cyc, addr, op, extra;
      if (!(ss >> cyc)) continue;  // blank or comment-only line
      auto bad = [&](const std::string& why) {
        return InputError(fmt::format("{}:{}: {} (expected '<cycle> <address> R|W', got '{}')",
                                      name, line_no, why, line));
      };
      if (!(ss >> addr >> op)) throw bad("missing fields");
      if (ss >> extra) throw bad(fmt::format("unexpected field '{}'", extra));
      HostRequest r{};
      try {
        size_t used = 0;
        r.cycle = std::stoull(cyc, &used, 10);
        if (used != cyc.size() || cyc[0] == '-') throw std::invalid_argument("cycle");
      } catch (const std::exception&) {
        throw bad(fmt::format("bad cycle '{}'", cyc));
      }
      try {
        size_t used = 0;
        const bool hex = addr.size() > 2 && addr[0] == '0' && (addr[1] == 'x' || addr[1] == 'X');
        r.addr = std::stoull(hex ? addr.substr(2) : addr, &used, hex ? 16 : 10);
        if (used != addr.size() - (hex ? 2 : 0) || addr[0] == '-')
          throw std::invalid_argument("addr");
      } catch (const std::exception&) {
        throw bad(fmt::format("bad address '{}'", addr));
      }
      if (op == "R" || op == "r")
        r.is_write = false;
      else if (op == "W" || op == "w")
        r.is_write = true;
      else
        throw bad(fmt::format("bad operation '{}' (R or W)", op));
      if (r.cycle < prev_cycle)
        throw bad(
            fmt::format("cycle {} is earlier than the previous request's {}", r.cycle, prev_cycle));
      prev_cycle = r.cycle;
      return r;
    }
    return std::nullopt;
  };
  return drive(spec, config, check_timing, next);
}

DramRunResult run_dram_trace(const DramSpec& spec, const DramConfig& config,
                             const std::string& path, bool check_timing) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open DRAM trace", path));
  return run_dram_trace(spec, config, in, path, check_timing);
}

}  // namespace moesim
