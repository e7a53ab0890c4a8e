#include "sim/engine/rtl_impl_check.hpp"

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "sim/engine/run_spec.hpp"

#if MOESIM_WITH_RTL
#include "rtl/cc/rtl_runners.hpp"
#endif

namespace moesim {

namespace {

[[noreturn]] void fail(const Config& cfg, const std::string& key, const std::string& what) {
  throw InputError(located_message(cfg.where(key), key, what));
}

bool wants_rtl(const Params& p, const char* key) {
  return p.has(key) && p.get_string(key) == "rtl";
}

}  // namespace

void check_rtl_impl(const Config& cfg, const RunSpec& spec) {
  const Params& cp = spec.chip.compute.params;
  const Params& vp = spec.chip.vector.params;
  const struct {
    bool on;
    std::string key;
  } asks[] = {{wants_rtl(cp, "impl"), "chip.compute.impl"},
              {wants_rtl(vp, "topk_impl"), "chip.vector.topk_impl"},
              {wants_rtl(vp, "softmax_impl"), "chip.vector.softmax_impl"}};
  for (const auto& a : asks) {
    if (a.on && !MOESIM_WITH_RTL)
      fail(cfg, a.key,
           "\"rtl\" needs a build with RTL (this one was configured with "
           "-DMOESIM_WITH_RTL=OFF)");
  }
#if MOESIM_WITH_RTL
  if (asks[0].on) {
    if (cp.get_string("dataflow") != "weight_stationary")
      fail(cfg, asks[0].key,
           "\"rtl\" needs dataflow = \"weight_stationary\" (the RTL tile is weight-stationary)");
    rtl::SystolicTileParams p;
    p.rows = static_cast<int>(cp.get_int("rows"));
    p.cols = static_cast<int>(cp.get_int("cols"));
    p.acc_w = 32;
    if (!rtl::systolic_tile_cc_baked(p))
      fail(cfg, asks[0].key,
           fmt::format("\"rtl\" needs rows x cols of a baked RTL tile ({}), got {}x{}",
                       rtl::systolic_tile_cc_shapes(), p.rows, p.cols));
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
