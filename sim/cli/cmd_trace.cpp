#include "sim/cli/cmd_trace.hpp"

#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/cli/cli_util.hpp"
#include "sim/cli/cmd_trace_generate.hpp"
#include "sim/cli/cmd_trace_import.hpp"
#include "sim/cli/cmd_trace_stats.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim {

namespace {

constexpr const char* kTraceHelp =
    R"(usage: moesim trace generate CONFIG OUT [--set key.path=value]... [--seed N] [--quiet]
       moesim trace generate --layers L --experts E --top-k K --steps S --batch B ... OUT
       moesim trace convert IN OUT
       moesim trace import --format FORMAT --model NAME [options] IN OUT
       moesim trace stats TRACE [--json]

generate: a seeded synthetic trace (see 'moesim trace generate --help'); OUT ending in .csv
          or .jsonl is text, .moetrace is binary.
convert:  reads IN (any form) and writes OUT in the form its extension names.
import:   converts a public routing log (olmoe-jsonl, engine-jsonl); see 'trace import --help'.
stats:    load imbalance, locality, inter-layer affinity, k histogram; see 'trace stats --help'.
)";

/// Copies every step of `reader` into a writer for `out` (form chosen by extension).
int copy_trace(TraceReader& reader, const std::string& out) {
  auto writer = create_trace_writer(out, reader.meta());
  TraceStep step;
  while (reader.next(step)) writer->write(step);
  writer->finish();
  return 0;
}

int cmd_trace_convert(const std::vector<std::string>& rest) {
  if (rest.size() != 2) usage_error("trace convert", "expects IN and OUT");
  auto reader = open_trace(rest[0]);
  return copy_trace(*reader, rest[1]);
}

}  // namespace

int cmd_trace(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "import") return cmd_trace_import({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "stats") return cmd_trace_stats({args.begin() + 1, args.end()});
  // `trace generate --help` is the generate command's own help.
  if (args.empty() || (wants_help(args) && args[0] != "generate")) {
    std::fputs(kTraceHelp, stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string sub = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (sub == "convert") return cmd_trace_convert(rest);
  if (sub == "generate") return cmd_trace_generate(rest);
  const std::string hint = did_you_mean(sub, {"generate", "convert", "import", "stats"});
  usage_error("trace", fmt::format("unknown subcommand '{}'{}", sub,
                                   hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

}  // namespace moesim
