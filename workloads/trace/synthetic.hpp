#pragma once
/// Seeded synthetic routing traces (uniform or Zipf expert popularity), generated as a stream.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "workloads/trace/trace.hpp"

namespace moesim {

/// What to generate. Decode: `batch` requests, each step adds one token per request at
/// position context+step. Prefill: each step holds `batch` new requests of `prompt_tokens`
/// tokens each (positions 0..prompt_tokens-1; request ids never repeat).
struct SyntheticSpec {
  enum class Dist { kUniform, kZipf };
  enum class Phase { kDecode, kPrefill };
  std::string model;     ///< recorded in the metadata
  uint32_t layers = 0;   ///< MoE layers
  uint32_t experts = 0;  ///< routed experts per layer
  uint32_t top_k = 0;    ///< experts per token (distinct)
  uint64_t steps = 0;
  uint32_t batch = 0;
  Phase phase = Phase::kDecode;
  uint32_t context = 0;        ///< decode: position of the first generated token
  uint32_t prompt_tokens = 0;  ///< prefill: tokens per request
  Dist dist = Dist::kUniform;
  double zipf_s = 1.0;  ///< Zipf exponent; popularity of rank r is proportional to 1/(r+1)^s
  uint64_t seed = 1;
  /// Tasks of a multi-task model, one gate each (M3ViT). Task 0's gate is the single-task
  /// generator's (so tasks = 1 gives the same trace as before); each further task t has its
  /// own per-layer assignment of popularity ranks to experts, drawn from a stream of its own.
  uint32_t tasks = 1;
  /// Relative share of requests per task (tasks values, >= 0, not all 0); empty = equal.
  /// Requests get tasks in order of their ids by smooth weighted round robin, so every prefix
  /// of the requests follows the mix as closely as whole requests can.
  std::vector<double> task_mix;
};

/// A reader that generates `spec` on the fly; deterministic for a given spec and seed.
/// Throws InputError when the spec is inconsistent (top_k > experts, zero sizes, ...).
std::unique_ptr<TraceReader> make_synthetic_trace(const SyntheticSpec& spec);

}  // namespace moesim
