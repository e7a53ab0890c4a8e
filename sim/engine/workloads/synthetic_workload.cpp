// `type = "synthetic"`: seeded decode or prefill steps with uniform or Zipf popularity.

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sim/config/config_fail.hpp"
#include "sim/core/registry.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/engine/workloads/workload_source.hpp"
#include "workloads/trace/synthetic.hpp"

namespace moesim {

namespace {

class SyntheticWorkload : public WorkloadSource {
 public:
  explicit SyntheticWorkload(const Args&) {}
  static void declare(ParamSchema& s) {
    s.add("phase", ParamType::kEnum,
          "decode: one token per request per step; prefill: "
          "whole prompts")
        .one_of({"decode", "prefill"});
    s.add("batch", ParamType::kInt, "requests per step").range(1, 1 << 24);
    s.add("steps", ParamType::kInt, "steps to generate").range(1, 1e12);
    s.add("context", ParamType::kInt, "decode: tokens already in each request's KV cache")
        .range(0, 1 << 24)
        .default_value(int64_t{0});
    s.add("prompt_tokens", ParamType::kInt, "prefill: prompt tokens per request")
        .range(1, 1 << 24)
        .default_value(int64_t{1});
    s.add("distribution", ParamType::kEnum, "expert popularity").one_of({"uniform", "zipf"});
    s.add("zipf_s", ParamType::kFloat, "Zipf exponent (distribution = \"zipf\")")
        .range(1e-6, 100)
        .default_value(1.0);
    s.add("task_mix", ParamType::kString,
          "multi-task model: relative share of requests per task, comma-separated, one value "
          "per [model] task (\"\" = equal shares)")
        .default_value(std::string());
  }

  int rank() const override { return 1; }

  void read(Config& cfg, const Params& w, RunSpec& spec) const override {
    spec.workload.source = WorkloadSpec::Source::kSynthetic;
    SyntheticSpec& s = spec.workload.synthetic;
    s.model = spec.model.name;
    s.layers = spec.model.moe_layers();
    s.experts = spec.model.experts;
    s.top_k = spec.model.top_k;
    s.steps = static_cast<uint64_t>(w.get_int("steps"));
    s.batch = static_cast<uint32_t>(w.get_int("batch"));
    s.phase = w.get_string("phase") == "decode" ? SyntheticSpec::Phase::kDecode
                                                : SyntheticSpec::Phase::kPrefill;
    s.context = static_cast<uint32_t>(w.get_int("context"));
    s.prompt_tokens = static_cast<uint32_t>(w.get_int("prompt_tokens"));
    s.dist = w.get_string("distribution") == "zipf" ? SyntheticSpec::Dist::kZipf
                                                    : SyntheticSpec::Dist::kUniform;
    s.zipf_s = w.get_float("zipf_s");
    s.seed = spec.seed;
    s.tasks = spec.model.tasks;
    s.task_mix = read_task_mix(cfg, w.get_string("task_mix"), spec.model);
    // Checked again by the generator (unlocated there); here the message names the key.
    const uint64_t last_position = uint64_t{s.context} + (s.steps - 1);
    if (s.phase == SyntheticSpec::Phase::kDecode &&
        last_position > std::numeric_limits<uint32_t>::max()) {
      fail(cfg, "workload.steps",
           fmt::format("context + steps = {} exceeds the 32-bit position range",
                       uint64_t{s.context} + s.steps));
    }
  }

  /// `task_mix`: one non-negative number per model task, not all 0; "" = equal shares.
  static std::vector<double> read_task_mix(const Config& cfg, const std::string& text,
                                           const ModelSpec& model) {
    std::vector<double> mix;
    if (text.empty()) return mix;
    const char* key = "workload.task_mix";
    size_t start = 0;
    for (;;) {
      const size_t comma = text.find(',', start);
      std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
      const size_t b = item.find_first_not_of(" \t");
      item = b == std::string::npos ? std::string()
                                    : item.substr(b, item.find_last_not_of(" \t") - b + 1);
      double v = 0;
      const char* end = item.data() + item.size();
      auto [ptr, ec] = std::from_chars(item.data(), end, v);
      if (item.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) {
        fail(cfg, key,
             fmt::format("'{}' is not a number (expected one share per task, e.g. "
                         "\"1,1\")",
                         item));
      }
      if (v < 0) fail(cfg, key, fmt::format("share {} is negative", item));
      mix.push_back(v);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (mix.size() != model.tasks) {
      fail(cfg, key,
           fmt::format("{} shares but model '{}' has {} task{} (its [model] tasks)", mix.size(),
                       model.name, model.tasks, model.tasks == 1 ? "" : "s"));
    }
    double sum = 0;
    for (double v : mix) sum += v;
    if (!(sum > 0)) fail(cfg, key, "every share is 0 (no request would have a task)");
    return mix;
  }

  std::unique_ptr<TraceReader> open(const RunSpec& spec) const override {
    return make_synthetic_trace(spec.workload.synthetic);
  }
};

}  // namespace

MOESIM_REGISTER(WorkloadSource, SyntheticWorkload, "synthetic",
                "seeded decode or prefill steps, uniform or Zipf expert popularity");

}  // namespace moesim
