// Consistency checks of a GeneratorSpec, each naming the config key it concerns.

#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "workloads/trace/gen_spec.hpp"

namespace moesim {

namespace {

bool token_choice(GeneratorSpec::Routing r) {
  return r == GeneratorSpec::Routing::kTopK || r == GeneratorSpec::Routing::kTopP;
}

std::optional<GeneratorProblem> check_length(const LengthDist& d, const std::string& key) {
  if (d.kind != LengthDist::Kind::kFixed && d.min > d.max) {
    return GeneratorProblem{key + ".max", fmt::format("{} is below min = {}", d.max, d.min)};
  }
  return std::nullopt;
}

}  // namespace

std::optional<GeneratorProblem> check_generator_spec(const GeneratorSpec& s) {
  using R = GeneratorSpec::Routing;
  auto problem = [](const std::string& key, const std::string& what) {
    return std::optional<GeneratorProblem>(GeneratorProblem{key, what});
  };
  if (s.layers == 0) return problem("trace.layers", "must be at least 1");
  if (s.experts == 0) return problem("trace.experts", "must be at least 1");
  if (s.experts > 32767)
    return problem("trace.experts", fmt::format("{} is too large (at most 32767)", s.experts));
  if (s.top_k == 0) return problem("trace.top_k", "must be at least 1");
  const double special = s.null_rate + s.zero_rate + s.copy_rate + s.const_rate;
  const uint32_t specials =
      s.null_experts + (s.zero_rate > 0) + (s.copy_rate > 0) + (s.const_rate > 0);
  const uint32_t candidates = s.experts + specials;
  if (s.top_k > candidates) {
    if (specials == 0) {
      return problem("trace.top_k",
                     fmt::format("{} exceeds experts = {} (a token's experts are distinct)",
                                 s.top_k, s.experts));
    }
    return problem("trace.top_k",
                   fmt::format("{} exceeds the {} candidates (experts = {} plus {} null "
                               "and zero-computation experts)",
                               s.top_k, candidates, s.experts, specials));
  }
  if (!(special < 1)) {
    return problem("special", fmt::format("the null and zero-computation rates add up to {} (must "
                                          "be below 1)",
                                          special));
  }
  if (s.null_rate > 0 && s.null_experts == 0) {
    return problem("special.null_rate",
                   fmt::format("{} needs null_experts of at least 1", s.null_rate));
  }
  if (s.null_experts > 0 && !(s.null_rate > 0)) {
    return problem("special.null_experts",
                   fmt::format("{} null slots need a null_rate above 0", s.null_experts));
  }
  if (specials > 0 && !token_choice(s.routing)) {
    return problem("special",
                   "null and zero-computation experts need routing.type \"topk\" or \"top_p\"");
  }
  if (s.routing == R::kTopP) {
    const uint32_t max_k = s.max_k == 0 ? candidates : s.max_k;
    if (max_k > candidates) {
      return problem("routing.max_k",
                     fmt::format("{} exceeds the {} candidate experts", max_k, candidates));
    }
    if (s.min_k > max_k) {
      return problem("routing.min_k", fmt::format("{} exceeds max_k = {}", s.min_k, max_k));
    }
  }
  if (s.routing == R::kGrouped) {
    if (s.experts % s.n_groups != 0) {
      return problem(
          "routing.n_groups",
          fmt::format("experts = {} is not a multiple of n_groups = {}", s.experts, s.n_groups));
    }
    if (s.top_groups > s.n_groups) {
      return problem("routing.top_groups",
                     fmt::format("{} exceeds n_groups = {}", s.top_groups, s.n_groups));
    }
    const uint32_t size = s.experts / s.n_groups;
    if (s.top_k > s.top_groups * size) {
      return problem("trace.top_k",
                     fmt::format("{} exceeds the {} experts of top_groups = {} groups "
                                 "of {}",
                                 s.top_k, s.top_groups * size, s.top_groups, size));
    }
    if (s.group_top2_sum && size < 2) {
      return problem("routing.group_score",
                     fmt::format("\"top2_sum\" needs at least 2 experts per group (experts / "
                                 "n_groups = {})",
                                 size));
    }
  }
  if (s.reuse > 0 && !token_choice(s.routing)) {
    return problem("locality.reuse", "needs routing.type \"topk\" or \"top_p\"");
  }
  if (s.affinity != GeneratorSpec::Affinity::kNone) {
    if (!token_choice(s.routing))
      return problem("affinity.type", "needs routing.type \"topk\" or \"top_p\"");
    if (s.reuse > 0) {
      return problem("affinity.type",
                     "cannot be combined with locality.reuse above 0 (both force a "
                     "token's experts)");
    }
  }
  const bool uses_data = s.popularity == GeneratorSpec::Popularity::kCalibrated ||
                         s.affinity == GeneratorSpec::Affinity::kCalibrated;
  if (uses_data && s.data.experts != s.experts) {
    return problem("data.model", fmt::format("{} has {} experts in the data but trace.experts = {}",
                                             s.data.source.substr(0, s.data.source.find('/')),
                                             s.data.experts, s.experts));
  }
  if (s.capacity_factor > 0 && s.routing == R::kExpertChoice) {
    return problem("capacity.factor",
                   "not used with routing.type = \"expert_choice\" (its capacity "
                   "is routing.capacity_factor)");
  }
  const uint64_t u32max = std::numeric_limits<uint32_t>::max();
  const uint64_t per_token =
      static_cast<uint64_t>(s.layers) * (s.routing == R::kTopP ? candidates : s.top_k);
  uint64_t tokens = 0;
  switch (s.mode) {
    case GeneratorSpec::Mode::kDecode:
      if (s.steps - 1 > u32max - s.context) {
        return problem("decode.steps", "context + steps exceeds the 32-bit position range");
      }
      tokens = s.batch;
      break;
    case GeneratorSpec::Mode::kPrefill:
      if ((s.steps - 1) * s.batch + (s.batch - 1) > u32max || s.steps > u32max) {
        return problem("prefill.steps", "steps * batch exceeds the 32-bit request id range");
      }
      tokens = static_cast<uint64_t>(s.batch) * s.prompt_tokens;
      break;
    case GeneratorSpec::Mode::kServing: {
      const ServingSpec& v = s.serving;
      if (auto p = check_length(v.prompt, "serving.prompt")) return p;
      if (auto p = check_length(v.output, "serving.output")) return p;
      if (v.requests > u32max)
        return problem("serving.requests", "exceeds the 32-bit request id range");
      if (!v.chunked_prefill && v.prompt.largest() > v.max_tokens) {
        return problem("serving.max_tokens",
                       fmt::format("{} is smaller than the longest prompt ({}) and "
                                   "chunked_prefill = false",
                                   v.max_tokens, v.prompt.largest()));
      }
      if (static_cast<uint64_t>(v.prompt.largest()) + v.output.largest() > u32max) {
        return problem("serving.prompt", "prompt + output exceeds the 32-bit position range");
      }
      tokens = v.max_tokens;
      break;
    }
  }
  if (tokens * per_token > u32max) {
    return problem("trace", fmt::format("a step could hold {} routes (at most {})",
                                        tokens * per_token, u32max));
  }
  return std::nullopt;
}

}  // namespace moesim
