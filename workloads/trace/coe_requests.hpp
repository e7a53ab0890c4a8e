#pragma once
/// Composition of Experts request streams: each request is served by one expert model that a
/// router picks (Zipf popularity over models, seeded) and generates its output tokens one
/// decode step at a time. As a trace: one MoE layer whose "experts" are the models, top-1,
/// batch 1, every token of a request routed to its model.

#include <cstdint>
#include <memory>
#include <string>

#include "workloads/trace/trace.hpp"

namespace moesim {

/// What to generate.
struct CoeRequestSpec {
  std::string model;           ///< recorded in the metadata
  uint32_t models = 0;         ///< expert models to choose from
  uint64_t requests = 0;       ///< requests, served one after another
  uint32_t output_tokens = 0;  ///< decode steps per request
  uint32_t batch = 1;          ///< sequences per request, all on the request's model
  uint32_t prompt_tokens = 0;  ///< tokens already in a request's KV cache at its first step
  double zipf_s = 1.0;         ///< popularity of the model of rank r is 1/(r+1)^s (0: uniform)
  uint64_t seed = 1;
};

/// A reader generating `spec` on the fly (deterministic for a spec and seed). Throws
/// InputError for an inconsistent spec.
std::unique_ptr<TraceReader> make_coe_request_trace(const CoeRequestSpec& spec);

}  // namespace moesim
