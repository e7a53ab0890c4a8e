// Seeded synthetic routing traces. Own PRNG (xoshiro256** seeded by splitmix64) and own
// sampling code, so a seed gives the same trace with any standard library.

#include "workloads/trace/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "workloads/trace/gen_rng.hpp"

namespace moesim {

namespace {

[[noreturn]] void bad_spec(const std::string& what) {
  throw InputError("synthetic trace: " + what);
}

void validate(const SyntheticSpec& s) {
  if (s.layers == 0) bad_spec("layers must be at least 1");
  if (s.experts == 0) bad_spec("experts must be at least 1");
  if (s.experts > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    bad_spec(fmt::format("experts = {} is too large", s.experts));
  }
  if (s.top_k == 0) bad_spec("top_k must be at least 1");
  if (s.top_k > s.experts) {
    bad_spec(fmt::format("top_k = {} exceeds experts = {} (a token's experts are distinct)",
                         s.top_k, s.experts));
  }
  if (s.steps == 0) bad_spec("steps must be at least 1");
  if (s.tasks == 0) bad_spec("tasks must be at least 1");
  if (!s.task_mix.empty()) {
    if (s.task_mix.size() != s.tasks) {
      bad_spec(fmt::format("task_mix has {} values for {} task{}", s.task_mix.size(), s.tasks,
                           s.tasks == 1 ? "" : "s"));
    }
    double sum = 0;
    for (double f : s.task_mix) {
      if (!(f >= 0 && std::isfinite(f))) {
        bad_spec(fmt::format("task_mix value {} is not a non-negative number", f));
      }
      sum += f;
    }
    if (!(sum > 0)) bad_spec("task_mix values are all 0");
  }
  if (s.batch == 0) bad_spec("batch must be at least 1");
  if (s.dist == SyntheticSpec::Dist::kZipf && !(s.zipf_s > 0 && std::isfinite(s.zipf_s))) {
    bad_spec(fmt::format("zipf_s must be a positive number (got {})", s.zipf_s));
  }
  const uint64_t u32max = std::numeric_limits<uint32_t>::max();
  uint64_t tokens = s.batch;
  if (s.phase == SyntheticSpec::Phase::kDecode) {
    if (s.steps - 1 > u32max - s.context) {
      bad_spec("context + steps exceeds the 32-bit position range");
    }
  } else {
    if (s.prompt_tokens == 0) bad_spec("prefill needs prompt_tokens of at least 1");
    if (s.steps > u32max / s.batch + 1 || (s.steps - 1) * s.batch + (s.batch - 1) > u32max) {
      bad_spec("steps * batch exceeds the 32-bit request id range");
    }
    tokens *= s.prompt_tokens;
  }
  const double routes = static_cast<double>(tokens) * s.layers * s.top_k;
  if (routes > static_cast<double>(u32max) || tokens * s.layers > u32max) {
    bad_spec(fmt::format("a step would hold {:.0f} routes (at most {})", routes, u32max));
  }
}

class SyntheticTrace final : public TraceReader {
 public:
  explicit SyntheticTrace(const SyntheticSpec& spec) : m_spec(spec), m_rng(spec.seed) {
    validate(spec);
    const bool zipf = spec.dist == SyntheticSpec::Dist::kZipf;
    m_meta.model = spec.model;
    m_meta.layers = spec.layers;
    m_meta.experts = spec.experts;
    m_meta.top_k = spec.top_k;
    m_meta.source = "synthetic";
    m_meta.tasks = spec.tasks;
    m_meta.extra["generator"] = zipf ? "zipf" : "uniform";
    if (zipf) m_meta.extra["zipf_s"] = fmt::format("{}", spec.zipf_s);
    m_meta.extra["seed"] = fmt::format("{}", spec.seed);
    m_meta.extra["batch"] = fmt::format("{}", spec.batch);
    m_meta.extra["steps"] = fmt::format("{}", spec.steps);
    if (spec.phase == SyntheticSpec::Phase::kDecode) {
      m_meta.extra["phase"] = "decode";
      m_meta.extra["context"] = fmt::format("{}", spec.context);
    } else {
      m_meta.extra["phase"] = "prefill";
      m_meta.extra["prompt_tokens"] = fmt::format("{}", spec.prompt_tokens);
    }

    // Popularity by rank, then a per-layer random permutation assigns ranks to experts.
    std::vector<double> by_rank(spec.experts, 1.0);
    if (zipf) {
      for (uint32_t r = 0; r < spec.experts; ++r) by_rank[r] = std::pow(r + 1.0, -spec.zipf_s);
    }
    double total = 0;
    for (double p : by_rank) total += p;
    for (double& p : by_rank) p /= total;
    // Task t's gate: tables [t * layers, (t + 1) * layers). Task 0's permutations come from
    // the main stream (as in a single-task trace), task t's from a stream of its own.
    m_tables.resize(size_t{spec.tasks} * spec.layers);
    std::vector<uint32_t> perm(spec.experts);
    std::vector<double> by_expert(spec.experts);
    for (uint32_t task = 0; task < spec.tasks; ++task) {
      uint64_t stream = spec.seed ^ (0x7461736bull << 32) ^ task;  // "task"
      Rng task_rng(splitmix64(stream));
      Rng& rng = task == 0 ? m_rng : task_rng;
      for (uint32_t l = 0; l < spec.layers; ++l) {
        for (uint32_t e = 0; e < spec.experts; ++e) perm[e] = e;
        for (uint32_t i = spec.experts - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(i + 1)]);
        for (uint32_t r = 0; r < spec.experts; ++r) by_expert[perm[r]] = by_rank[r];
        m_tables[size_t{task} * spec.layers + l].build(by_expert);
      }
    }
    if (spec.tasks > 1) {
      m_mix = spec.task_mix.empty() ? std::vector<double>(spec.tasks, 1.0) : spec.task_mix;
      double sum = 0;
      for (double f : m_mix) sum += f;
      for (double& f : m_mix) f /= sum;
      m_credit.assign(spec.tasks, 0.0);
      std::string mix;
      for (uint32_t t = 0; t < spec.tasks; ++t) {
        mix += fmt::format("{}{}", t ? ";" : "", spec.task_mix.empty() ? 1.0 : spec.task_mix[t]);
      }
      m_meta.extra["task_mix"] = mix;
      if (spec.phase == SyntheticSpec::Phase::kDecode) {
        for (uint32_t b = 0; b < spec.batch; ++b) m_decode_task.push_back(next_task());
      }
    }
    m_mark.assign(spec.experts, 0);
    m_pick.resize(spec.top_k);
    m_gate.resize(spec.top_k);
  }

  const TraceMeta& meta() const override { return m_meta; }

  bool next(TraceStep& step) override {
    if (m_step == m_spec.steps) return false;
    step.clear();
    step.index = m_step;
    step.layers = m_spec.layers;
    if (m_spec.phase == SyntheticSpec::Phase::kDecode) {
      const uint32_t position = m_spec.context + static_cast<uint32_t>(m_step);
      for (uint32_t b = 0; b < m_spec.batch; ++b) {
        step.tokens.push_back(
            TraceToken{b, position, m_decode_task.empty() ? 0 : m_decode_task[b]});
      }
    } else {
      const uint32_t first = static_cast<uint32_t>(m_step * m_spec.batch);
      for (uint32_t b = 0; b < m_spec.batch; ++b) {
        const uint32_t task = m_spec.tasks > 1 ? next_task() : 0;
        for (uint32_t p = 0; p < m_spec.prompt_tokens; ++p) {
          step.tokens.push_back(TraceToken{first + b, p, task});
        }
      }
    }
    const uint32_t tokens = step.num_tokens();
    const uint32_t k = m_spec.top_k;
    const size_t routes = static_cast<size_t>(tokens) * m_spec.layers * k;
    step.offsets.reserve(static_cast<size_t>(tokens) * m_spec.layers + 1);
    step.experts.reserve(routes);
    step.weights.reserve(routes);
    step.offsets.push_back(0);
    for (uint32_t l = 0; l < m_spec.layers; ++l) {
      for (uint32_t t = 0; t < tokens; ++t) {
        route_token(m_tables[size_t{step.tokens[t].task} * m_spec.layers + l]);
        for (uint32_t i = 0; i < k; ++i) {
          step.experts.push_back(static_cast<int32_t>(m_pick[i]));
          step.weights.push_back(static_cast<float>(m_gate[i]));
        }
        step.offsets.push_back(static_cast<uint32_t>(step.experts.size()));
      }
    }
    ++m_step;
    return true;
  }

 private:
  /// The task of the next new request: smooth weighted round robin over the mix (each task
  /// gains its share, the task with the most credit is chosen and pays 1; ties go to the
  /// lower task).
  uint32_t next_task() {
    uint32_t best = 0;
    for (uint32_t t = 0; t < m_spec.tasks; ++t) {
      m_credit[t] += m_mix[t];
      if (m_credit[t] > m_credit[best]) best = t;
    }
    m_credit[best] -= 1.0;
    return best;
  }

  /// Picks top_k distinct experts by successive draws without replacement (a draw that hits
  /// an expert already picked is repeated, which samples the remaining experts in proportion
  /// to their popularity), then gate weights: sorted exponentials, normalised.
  void route_token(const AliasTable& table) {
    const uint32_t k = m_spec.top_k;
    ++m_stamp;
    for (uint32_t i = 0; i < k; ++i) {
      uint32_t e = 0;
      int tries = 0;
      do {
        e = table.draw(m_rng);
      } while (m_mark[e] == m_stamp && ++tries < 32);
      if (m_mark[e] == m_stamp) e = draw_remaining(table);
      m_mark[e] = m_stamp;
      m_pick[i] = e;
    }
    double sum = 0;
    for (uint32_t i = 0; i < k; ++i) {
      m_gate[i] = -std::log(1.0 - m_rng.uniform());
      sum += m_gate[i];
    }
    std::sort(m_gate.begin(), m_gate.end(), [](double a, double b) { return a > b; });
    if (sum > 0) {
      for (double& g : m_gate) g /= sum;
    } else {
      for (double& g : m_gate) g = 1.0 / k;
    }
  }

  /// Exact draw among the experts not yet picked (for very skewed popularity).
  uint32_t draw_remaining(const AliasTable& table) {
    double total = 0;
    uint32_t last = 0;
    for (uint32_t e = 0; e < m_spec.experts; ++e) {
      if (m_mark[e] != m_stamp) {
        total += table.weight[e];
        last = e;
      }
    }
    double u = m_rng.uniform() * total;
    for (uint32_t e = 0; e < m_spec.experts; ++e) {
      if (m_mark[e] == m_stamp) continue;
      if (u < table.weight[e]) return e;
      u -= table.weight[e];
    }
    return last;
  }

  SyntheticSpec m_spec;
  TraceMeta m_meta;
  Rng m_rng;
  std::vector<AliasTable> m_tables;     // [task * layers + layer]
  std::vector<double> m_mix;            // tasks > 1: each task's share of requests (sum 1)
  std::vector<double> m_credit;         // smooth weighted round robin
  std::vector<uint32_t> m_decode_task;  // decode: the task of request b
  std::vector<uint64_t> m_mark;         // m_mark[e] == m_stamp: already picked for this token
  uint64_t m_stamp = 0;
  std::vector<uint32_t> m_pick;
  std::vector<double> m_gate;
  uint64_t m_step = 0;
};

}  // namespace

std::unique_ptr<TraceReader> make_synthetic_trace(const SyntheticSpec& spec) {
  return std::make_unique<SyntheticTrace>(spec);
}

}  // namespace moesim
