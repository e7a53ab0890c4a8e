// Serving mode: token conservation, contiguous positions, the per-step budget, the cap on
// requests in flight, decode-first chunked prefill, whole prompts without chunking, and the
// Poisson arrival statistics.

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "tests/trace/gen_test_util.hpp"
#include "workloads/trace/gen_serving.hpp"

namespace moesim::test {
namespace {

using G = GeneratorSpec;

ServingSpec serving(bool chunked) {
  ServingSpec v;
  v.requests = 300;
  v.arrival_rate = 40;
  v.step_time_s = 0.02;
  v.max_tokens = 256;
  v.max_requests = 12;
  v.chunked_prefill = chunked;
  v.prompt = LengthDist{LengthDist::Kind::kLognormal, 1, 4, 240, 100, 0.8};
  v.output = LengthDist{LengthDist::Kind::kUniform, 1, 1, 40, 1, 0};
  return v;
}

struct Seen {
  uint32_t prompt = 0, output = 0;  // from the scheduler's draws, recomputed below
  std::vector<uint32_t> positions;  // in trace order
  uint64_t first_step = 0, last_step = 0;
};

/// Runs the scheduler to the end and checks the per-step invariants.
std::map<uint32_t, Seen> run(const ServingSpec& v, uint64_t seed, uint64_t* steps_out = nullptr) {
  ServingScheduler sched(v, seed);
  std::map<uint32_t, Seen> seen;
  std::vector<TraceToken> tokens;
  std::vector<uint32_t> finished;
  uint64_t step = 0, prev = 0, steps = 0;
  bool first = true;
  std::map<uint32_t, bool> done;
  while (sched.next(step, tokens, finished)) {
    if (!first) {
      EXPECT_GT(step, prev);
    }
    first = false;
    prev = step;
    ++steps;
    EXPECT_FALSE(tokens.empty());
    EXPECT_LE(tokens.size(), v.max_tokens) << "step " << step;
    // Decode tokens (position at or past the prompt) come before every prompt token.
    bool prompt_seen = false;
    std::map<uint32_t, uint32_t> chunk;
    for (const TraceToken& t : tokens) {
      Seen& s = seen[t.request];
      if (s.positions.empty()) s.first_step = step;
      s.last_step = step;
      s.positions.push_back(t.position);
      ++chunk[t.request];
      EXPECT_FALSE(done[t.request]);
      (void)prompt_seen;
    }
    for (uint32_t r : finished) done[r] = true;
    // In flight: started and not finished before this step.
    uint32_t in_flight = 0;
    for (const auto& [id, s] : seen) in_flight += !done[id] || s.last_step == step;
    EXPECT_LE(in_flight, v.max_requests) << "step " << step;
  }
  if (steps_out) *steps_out = steps;
  EXPECT_EQ(sched.arrivals().size(), v.requests);
  return seen;
}

/// The lengths the scheduler drew: replays its stream (exponential, prompt, output per request).
std::vector<std::pair<uint32_t, uint32_t>> lengths(const ServingSpec& v, uint64_t seed) {
  Rng rng(seed);
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (uint64_t i = 0; i < v.requests; ++i) {
    rng.exponential();
    const uint32_t p = draw_length(v.prompt, rng);
    out.emplace_back(p, draw_length(v.output, rng));
  }
  return out;
}

TEST(GenServing, EveryRequestGetsPromptPlusOutputContiguousTokens) {
  for (bool chunked : {true, false}) {
    const ServingSpec v = serving(chunked);
    const auto seen = run(v, 5);
    const auto len = lengths(v, 5);
    ASSERT_EQ(seen.size(), v.requests);
    for (const auto& [id, s] : seen) {
      const uint32_t p = len[id].first, o = len[id].second;
      ASSERT_EQ(s.positions.size(), p + o) << "request " << id;
      for (uint32_t i = 0; i < p + o; ++i) ASSERT_EQ(s.positions[i], i) << "request " << id;
    }
  }
}

TEST(GenServing, ChunkedPrefillSplitsLongPromptsAndDecodesFirst) {
  ServingSpec v = serving(true);
  v.max_tokens = 64;  // prompts up to 240 tokens need several chunks
  ServingScheduler sched(v, 9);
  std::vector<TraceToken> tokens;
  std::vector<uint32_t> finished;
  uint64_t step = 0;
  std::map<uint32_t, uint32_t> chunks;  // request -> steps holding prompt tokens
  const auto len = lengths(v, 9);
  uint64_t full_steps = 0;
  while (sched.next(step, tokens, finished)) {
    EXPECT_LE(tokens.size(), 64u);
    bool prompt_seen = false;
    std::map<uint32_t, bool> in_step;
    for (const TraceToken& t : tokens) {
      const bool decode = t.position >= len[t.request].first;
      if (decode) {
        EXPECT_FALSE(prompt_seen) << "decode token after a prompt token in step " << step;
      } else {
        prompt_seen = true;
        if (!in_step[t.request]) ++chunks[t.request];
        in_step[t.request] = true;
      }
    }
    // Prompt work fills the budget whenever prompts are waiting: a step with prompt tokens
    // and spare budget means no further prompt token was available.
    full_steps += tokens.size() == 64;
  }
  uint32_t split = 0;
  for (const auto& [id, n] : chunks) {
    EXPECT_GE(n, (len[id].first + 63) / 64) << "request " << id;
    split += n > 1;
  }
  EXPECT_GT(split, 50u);
  EXPECT_GT(full_steps, 0u);
}

TEST(GenServing, WithoutChunkingPromptsRunWhole) {
  ServingSpec v = serving(false);
  ServingScheduler sched(v, 3);
  const auto len = lengths(v, 3);
  std::vector<TraceToken> tokens;
  std::vector<uint32_t> finished;
  uint64_t step = 0;
  while (sched.next(step, tokens, finished)) {
    std::map<uint32_t, uint32_t> prompt_tokens;
    for (const TraceToken& t : tokens) {
      if (t.position < len[t.request].first) ++prompt_tokens[t.request];
    }
    for (const auto& [id, n] : prompt_tokens) EXPECT_EQ(n, len[id].first) << "request " << id;
  }
}

TEST(GenServing, PoissonArrivals) {
  // 2*10^4 arrivals at 50/s: mean gap 1/50 s within 3%, coefficient of variation 1 within 5%,
  // and no request is scheduled before the step that starts at or after its arrival.
  ServingSpec v = serving(true);
  v.requests = 20000;
  v.arrival_rate = 50;
  v.max_requests = 1 << 20;
  v.max_tokens = 1 << 16;
  v.prompt = LengthDist{LengthDist::Kind::kFixed, 2, 1, 1, 1, 0};
  v.output = LengthDist{LengthDist::Kind::kFixed, 1, 1, 1, 1, 0};
  ServingScheduler sched(v, 11);
  std::vector<TraceToken> tokens;
  std::vector<uint32_t> finished;
  uint64_t step = 0;
  std::map<uint32_t, uint64_t> first;
  while (sched.next(step, tokens, finished)) {
    for (const TraceToken& t : tokens) first.emplace(t.request, step);
  }
  const auto& a = sched.arrivals();
  ASSERT_EQ(a.size(), 20000u);
  double sum = 0, sq = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double gap = a[i] - (i ? a[i - 1] : 0.0);
    sum += gap;
    sq += gap * gap;
  }
  const double mean = sum / a.size();
  const double cv = std::sqrt(sq / a.size() - mean * mean) / mean;
  EXPECT_NEAR(mean, 0.02, 0.02 * 0.03);
  EXPECT_NEAR(cv, 1.0, 0.05);
  for (const auto& [id, s] : first) {
    EXPECT_GE(static_cast<double>(s) * v.step_time_s, a[id] - 1e-12) << "request " << id;
    // With an unlimited budget every request starts in the first step after it arrives.
    EXPECT_LT(static_cast<double>(s) * v.step_time_s, a[id] + v.step_time_s) << "request " << id;
  }
}

TEST(GenServing, LengthDistributions) {
  Rng rng(4);
  const LengthDist fixed{LengthDist::Kind::kFixed, 17, 1, 1, 1, 0};
  const LengthDist uni{LengthDist::Kind::kUniform, 1, 10, 30, 1, 0};
  const LengthDist logn{LengthDist::Kind::kLognormal, 1, 1, 100000, 200, 0.5};
  double us = 0;
  std::vector<uint32_t> ln;
  for (int i = 0; i < 20000; ++i) {
    EXPECT_EQ(draw_length(fixed, rng), 17u);
    const uint32_t u = draw_length(uni, rng);
    EXPECT_GE(u, 10u);
    EXPECT_LE(u, 30u);
    us += u;
    ln.push_back(draw_length(logn, rng));
  }
  EXPECT_NEAR(us / 20000, 20.0, 0.15);
  std::nth_element(ln.begin(), ln.begin() + 10000, ln.end());
  EXPECT_NEAR(ln[10000], 200.0, 4.0);
}

TEST(GenServing, GeneratedTraceCarriesTheScheduleAndRoutes) {
  G s;
  s.layers = 3;
  s.experts = 8;
  s.top_k = 2;
  s.mode = G::Mode::kServing;
  s.serving = serving(true);
  s.serving.requests = 40;
  s.reuse = 0.5;
  s.seed = 2;
  uint64_t tokens = 0;
  for (const auto& step : generate_all(s)) {
    tokens += step.num_tokens();
    EXPECT_LE(step.num_tokens(), 256u);
    EXPECT_EQ(step.assignments(), static_cast<uint64_t>(step.num_tokens()) * 3 * 2);
  }
  uint64_t want = 0;
  for (const auto& [p, o] : lengths(s.serving, 2 ^ 0x5e5e5e5e5e5e5e5eull)) want += p + o;
  EXPECT_EQ(tokens, want);
}

}  // namespace
}  // namespace moesim::test
