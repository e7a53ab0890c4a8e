#include "sim/engine/rtl_impl_check.hpp"

#include <fmt/format.h>

#include "hw_models/compute/attention_unit.hpp"
#include "sim/config/config_fail.hpp"
#include "sim/core/error.hpp"
#include "sim/engine/run_spec.hpp"

#if MOESIM_WITH_RTL
#include "rtl/cc/rtl_runners.hpp"
#endif

namespace moesim {

void check_rtl_impl(const Config& cfg, const RunSpec& spec) {
  // What the configured models say of themselves; a model without an RTL choice says no.
  const ComputeUnit::Facts compute = spec.chip.compute.facts<ComputeUnit>();
  const VectorUnit::Facts vector = spec.chip.vector.facts<VectorUnit>();
  if (compute.ping_pong && !compute.weight_stationary)
    fail(cfg, "chip.compute.ping_pong",
         "true needs dataflow = \"weight_stationary\" (ping-pong buffers hold weight tiles)");
  const struct {
    bool on;
    std::string key;
  } asks[] = {{compute.rtl, "chip.compute.impl"},
              {vector.topk_rtl, "chip.vector.topk_impl"},
              {vector.softmax_rtl, "chip.vector.softmax_impl"}};
  const bool has_attention = !spec.chip.attention.type.empty();
  const AttentionUnit::Facts attention =
      has_attention ? spec.chip.attention.facts<AttentionUnit>() : AttentionUnit::Facts{};
  for (const auto& a : asks) {
    if (a.on && !MOESIM_WITH_RTL)
      fail(cfg, a.key,
           "\"rtl\" needs a build with RTL (this one was configured with "
           "-DMOESIM_WITH_RTL=OFF)");
  }
  if (attention.rtl && !MOESIM_WITH_RTL)
    fail(cfg, "chip.attention.impl",
         "\"rtl\" needs a build with RTL (this one was configured with "
         "-DMOESIM_WITH_RTL=OFF)");
#if MOESIM_WITH_RTL
  if (asks[0].on) {
    if (!compute.weight_stationary)
      fail(cfg, asks[0].key,
           "\"rtl\" needs dataflow = \"weight_stationary\" (the RTL tile is weight-stationary)");
    rtl::SystolicTileParams p;
    p.rows = compute.rows;
    p.cols = compute.cols;
    p.acc_w = 32;
    p.ping_pong = compute.ping_pong;
    if (!rtl::systolic_tile_cc_baked(p))
      fail(cfg, asks[0].key,
           fmt::format("\"rtl\" needs rows x cols of a baked RTL tile ({}), got {}x{}",
                       rtl::systolic_tile_cc_shapes(p.ping_pong), p.rows, p.cols));
  }
  if (asks[1].on) {
    rtl::TopkGateParams p;
    p.n = static_cast<int>(spec.model.experts);
    p.k = static_cast<int>(spec.model.top_k);
    if (!rtl::topk_gate_cc_baked(p))
      fail(cfg, asks[1].key,
           fmt::format("\"rtl\" needs a model of a baked top-k gate shape ({}), got experts = "
                       "{}, top_k = {}",
                       rtl::topk_gate_cc_shapes(), p.n, p.k));
  }
  if (attention.rtl) {
    const std::string key = "chip.attention.impl";
    const rtl::AttentionParams* p = rtl::attention_cc_params(attention.parallel_rows);
    if (!p)
      fail(cfg, key,
           fmt::format("\"rtl\" needs parallel_rows of a baked RTL attention block ({}), got "
                       "parallel_rows = {}",
                       rtl::attention_cc_shapes(), attention.parallel_rows));
    if (!attention.online)
      fail(cfg, key,
           "\"rtl\" needs softmax = \"online\" (the RTL attention block's softmax is "
           "single-pass)");
    const uint64_t d = spec.model.head_dim, w = static_cast<uint64_t>(attention.dot_width);
    const uint64_t slices = (d + w - 1) / w, cmax = static_cast<uint64_t>(p->d / p->w);
    if (slices > cmax)
      fail(cfg, key,
           fmt::format("\"rtl\" needs ceil(head_dim / dot_width) <= {} (K/V slices per key of "
                       "the RTL attention block), got head_dim = {}, dot_width = {}: {} slices",
                       cmax, d, w, slices));
  }
#endif
}

}  // namespace moesim
