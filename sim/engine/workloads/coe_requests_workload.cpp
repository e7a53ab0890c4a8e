// `type = "coe_requests"`: Composition of Experts, requests routed to whole expert models.

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/engine/run_spec.hpp"
#include "sim/engine/workloads/workload_source.hpp"
#include "workloads/trace/coe_requests.hpp"

namespace moesim {

namespace {

class CoeRequestsWorkload : public WorkloadSource {
 public:
  explicit CoeRequestsWorkload(const Args&) {}
  static void declare(ParamSchema& s) {
    s.add("requests", ParamType::kInt, "requests, served one after another").range(1, 4e9);
    s.add("output_tokens", ParamType::kInt, "decode steps per request").range(1, 1 << 24);
    s.add("batch", ParamType::kInt,
          "sequences per request, all routed to the request's expert model (batched decode)")
        .range(1, 1 << 16)
        .default_value(int64_t{1});
    s.add("prompt_tokens", ParamType::kInt, "tokens in a request's KV cache at its first step")
        .range(0, 1 << 24)
        .default_value(int64_t{0});
    s.add("zipf_s", ParamType::kFloat,
          "router's choice of expert model: Zipf exponent over the models (0 = uniform)")
        .range(0, 100)
        .default_value(1.0);
  }

  int rank() const override { return 3; }

  /// The routed experts of the one MoE layer are whole models.
  void read(Config& cfg, const Params& w, RunSpec& spec) const override {
    if (spec.model.moe_layers() != 1 || spec.model.top_k != 1) {
      throw InputError(located_message(
          cfg.where("workload.type"), "workload.type",
          fmt::format("coe_requests needs a model with one MoE layer and top_k = 1 (model '{}' "
                      "has {} and {})",
                      spec.model.name, spec.model.moe_layers(), spec.model.top_k)));
    }
    spec.workload.source = WorkloadSpec::Source::kCoeRequests;
    CoeRequestSpec& c = spec.workload.coe;
    c.model = spec.model.name;
    c.models = spec.model.experts;
    c.requests = static_cast<uint64_t>(w.get_int("requests"));
    c.output_tokens = static_cast<uint32_t>(w.get_int("output_tokens"));
    c.prompt_tokens = static_cast<uint32_t>(w.get_int("prompt_tokens"));
    c.batch = static_cast<uint32_t>(w.get_int("batch"));
    c.zipf_s = w.get_float("zipf_s");
    c.seed = spec.seed;
  }

  std::unique_ptr<TraceReader> open(const RunSpec& spec) const override {
    return make_coe_request_trace(spec.workload.coe);
  }
};

}  // namespace

MOESIM_REGISTER(WorkloadSource, CoeRequestsWorkload, "coe_requests",
                "Composition of Experts: requests routed to whole expert models");

}  // namespace moesim
