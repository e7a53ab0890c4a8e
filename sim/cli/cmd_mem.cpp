/// `moesim mem`: one memory model, one request stream, bandwidth and latency out.

#include "sim/cli/cmd_mem.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <systemc>

#include "hw_models/memory/banked_sram.hpp"
#include "hw_models/memory/detailed_dram.hpp"
#include "hw_models/memory/mem_driver.hpp"
#include "sim/config/config.hpp"
#include "sim/config/config_fail.hpp"
#include "sim/core/error.hpp"
#include "sim/core/json_text.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/sim_time.hpp"
#include "sim/core/stats.hpp"
#include "sim/core/units_text.hpp"
#include "sim/output/atomic_file.hpp"

namespace moesim {

namespace {

constexpr const char* kMemHelp =
    R"(usage: moesim mem CONFIG (--pattern seq|strided|random --requests N | --trace FILE)
                  [--read-ratio R] [--stride BYTES] [--seed S] [--window N] [--json OUT]

Drives the memory described by CONFIG's [memory] table with 64-byte requests and reports
achieved bandwidth, mean/p50/p99 latency (from the host's request to its completion),
row-buffer hit rate and refresh overhead (detailed DRAM only), bank conflicts and port
utilisation (banked SRAM only).

CONFIG is a small TOML file:
    clock = "1GHz"         # optional: cycles of a --trace for non-DRAM memories, and
                           # latencies written in cycles
    [memory]
    type = "dram"          # or "fast", "banked_sram"; see 'moesim list' for every key
    preset = "HBM3"
    capacity = "16GiB"

  --pattern P       seq (or sequential), strided or random addresses; all may issue at once
  --requests N      number of requests of the pattern
  --read-ratio R    fraction of reads, 0..1 (default 1)
  --stride BYTES    address step of the strided pattern (default 64)
  --seed S          seed of the random addresses and the read/write choice (default 1)
  --trace FILE      run a request trace instead: one '<cycle> <address> R|W' per line, cycle
                    in DRAM tCK for type = "dram" (as Ramulator and DRAMsim3 count), else
                    of `clock`; '#' starts a comment
  --window N        requests the host keeps outstanding (default: every controller read-queue
                    slot for type = "dram", 256 otherwise)
  --json OUT        also write the results as JSON (temporary file, then renamed)
)";

[[noreturn]] void mem_error(const std::string& msg) {
  throw InputError(fmt::format("mem: {} (see 'moesim mem --help')", msg));
}

uint64_t parse_count(const std::string& opt, const std::string& v) {
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 19)
    mem_error(fmt::format("{} expects a non-negative integer, got '{}'", opt, v));
  return std::stoull(v);
}

double parse_ratio(const std::string& opt, const std::string& v) {
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(d >= 0.0 && d <= 1.0))
    mem_error(fmt::format("{} expects a number in [0, 1], got '{}'", opt, v));
  return d;
}

std::string json_string(const std::string& s) {
  // Every control character, '\n' and '\t' included, as \u00xx.
  constexpr EscapeStyle kMemEscape{false, false};
  return json_quote(s, kMemEscape);
}

std::string num(double v) {
  return format_stat_number(v, false);
}
std::string num(uint64_t v) {
  return format_stat_number(static_cast<double>(v), true);
}

std::string pattern_name(DramPattern p) {
  switch (p) {
    case DramPattern::kSequential:
      return "sequential";
    case DramPattern::kStrided:
      return "strided";
    case DramPattern::kRandom:
      return "random";
  }
  return "?";
}

struct MemOptions {
  std::string config;
  std::optional<DramPattern> pattern;
  std::optional<uint64_t> requests;
  std::optional<double> read_ratio;
  std::optional<uint64_t> stride;
  std::optional<uint64_t> seed;
  std::optional<std::string> trace;
  std::optional<uint64_t> window;
  std::optional<std::string> json;
};

MemOptions parse_mem_options(const std::vector<std::string>& args) {
  MemOptions o;
  const std::vector<std::string> known = {"--pattern", "--requests", "--read-ratio", "--stride",
                                          "--seed",    "--trace",    "--window",     "--json"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() > 1 && a[0] == '-') {
      const size_t eq = a.find('=');
      const std::string flag = a.substr(0, eq);
      bool is_known = false;
      for (const auto& k : known) is_known = is_known || k == flag;
      if (!is_known) {
        const std::string hint = did_you_mean(flag, known);
        mem_error(fmt::format("unknown option '{}'{}", flag,
                              hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
      std::string v;
      if (eq != std::string::npos) {
        v = a.substr(eq + 1);
      } else {
        if (i + 1 >= args.size()) mem_error(fmt::format("{} needs a value", flag));
        v = args[++i];
      }
      if (flag == "--pattern") {
        if (v == "seq" || v == "sequential")
          o.pattern = DramPattern::kSequential;
        else if (v == "strided")
          o.pattern = DramPattern::kStrided;
        else if (v == "random")
          o.pattern = DramPattern::kRandom;
        else
          mem_error(fmt::format("--pattern expects seq, strided or random, got '{}'", v));
      } else if (flag == "--requests") {
        o.requests = parse_count(flag, v);
        if (*o.requests == 0) mem_error("--requests must be at least 1");
      } else if (flag == "--read-ratio") {
        o.read_ratio = parse_ratio(flag, v);
      } else if (flag == "--stride") {
        o.stride = parse_count(flag, v);
        if (*o.stride == 0) mem_error("--stride must be at least 1");
      } else if (flag == "--seed") {
        o.seed = parse_count(flag, v);
      } else if (flag == "--trace") {
        o.trace = v;
      } else if (flag == "--window") {
        o.window = parse_count(flag, v);
        if (*o.window == 0) mem_error("--window must be at least 1");
      } else {
        o.json = v;
      }
    } else if (o.config.empty()) {
      o.config = a;
    } else {
      mem_error(fmt::format("unexpected argument '{}'", a));
    }
  }
  if (o.config.empty()) mem_error("missing CONFIG");
  if (o.trace) {
    if (o.pattern || o.requests || o.read_ratio || o.stride || o.seed)
      mem_error(
          "--trace cannot be combined with --pattern, --requests, --read-ratio, --stride "
          "or --seed");
  } else {
    if (!o.pattern) mem_error("expects --pattern or --trace");
    if (!o.requests) mem_error("--pattern needs --requests");
    if (o.stride && *o.pattern != DramPattern::kStrided)
      mem_error("--stride applies to --pattern strided only");
  }
  return o;
}

}  // namespace

int cmd_mem(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kMemHelp, stdout);
      return 0;
    }
  }
  const MemOptions o = parse_mem_options(args);

  Config cfg = Config::load(o.config);
  ParamSchema root("mem config");
  root.add("clock", ParamType::kFrequency,
           "clock of trace cycles (non-DRAM memories) and of latencies written in cycles")
      .at_least(1)
      .default_value(Quantity{1e9, false});
  const Params top = cfg.section("", root);
  const auto& reg = Registry<Memory>::instance();
  if (!cfg.has("memory"))
    throw InputError(
        fmt::format("{}: no [memory] table (expected e.g. [memory] type = \"dram\")", o.config));
  const std::string type = cfg.choose("memory.type", reg.names());
  const Params params = cfg.section("memory", reg.find(type)->schema);
  cfg.check_all_consumed();
  try {
    reg.describe(type, params);  // a model's own checks of its keys, located here
  } catch (const ParamError& e) {
    fail(cfg, e.key(), e.what_only());
  }
  const double clock_hz = top.get_hz("clock");

  StatGroup stats_root("mem_root");
  std::unique_ptr<Memory> mem =
      reg.find(type)->create(Memory::Args{"memory", params, clock_hz, &stats_root});
  auto* dram = dynamic_cast<DetailedDram*>(mem.get());
  auto* sram = dynamic_cast<BankedSram*>(mem.get());

  const uint64_t footprint = dram ? dram->device_bytes() : mem->capacity_bytes();
  std::unique_ptr<MemRequestSource> source;
  DramPatternSpec pat;
  if (o.trace) {
    source = make_trace_source(*o.trace);
  } else {
    pat.pattern = *o.pattern;
    pat.requests = *o.requests;
    pat.read_ratio = o.read_ratio.value_or(1.0);
    pat.stride_bytes = o.stride.value_or(64);
    pat.seed = o.seed.value_or(1);
    source = make_pattern_source(pat, footprint);
  }
  const uint64_t window = o.window ? *o.window : dram ? dram->read_queue_slots() : 256;
  const double cycle_s = dram ? dram->tck_seconds() : 1.0 / clock_hz;
  MemDriver host("host", *mem, std::move(source), window, cycle_s);

  const auto t0 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rethrow_process_error();
  host.rethrow_if_failed();
  if (!host.finished())
    throw InternalError("mem: the memory stopped before every request completed");
  const MemDriverResult r = host.result();
  // A fast model's peak_bytes_per_s() already includes its efficiency; compare against the
  // nominal `bandwidth` it was given, as for the DRAM presets.
  const Memory::Facts facts = Registry<Memory>::instance().describe(type, params);
  const double peak =
      facts.nominal_bytes_per_s > 0 ? facts.nominal_bytes_per_s : mem->peak_bytes_per_s();
  std::optional<double> hit_rate, refresh;
  if (dram) {
    hit_rate = dram->dram_stats().row_hit_rate.get();
    refresh = dram->refresh_overhead();
  }

  const std::string what = dram ? fmt::format("dram {}, {} stack{}", dram->spec().name,
                                              dram->stacks(), dram->stacks() == 1 ? "" : "s")
                                : type;
  const std::string stream =
      o.trace ? fmt::format("trace {}", *o.trace)
              : fmt::format("{}, {:.0f}% reads{}", pattern_name(pat.pattern), pat.read_ratio * 100,
                            pat.pattern == DramPattern::kStrided
                                ? fmt::format(", stride {} B", pat.stride_bytes)
                                : "");
  std::printf("  %-14s%s, peak %s\n", "memory", what.c_str(), human_rate(peak).c_str());
  std::printf("  %-14s%s, %llu requests of 64 B, window %llu\n", "stream", stream.c_str(),
              static_cast<unsigned long long>(r.requests), static_cast<unsigned long long>(window));
  std::printf("  %-14s%s (%.1f%% of peak)\n", "bandwidth", human_rate(r.bytes_per_s).c_str(),
              peak > 0 ? 100.0 * r.bytes_per_s / peak : 0.0);
  std::printf("  %-14smean %s, p50 %s, p99 %s\n", "latency", human_time(r.mean_latency_s).c_str(),
              human_time(r.p50_latency_s).c_str(), human_time(r.p99_latency_s).c_str());
  std::optional<uint64_t> conflicts, stall_cycles;
  if (sram) {
    const BankedSramStats& st = sram->sram_stats();
    conflicts = st.bank_conflicts.get();
    stall_cycles = st.conflict_stall_cycles.get();
    const double cycles = r.seconds * clock_hz;
    std::printf("  %-14s%llu accesses, %llu bank conflicts, %llu conflict stall cycles\n", "banks",
                static_cast<unsigned long long>(st.accesses.get()),
                static_cast<unsigned long long>(*conflicts),
                static_cast<unsigned long long>(*stall_cycles));
    std::string util;
    for (const auto& p : st.ports)
      util += fmt::format(
          "{}{} {:.1f}%", util.empty() ? "" : ", ",
          p->full_name().substr(st.full_name().size() + 1),
          cycles > 0 ? 100.0 * static_cast<double>(p->busy_cycles.get()) / cycles : 0.0);
    std::printf("  %-14s%s busy\n", "ports", util.c_str());
  }
  if (dram) {
    std::printf("  %-14s%.3f of classified requests\n", "row hits", *hit_rate);
    std::printf("  %-14s%.3f of bank-time (%.1f%%)\n", "refresh", *refresh, *refresh * 100);
  } else {
    std::printf("  %-14sn/a (type \"%s\" has no rows)\n", "row hits", type.c_str());
    std::printf("  %-14sn/a (type \"%s\" has no refresh)\n", "refresh", type.c_str());
  }
  std::printf("  %-14s%s in %.3f s wall (%.2f M requests/s)\n", "simulated",
              human_time(r.seconds).c_str(), wall_s,
              wall_s > 0 ? static_cast<double>(r.requests) / wall_s / 1e6 : 0.0);

  if (o.json) {
    // No wall-clock figures here: same inputs must give byte-identical files.
    std::string j = "{\n  \"schema_version\": 1,\n";
    j += fmt::format(
        "  \"memory\": {{\"type\": {}, \"preset\": {}, \"stacks\": {}, "
        "\"peak_bytes_per_s\": {}}},\n",
        json_string(type), dram ? json_string(dram->spec().name) : "null",
        dram ? num(static_cast<uint64_t>(dram->stacks())) : "null", num(peak));
    if (o.trace) {
      j += fmt::format("  \"stream\": {{\"trace\": {}, \"window\": {}}},\n", json_string(*o.trace),
                       num(window));
    } else {
      j += fmt::format(
          "  \"stream\": {{\"pattern\": {}, \"requests\": {}, \"read_ratio\": {}, "
          "\"stride_bytes\": {}, \"seed\": {}, \"window\": {}}},\n",
          json_string(pattern_name(pat.pattern)), num(pat.requests), num(pat.read_ratio),
          num(pat.stride_bytes), num(pat.seed), num(window));
    }
    j += "  \"results\": {\n";
    j += fmt::format("    \"requests\": {},\n", num(r.requests));
    j += fmt::format("    \"bytes\": {},\n", num(r.bytes));
    j += fmt::format("    \"simulated_s\": {},\n", num(r.seconds));
    j += fmt::format("    \"bandwidth_bytes_per_s\": {},\n", num(r.bytes_per_s));
    j += fmt::format("    \"bandwidth_fraction_of_peak\": {},\n",
                     num(peak > 0 ? r.bytes_per_s / peak : 0.0));
    j += fmt::format("    \"mean_latency_s\": {},\n", num(r.mean_latency_s));
    j += fmt::format("    \"p50_latency_s\": {},\n", num(r.p50_latency_s));
    j += fmt::format("    \"p99_latency_s\": {},\n", num(r.p99_latency_s));
    j += fmt::format("    \"row_hit_rate\": {},\n", hit_rate ? num(*hit_rate) : "null");
    j += fmt::format("    \"refresh_overhead\": {},\n", refresh ? num(*refresh) : "null");
    j += fmt::format("    \"bank_conflicts\": {},\n", conflicts ? num(*conflicts) : "null");
    j += fmt::format("    \"conflict_stall_cycles\": {}\n",
                     stall_cycles ? num(*stall_cycles) : "null");
    j += "  }\n}\n";
    write_file_atomic(*o.json, j);
  }
  return 0;
}

}  // namespace moesim
