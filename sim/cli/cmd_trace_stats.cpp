#include "sim/cli/cmd_trace_stats.hpp"

#include <cstdio>
#include <string>
#include <vector>

#include "sim/cli/cli_util.hpp"
#include "workloads/trace/trace.hpp"
#include "workloads/trace/trace_stats.hpp"

namespace moesim {

const char* const kTraceStatsHelp =
    R"(usage: moesim trace stats TRACE [--json]

Reads TRACE (.csv, .jsonl or .moetrace) in one streaming pass and reports:

  steps, tokens (summed over steps), assignments (all routes, special experts included),
  routed assignments (routes to experts 0..E-1), special routes (null, zero, copy, const).
  k histogram: for every (token, layer) pair, k = its number of routes (special included).
  expert load, per layer, over the whole trace: c_e = routed assignments to expert e,
    N = sum of c_e, mean = N / E (E = experts, idle experts included);
    max/mean = max_e c_e / mean; CV = population standard deviation of c_e / mean;
    entropy = -sum over c_e > 0 of (c_e/N) log2(c_e/N) bits; normalised = entropy / log2(E).
    The "mean over layers" averages each metric over the layers where it is defined
    (N > 0; E > 1 for the normalised entropy).
  temporal locality: a token counts when its request has a token in the previous step
    (the step record just before it); that request's previous token is its token with the
    highest position in the previous step. For each counted token and layer where the
    token has k >= 1 distinct routed experts: shared = number of them also routed for the
    previous token at the same layer. Reported: mean shared (experts) and mean of shared/k.
    Memory: a copy of the previous step only (bounded; requests absent from the previous
    step do not count).
  inter-layer affinity: top-1 expert of a token at a layer = its routed expert with the
    highest weight (ties to the lower id). For each token and layer l < L-1 with a top-1 at
    both l and l+1, count the transition a -> b. Affinity = sum over l and a of
    max_b count(l, a, b) / number of transitions: the probability that the most likely
    top-1 expert at l+1 given a follows, averaged over a weighted by count. The independent
    baseline = sum over l of max_b (transitions into b) / transitions: the same if l+1
    ignored l. Not computed when (L-1) * E^2 exceeds 8M counters.

  --json   machine-readable output (schema "moesim-trace-stats 1"; units beside values)
)";

int cmd_trace_stats(const std::vector<std::string>& args) {
  const std::string c = "trace stats";
  if (wants_help(args)) {
    std::fputs(kTraceStatsHelp, stdout);
    return 0;
  }
  std::string in;
  bool json = false;
  for (const std::string& a : args) {
    if (a == "--json") {
      json = true;
    } else if (a.size() > 1 && a[0] == '-') {
      unknown_option(c, a, {"--json"});
    } else if (in.empty()) {
      in = a;
    } else {
      usage_error(c, fmt::format("unexpected argument '{}'", a));
    }
  }
  if (in.empty()) usage_error(c, "missing TRACE");
  auto reader = open_trace(in);
  const TraceStats s = compute_trace_stats(*reader);
  const std::string text = json ? trace_stats_json(s, in) : trace_stats_text(s, in);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace moesim
