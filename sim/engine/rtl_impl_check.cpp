#include "sim/engine/rtl_impl_check.hpp"

#include <fmt/format.h>

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
  for (const auto& a : asks) {
    if (a.on && !MOESIM_WITH_RTL)
      fail(cfg, a.key,
           "\"rtl\" needs a build with RTL (this one was configured with "
           "-DMOESIM_WITH_RTL=OFF)");
  }
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
#endif
}

}  // namespace moesim
