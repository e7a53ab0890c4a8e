#include "sim/cli/cmd_trace_generate.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/cli/cli_util.hpp"
#include "sim/config/config.hpp"
#include "workloads/trace/gen_config.hpp"
#include "workloads/trace/gen_trace.hpp"
#include "workloads/trace/synthetic.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim {

namespace {

constexpr const char* kCmd = "trace generate";

constexpr const char* kHelp =
    R"(usage: moesim trace generate CONFIG OUT [--set key.path=value]... [--seed N] [--quiet]
       moesim trace generate --layers L --experts E --top-k K --steps S --batch B
                             [--phase decode|prefill] [--context C] [--prompt-tokens P]
                             [--dist uniform|zipf] [--zipf-s S] [--seed N] [--model NAME]
                             [--tasks N [--task-mix A,B,...]] OUT

Writes a seeded synthetic routing trace to OUT (.csv text, .moetrace binary); the same
inputs and seed give a byte-identical file.

CONFIG form (when the first argument is not an option): a generator config, see
workloads/generators/README.md and the examples in workloads/generators/*.toml. Tables:
  [trace]       model, layers, experts, top_k, seed, mode = decode | prefill | serving
  [decode]      batch, steps, context            [prefill]  batch, steps, prompt_tokens
  [serving]     requests, arrival_rate (1/s), step_time, max_tokens, max_requests,
                chunked_prefill; [serving.prompt] and [serving.output]: dist = fixed
                (tokens) | uniform (min, max) | lognormal (median, sigma, min, max)
  [popularity]  type = uniform | zipf (zipf_s) | calibrated (selection = topk | top1)
  [data]        stats_dir, model, checkpoint, domain, layer_map, fill (calibrated features)
  [locality]    reuse
  [affinity]    type = none | calibrated (strength, selection) | permutation (strength,
                permutation = random | identity)
  [routing]     type = topk | top_p (top_p, min_k, max_k) | expert_choice (capacity_factor)
                | grouped (n_groups, top_groups, group_score); gate_temperature
  [special]     null_experts, null_rate, zero_rate, copy_rate, const_rate
  [capacity]    factor (token dropping; 0 = none)

  --set key.path=value  override a config key (repeatable), e.g. --set decode.batch=32
  --seed N              the same as --set trace.seed=N
  --quiet               no summary line

Flag form (the first argument is an option): uniform or Zipf popularity, top-k routing,
decode or prefill batches; the flags are the ones shown above. --tasks N makes a multi-task
trace (one gate per task, as M3ViT's): requests get tasks in the shares of --task-mix (equal
by default), and each task's gate has its own expert popularity (docs/edge_moe.md).

Prints "wrote OUT: S steps, T tokens, A assignments" (and the routes dropped by a capacity
limit, which the trace header records as dropped_routes).
)";

int write_trace(TraceReader& reader, const std::string& out, bool quiet) {
  auto writer = create_trace_writer(out, reader.meta());
  TraceStep step;
  uint64_t steps = 0, tokens = 0, assignments = 0;
  while (reader.next(step)) {
    writer->write(step);
    ++steps;
    tokens += step.num_tokens();
    assignments += step.assignments();
  }
  writer->finish();
  if (quiet) return 0;
  std::string line =
      fmt::format("wrote {}: {} steps, {} tokens, {} assignments", out, steps, tokens, assignments);
  const auto it = reader.meta().extra.find("dropped_routes");
  if (it != reader.meta().extra.end()) {
    const double dropped = std::strtod(it->second.c_str(), nullptr);
    line += fmt::format(" (dropped {} routes by capacity: {:.2f}% of {})", it->second,
                        100.0 * dropped / static_cast<double>(assignments + dropped),
                        assignments + static_cast<uint64_t>(dropped));
  }
  std::puts(line.c_str());
  return 0;
}

int generate_from_config(const std::vector<std::string>& args) {
  std::vector<std::string> positional, sets;
  bool quiet = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const std::string flag = a.substr(0, a.find('='));
    auto value = [&]() -> std::string {
      if (a.find('=') != std::string::npos && flag != a) return a.substr(flag.size() + 1);
      if (i + 1 >= args.size()) usage_error(kCmd, a + " needs a value");
      return args[++i];
    };
    if (flag == "--set") {
      sets.push_back(value());
    } else if (flag == "--seed") {
      sets.push_back(fmt::format("trace.seed={}", parse_u64(kCmd, "--seed", value())));
    } else if (a == "--quiet") {
      quiet = true;
    } else if (a.size() > 1 && a[0] == '-') {
      unknown_option(kCmd, flag, {"--set", "--seed", "--quiet"});
    } else if (positional.size() < 2) {
      positional.push_back(a);
    } else {
      usage_error(kCmd, fmt::format("unexpected argument '{}'", a));
    }
  }
  if (positional.size() < 2) usage_error(kCmd, "missing OUT");
  Config cfg = Config::load(positional[0], sets);
  const GeneratorSpec spec = read_generator_config(cfg);
  auto reader = make_generated_trace(spec);
  return write_trace(*reader, positional[1], quiet);
}

/// The original flag form: uniform or Zipf top-k, decode or prefill.
int generate_from_flags(const std::vector<std::string>& rest) {
  SyntheticSpec s;
  s.model = "custom";
  std::string out;
  const std::vector<std::string> known = {
      "--layers",        "--experts", "--top-k",  "--steps", "--batch", "--phase", "--context",
      "--prompt-tokens", "--dist",    "--zipf-s", "--seed",  "--model", "--tasks", "--task-mix"};
  bool have_layers = false, have_experts = false, have_k = false, have_steps = false,
       have_batch = false;
  for (size_t i = 0; i < rest.size(); ++i) {
    const std::string& a = rest[i];
    if (a.size() > 1 && a[0] == '-') {
      if (i + 1 >= rest.size()) usage_error(kCmd, a + " needs a value");
      const std::string v = rest[++i];
      const std::string c = kCmd;
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
      } else if (a == "--tasks") {
        s.tasks = static_cast<uint32_t>(parse_u64(c, a, v));
        if (s.tasks == 0) usage_error(c, "--tasks must be at least 1");
      } else if (a == "--task-mix") {
        s.task_mix.clear();
        size_t start = 0;
        for (;;) {
          const size_t comma = v.find(',', start);
          const std::string item =
              v.substr(start, comma == std::string::npos ? comma : comma - start);
          char* end = nullptr;
          const double f = std::strtod(item.c_str(), &end);
          if (item.empty() || *end != '\0') {
            usage_error(c, "--task-mix expects comma-separated numbers, got '" + v + "'");
          }
          s.task_mix.push_back(f);
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
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
        unknown_option(c, a, known);
      }
    } else if (out.empty()) {
      out = a;
    } else {
      usage_error(kCmd, fmt::format("unexpected argument '{}'", a));
    }
  }
  if (!have_layers || !have_experts || !have_k || !have_steps || !have_batch) {
    usage_error(kCmd, "--layers, --experts, --top-k, --steps and --batch are required");
  }
  if (out.empty()) usage_error(kCmd, "missing OUT");
  auto reader = make_synthetic_trace(s);
  return write_trace(*reader, out, true);
}

}  // namespace

int cmd_trace_generate(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (args.empty()) usage_error(kCmd, "missing CONFIG and OUT");
  if (args[0].size() > 1 && args[0][0] == '-') return generate_from_flags(args);
  return generate_from_config(args);
}

}  // namespace moesim
