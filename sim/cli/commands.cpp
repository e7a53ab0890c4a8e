#include "sim/cli/commands.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "hw_models/chip/dma.hpp"
#include "hw_models/compute/attention_unit.hpp"
#include "hw_models/compute/compute_unit.hpp"
#include "hw_models/compute/vector_unit.hpp"
#include "hw_models/interconnect/network.hpp"
#include "hw_models/interconnect/topology.hpp"
#include "hw_models/memory/dram_fidelity.hpp"
#include "hw_models/memory/residency/cache_policy.hpp"
#include "sim/cli/cli_util.hpp"
#include "sim/cli/cmd_comm.hpp"
#include "sim/cli/cmd_gemm.hpp"
#include "sim/cli/cmd_mem.hpp"
#include "sim/cli/cmd_place.hpp"
#include "sim/cli/cmd_report.hpp"
#include "sim/cli/cmd_rtl_verify.hpp"
#include "sim/cli/cmd_sweep.hpp"
#include "sim/cli/cmd_trace.hpp"
#include "sim/config/config.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/engine/residency_config.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/engine/system_config.hpp"
#include "sim/engine/workloads/workload_source.hpp"
#include "sim/output/atomic_file.hpp"
#include "sim/plan/placement.hpp"
#include "workloads/trace/routing/routing_rule.hpp"

namespace moesim {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMainHelp =
    R"(moesim: cycle-level simulator of Mixture-of-Experts accelerators

usage: moesim <command> [options]

commands:
  run CONFIG        simulate a config and write stats.json, stats.csv, effective_config.toml
  validate CONFIG   check a config (and its trace header) without simulating
  list              registered models with their parameters, and the shipped presets
  trace generate    write a synthetic routing trace (generator config or flags)
  trace convert     convert a trace between .csv, .jsonl and .moetrace
  trace import      convert a public routing log into a trace (olmoe-jsonl, engine-jsonl)
  trace stats       routing statistics of a trace (imbalance, locality, affinity, k)
  mem CONFIG        drive one memory model with a pattern or request trace (bandwidth, latency)
  comm CONFIG       time one collective on a multi-chip [system] (algbw, busbw, link load)
  gemm TOPOLOGY     the systolic compute unit alone on a GEMM or a SCALE-Sim topology
  place TRACE       compute an expert placement from a trace and report its balance and traffic
  sweep SWEEP.toml  run a design-space sweep, one process per point (results.csv, results.jsonl)
  report OUT_DIR    one self-contained HTML page with plots of a run's results
  rtl-verify BLOCK  co-simulate an RTL block against its reference and SystemC models

options:
  --help            help for moesim or for a command (moesim run --help)
  --version         print the version

exit codes: 0 success, 2 bad input (config, trace, arguments, missing file), 1 internal error
)";

constexpr const char* kRunHelp =
    R"(usage: moesim run CONFIG [--set key.path=value]... [--out DIR] [--seed N] [--quiet]
                   [--timeline FILE [--timeline-steps A:B]]

Simulates CONFIG and writes DIR/stats.json, DIR/stats.csv, DIR/effective_config.toml and
DIR/expert_load.csv (each written to a temporary file and renamed into place). DIR defaults
to out/<config name>.

  --set key.path=value  override any config key (repeatable), e.g. --set chip.memory.hbm.bandwidth=3.2TB/s
  --out DIR             output directory
  --seed N              seed of every random choice (sets sim.seed)
  --quiet               no progress lines and no summary table
  --timeline FILE       also write a Chrome Trace Event JSON timeline (open it in Perfetto,
                        ui.perfetto.dev, or chrome://tracing); see docs/timeline.md
  --timeline-steps A:B  record steps A to B-1 (counted from 0; 'A:' to the end); default 0:100
)";

constexpr const char* kValidateHelp = R"(usage: moesim validate CONFIG [--set key.path=value]...

Loads CONFIG with its includes and overrides, checks every key against the registered
models, opens the trace and checks its header against the model. Prints "ok" and exits 0,
or prints one error and exits 2.
)";

constexpr const char* kListHelp = R"(usage: moesim list

Every registered model (by interface: compute, vector and DMA units, memories, topologies,
networks, placement policies) with its parameters, types, units, defaults, ranges and a
one-line description; the fixed config sections (including [system] and
[mapping.parallel]); and the shipped presets.
)";

/// Options shared by run and validate.
struct ConfigOptions {
  std::string config;
  std::vector<std::string> sets;
  std::optional<std::string> out;
  std::optional<uint64_t> seed;
  bool quiet = false;
  std::optional<std::string> timeline;
  std::optional<std::string> timeline_steps;
};

ConfigOptions parse_config_options(const std::string& cmd, const std::vector<std::string>& args,
                                   bool run_options) {
  ConfigOptions o;
  std::vector<std::string> known = {"--set"};
  if (run_options) {
    known.insert(known.end(), {"--out", "--seed", "--quiet", "--timeline", "--timeline-steps"});
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      const size_t eq = a.find('=');
      if (eq != std::string::npos) return a.substr(eq + 1);
      if (i + 1 >= args.size()) usage_error(cmd, fmt::format("{} needs a value", a));
      return args[++i];
    };
    const std::string flag = a.substr(0, a.find('='));
    if (flag == "--set") {
      o.sets.push_back(a == "--set" ? value() : a.substr(6));
    } else if (run_options && flag == "--out") {
      o.out = value();
    } else if (run_options && flag == "--seed") {
      o.seed = parse_u64(cmd, "--seed", value());
    } else if (run_options && flag == "--timeline") {
      o.timeline = value();
    } else if (run_options && flag == "--timeline-steps") {
      o.timeline_steps = value();
    } else if (run_options && a == "--quiet") {
      o.quiet = true;
    } else if (a.size() > 1 && a[0] == '-') {
      const std::string hint = did_you_mean(flag, known);
      usage_error(cmd, fmt::format("unknown option '{}'{}", flag,
                                   hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    } else if (o.config.empty()) {
      o.config = a;
    } else {
      usage_error(cmd, fmt::format("unexpected argument '{}'", a));
    }
  }
  if (o.config.empty()) usage_error(cmd, "missing CONFIG");
  if (o.seed) o.sets.push_back(fmt::format("sim.seed={}", *o.seed));
  return o;
}

int cmd_run(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::fputs(kRunHelp, stdout);
    return 0;
  }
  const ConfigOptions o = parse_config_options("run", args, true);
  if (o.out && o.out->empty()) usage_error("run", "--out expects a directory, got ''");
  std::optional<TimelineOptions> timeline;
  if (o.timeline) {
    if (o.timeline->empty()) usage_error("run", "--timeline expects a file name, got ''");
    std::error_code ec;
    if (fs::is_directory(*o.timeline, ec)) {
      usage_error("run",
                  fmt::format("--timeline {}: is a directory, expected a file name", *o.timeline));
    }
    // A file that does not exist yet is fine; a name the file system refuses (too long, a
    // component that is not a directory) is not.
    if (ec && ec != std::errc::no_such_file_or_directory)
      usage_error("run", fmt::format("--timeline {}: {}", *o.timeline, ec.message()));
    timeline.emplace();
    timeline->path = *o.timeline;
    if (o.timeline_steps) parse_timeline_steps(*o.timeline_steps, *timeline);
  } else if (o.timeline_steps) {
    usage_error("run", "--timeline-steps needs --timeline FILE");
  }
  // The default directory is named after the config file (Config::name()), known before the
  // config is read.
  const std::string out_dir =
      o.out ? *o.out : (fs::path("out") / fs::path(o.config).stem()).string();
  // A failed run, even one whose config fails to load, must not leave an earlier run's
  // results looking like this run's: they go before anything can fail.
  std::error_code ec;
  for (const char* f : {"stats.json", "stats.csv", "effective_config.toml", "expert_load.csv"}) {
    fs::remove(fs::path(out_dir) / f, ec);
  }
  if (timeline) fs::remove(timeline->path, ec);
  Config cfg = Config::load(o.config, o.sets);
  const RunSpec spec = build_run_spec(cfg);
  fs::create_directories(out_dir, ec);
  if (ec)
    throw InputError(fmt::format("{}: cannot create output directory ({})", out_dir, ec.message()));
  Simulation sim(spec, open_workload(spec), !o.quiet);
  if (timeline) sim.record_timeline(*timeline);
  sim.run();
  sim.commit_timeline();
  write_file_atomic((fs::path(out_dir) / "effective_config.toml").string(), cfg.effective_toml());
  write_file_atomic((fs::path(out_dir) / "expert_load.csv").string(), sim.expert_load_csv());
  write_file_atomic((fs::path(out_dir) / "stats.csv").string(), sim.stats_csv());
  write_file_atomic((fs::path(out_dir) / "stats.json").string(), sim.stats_json());
  if (!o.quiet) {
    std::fputs(sim.summary_table().c_str(), stdout);
    std::printf("  %-22s%s\n", "results", (fs::path(out_dir) / "stats.json").string().c_str());
    if (timeline) std::printf("  %-22s%s\n", "timeline", timeline->path.c_str());
  }
  return 0;
}

int cmd_validate(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::fputs(kValidateHelp, stdout);
    return 0;
  }
  const ConfigOptions o = parse_config_options("validate", args, false);
  Config cfg = Config::load(o.config, o.sets);
  const RunSpec spec = build_run_spec(cfg);
  open_workload(spec);
  std::printf("%s: ok\n", o.config.c_str());
  return 0;
}

std::string value_text(const ParamValue& v, ParamType t) {
  return std::visit(
      [t](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Quantity>) {
          Dim d = t == ParamType::kSize        ? Dim::kSize
                  : t == ParamType::kBandwidth ? Dim::kBandwidth
                  : t == ParamType::kFrequency ? Dim::kFrequency
                                               : Dim::kTime;
          return "\"" + format_quantity(x, d) + "\"";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return "\"" + x + "\"";
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else {
          return fmt::format("{}", x);
        }
      },
      v);
}

void print_schema(const ParamSchema& s, const std::string& indent) {
  for (const ParamSpec& p : s.params()) {
    std::string range;
    if (p.min && p.max) {
      range = fmt::format(" [{}..{}]", *p.min, *p.max);
    } else if (p.min) {
      range = fmt::format(" [>= {}]", *p.min);
    }
    if (!p.choices.empty()) range = fmt::format(" {{{}}}", fmt::join(p.choices, ", "));
    const std::string def =
        p.default_val ? "default " + value_text(*p.default_val, p.type) : "required";
    std::printf("%s%-22s %-10s%s, %s\n%s    %s\n", indent.c_str(), p.name.c_str(),
                param_type_name(p.type), range.c_str(), def.c_str(), indent.c_str(),
                p.description.c_str());
  }
}

template <class Interface>
void print_registry(const char* title, const char* section, const char* key = "type") {
  std::printf("\n%s (%s, chosen with %s = \"...\")\n", title, section, key);
  for (const auto& [name, e] : Registry<Interface>::instance().entries()) {
    std::printf("  %s: %s\n", name.c_str(), e.description.c_str());
    print_schema(e.schema, "    ");
  }
}

void print_presets(const char* title, const fs::path& dir) {
  std::printf("\n%s (%s)\n", title, dir.string().c_str());
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".toml") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) std::printf("  %s\n", n.c_str());
}

int cmd_list(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::fputs(kListHelp, stdout);
    return 0;
  }
  if (!args.empty()) usage_error("list", fmt::format("unexpected argument '{}'", args[0]));
  std::printf("Config sections\n");
  std::printf("  [sim]\n");
  print_schema(sim_schema(), "    ");
  ParamSchema model("model");
  ModelSpec::declare(model);
  std::printf("  [model]\n");
  print_schema(model, "    ");
  ParamSchema chip("chip");
  ChipSpec::declare(chip);
  std::printf(
      "  [chip] (with [chip.compute], [chip.vector], [chip.dma], [chip.sram] and one "
      "[chip.memory.NAME] per tier)\n");
  print_schema(chip, "    ");
  std::printf(
      "  [chip.energy] (per-event energies, docs/energy.md; mac_dtype defaults to the model's "
      "weight width)\n");
  print_schema(chip_energy_schema("fp8"), "    ");
  std::printf(
      "  [chip.sram.energy], [chip.memory.NAME.energy] (keys and defaults by model and "
      "technology: docs/energy.md; the effective config shows them)\n");
  std::printf("  [mapping]\n");
  print_schema(mapping_schema(), "    ");
  std::printf("  [mapping.parallel] (several chips: parallel degrees and collective algorithms)\n");
  print_schema(parallel_schema(), "    ");
  std::printf("  [mapping.fusion] (kernels: operator fusion and launch cost; docs/fusion.md)\n");
  print_schema(fusion_schema(), "    ");
  for (const std::string& p : cache_policy_names()) {
    std::printf("  [mapping.cache.TIER] policy = \"%s\" (TIER caches the weights tier)\n",
                p.c_str());
    print_schema(cache_schema(p), "    ");
  }
  for (const std::string& w : workload_types()) {
    std::printf("  [workload] type = \"%s\"\n", w.c_str());
    print_schema(workload_schema(w), "    ");
  }
  std::printf("  [system] (with [system.topology] and [system.network]; absent: one chip)\n");
  print_schema(system_schema(), "    ");
  std::printf("  [system.topology.links.NAME] (type = \"explicit\" only: one link each)\n");
  print_schema(link_schema(), "    ");
  std::printf("  [system.energy]\n");
  print_schema(system_energy_schema(), "    ");
  print_registry<ComputeUnit>("Compute units", "[chip.compute]");
  print_registry<VectorUnit>("Vector units", "[chip.vector]");
  print_registry<DmaEngine>("DMA engines", "[chip.dma]");
  print_registry<AttentionUnit>("Attention units (optional)", "[chip.attention]");
  print_registry<ActivationUnit>("Activation units (optional)", "[chip.activation]");
  print_registry<Memory>("Memories", "[chip.sram], [chip.memory.NAME]");
  print_registry<DramFidelity>("DRAM fidelities", "[chip.memory.NAME] type = \"dram\"", "fidelity");
  print_registry<TopologyBuilder>("Topologies", "[system.topology]");
  print_registry<Network>("Networks", "[system.network]");
  print_registry<PlacementPolicy>("Placement policies", "[mapping.placement]");
  print_registry<RoutingRule>("Generator routing rules", "[routing] of a generator config");
  print_registry<CacheReplacement>("Cache policies", "[mapping.cache.TIER]", "policy");
  const fs::path root = MOESIM_SOURCE_DIR;
  print_presets("Hardware presets", root / "configs" / "hw");
  print_presets("Model presets", root / "workloads" / "models");
  print_presets("Run configs", root / "configs");
  return 0;
}

}  // namespace

int cli_main(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fputs(kMainHelp, stderr);
    return 2;
  }
  const std::string& cmd = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kMainHelp, stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("moesim %s\n", MOESIM_VERSION);
    return 0;
  }
  if (cmd == "run") return cmd_run(rest);
  if (cmd == "validate") return cmd_validate(rest);
  if (cmd == "list") return cmd_list(rest);
  if (cmd == "trace") return cmd_trace(rest);
  if (cmd == "mem") return cmd_mem(rest);
  if (cmd == "comm") return cmd_comm(rest);
  if (cmd == "gemm") return cmd_gemm(rest);
  if (cmd == "place") return cmd_place(rest);
  if (cmd == "sweep") return cmd_sweep(rest);
  if (cmd == "report") return cmd_report(rest);
  if (cmd == "rtl-verify") return cmd_rtl_verify(rest);
  const std::string hint = did_you_mean(cmd, {"run", "validate", "list", "trace", "mem", "comm",
                                              "gemm", "place", "sweep", "report", "rtl-verify"});
  throw InputError(fmt::format("unknown command '{}'{} (see 'moesim --help')", cmd,
                               hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

}  // namespace moesim
