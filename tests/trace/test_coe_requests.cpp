// The Composition-of-Experts request generator: one model per request for all its tokens,
// Zipf popularity over models, determinism, and its spec errors.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sim/core/error.hpp"
#include "workloads/trace/coe_requests.hpp"

namespace moesim {
namespace {

CoeRequestSpec spec() {
  CoeRequestSpec s;
  s.model = "coe";
  s.models = 20;
  s.requests = 400;
  s.output_tokens = 3;
  s.prompt_tokens = 7;
  s.zipf_s = 1.2;
  s.seed = 5;
  return s;
}

TEST(CoeRequests, EachRequestKeepsOneModelForAllItsTokens) {
  auto r = make_coe_request_trace(spec());
  EXPECT_EQ(r->meta().layers, 1u);
  EXPECT_EQ(r->meta().experts, 20u);
  EXPECT_EQ(r->meta().top_k, 1u);
  TraceStep s;
  uint64_t steps = 0;
  std::map<uint32_t, int32_t> model_of;
  std::map<int32_t, int> requests_per_model;
  while (r->next(s)) {
    ASSERT_EQ(s.num_tokens(), 1u);
    ASSERT_EQ(s.experts.size(), 1u);
    const uint32_t req = s.tokens[0].request;
    EXPECT_EQ(req, steps / 3);
    EXPECT_EQ(s.tokens[0].position, 7 + steps % 3);
    if (steps % 3 == 0) {
      model_of[req] = s.experts[0];
      ++requests_per_model[s.experts[0]];
    }
    EXPECT_EQ(s.experts[0], model_of.at(req));
    ++steps;
  }
  EXPECT_EQ(steps, 1200u);
  // Zipf(1.2) over 20 models: the most popular takes about 1 / H(20, 1.2) = 31 % of requests.
  int top = 0;
  for (const auto& [m, n] : requests_per_model) top = std::max(top, n);
  EXPECT_GT(top, 90);
  EXPECT_LT(top, 160);
}

// A batch of b: every step has b tokens, sequences request x b + i, all on the request's
// model; the models drawn are those of batch 1 (one draw per request).
TEST(CoeRequests, ABatchRunsOnItsRequestsModel) {
  CoeRequestSpec one = spec();
  CoeRequestSpec four = spec();
  four.batch = 4;
  auto a = make_coe_request_trace(one);
  auto b = make_coe_request_trace(four);
  TraceStep x, y;
  uint64_t steps = 0;
  while (a->next(x)) {
    ASSERT_TRUE(b->next(y));
    ASSERT_EQ(y.num_tokens(), 4u);
    ASSERT_EQ(y.offsets.size(), 5u);
    for (uint32_t i = 0; i < 4; ++i) {
      EXPECT_EQ(y.tokens[i].request, x.tokens[0].request * 4 + i);
      EXPECT_EQ(y.tokens[i].position, x.tokens[0].position);
      EXPECT_EQ(y.experts[i], x.experts[0]);
      EXPECT_EQ(y.route_end(0, i) - y.route_begin(0, i), 1u);
    }
    ++steps;
  }
  EXPECT_FALSE(b->next(y));
  EXPECT_EQ(steps, 1200u);
}

TEST(CoeRequests, SameSeedSameRequestsOtherSeedOthers) {
  auto collect = [](uint64_t seed) {
    CoeRequestSpec s = spec();
    s.seed = seed;
    auto r = make_coe_request_trace(s);
    std::string out;
    TraceStep st;
    while (r->next(st)) out += std::to_string(st.experts[0]) + ",";
    return out;
  };
  EXPECT_EQ(collect(5), collect(5));
  EXPECT_NE(collect(5), collect(6));
}

TEST(CoeRequests, RejectsInconsistentSpecs) {
  auto message = [](CoeRequestSpec s) {
    try {
      make_coe_request_trace(s);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CoeRequestSpec s = spec();
  s.models = 0;
  EXPECT_EQ(message(s), "coe request trace: models must be at least 1");
  s = spec();
  s.models = 1u << 31;
  EXPECT_EQ(message(s), "coe request trace: models = 2147483648 is too large");
  s = spec();
  s.requests = 0;
  EXPECT_EQ(message(s), "coe request trace: requests must be at least 1");
  s = spec();
  s.output_tokens = 0;
  EXPECT_EQ(message(s), "coe request trace: output_tokens must be at least 1");
  s = spec();
  s.requests = 1ull << 33;
  EXPECT_EQ(message(s), "coe request trace: requests exceed the 32-bit request id range");
  s = spec();
  s.batch = 0;
  EXPECT_EQ(message(s), "coe request trace: batch must be at least 1");
  s = spec();
  s.batch = 1u << 16;
  s.requests = 1u << 16;
  EXPECT_EQ(message(s), "coe request trace: requests x batch exceed the 32-bit request id range");
  s = spec();
  s.prompt_tokens = 4294967295u;
  EXPECT_EQ(message(s),
            "coe request trace: prompt_tokens + output_tokens exceed the 32-bit position range");
}

}  // namespace
}  // namespace moesim
