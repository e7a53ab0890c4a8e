// CoE request streams. Own PRNG (splitmix64) and inverse-CDF sampling, so a seed gives the
// same requests with any standard library.

#include "workloads/trace/coe_requests.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "sim/core/error.hpp"

namespace moesim {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double uniform(uint64_t& state) {
  return static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;
}

class CoeRequestTrace final : public TraceReader {
 public:
  explicit CoeRequestTrace(const CoeRequestSpec& spec) : m_spec(spec), m_state(spec.seed) {
    auto bad = [](const std::string& what) { throw InputError("coe request trace: " + what); };
    if (spec.models == 0) bad("models must be at least 1");
    if (spec.models > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
      bad(fmt::format("models = {} is too large", spec.models));
    }
    if (spec.requests == 0) bad("requests must be at least 1");
    if (spec.output_tokens == 0) bad("output_tokens must be at least 1");
    if (spec.requests > std::numeric_limits<uint32_t>::max()) {
      bad("requests exceed the 32-bit request id range");
    }
    if (spec.batch == 0) bad("batch must be at least 1");
    if (spec.requests * spec.batch > std::numeric_limits<uint32_t>::max()) {
      bad("requests x batch exceed the 32-bit request id range");
    }
    if (spec.output_tokens - 1 > std::numeric_limits<uint32_t>::max() - spec.prompt_tokens) {
      bad("prompt_tokens + output_tokens exceed the 32-bit position range");
    }
    m_meta.model = spec.model;
    m_meta.layers = 1;
    m_meta.experts = spec.models;
    m_meta.top_k = 1;
    m_meta.source = "synthetic";
    m_meta.extra["generator"] = "coe_requests";
    m_meta.extra["zipf_s"] = fmt::format("{}", spec.zipf_s);
    m_meta.extra["seed"] = fmt::format("{}", spec.seed);
    m_meta.extra["requests"] = fmt::format("{}", spec.requests);
    m_meta.extra["output_tokens"] = fmt::format("{}", spec.output_tokens);
    if (spec.batch != 1) m_meta.extra["batch"] = fmt::format("{}", spec.batch);
    // Popularity by rank, ranks dealt to models by a seeded shuffle; cumulative for sampling.
    std::vector<uint32_t> perm(spec.models);
    for (uint32_t i = 0; i < spec.models; ++i) perm[i] = i;
    for (uint32_t i = spec.models - 1; i > 0; --i) {
      std::swap(perm[i], perm[splitmix64(m_state) % (i + 1)]);
    }
    std::vector<double> weight(spec.models);
    for (uint32_t r = 0; r < spec.models; ++r) weight[perm[r]] = std::pow(r + 1.0, -spec.zipf_s);
    m_cdf.resize(spec.models);
    double sum = 0;
    for (uint32_t m = 0; m < spec.models; ++m) m_cdf[m] = (sum += weight[m]);
    for (double& c : m_cdf) c /= sum;
  }

  const TraceMeta& meta() const override { return m_meta; }

  bool next(TraceStep& step) override {
    const uint64_t request = m_step / m_spec.output_tokens;
    const uint32_t token = static_cast<uint32_t>(m_step % m_spec.output_tokens);
    if (request >= m_spec.requests) return false;
    if (token == 0) {
      const double u = uniform(m_state);
      m_current =
          static_cast<uint32_t>(std::upper_bound(m_cdf.begin(), m_cdf.end(), u) - m_cdf.begin());
      m_current = std::min(m_current, m_spec.models - 1);
    }
    step.clear();
    step.index = m_step;
    step.layers = 1;
    // A request's sequences (ids request x batch + b) all run on its model.
    step.offsets = {0};
    for (uint32_t b = 0; b < m_spec.batch; ++b) {
      step.tokens.push_back(TraceToken{static_cast<uint32_t>(request * m_spec.batch + b),
                                       m_spec.prompt_tokens + token});
      step.offsets.push_back(b + 1);
      step.experts.push_back(static_cast<int32_t>(m_current));
      step.weights.push_back(1.0f);
    }
    ++m_step;
    return true;
  }

 private:
  CoeRequestSpec m_spec;
  TraceMeta m_meta;
  uint64_t m_state;
  std::vector<double> m_cdf;
  uint64_t m_step = 0;
  uint32_t m_current = 0;
};

}  // namespace

std::unique_ptr<TraceReader> make_coe_request_trace(const CoeRequestSpec& spec) {
  return std::make_unique<CoeRequestTrace>(spec);
}

}  // namespace moesim
