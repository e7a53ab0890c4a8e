// Partial traces at run time (layer_fill.hpp): the real layers a trace records, and the
// readers that keep only them or refill the others.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "sim/core/error.hpp"
#include "workloads/trace/layer_fill.hpp"
#include "workloads/trace/synthetic.hpp"

namespace moesim {
namespace {

std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

/// A synthetic trace (Zipf routing) that says it logged only `real` layers; the others
/// are emptied, as trace import --layers --fill none writes them.
class PartialTrace final : public TraceReader {
 public:
  PartialTrace(const SyntheticSpec& s, std::vector<uint32_t> real)
      : m_inner(make_synthetic_trace(s)), m_real(std::move(real)) {
    m_meta = m_inner->meta();
    m_meta.extra["real_layers"] = layer_list_text(m_real);
    m_meta.extra["layer_fill"] = "none";
  }
  const TraceMeta& meta() const override { return m_meta; }
  bool next(TraceStep& step) override {
    TraceStep in;
    if (!m_inner->next(in)) return false;
    step.clear();
    step.index = in.index;
    step.layers = in.layers;
    step.tokens = in.tokens;
    step.offsets.push_back(0);
    for (uint32_t l = 0; l < in.layers; ++l) {
      const bool real = std::binary_search(m_real.begin(), m_real.end(), l);
      for (uint32_t t = 0; t < in.num_tokens(); ++t) {
        if (real) {
          for (uint32_t i = in.route_begin(l, t); i < in.route_end(l, t); ++i) {
            step.experts.push_back(in.experts[i]);
            // Distinct weights, to see that each filled route keeps its position's weight.
            step.weights.push_back(in.weights[i] + static_cast<float>(i - in.route_begin(l, t)));
          }
        }
        step.offsets.push_back(static_cast<uint32_t>(step.experts.size()));
      }
    }
    return true;
  }

 private:
  std::unique_ptr<TraceReader> m_inner;
  std::vector<uint32_t> m_real;
  TraceMeta m_meta;
};

SyntheticSpec spec(uint64_t steps = 4, uint32_t batch = 8) {
  SyntheticSpec s;
  s.model = "m";
  s.layers = 6;
  s.experts = 16;
  s.top_k = 2;
  s.steps = steps;
  s.batch = batch;
  s.dist = SyntheticSpec::Dist::kZipf;
  s.zipf_s = 1.2;
  s.seed = 7;
  return s;
}

std::vector<int32_t> routes(const TraceStep& s, uint32_t l, uint32_t t) {
  return {s.experts.begin() + s.route_begin(l, t), s.experts.begin() + s.route_end(l, t)};
}
std::vector<float> weights(const TraceStep& s, uint32_t l, uint32_t t) {
  return {s.weights.begin() + s.route_begin(l, t), s.weights.begin() + s.route_end(l, t)};
}

std::unique_ptr<TraceReader> filled(UnloggedLayers mode, const std::vector<uint32_t>& real,
                                    uint64_t seed = 1, const SyntheticSpec& s = spec()) {
  auto trace = std::make_unique<PartialTrace>(s, real);
  PartialTrace calibration(s, real);
  auto plan = std::make_shared<const LayerFillPlan>(
      plan_layer_fill(mode, trace->meta(), real, seed, &calibration, 0));
  return apply_layer_fill(std::move(trace), plan);
}

TEST(LayerFill, RealLayersFromTheMetadata) {
  TraceMeta m;
  m.layers = 8;
  EXPECT_TRUE(trace_real_layers(m, "t.csv").empty());
  m.extra["real_layers"] = "0-2,5,7";
  EXPECT_EQ(trace_real_layers(m, "t.csv"), (std::vector<uint32_t>{0, 1, 2, 5, 7}));
  EXPECT_EQ(layer_list_text({0, 1, 2, 5, 7}), "0-2,5,7");
  m.extra["real_layers"] = "0-8";
  EXPECT_EQ(input_error([&] { trace_real_layers(m, "t.csv"); }),
            "t.csv: metadata 'real_layers': layer 8 out of range (the trace has 8 MoE layers)");
  m.extra["real_layers"] = "3,1";
  EXPECT_EQ(input_error([&] { trace_real_layers(m, "t.csv"); }),
            "t.csv: metadata 'real_layers': layers must ascend without repeats, got '3,1'");
  m.extra["real_layers"] = "0-x";
  EXPECT_EQ(input_error([&] { trace_real_layers(m, "t.csv"); }),
            "t.csv: metadata 'real_layers': expected MoE layers and ranges like 0-3,5, got '0-x'");
  EXPECT_EQ(nearest_real_layers({1, 4}, 6), (std::vector<uint32_t>{1, 1, 1, 4, 4, 4}));
}

TEST(LayerFill, ModeNames) {
  UnloggedLayers m = UnloggedLayers::kAsTraced;
  for (const std::string& n : unlogged_layers_names()) {
    ASSERT_TRUE(parse_unlogged_layers(n, m));
    EXPECT_EQ(unlogged_layers_name(m), n);
  }
  EXPECT_FALSE(parse_unlogged_layers("skp", m));
}

TEST(LayerFill, SkipKeepsOnlyTheRealLayers) {
  const std::vector<uint32_t> real = {1, 2, 4};
  auto r = filled(UnloggedLayers::kSkip, real);
  EXPECT_EQ(r->meta().layers, 3u);
  EXPECT_EQ(r->meta().extra.at("layer_fill"), "skipped");
  EXPECT_EQ(r->meta().extra.at("layer_fill_by"), "run");
  PartialTrace raw(spec(), real);
  TraceStep a, b;
  uint64_t steps = 0;
  while (r->next(a)) {
    ASSERT_TRUE(raw.next(b));
    ++steps;
    ASSERT_EQ(a.layers, 3u);
    EXPECT_EQ(a.index, b.index);
    for (uint32_t i = 0; i < 3; ++i) {
      for (uint32_t t = 0; t < a.num_tokens(); ++t) {
        EXPECT_EQ(routes(a, i, t), routes(b, real[i], t));
        EXPECT_EQ(weights(a, i, t), weights(b, real[i], t));
      }
    }
  }
  EXPECT_EQ(steps, 4u);
}

TEST(LayerFill, EmptyAndCopyNearest) {
  const std::vector<uint32_t> real = {1, 4};
  auto e = filled(UnloggedLayers::kEmpty, real);
  auto c = filled(UnloggedLayers::kCopyNearest, real);
  EXPECT_EQ(c->meta().extra.at("layer_fill"), "copy-nearest");
  EXPECT_EQ(e->meta().extra.at("layer_fill"), "none");
  TraceStep a, b;
  ASSERT_TRUE(e->next(a));
  ASSERT_TRUE(c->next(b));
  const uint32_t nearest[6] = {1, 1, 1, 4, 4, 4};
  for (uint32_t l = 0; l < 6; ++l) {
    for (uint32_t t = 0; t < a.num_tokens(); ++t) {
      const bool real_l = l == 1 || l == 4;
      EXPECT_EQ(routes(a, l, t).size(), real_l ? 2u : 0u);
      EXPECT_EQ(routes(b, l, t), routes(b, nearest[l], t));
      EXPECT_EQ(weights(b, l, t), weights(b, nearest[l], t));
    }
  }
}

TEST(LayerFill, CalibratedKeepsKAndWeightsAndIsSeeded) {
  const std::vector<uint32_t> real = {0, 3};
  auto a = filled(UnloggedLayers::kCalibrated, real, 5);
  auto b = filled(UnloggedLayers::kCalibrated, real, 5);
  auto c = filled(UnloggedLayers::kCalibrated, real, 6);
  EXPECT_EQ(a->meta().extra.at("layer_fill"), "calibrated");
  PartialTrace raw(spec(), real);
  TraceStep sa, sb, sc, sr;
  bool differs = false;
  while (a->next(sa)) {
    ASSERT_TRUE(b->next(sb) && c->next(sc) && raw.next(sr));
    EXPECT_EQ(sa.experts, sb.experts);
    EXPECT_EQ(sa.weights, sb.weights);
    differs = differs || sa.experts != sc.experts;
    for (uint32_t l = 0; l < 6; ++l) {
      const uint32_t src = l <= 1 ? 0 : 3;
      for (uint32_t t = 0; t < sa.num_tokens(); ++t) {
        const auto got = routes(sa, l, t);
        EXPECT_EQ(weights(sa, l, t), weights(sr, src, t));
        ASSERT_EQ(got.size(), routes(sr, src, t).size());
        EXPECT_EQ(std::set<int32_t>(got.begin(), got.end()).size(), got.size());  // distinct
        if (l == src) {
          EXPECT_EQ(got, routes(sr, src, t));  // a real layer: kept
        }
      }
    }
  }
  EXPECT_TRUE(differs);  // another seed, other draws
}

TEST(LayerFill, CalibratedLoadFollowsTheNearestRealLayer) {
  // 4000 tokens of top-2 over 16 Zipf experts at real layer 2; layers 3-5 are drawn from
  // its per-expert load: each expert's share of the routes matches within a few thousandths.
  const SyntheticSpec s = spec(50, 80);
  auto r = filled(UnloggedLayers::kCalibrated, {0, 2}, 1, s);
  std::vector<std::vector<double>> count(6, std::vector<double>(16, 0.0));
  TraceStep st;
  double total = 0;
  while (r->next(st)) {
    for (uint32_t l = 0; l < 6; ++l) {
      for (uint32_t i = st.route_begin(l, 0); i < st.route_end(l, st.num_tokens() - 1); ++i) {
        count[l][static_cast<size_t>(st.experts[i])] += 1;
      }
    }
    total += 2.0 * st.num_tokens();
  }
  double worst = 0, skew = 0;
  for (uint32_t l = 3; l < 6; ++l) {
    for (uint32_t e = 0; e < 16; ++e) {
      worst = std::max(worst, std::fabs(count[l][e] / total - count[2][e] / total));
      skew = std::max(skew, count[2][e] / total);
    }
  }
  EXPECT_GT(skew, 0.15);   // the real layer is skewed (uniform would be 1/16)
  EXPECT_LT(worst, 0.02);  // and the filled layers are too, on the same experts
}

}  // namespace
}  // namespace moesim
