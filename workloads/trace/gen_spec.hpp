#pragma once
/// The parameters of the configurable trace generator (`moesim trace generate CONFIG`):
/// request shape (decode, prefill, serving), expert popularity (uniform, Zipf, calibrated
/// on real counts), temporal locality, inter-layer affinity, routing rule (top-k, top-p,
/// expert choice, group-limited), null and zero-computation experts and a capacity limit.
/// Every parameter is documented in workloads/generators/README.md.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moesim {

/// A distribution of request lengths in tokens (serving mode).
struct LengthDist {
  enum class Kind { kFixed, kUniform, kLognormal };
  Kind kind = Kind::kFixed;
  uint32_t tokens = 1;  ///< kFixed: every request has this many tokens
  uint32_t min = 1;     ///< kUniform: lower bound; kLognormal: clamp (inclusive)
  uint32_t max = 1;     ///< kUniform: upper bound; kLognormal: clamp (inclusive)
  double median = 1;    ///< kLognormal: median in tokens (exp of the log-mean)
  double sigma = 0;     ///< kLognormal: standard deviation of the log
  /// The largest length this distribution can produce.
  uint32_t largest() const { return kind == Kind::kFixed ? tokens : max; }
};

/// Continuous-batching request stream (mode = serving).
struct ServingSpec {
  uint64_t requests = 1;        ///< requests to serve (the trace ends when all are done)
  double arrival_rate = 1;      ///< Poisson arrivals, requests per second
  double step_time_s = 0.02;    ///< nominal duration of one step (maps arrivals to steps)
  uint32_t max_tokens = 1;      ///< token budget per step (decode + prefill chunk tokens)
  uint32_t max_requests = 1;    ///< most requests in flight (admitted, not finished)
  bool chunked_prefill = true;  ///< split prompts to fill the budget (else whole prompts)
  LengthDist prompt;            ///< prompt length
  LengthDist output;            ///< generated tokens
};

/// Real routing statistics for calibration, loaded from routing-stats CSVs.
struct RoutingData {
  std::string source;                       ///< "<dir> <model>/<checkpoint>/<domain>", for metadata
  uint32_t experts = 0;                     ///< experts of the measured model
  uint32_t model_layers = 0;                ///< MoE layers of the measured model
  std::vector<uint32_t> layers;             ///< measured layers, ascending (e.g. 0, 7, 15)
  std::vector<std::vector<double>> counts;  ///< counts[i][e]: expert e at layers[i]
  /// transitions[i][a*experts+b]: tokens whose choice at layers[i] was a and at layers[i+1]
  /// was b (empty when affinity does not use the data).
  std::vector<std::vector<double>> transitions;
};

/// Everything the generator needs. Built from a config by gen_config.hpp, or by hand.
struct GeneratorSpec {
  enum class Mode { kDecode, kPrefill, kServing };
  enum class Popularity { kUniform, kZipf, kCalibrated };
  enum class Affinity { kNone, kCalibrated, kPermutation };
  enum class Routing { kTopK, kTopP, kExpertChoice, kGrouped };
  enum class LayerMap { kRelative, kAbsolute };
  enum class Fill { kNearest, kInterpolate };

  // Shape.
  std::string model = "custom";  ///< recorded in the metadata
  uint32_t layers = 1;           ///< MoE layers
  uint32_t experts = 1;          ///< routed experts per layer
  uint32_t top_k = 1;            ///< nominal experts per token
  uint64_t seed = 1;

  // Request stream.
  Mode mode = Mode::kDecode;
  uint64_t steps = 1;          ///< decode, prefill: steps to generate
  uint32_t batch = 1;          ///< decode, prefill: requests per step
  uint32_t context = 0;        ///< decode: position of the first generated token
  uint32_t prompt_tokens = 1;  ///< prefill: tokens per request
  ServingSpec serving;

  // Popularity.
  Popularity popularity = Popularity::kUniform;
  double zipf_s = 1.0;         ///< Zipf exponent
  bool calibrate_topk = true;  ///< calibrated: match all-k inclusion (else first choice)
  LayerMap layer_map = LayerMap::kRelative;
  Fill fill = Fill::kNearest;
  RoutingData data;  ///< calibrated popularity or affinity

  // Temporal locality.
  double reuse = 0;  ///< probability of re-selecting each of the previous token's experts

  // Inter-layer affinity of the top-1 expert.
  Affinity affinity = Affinity::kNone;
  double affinity_strength = 1.0;  ///< probability of following the chain
  bool identity_permutation = false;

  // Routing rule.
  Routing routing = Routing::kTopK;
  double gate_temperature = 1.0;  ///< weight of a candidate is (race time)^(-1/temperature)
  double top_p = 0.5;             ///< top_p: cumulative gate probability to reach
  uint32_t min_k = 1;             ///< top_p: fewest experts per token
  uint32_t max_k = 0;             ///< top_p: most experts per token (0 = all candidates)
  double ec_capacity_factor = 1;  ///< expert_choice: capacity = factor * tokens * k / experts
  uint32_t n_groups = 1;          ///< grouped: expert groups (experts / n_groups each)
  uint32_t top_groups = 1;        ///< grouped: groups kept per token
  bool group_top2_sum = false;    ///< grouped: group score is its top-2 sum (else its best)

  // Null (AdaMoE) and zero-computation (MoE++) experts: shares of the selection popularity.
  uint32_t null_experts = 0;  ///< null slots
  double null_rate = 0;       ///< popularity share of all null slots together
  double zero_rate = 0;
  double copy_rate = 0;
  double const_rate = 0;

  // Token dropping: per-expert capacity floor(factor * tokens * top_k / experts), at least 1.
  double capacity_factor = 0;  ///< 0 = unlimited
};

/// A problem in a GeneratorSpec: the config key it concerns ("routing.top_groups") and what.
struct GeneratorProblem {
  std::string key;
  std::string message;
};

/// The first inconsistency in `spec` (k > experts, top_groups > n_groups, ...), if any.
std::optional<GeneratorProblem> check_generator_spec(const GeneratorSpec& spec);

}  // namespace moesim
