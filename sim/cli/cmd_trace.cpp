#include "sim/cli/cmd_trace.hpp"

#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/cli/cli_util.hpp"
#include "sim/cli/cmd_trace_import.hpp"
#include "sim/cli/cmd_trace_stats.hpp"
#include "workloads/trace/synthetic.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim {

namespace {

constexpr const char* kTraceHelp =
    R"(usage: moesim trace generate --layers L --experts E --top-k K --steps S --batch B
                             [--phase decode|prefill] [--context C] [--prompt-tokens P]
                             [--dist uniform|zipf] [--zipf-s S] [--seed N] [--model NAME] OUT
       moesim trace convert IN OUT
       moesim trace import --format FORMAT --model NAME [options] IN OUT
       moesim trace stats TRACE [--json]

generate: a seeded synthetic trace; OUT ending in .csv or .jsonl is text, .moetrace binary.
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

int cmd_trace_generate(const std::vector<std::string>& rest) {
  SyntheticSpec s;
  s.model = "custom";
  std::string out;
  const std::vector<std::string> known = {"--layers", "--experts", "--top-k",   "--steps",
                                          "--batch",  "--phase",   "--context", "--prompt-tokens",
                                          "--dist",   "--zipf-s",  "--seed",    "--model"};
  bool have_layers = false, have_experts = false, have_k = false, have_steps = false,
       have_batch = false;
  for (size_t i = 0; i < rest.size(); ++i) {
    const std::string& a = rest[i];
    if (a.size() > 1 && a[0] == '-') {
      if (i + 1 >= rest.size()) usage_error("trace generate", a + " needs a value");
      const std::string v = rest[++i];
      const std::string c = "trace generate";
      if (a == "--layers") {
        s.layers = static_cast<uint32_t>(parse_u64(c, a, v));
        have_layers = true;
      } else if (a == "--experts") {
        s.experts = static_cast<uint32_t>(parse_u64(c, a, v));
        have_experts = true;
      } else if (a == "--top-k") {
        s.top_k = static_cast<uint32_t>(parse_u64(c, a, v));
        have_k = true;
      } else if (a == "--steps") {
        s.steps = parse_u64(c, a, v);
        have_steps = true;
      } else if (a == "--batch") {
        s.batch = static_cast<uint32_t>(parse_u64(c, a, v));
        have_batch = true;
      } else if (a == "--context") {
        s.context = static_cast<uint32_t>(parse_u64(c, a, v));
      } else if (a == "--prompt-tokens") {
        s.prompt_tokens = static_cast<uint32_t>(parse_u64(c, a, v));
      } else if (a == "--seed") {
        s.seed = parse_u64(c, a, v);
      } else if (a == "--model") {
        s.model = v;
      } else if (a == "--phase") {
        if (v != "decode" && v != "prefill") usage_error(c, "--phase expects decode or prefill");
        s.phase = v == "decode" ? SyntheticSpec::Phase::kDecode : SyntheticSpec::Phase::kPrefill;
      } else if (a == "--dist") {
        if (v != "uniform" && v != "zipf") usage_error(c, "--dist expects uniform or zipf");
        s.dist = v == "zipf" ? SyntheticSpec::Dist::kZipf : SyntheticSpec::Dist::kUniform;
      } else if (a == "--zipf-s") {
        char* end = nullptr;
        s.zipf_s = std::strtod(v.c_str(), &end);
        if (v.empty() || *end != '\0') usage_error(c, "--zipf-s expects a number, got '" + v + "'");
      } else {
        const std::string hint = did_you_mean(a, known);
        usage_error(c, fmt::format("unknown option '{}'{}", a,
                                   hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
    } else if (out.empty()) {
      out = a;
    } else {
      usage_error("trace generate", fmt::format("unexpected argument '{}'", a));
    }
  }
  if (!have_layers || !have_experts || !have_k || !have_steps || !have_batch) {
    usage_error("trace generate", "--layers, --experts, --top-k, --steps and --batch are required");
  }
  if (out.empty()) usage_error("trace generate", "missing OUT");
  auto reader = make_synthetic_trace(s);
  return copy_trace(*reader, out);
}

}  // namespace

int cmd_trace(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "import") return cmd_trace_import({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "stats") return cmd_trace_stats({args.begin() + 1, args.end()});
  if (args.empty() || wants_help(args)) {
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
