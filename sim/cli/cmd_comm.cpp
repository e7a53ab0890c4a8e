/// `moesim comm`: a collective's time, algorithm and bus bandwidth, and per-link load.

#include "sim/cli/cmd_comm.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <systemc>

#include "hw_models/interconnect/collective.hpp"
#include "hw_models/interconnect/network.hpp"
#include "sim/config/config.hpp"
#include "sim/core/display_path.hpp"
#include "sim/core/error.hpp"
#include "sim/core/json_text.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/sc_thread.hpp"
#include "sim/core/sim_time.hpp"
#include "sim/core/stats.hpp"
#include "sim/core/units_text.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/engine/system_config.hpp"
#include "sim/output/atomic_file.hpp"
#include "sim/plan/system_plan.hpp"

namespace moesim {

namespace {

constexpr const char* kCommHelp =
    R"(usage: moesim comm CONFIG --collective C --bytes B [--algorithm A] [--seed S] [--json OUT]
       moesim comm CONFIG --routing [TRACE] --step N --layer L [--role R] [--algorithm A]
                   [--json OUT]

Runs one collective over every chip of CONFIG's [system] on its network model (every chip
starts at time 0) and reports its time, algorithm bandwidth and bus bandwidth as nccl-tests
defines them, and each link direction's bytes, busy time and utilisation. With --bytes only
the [system] tables are read (a full run config works; its other tables are not checked).

  --collective C    all_to_all, all_to_all_v, all_reduce, all_gather or reduce_scatter
  --bytes B         per-chip size as nccl-tests counts it: "1MiB", "64MB" or plain bytes.
                    all_to_all: each chip's send buffer, B/n to each chip (its own slice
                    included); all_to_all_v: each pair gets a random size in [0, 2B/n]
                    (seeded); all_reduce: the buffer; all_gather: the output buffer (B/n
                    from each chip); reduce_scatter: the input buffer
  --algorithm A     direct, ring or hierarchical (all-to-all; default direct, with --routing
                    the config's dispatch_algorithm); ring or tree (all_reduce; default
                    ring); ring (all_gather, reduce_scatter)
  --seed S          seed of the all_to_all_v sizes (default 1)
  --json OUT        also write the results as JSON (temporary file, then renamed)

Routing mode (CONFIG is a full run config: model, chip, mapping, [system], workload):
  --routing [TRACE] the all-to-all-v of one step's routing, as the system planner makes it
                    (placement, data-parallel attention, dedup_dispatch). TRACE (csv, jsonl
                    or moetrace; put it right after --routing, or --routing=TRACE) replaces
                    the config's workload; without it the config's own workload is read
  --step N          the step, counting the workload's steps from 0 (max_steps not applied)
  --layer L         the MoE layer, counting MoE layers from 0 (0..moe_layers-1), not
                    transformer layers (they differ when the model has dense layers)
  --role R          dispatch (default) or combine (the dispatch matrix transposed)
Every expert-parallel group's collective of that layer runs at once. Reported besides the
time: bytes between chips (the matrix without its diagonal), bytes kept on chip, and max
and mean bytes each chip sends to other chips; algbw = mean per-chip send buffer (own slice
included, as nccl-tests counts all_to_all) / time, busbw = algbw x (n-1)/n with n the
expert-parallel group size.

algbw = B / time; busbw = algbw x 2(n-1)/n (all_reduce), x (n-1)/n (the others).
)";

[[noreturn]] void comm_error(const std::string& msg) {
  throw InputError(fmt::format("comm: {} (see 'moesim comm --help')", msg));
}

struct CommOptions {
  std::string config;
  std::string collective;
  std::optional<uint64_t> bytes;
  std::optional<CollectiveAlgo> algo;
  std::optional<uint64_t> seed;
  std::optional<std::string> json;
  bool routing = false;
  std::string trace;  ///< --routing TRACE; empty: the config's workload
  std::optional<uint64_t> step;
  std::optional<uint64_t> layer;
  std::optional<CommRole> role;
};

/// A non-negative integer option value.
uint64_t parse_count(const std::string& flag, const std::string& v) {
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 19)
    comm_error(fmt::format("{} expects a non-negative integer, got '{}'", flag, v));
  return std::stoull(v);
}

uint64_t parse_bytes(const std::string& v) {
  if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos && v.size() <= 16)
    return std::stoull(v);
  std::string why;
  const auto q = parse_quantity(v, Dim::kSize, &why);
  if (!q)
    comm_error(fmt::format(
        "--bytes expects a size such as \"1MiB\", \"64MB\" or a number of bytes, got '{}'", v));
  return static_cast<uint64_t>(q->value);
}

CommOptions parse_comm_options(const std::vector<std::string>& args) {
  CommOptions o;
  const std::vector<std::string> known = {"--collective", "--bytes", "--algorithm",
                                          "--seed",       "--json",  "--routing",
                                          "--step",       "--layer", "--role"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() > 1 && a[0] == '-') {
      const size_t eq = a.find('=');
      const std::string flag = a.substr(0, eq);
      if (std::find(known.begin(), known.end(), flag) == known.end()) {
        const std::string hint = did_you_mean(flag, known);
        comm_error(fmt::format("unknown option '{}'{}", flag,
                               hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
      if (flag == "--routing") {
        // The trace is optional: the next argument is it when CONFIG came first and the
        // argument is not an option.
        o.routing = true;
        if (eq != std::string::npos) {
          o.trace = a.substr(eq + 1);
          if (o.trace.empty()) comm_error("--routing= needs a trace file after '='");
        } else if (!o.config.empty() && i + 1 < args.size() && !args[i + 1].empty() &&
                   args[i + 1][0] != '-') {
          o.trace = args[++i];
        }
        continue;
      }
      std::string v;
      if (eq != std::string::npos) {
        v = a.substr(eq + 1);
      } else {
        if (i + 1 >= args.size()) comm_error(fmt::format("{} needs a value", flag));
        v = args[++i];
      }
      if (flag == "--collective") {
        const std::vector<std::string> kinds = {"all_to_all", "all_to_all_v", "all_reduce",
                                                "all_gather", "reduce_scatter"};
        if (std::find(kinds.begin(), kinds.end(), v) == kinds.end()) {
          const std::string hint = did_you_mean(v, kinds);
          comm_error(fmt::format(
              "--collective expects all_to_all, all_to_all_v, all_reduce, all_gather or "
              "reduce_scatter, got '{}'{}",
              v, hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
        }
        o.collective = v;
      } else if (flag == "--bytes") {
        o.bytes = parse_bytes(v);
      } else if (flag == "--algorithm") {
        if (v == "direct")
          o.algo = CollectiveAlgo::kDirect;
        else if (v == "ring")
          o.algo = CollectiveAlgo::kRing;
        else if (v == "hierarchical")
          o.algo = CollectiveAlgo::kHierarchical;
        else if (v == "tree")
          o.algo = CollectiveAlgo::kTree;
        else
          comm_error(
              fmt::format("--algorithm expects direct, ring, hierarchical or tree, got '{}'", v));
      } else if (flag == "--seed") {
        o.seed = parse_count(flag, v);
      } else if (flag == "--step") {
        o.step = parse_count(flag, v);
      } else if (flag == "--layer") {
        o.layer = parse_count(flag, v);
      } else if (flag == "--role") {
        if (v == "dispatch") {
          o.role = CommRole::kDispatch;
        } else if (v == "combine") {
          o.role = CommRole::kCombine;
        } else {
          const std::string hint = did_you_mean(v, {"dispatch", "combine"});
          comm_error(fmt::format("--role expects dispatch or combine, got '{}'{}", v,
                                 hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
        }
      } else {
        o.json = v;
      }
    } else if (o.config.empty()) {
      o.config = a;
    } else {
      comm_error(fmt::format("unexpected argument '{}'", a));
    }
  }
  if (o.config.empty()) comm_error("missing CONFIG");
  if (o.routing) {
    // The collective, its sizes and pattern come from the routing.
    if (!o.collective.empty())
      comm_error(
          "--collective does not apply with --routing (the collective is the step's "
          "dispatch or combine all-to-all-v; see --role)");
    if (o.bytes)
      comm_error("--bytes does not apply with --routing (the sizes come from the trace)");
    if (o.seed) comm_error("--seed does not apply with --routing (the sizes come from the trace)");
    if (!o.step) comm_error("--routing needs --step N");
    if (!o.layer) comm_error("--routing needs --layer L");
    return o;
  }
  for (const auto& [given, flag] :
       {std::pair{o.step.has_value(), "--step"}, std::pair{o.layer.has_value(), "--layer"},
        std::pair{o.role.has_value(), "--role"}}) {
    if (given) comm_error(fmt::format("{} needs --routing", flag));
  }
  if (o.collective.empty()) comm_error("expects --collective (or --routing)");
  if (!o.bytes) comm_error("expects --bytes");
  if (*o.bytes == 0) comm_error("--bytes must be at least 1");
  return o;
}

/// Starts every chip of every collective at time 0 from a process (the network is driven
/// from simulation time).
class CommStarter : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(CommStarter);
  CommStarter(const sc_core::sc_module_name& name, CollectiveExecutor& exec,
              std::vector<std::vector<ChipId>> groups)
      : sc_core::sc_module(name), m_exec(exec), m_groups(std::move(groups)) {
    MOESIM_SC_THREAD(run);
  }

 private:
  void run() {
    for (uint32_t k = 0; k < m_groups.size(); ++k)
      for (ChipId c : m_groups[k]) m_exec.arrive(k, c);
  }
  CollectiveExecutor& m_exec;
  std::vector<std::vector<ChipId>> m_groups;  // by instance
};

/// One run of some collectives on a system's network, all chips arriving at time 0.
struct NetworkRun {
  std::unique_ptr<StatGroup> stats_root;
  std::unique_ptr<Network> net;
  double time_s = 0;           ///< when the last chip finished
  size_t messages = 0;         ///< over every collective
  uint64_t message_bytes = 0;  ///< bytes of every message (relays counted per hop message)
};

/// Runs `scheds` at once on `sys`'s network.
NetworkRun run_collectives(const SystemSpec& sys, std::vector<CollectiveSchedule> scheds) {
  NetworkRun r;
  r.stats_root = std::make_unique<StatGroup>("comm");
  const auto* entry = Registry<Network>::instance().find(sys.network.type);
  r.net =
      entry->create(Network::Args{"network", sys.network.params, sys.topology, r.stats_root.get()});
  double last = 0;
  CollectiveExecutor exec(*r.net, [&](uint32_t, ChipId) {
    last = std::max(last, sc_core::sc_time_stamp().to_seconds());
  });
  std::vector<std::vector<ChipId>> groups;
  for (auto& sched : scheds) {
    r.messages += sched.messages.size();
    for (const auto& msg : sched.messages) r.message_bytes += msg.bytes;
    groups.push_back(sched.group);
    exec.add(std::move(sched));
  }
  CommStarter starter("starter", exec, std::move(groups));
  sc_core::sc_start();
  rethrow_process_error();
  if (!exec.all_done())
    throw InternalError("comm: the network stopped before the collective completed");
  r.time_s = last;
  return r;
}

/// splitmix64: the same sizes on every platform (std distributions are not portable).
uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::string num(double v) {
  return format_stat_number(v, false);
}
std::string num(uint64_t v) {
  return format_stat_number(static_cast<double>(v), true);
}

/// "512 B", "1.50 MiB" (two decimals: collective sizes are compared closely).
std::string human_size(uint64_t b) {
  const ScaledBytes s = scale_bytes(b);
  return s.whole_bytes ? fmt::format("{} B", b) : fmt::format("{:.2f} {}", s.value, s.unit);
}

/// The per-link table of the text report.
void print_links(const Topology& topo, const Network& net, double t) {
  std::printf("  %-14s\n", "links");
  std::printf("    %-18s %14s %12s %10s %10s\n", "link", "bytes", "busy", "busy %", "util %");
  for (uint32_t i = 0; i < topo.links().size(); ++i) {
    const LinkStats& ls = net.link_stats(i);
    const double util = t > 0 ? static_cast<double>(ls.bytes.get()) / (ls.peak * t) : 0.0;
    std::printf("    %-18s %14llu %12s %9.1f%% %9.1f%%\n", topo.links()[i].name.c_str(),
                static_cast<unsigned long long>(ls.bytes.get()),
                human_time(ls.busy_s.get()).c_str(), t > 0 ? 100.0 * ls.busy_s.get() / t : 0.0,
                100.0 * util);
  }
}

constexpr EscapeStyle kEscape{false, false};
std::string q(const std::string& s) {
  return json_quote(s, kEscape);
}
std::string bytes_json(uint64_t b) {
  return fmt::format("{{\"value\": {}, \"unit\": \"B\"}}", num(b));
}

/// `"results"` and `"links"` of the JSON report, and its end.
std::string json_results(const Topology& topo, const Network& net, double t, double algbw,
                         double busbw, double bus_factor) {
  std::string j = "  \"results\": {\n";
  j += fmt::format("    \"time\": {{\"value\": {}, \"unit\": \"s\"}},\n", num(t));
  j += fmt::format("    \"algbw\": {{\"value\": {}, \"unit\": \"B/s\"}},\n", num(algbw));
  j += fmt::format("    \"busbw\": {{\"value\": {}, \"unit\": \"B/s\"}},\n", num(busbw));
  j += fmt::format("    \"busbw_factor\": {{\"value\": {}, \"unit\": \"1\"}}\n", num(bus_factor));
  j += "  },\n  \"links\": [\n";
  for (uint32_t i = 0; i < topo.links().size(); ++i) {
    const LinkStats& ls = net.link_stats(i);
    const LinkSpec& l = topo.links()[i];
    const double util = t > 0 ? static_cast<double>(ls.bytes.get()) / (ls.peak * t) : 0.0;
    j += fmt::format(
        "    {{\"name\": {}, \"from\": {}, \"to\": {}, \"bandwidth\": {{\"value\": {}, \"unit\": "
        "\"B/s\"}}, \"bytes\": {{\"value\": {}, \"unit\": \"B\"}}, \"busy_time\": {{\"value\": "
        "{}, \"unit\": \"s\"}}, \"utilisation\": {{\"value\": {}, \"unit\": \"1\"}}}}{}\n",
        q(l.name), q(topo.node_name(l.from)), q(topo.node_name(l.to)), num(l.bytes_per_s),
        num(ls.bytes.get()), num(ls.busy_s.get()), num(util),
        i + 1 < topo.links().size() ? "," : "");
  }
  j += "  ]\n}\n";
  return j;
}

/// The `--bytes` mode: a synthetic collective of nccl-tests' size over every chip.
int comm_bytes(const CommOptions& o) {
  Config cfg = Config::load(o.config);
  // Only [system] is read: `moesim comm` works on a full run config too, and strictness holds
  // inside [system] (unknown keys and tables there are errors).
  const SystemSpec sys = read_system_spec(cfg);
  if (sys.chips < 2)
    throw InputError(located_message(cfg.where("system.chips"), sys.present ? "system.chips" : "",
                                     sys.present ? "a collective needs at least 2 chips"
                                                 : "no [system] table (expected [system] "
                                                   "chips = N with [system.topology] and "
                                                   "[system.network])"));
  const uint32_t n = sys.chips;
  const uint64_t B = *o.bytes;
  const uint64_t seed = o.seed.value_or(1);
  std::vector<ChipId> group(n);
  for (uint32_t i = 0; i < n; ++i) group[i] = i;

  CollectiveSchedule sched;
  double bus_factor = static_cast<double>(n - 1) / n;
  auto algo_or = [&](CollectiveAlgo def, std::vector<CollectiveAlgo> ok, const char* expected) {
    const CollectiveAlgo a = o.algo.value_or(def);
    if (std::find(ok.begin(), ok.end(), a) == ok.end())
      comm_error(fmt::format("--algorithm {} does not apply to {} (expected {})",
                             collective_algo_name(a), o.collective, expected));
    return a;
  };
  if (o.collective == "all_to_all" || o.collective == "all_to_all_v") {
    const CollectiveAlgo a =
        algo_or(CollectiveAlgo::kDirect,
                {CollectiveAlgo::kDirect, CollectiveAlgo::kRing, CollectiveAlgo::kHierarchical},
                "direct, ring or hierarchical");
    std::vector<uint64_t> m(static_cast<size_t>(n) * n, 0);
    uint64_t state = seed;
    for (uint32_t i = 0; i < n; ++i) {
      for (uint32_t j = 0; j < n; ++j) {
        if (o.collective == "all_to_all") {
          m[static_cast<size_t>(i) * n + j] = slice_bytes(B, n, j);
        } else {
          const uint64_t hi = 2 * (B / n);
          m[static_cast<size_t>(i) * n + j] = hi == 0 ? 0 : next_random(state) % (hi + 1);
        }
      }
    }
    sched = all_to_all_v(sys.topology, group, m, a);
    sched.bytes_per_chip = B;
  } else if (o.collective == "all_reduce") {
    const CollectiveAlgo a = algo_or(
        CollectiveAlgo::kRing, {CollectiveAlgo::kRing, CollectiveAlgo::kTree}, "ring or tree");
    sched = all_reduce(sys.topology, group, B, a);
    bus_factor = 2.0 * (n - 1) / n;
  } else if (o.collective == "all_gather") {
    sched = all_gather(sys.topology, group, B,
                       algo_or(CollectiveAlgo::kRing, {CollectiveAlgo::kRing}, "ring"));
  } else {
    sched = reduce_scatter(sys.topology, group, B,
                           algo_or(CollectiveAlgo::kRing, {CollectiveAlgo::kRing}, "ring"));
  }
  const CollectiveAlgo algo = sched.algo;
  std::vector<CollectiveSchedule> scheds;
  scheds.push_back(std::move(sched));
  const NetworkRun run = run_collectives(sys, std::move(scheds));
  const double t = run.time_s;
  const double algbw = t > 0 ? static_cast<double>(B) / t : 0.0;
  const double busbw = algbw * bus_factor;

  const Topology& topo = sys.topology;
  std::printf("  %-14s%u chips, topology %s, network %s\n", "system", n, sys.topology_type.c_str(),
              sys.network.type.c_str());
  std::printf("  %-14s%s, algorithm %s, %s per chip (%llu B), %zu messages\n", "collective",
              o.collective.c_str(), collective_algo_name(algo), human_size(B).c_str(),
              static_cast<unsigned long long>(B), run.messages);
  std::printf("  %-14s%s\n", "time", human_time(t).c_str());
  std::printf("  %-14s%s\n", "algbw", human_rate(algbw).c_str());
  std::printf("  %-14s%s (algbw x %s)\n", "busbw", human_rate(busbw).c_str(),
              o.collective == "all_reduce" ? "2(n-1)/n" : "(n-1)/n");
  print_links(topo, *run.net, t);

  if (o.json) {
    std::string j = "{\n  \"schema_version\": 1,\n";
    j += fmt::format("  \"system\": {{\"chips\": {}, \"topology\": {}, \"network\": {}}},\n",
                     num(uint64_t{n}), q(sys.topology_type), q(sys.network.type));
    j += fmt::format(
        "  \"collective\": {{\"kind\": {}, \"algorithm\": {}, \"bytes_per_chip\": {{\"value\": "
        "{}, \"unit\": \"B\"}}, \"messages\": {}, \"message_bytes\": {{\"value\": {}, \"unit\": "
        "\"B\"}}, \"seed\": {}}},\n",
        q(o.collective), q(collective_algo_name(algo)), num(B), num(uint64_t{run.messages}),
        num(run.message_bytes), o.collective == "all_to_all_v" ? num(seed) : "null");
    j += json_results(topo, *run.net, t, algbw, busbw, bus_factor);
    write_file_atomic(*o.json, j);
  }
  return 0;
}

/// Where the routing comes from, for the report and messages.
std::string workload_text(const RunSpec& spec) {
  switch (spec.workload.source) {
    case WorkloadSpec::Source::kTrace:
      return fmt::format("trace \"{}\"", spec.workload.trace_path);
    case WorkloadSpec::Source::kGenerator:
      return fmt::format("workload generator \"{}\"", spec.workload.trace_path);
    case WorkloadSpec::Source::kSynthetic:
      return "workload synthetic";
    case WorkloadSpec::Source::kCoeRequests:
      return "workload coe_requests";
  }
  return "";
}

/// The workload's source, as `[workload] type` names it.
const char* workload_type(const RunSpec& spec) {
  switch (spec.workload.source) {
    case WorkloadSpec::Source::kTrace:
      return "trace";
    case WorkloadSpec::Source::kGenerator:
      return "generator";
    case WorkloadSpec::Source::kSynthetic:
      return "synthetic";
    case WorkloadSpec::Source::kCoeRequests:
      return "coe_requests";
  }
  return "";
}

/// The `--routing` mode: one step's dispatch or combine, as the system planner makes it.
int comm_routing(const CommOptions& o) {
  Config cfg = Config::load(o.config);
  RunSpec spec = build_run_spec(cfg);
  const SystemSpec& sys = spec.system;
  if (sys.chips < 2)
    comm_error(fmt::format("--routing needs a [system] of several chips ({} describes one chip)",
                           o.config));
  const ModelSpec& md = spec.model;
  const uint64_t moe_l = *o.layer;
  if (moe_l >= md.moe_layers())
    comm_error(fmt::format(
        "--layer {} is out of range: model '{}' has {} MoE layers (--layer counts MoE layers "
        "0..{}, not transformer layers)",
        moe_l, md.name, md.moe_layers(), md.moe_layers() - 1));
  // The transformer layer of MoE layer moe_l (CollectiveRequest::layer).
  uint32_t layer = 0;
  for (uint32_t k = 0, seen = 0; k < md.layers; ++k) {
    if (!md.is_moe_layer(k)) continue;
    if (seen++ == moe_l) {
      layer = k;
      break;
    }
  }
  const CommRole role = o.role.value_or(CommRole::kDispatch);
  const CollectiveAlgo algo = o.algo.value_or(spec.dispatch_algo);
  if (algo == CollectiveAlgo::kTree)
    comm_error(
        fmt::format("--algorithm tree does not apply to {} (expected direct, ring or "
                    "hierarchical)",
                    comm_role_name(role)));
  if (!o.trace.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(o.trace, ec))
      comm_error(fmt::format("--routing: cannot open trace \"{}\" ({})", o.trace,
                             std::filesystem::exists(o.trace, ec) ? "not a regular file"
                                                                  : "No such file or directory"));
    spec.workload = WorkloadSpec{};
    spec.workload.source = WorkloadSpec::Source::kTrace;
    spec.workload.trace_path = display_path(o.trace);
    spec.workload.trace_path_loc = SourceLoc{"--routing", 0, 0};
  }
  std::unique_ptr<TraceReader> reader = open_workload(spec);
  TraceStep step;
  uint64_t read = 0;
  while (read <= *o.step && reader->next(step)) ++read;
  if (read <= *o.step)
    comm_error(fmt::format("--step {}: {} has only {} steps (--step counts from 0)", *o.step,
                           workload_text(spec), read));

  SystemPlanner planner(md, spec.plan, spec.parallel);
  const uint32_t n = sys.chips;
  std::vector<StepPlan> plans(n);
  std::vector<StepPlan*> out;
  for (StepPlan& p : plans) out.push_back(&p);
  std::vector<CollectiveRequest> requests;
  planner.plan(step, out, requests);

  // Every expert-parallel group's collective of that layer and role, and the matrix summary.
  std::vector<CollectiveSchedule> scheds;
  std::vector<uint64_t> sent(n, 0);
  uint64_t between = 0;
  uint64_t local = 0;
  uint32_t group_size = 0;
  for (const CollectiveRequest& r : requests) {
    if (r.role != role || r.layer != layer) continue;
    const size_t g = r.group.size();
    group_size = static_cast<uint32_t>(g);
    for (size_t i = 0; i < g; ++i) {
      for (size_t j = 0; j < g; ++j) {
        const uint64_t b = r.bytes[i * g + j];
        if (i == j) {
          local += b;
        } else {
          between += b;
          sent[r.group[i]] += b;
        }
      }
    }
    std::vector<ChipId> group(r.group.begin(), r.group.end());
    scheds.push_back(all_to_all_v(sys.topology, group, r.bytes, algo));
  }
  if (scheds.empty())
    throw InternalError(
        fmt::format("comm: no {} collective planned for layer {}", comm_role_name(role), layer));
  const uint64_t max_sent = *std::max_element(sent.begin(), sent.end());
  const double mean_sent = static_cast<double>(between) / n;
  const double buffer = static_cast<double>(between + local) / n;  // per chip, own slice too
  const size_t groups = scheds.size();
  const uint64_t row_bytes = uint64_t{md.hidden} * md.act_bytes;

  const NetworkRun run = run_collectives(sys, std::move(scheds));
  const double t = run.time_s;
  const double bus_factor = static_cast<double>(group_size - 1) / group_size;
  const double algbw = t > 0 ? buffer / t : 0.0;
  const double busbw = algbw * bus_factor;

  const Topology& topo = sys.topology;
  const std::string src = workload_text(spec);
  std::printf("  %-14s%u chips, topology %s, network %s\n", "system", n, sys.topology_type.c_str(),
              sys.network.type.c_str());
  std::printf("  %-14s%s, step %llu (index %llu, %u tokens), MoE layer %llu (layer %u)\n",
              "routing", src.c_str(), static_cast<unsigned long long>(*o.step),
              static_cast<unsigned long long>(step.index), step.num_tokens(),
              static_cast<unsigned long long>(moe_l), layer);
  std::printf(
      "  %-14s%s (all_to_all_v), algorithm %s, %zu expert-parallel group%s of %u chips, "
      "%zu messages\n",
      "collective", comm_role_name(role), collective_algo_name(algo), groups,
      groups == 1 ? "" : "s", group_size, run.messages);
  std::printf(
      "  %-14s%llu B (%s) between chips, %llu token rows of %llu B; %llu B kept on "
      "chip\n",
      "matrix", static_cast<unsigned long long>(between), human_size(between).c_str(),
      static_cast<unsigned long long>(between / row_bytes),
      static_cast<unsigned long long>(row_bytes), static_cast<unsigned long long>(local));
  std::printf("  %-14smax %llu B (%s), mean %s B per chip to other chips\n", "sent",
              static_cast<unsigned long long>(max_sent), human_size(max_sent).c_str(),
              num(mean_sent).c_str());
  std::printf("  %-14s%s\n", "time", human_time(t).c_str());
  std::printf("  %-14s%s (mean send buffer %s B per chip, own slice included)\n", "algbw",
              human_rate(algbw).c_str(), num(buffer).c_str());
  std::printf("  %-14s%s (algbw x (n-1)/n, n = %u)\n", "busbw", human_rate(busbw).c_str(),
              group_size);
  print_links(topo, *run.net, t);

  if (o.json) {
    std::string j = "{\n  \"schema_version\": 1,\n";
    j += fmt::format("  \"system\": {{\"chips\": {}, \"topology\": {}, \"network\": {}}},\n",
                     num(uint64_t{n}), q(sys.topology_type), q(sys.network.type));
    j += fmt::format(
        "  \"routing\": {{\"workload\": {}, \"trace\": {}, \"step\": {}, \"step_index\": {}, "
        "\"tokens\": {}, \"moe_layer\": {}, \"layer\": {}}},\n",
        q(workload_type(spec)),
        spec.workload.source == WorkloadSpec::Source::kTrace ? q(spec.workload.trace_path) : "null",
        num(*o.step), num(step.index), num(uint64_t{step.num_tokens()}), num(moe_l),
        num(uint64_t{layer}));
    j += fmt::format(
        "  \"collective\": {{\"kind\": \"all_to_all_v\", \"role\": {}, \"algorithm\": {}, "
        "\"groups\": {}, \"group_chips\": {}, \"bytes_per_chip\": {{\"value\": {}, \"unit\": "
        "\"B\"}}, \"messages\": {}, \"message_bytes\": {}, \"seed\": null}},\n",
        q(comm_role_name(role)), q(collective_algo_name(algo)), num(uint64_t{groups}),
        num(uint64_t{group_size}), num(buffer), num(uint64_t{run.messages}),
        bytes_json(run.message_bytes));
    j += fmt::format(
        "  \"matrix\": {{\"total_bytes\": {}, \"local_bytes\": {}, \"max_sent_bytes\": {}, "
        "\"mean_sent_bytes\": {{\"value\": {}, \"unit\": \"B\"}}, \"row_bytes\": {}}},\n",
        bytes_json(between), bytes_json(local), bytes_json(max_sent), num(mean_sent),
        bytes_json(row_bytes));
    j += json_results(topo, *run.net, t, algbw, busbw, bus_factor);
    write_file_atomic(*o.json, j);
  }
  return 0;
}

}  // namespace

int cmd_comm(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kCommHelp, stdout);
      return 0;
    }
  }
  const CommOptions o = parse_comm_options(args);
  return o.routing ? comm_routing(o) : comm_bytes(o);
}

}  // namespace moesim
