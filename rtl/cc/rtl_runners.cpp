// The --cc runners behind rtl_runners.hpp.
#include "rtl/cc/rtl_runners.hpp"

#include <verilated.h>

#include <algorithm>

#include "Vcc_attention_p4_d8_w2_l256.h"
#include "Vcc_softmax_online_l1024.h"
#include "Vcc_softmax_online_l256.h"
#include "Vcc_systolic_tile_pp_r4_c4_acc32.h"
#include "Vcc_systolic_tile_r16_c16_acc32.h"
#include "Vcc_systolic_tile_r4_c4_acc32.h"
#include "Vcc_topk_gate_n8_k2.h"

#include "rtl/cc/cc_driver.hpp"

namespace moesim::rtl {
namespace {

/// kDual: the ping-pong tile, whose weights arrive on their own stream.
template <class V, bool kDual = false>
class TileRunner final : public SystolicTileRunner {
 public:
  explicit TileRunner(const SystolicTileParams& p) : m_p(p), m_drv("systolic_tile") {}
  Result run_gemm(const Int8Matrix& a, const Int8Matrix& b) override {
    const int R = m_p.rows, C = m_p.cols, M = a.rows;
    const auto folds = systolic_folds(a, b, m_p);
    std::vector<Beat> in, w_in;
    std::vector<Beat> ref;
    for (const Fold& f : folds) {
      for (int i = 0; i < R; ++i) {
        Beat w;
        for (int j = 0; j < C; ++j) set_field(w, 8 * j, 8, static_cast<uint8_t>(f.w.at(i, j)));
        (m_p.ping_pong ? w_in : in).push_back(w);
      }
      for (int m = 0; m < M; ++m) {
        Beat x;
        for (int i = 0; i < R; ++i) set_field(x, 8 * i, 8, static_cast<uint8_t>(f.a.at(m, i)));
        x.last = m == M - 1;
        in.push_back(x);
      }
      const auto out = systolic_fold_ref(f.a, f.w, m_p.acc_w);
      for (int m = 0; m < M; ++m) {
        Beat y;
        for (int j = 0; j < C; ++j)
          set_field(y, m_p.acc_w * j, m_p.acc_w,
                    static_cast<uint32_t>(static_cast<uint64_t>(out[m][j])));
        y.last = m == M - 1;
        ref.push_back(y);
      }
    }
    std::vector<Beat> got;
    Result r;
    if constexpr (kDual)
      r.cycles = m_drv.run_dual(w_in, in, ref.size(), got);
    else
      r.cycles = m_drv.run(in, ref.size(), got);
    r.folds = folds.size();
    r.values_match = got == ref;
    return r;
  }
  uint64_t cycles_simulated() const override { return m_drv.cycles(); }

 private:
  SystolicTileParams m_p;
  CcDriver<V> m_drv;
};

template <class V>
class TopkRunner final : public TopkGateRunner {
 public:
  explicit TopkRunner(const TopkGateParams& p) : m_p(p), m_drv("topk_gate") {}
  Result run(const std::vector<int16_t>& scores) override {
    std::vector<Beat> in(scores.size());
    for (size_t i = 0; i < scores.size(); ++i) in[i].w[0] = static_cast<uint16_t>(scores[i]);
    std::vector<Beat> got;
    Result r;
    r.cycles = m_drv.run(in, static_cast<size_t>(m_p.k), got);
    for (const Beat& b : got)
      r.out.push_back({b.w[0] >> 16, static_cast<int16_t>(b.w[0] & 0xffff)});
    r.values_match = r.out == topk_gate_ref(scores, m_p);
    return r;
  }
  uint64_t cycles_simulated() const override { return m_drv.cycles(); }

 private:
  TopkGateParams m_p;
  CcDriver<V> m_drv;
};

template <class V>
class SmRunner final : public SoftmaxRunner {
 public:
  explicit SmRunner(const SoftmaxParams& p) : m_p(p), m_drv("softmax") {}
  Result run(const std::vector<int16_t>& scores) override {
    std::vector<Beat> in(scores.size());
    for (size_t i = 0; i < scores.size(); ++i) in[i].w[0] = static_cast<uint16_t>(scores[i]);
    in.back().last = true;
    std::vector<Beat> got;
    Result r;
    r.cycles = m_drv.run(in, scores.size(), got);
    r.reads = m_drv.stat_delta();
    const auto ref = softmax_ref(scores, m_p);
    for (size_t i = 0; i < ref.size(); ++i)
      r.values_match = r.values_match && got[i].w[0] == ref[i];
    return r;
  }
  uint64_t cycles_simulated() const override { return m_drv.cycles(); }

 private:
  SoftmaxParams m_p;
  CcDriver<V> m_drv;
};

template <class V>
class AttnRunner final : public AttentionRunner {
 public:
  explicit AttnRunner(const AttentionParams& p) : m_p(p), m_drv("attention") {}
  Result run(const AttentionCase& c) override {
    std::vector<Beat> in, got;
    for (const auto& w : attention_in_beats(c, m_p)) {
      Beat b;
      std::copy(w.begin(), w.end(), b.w.begin());
      in.push_back(b);
    }
    const auto ref = attention_out_beats(attention_ref(c, m_p), c, m_p);
    const uint32_t scores0 = m_drv.top().stat_scores;
    std::vector<uint64_t> in_cycles;
    Result r;
    r.total_cycles = m_drv.run(in, ref.size(), got, &in_cycles);
    // The first K slice is the input beat after the header and the Q rows.
    r.compute_cycles = in_cycles[0] + r.total_cycles - in_cycles[1 + static_cast<size_t>(c.rows)];
    r.kv_reads = m_drv.stat_delta();
    r.score_reads = static_cast<uint32_t>(m_drv.top().stat_scores - scores0);
    for (size_t g = 0; g < ref.size(); ++g)
      r.values_match = r.values_match && std::equal(ref[g].begin(), ref[g].end(), got[g].w.begin());
    return r;
  }
  uint64_t cycles_simulated() const override { return m_drv.cycles(); }
  const AttentionParams& params() const override { return m_p; }

 private:
  AttentionParams m_p;
  CcDriver<V> m_drv;
};

constexpr AttentionParams kCcAttention{4, 8, 2, 8, 256};

}  // namespace

std::unique_ptr<AttentionRunner> make_attention_runner(int parallel_rows) {
  if (!attention_cc_params(parallel_rows)) return nullptr;
  return std::make_unique<AttnRunner<Vcc_attention_p4_d8_w2_l256>>(kCcAttention);
}

const AttentionParams* attention_cc_params(int parallel_rows) {
  return parallel_rows == kCcAttention.p ? &kCcAttention : nullptr;
}

std::string attention_cc_shapes() {
  return "parallel_rows = 4, ceil(head_dim / dot_width) <= 4, online softmax";
}

std::unique_ptr<SystolicTileRunner> make_systolic_tile_runner(const SystolicTileParams& p) {
  if (!systolic_tile_cc_baked(p)) return nullptr;
  if (p.ping_pong) return std::make_unique<TileRunner<Vcc_systolic_tile_pp_r4_c4_acc32, true>>(p);
  if (p.rows == 4) return std::make_unique<TileRunner<Vcc_systolic_tile_r4_c4_acc32>>(p);
  return std::make_unique<TileRunner<Vcc_systolic_tile_r16_c16_acc32>>(p);
}

std::unique_ptr<TopkGateRunner> make_topk_gate_runner(const TopkGateParams& p) {
  if (!topk_gate_cc_baked(p)) return nullptr;
  return std::make_unique<TopkRunner<Vcc_topk_gate_n8_k2>>(p);
}

std::unique_ptr<SoftmaxRunner> make_softmax_runner(const SoftmaxParams& p) {
  if (p.three_pass) return nullptr;
  if (p.length == 256) return std::make_unique<SmRunner<Vcc_softmax_online_l256>>(p);
  if (p.length == 1024) return std::make_unique<SmRunner<Vcc_softmax_online_l1024>>(p);
  return nullptr;
}

bool systolic_tile_cc_baked(const SystolicTileParams& p) {
  if (p.ping_pong) return p.acc_w == 32 && p.rows == 4 && p.cols == 4;
  return p.acc_w == 32 && ((p.rows == 4 && p.cols == 4) || (p.rows == 16 && p.cols == 16));
}

bool topk_gate_cc_baked(const TopkGateParams& p) {
  return p.n == 8 && p.k == 2 && p.groups == 1;
}

std::string systolic_tile_cc_shapes(bool ping_pong) {
  return ping_pong ? "4x4 with ping_pong" : "4x4, 16x16";
}
std::string topk_gate_cc_shapes() {
  return "experts = 8, top_k = 2";
}
std::string softmax_cc_shapes() {
  return "L = 256, 1024 online";
}

}  // namespace moesim::rtl
