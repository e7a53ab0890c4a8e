#include "hw_models/compute/rtl_vector_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include <fmt/format.h>

#include "rtl/cc/rtl_runners.hpp"
#include "sim/core/error.hpp"

namespace moesim {

namespace {
// The --cc softmax block used here. The L = 1024 block is baked too, but its verilated model
// runs ~20x slower per cycle (0.4-1.2 M vs 8.6 M cycles/s), which alone broke the 3x budget.
constexpr int kSoftmaxL = 256;
}  // namespace

RtlTopkCheck::RtlTopkCheck(uint32_t experts, uint32_t top_k, const std::string& key,
                           StatGroup* parent)
    : m_experts(experts), m_top_k(top_k), m_stats(parent) {
  rtl::TopkGateParams p;
  p.n = static_cast<int>(experts);
  p.k = static_cast<int>(top_k);
  m_runner = rtl::make_topk_gate_runner(p);
  if (!m_runner) {
    throw InputError(fmt::format(
        "{}: \"rtl\" needs a model with a baked top-k gate shape ({}), got experts = {}, "
        "top_k = {}",
        key, rtl::topk_gate_cc_shapes(), experts, top_k));
  }
  m_scores.resize(experts);
}

RtlTopkCheck::~RtlTopkCheck() = default;

void RtlTopkCheck::check(const TraceStep& step, uint32_t moe_layer) {
  for (uint32_t t = 0; t < step.num_tokens(); ++t) {
    const uint32_t b = step.route_begin(moe_layer, t), e = step.route_end(moe_layer, t);
    bool usable = e - b == m_top_k;
    for (uint32_t r = b; r < e && usable; ++r)
      usable = step.experts[r] >= 0 && static_cast<uint32_t>(step.experts[r]) < m_experts;
    if (!usable) {
      ++m_stats.tokens_skipped;
      continue;
    }
    // Logits that make the trace's selection the top-k: round(256 ln w), strictly
    // decreasing in trace order, everyone else 1.0 below the smallest.
    std::vector<uint32_t> want;
    std::vector<int> logit;
    for (uint32_t r = b; r < e; ++r) {
      const double w = step.weights[r];
      const double l =
          std::clamp(w > 0 ? std::round(256.0 * std::log(w)) : -30000.0, -30000.0, 32767.0);
      int li = static_cast<int>(l);
      if (!logit.empty()) li = std::min(li, logit.back() - 1);
      logit.push_back(li);
      want.push_back(static_cast<uint32_t>(step.experts[r]));
    }
    std::fill(m_scores.begin(), m_scores.end(), static_cast<int16_t>(logit.back() - 256));
    for (size_t i = 0; i < want.size(); ++i) m_scores[want[i]] = static_cast<int16_t>(logit[i]);
    const uint64_t before = m_runner->cycles_simulated();
    const auto res = m_runner->run(m_scores);
    m_stats.cycles_simulated += m_runner->cycles_simulated() - before;
    ++m_stats.tokens_checked;
    std::vector<uint32_t> got;
    for (const auto& x : res.out) got.push_back(x.id);
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    const bool sel_ok = got == want;
    const bool cyc_ok = res.cycles == m_experts + m_top_k - 1;
    if (!sel_ok) ++m_stats.selection_mismatches;
    if (!res.values_match) ++m_stats.value_mismatches;
    if (!cyc_ok) ++m_stats.contract_mismatches;
    if ((!sel_ok || !res.values_match || !cyc_ok) && !m_warned) {
      m_warned = true;
      std::fprintf(stderr,
                   "moesim: warning: verilated top-k gate, step %llu layer %u token %u: %s%s%s"
                   "(counted in vector.rtl_topk stats)\n",
                   static_cast<unsigned long long>(step.index), moe_layer, t,
                   sel_ok ? "" : "selection differs from the trace; ",
                   res.values_match ? "" : "outputs differ from the reference; ",
                   cyc_ok ? "" : "cycles differ from N + K - 1; ");
    }
  }
}

RtlSoftmaxCheck::RtlSoftmaxCheck(const std::string& key, StatGroup* parent) : m_stats(parent) {
  rtl::SoftmaxParams p;
  p.length = kSoftmaxL;
  m_runner = rtl::make_softmax_runner(p);
  if (!m_runner) {
    throw InputError(fmt::format("{}: \"rtl\": no softmax block of {} is baked in", key,
                                 rtl::softmax_cc_shapes()));
  }
}

RtlSoftmaxCheck::~RtlSoftmaxCheck() = default;

void RtlSoftmaxCheck::check(const StepPlan& plan, const Op& op, uint64_t step_index) {
  if (op.dep_count == 0) return;
  const Op& scores = plan.ops[plan.deps[op.dep_begin]];
  if (scores.kind != OpKind::kGemm) return;
  if (&plan != m_counted_plan || step_index != m_counted_step) {
    m_counted_plan = &plan;
    m_counted_step = step_index;
    m_softmax_ops = 0;
    for (const Op& o : plan.ops)
      m_softmax_ops += o.kind == OpKind::kVector && o.vfn == VecFn::kSoftmax;
    m_softmax_ops = std::max<uint32_t>(m_softmax_ops, 1);
  }
  if (op.layer % m_softmax_ops != step_index % m_softmax_ops) {
    ++m_stats.ops_not_sampled;
    return;
  }
  ++m_stats.ops_checked;
  std::vector<int16_t> x;
  for (uint32_t i = 0; i < scores.gemm_count; ++i) {
    const GemmShape& g = plan.gemms[scores.gemm_begin + i];
    const uint32_t keys = g.n;
    const int L = kSoftmaxL;
    rtl::SoftmaxRunner& runner = *m_runner;
    const uint32_t len = std::min<uint32_t>(keys, static_cast<uint32_t>(L));
    std::mt19937_64 rng((step_index * 1000003ULL + op.layer) * 1000003ULL + i);
    x.assign(static_cast<size_t>(L), int16_t{-32768});
    for (uint32_t j = 0; j < len; ++j) x[j] = static_cast<int16_t>(int(rng() % 4096) - 2048);
    const uint64_t before = runner.cycles_simulated();
    const auto res = runner.run(x);
    m_stats.cycles_simulated += runner.cycles_simulated() - before;
    m_stats.score_reads += res.reads;
    ++m_stats.vectors_run;
    if (keys > static_cast<uint32_t>(L)) ++m_stats.vectors_truncated;
    const uint64_t l = static_cast<uint64_t>(L);
    const bool cyc_ok = res.cycles == 2 * l + 2 && res.reads == 2 * l;
    if (!res.values_match) ++m_stats.value_mismatches;
    if (!cyc_ok) ++m_stats.contract_mismatches;
    if ((!res.values_match || !cyc_ok) && !m_warned) {
      m_warned = true;
      std::fprintf(stderr,
                   "moesim: warning: verilated softmax, step %llu layer %u: %s%s(counted in "
                   "vector.rtl_softmax stats)\n",
                   static_cast<unsigned long long>(step_index), op.layer,
                   res.values_match ? "" : "outputs differ from the reference; ",
                   cyc_ok ? "" : "cycles or reads differ from 2L + 2, 2L; ");
    }
  }
}

}  // namespace moesim
