/// `moesim comm`: a collective's time, algorithm and bus bandwidth, and per-link load.

#include "sim/cli/cmd_comm.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <systemc>

#include "hw_models/interconnect/collective.hpp"
#include "hw_models/interconnect/network.hpp"
#include "sim/config/config.hpp"
#include "sim/core/error.hpp"
#include "sim/core/json_text.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/stats.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/engine/system_config.hpp"

namespace moesim {

namespace {

constexpr const char* kCommHelp =
    R"(usage: moesim comm CONFIG --collective C --bytes B [--algorithm A] [--seed S] [--json OUT]

Runs one collective over every chip of CONFIG's [system] on its network model (every chip
starts at time 0) and reports its time, algorithm bandwidth and bus bandwidth as nccl-tests
defines them, and each link direction's bytes, busy time and utilisation. Only the [system]
tables are read (a full run config works; its other tables are not checked).

  --collective C    all_to_all, all_to_all_v, all_reduce, all_gather or reduce_scatter
  --bytes B         per-chip size as nccl-tests counts it: "1MiB", "64MB" or plain bytes.
                    all_to_all: each chip's send buffer, B/n to each chip (its own slice
                    included); all_to_all_v: each pair gets a random size in [0, 2B/n]
                    (seeded); all_reduce: the buffer; all_gather: the output buffer (B/n
                    from each chip); reduce_scatter: the input buffer
  --algorithm A     direct, ring or hierarchical (all-to-all; default direct); ring or tree
                    (all_reduce; default ring); ring (all_gather, reduce_scatter)
  --seed S          seed of the all_to_all_v sizes (default 1)
  --json OUT        also write the results as JSON (temporary file, then renamed)

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
  uint64_t seed = 1;
  std::optional<std::string> json;
};

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
  const std::vector<std::string> known = {"--collective", "--bytes", "--algorithm", "--seed",
                                          "--json"};
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
        if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 19)
          comm_error(fmt::format("--seed expects a non-negative integer, got '{}'", v));
        o.seed = std::stoull(v);
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
  if (o.collective.empty()) comm_error("expects --collective");
  if (!o.bytes) comm_error("expects --bytes");
  if (*o.bytes == 0) comm_error("--bytes must be at least 1");
  return o;
}

/// Starts every chip at time 0 from a process (the network is driven from simulation time).
class CommStarter : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(CommStarter);
  CommStarter(const sc_core::sc_module_name& name, CollectiveExecutor& exec, uint32_t chips)
      : sc_core::sc_module(name), m_exec(exec), m_chips(chips) {
    SC_THREAD(run);
  }

 private:
  void run() {
    for (ChipId c = 0; c < m_chips; ++c) m_exec.arrive(0, c);
  }
  CollectiveExecutor& m_exec;
  uint32_t m_chips;
};

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

std::string human_rate(double bytes_per_s) {
  if (bytes_per_s >= 1e12) return fmt::format("{:.2f} TB/s", bytes_per_s / 1e12);
  if (bytes_per_s >= 1e9) return fmt::format("{:.1f} GB/s", bytes_per_s / 1e9);
  return fmt::format("{:.1f} MB/s", bytes_per_s / 1e6);
}

std::string human_time(double s) {
  if (s >= 1) return fmt::format("{:.3f} s", s);
  if (s >= 1e-3) return fmt::format("{:.3f} ms", s * 1e3);
  if (s >= 1e-6) return fmt::format("{:.3f} us", s * 1e6);
  return fmt::format("{:.1f} ns", s * 1e9);
}

std::string human_bytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int i = 0;
  while (v >= 1024 && i < 4) {
    v /= 1024;
    ++i;
  }
  return i == 0 ? fmt::format("{} B", b) : fmt::format("{:.2f} {}", v, units[i]);
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
    uint64_t state = o.seed;
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

  StatGroup stats_root("comm");
  const auto* entry = Registry<Network>::instance().find(sys.network.type);
  std::unique_ptr<Network> net =
      entry->create(Network::Args{"network", sys.network.params, sys.topology, &stats_root});
  std::vector<double> done_s(n, -1.0);
  CollectiveExecutor exec(
      *net, [&](uint32_t, ChipId c) { done_s[c] = sc_core::sc_time_stamp().to_seconds(); });
  const CollectiveAlgo algo = sched.algo;
  const size_t messages = sched.messages.size();
  uint64_t sent_bytes = 0;
  for (const auto& msg : sched.messages) sent_bytes += msg.bytes;
  exec.add(std::move(sched));
  CommStarter starter("starter", exec, n);
  sc_core::sc_start();
  if (!exec.all_done())
    throw InternalError("comm: the network stopped before the collective completed");
  const double t = *std::max_element(done_s.begin(), done_s.end());
  const double algbw = t > 0 ? static_cast<double>(B) / t : 0.0;
  const double busbw = algbw * bus_factor;

  const Topology& topo = sys.topology;
  std::printf("  %-14s%u chips, topology %s, network %s\n", "system", n, sys.topology_type.c_str(),
              sys.network.type.c_str());
  std::printf("  %-14s%s, algorithm %s, %s per chip (%llu B), %zu messages\n", "collective",
              o.collective.c_str(), collective_algo_name(algo), human_bytes(B).c_str(),
              static_cast<unsigned long long>(B), messages);
  std::printf("  %-14s%s\n", "time", human_time(t).c_str());
  std::printf("  %-14s%s\n", "algbw", human_rate(algbw).c_str());
  std::printf("  %-14s%s (algbw x %s)\n", "busbw", human_rate(busbw).c_str(),
              o.collective == "all_reduce" ? "2(n-1)/n" : "(n-1)/n");
  std::printf("  %-14s\n", "links");
  std::printf("    %-18s %14s %12s %10s %10s\n", "link", "bytes", "busy", "busy %", "util %");
  for (uint32_t i = 0; i < topo.links().size(); ++i) {
    const LinkStats& ls = net->link_stats(i);
    const double util = t > 0 ? static_cast<double>(ls.bytes.get()) / (ls.peak * t) : 0.0;
    std::printf("    %-18s %14llu %12s %9.1f%% %9.1f%%\n", topo.links()[i].name.c_str(),
                static_cast<unsigned long long>(ls.bytes.get()),
                human_time(ls.busy_s.get()).c_str(), t > 0 ? 100.0 * ls.busy_s.get() / t : 0.0,
                100.0 * util);
  }

  if (o.json) {
    constexpr EscapeStyle kEscape{false, false};
    auto q = [&](const std::string& s) { return json_quote(s, kEscape); };
    std::string j = "{\n  \"schema_version\": 1,\n";
    j += fmt::format("  \"system\": {{\"chips\": {}, \"topology\": {}, \"network\": {}}},\n",
                     num(uint64_t{n}), q(sys.topology_type), q(sys.network.type));
    j += fmt::format(
        "  \"collective\": {{\"kind\": {}, \"algorithm\": {}, \"bytes_per_chip\": {{\"value\": "
        "{}, \"unit\": \"B\"}}, \"messages\": {}, \"message_bytes\": {{\"value\": {}, \"unit\": "
        "\"B\"}}, \"seed\": {}}},\n",
        q(o.collective), q(collective_algo_name(algo)), num(B), num(uint64_t{messages}),
        num(sent_bytes), o.collective == "all_to_all_v" ? num(o.seed) : "null");
    j += "  \"results\": {\n";
    j += fmt::format("    \"time\": {{\"value\": {}, \"unit\": \"s\"}},\n", num(t));
    j += fmt::format("    \"algbw\": {{\"value\": {}, \"unit\": \"B/s\"}},\n", num(algbw));
    j += fmt::format("    \"busbw\": {{\"value\": {}, \"unit\": \"B/s\"}},\n", num(busbw));
    j += fmt::format("    \"busbw_factor\": {{\"value\": {}, \"unit\": \"1\"}}\n", num(bus_factor));
    j += "  },\n  \"links\": [\n";
    for (uint32_t i = 0; i < topo.links().size(); ++i) {
      const LinkStats& ls = net->link_stats(i);
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
    write_file_atomic(*o.json, j);
  }
  return 0;
}

}  // namespace moesim
