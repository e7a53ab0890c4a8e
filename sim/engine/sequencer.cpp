#include "sim/engine/sequencer.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "sim/core/sim_time.hpp"

#include <fmt/format.h>

namespace moesim {

KernelStats::KernelStats(StatGroup* parent)
    : StatGroup("kernels", parent),
      stage_utilisation(this, "stage_utilisation", "1",
                        "fused kernels: stage busy time / (stages x pipeline time), whole run",
                        [this] { return stage_avail_s > 0 ? stage_busy_s / stage_avail_s : 0.0; }) {
  for (int s = 0; s < kNumSegments; ++s) {
    const std::string name = segment_name(static_cast<Segment>(s));
    seg_kernels[s] = std::make_unique<Counter>(this, name + "_kernels", "kernels",
                                               "kernels whose first compute op is " + name);
    seg_time[s] = std::make_unique<Scalar>(this, name + "_time", "s",
                                           "kernel_time of the " + name + " kernels");
  }
}

Sequencer::Sequencer(const sc_core::sc_module_name& name, Chip& chip, ChipId id, Done done,
                     TierStats* tier_stats, uint8_t weights_tier, uint8_t kv_tier)
    : sc_core::sc_module(name),
      m_chip(chip),
      m_id(id),
      m_done(std::move(done)),
      m_tier_stats(tier_stats),
      m_weights_tier(weights_tier),
      m_kv_tier(kv_tier) {
  m_chip.bind(&m_plan, this);
  SC_METHOD(on_kernel_event);
  sensitive << m_kernel_event;
  dont_initialize();
}

void Sequencer::set_fusion(const FusionSpec& spec) {
  m_fusion = spec;
  m_kstats = std::make_unique<KernelStats>(&m_chip.stats());
}

void Sequencer::set_comm(Unit* comm) {
  m_comm = comm;
  m_comm->bind(&m_plan, this, UnitMemories{});
}

void Sequencer::execute() {
  if (m_kstats) {
    ++m_plans_started;
    m_finishing = false;
    SpillCounts sp;
    form_kernels(m_plan, m_fusion, m_kernels, sp);
    m_kstats->spills += sp.spills;
    m_kstats->spill_store_bytes += sp.store_bytes;
    m_kstats->spill_load_bytes += sp.load_bytes;
    m_kernel_of.assign(m_plan.ops.size(), 0);
    for (uint32_t k = 0; k < m_kernels.size(); ++k) {
      for (uint32_t i = m_kernels[k].begin; i < m_kernels[k].end; ++i) m_kernel_of[i] = k;
    }
    m_open = UINT32_MAX;
  }
  const auto n = static_cast<uint32_t>(m_plan.ops.size());
  m_remaining.assign(n, 0);
  m_last_dep_load.assign(n, 0);
  m_state.assign(n, 0);
  m_dep_offsets.assign(n + 1, 0);
  for (uint32_t i = 0; i < n; ++i) {
    const Op& op = m_plan.ops[i];
    m_remaining[i] = op.dep_count;
    for (uint32_t d = 0; d < op.dep_count; ++d) ++m_dep_offsets[m_plan.deps[op.dep_begin + d] + 1];
  }
  for (uint32_t i = 0; i < n; ++i) m_dep_offsets[i + 1] += m_dep_offsets[i];
  m_dependents.resize(m_plan.deps.size());
  std::vector<uint32_t> fill(m_dep_offsets.begin(), m_dep_offsets.end() - 1);
  for (uint32_t i = 0; i < n; ++i) {
    const Op& op = m_plan.ops[i];
    for (uint32_t d = 0; d < op.dep_count; ++d) {
      m_dependents[fill[m_plan.deps[op.dep_begin + d]]++] = i;
    }
  }
  m_ops_left = n;
  if (n == 0) {
    m_done(m_id);
    return;
  }
  // The ops ready at the start, listed before any is issued: an op can finish inside
  // issue() (a collective with no message, on a chip with no token), and op_done() then
  // issues its dependents itself; a scan of m_remaining would issue those a second time.
  if (m_kstats) {
    launch(0);
    return;
  }
  m_initial.clear();
  for (uint32_t i = 0; i < n; ++i) {
    if (m_remaining[i] == 0) m_initial.push_back(i);
  }
  for (uint32_t i : m_initial) issue(i);
}

bool Sequencer::in_fused_kernel(uint32_t op) const {
  return m_kstats && m_kernels[m_kernel_of[op]].fused;
}

void Sequencer::launch(uint32_t kernel) {
  // Kernels run one at a time, in plan order (one stream); each waits its launch latency
  // after the previous one ends (the latency is not hidden behind the previous kernel).
  m_open = kernel;
  m_launching = true;
  ++m_kstats->kernels;
  m_kstats->launch_s += m_fusion.launch_s;
  m_kernel_start = sc_core::sc_time_stamp();
  m_kernel_event.notify(checked_delay(std::ceil(m_fusion.launch_s * 1e12 - 1e-6), name()));
}

void Sequencer::on_kernel_event() {
  try {
    if (m_launching) {
      m_launching = false;
      open_kernel();
    } else {
      m_pipe_timer = true;
      if (m_loads_left == 0) finish_pipeline(false);
    }
  } catch (...) {
    stop_with(std::current_exception());
  }
}

void Sequencer::open_kernel() {
  const Kernel& k = m_kernels[m_open];
  m_kernel_left = k.end - k.begin;
  m_initial.clear();
  if (k.fused) {
    // Loads and copies stream ahead of the stages that use them: they start at launch,
    // without waiting for the kernel's own compute ops (tile-buffer reuse inside a kernel is
    // the pipeline's). Stores wait for the compute ops they follow (the pipeline's end).
    m_loads_left = 0;
    for (uint32_t i = k.begin; i < k.end; ++i) {
      const Op& o = m_plan.ops[i];
      if (o.kind != OpKind::kLoad && o.kind != OpKind::kCopy) continue;
      ++m_loads_left;
      for (uint32_t d = 0; d < o.dep_count; ++d) {
        const uint32_t p = m_plan.deps[o.dep_begin + d];
        const OpKind pk = m_plan.ops[p].kind;
        if (p >= k.begin && (pk == OpKind::kGemm || pk == OpKind::kVector)) --m_remaining[i];
      }
    }
    m_pipe_timer = false;
    const uint64_t cycles = start_pipeline();
    ++m_kstats->fused;
    m_kernel_event.notify(checked_delay(
        std::ceil(static_cast<double>(cycles) * 1e12 / m_chip.clock_hz() - 1e-6), name()));
  }
  for (uint32_t i = k.begin; i < k.end; ++i) {
    const OpKind kind = m_plan.ops[i].kind;
    if (k.fused && (kind == OpKind::kGemm || kind == OpKind::kVector)) continue;
    if (m_remaining[i] == 0) m_initial.push_back(i);
  }
  // Listed first: an op can finish inside issue() and issue its dependents itself.
  const std::vector<uint32_t> ready = m_initial;
  for (uint32_t i : ready) issue(i);
}

namespace {
/// Whole parts of `total` in proportion to `shares`, at least one each; the sum never
/// exceeds `total` (the largest give way first). Needs shares.size() <= total.
std::vector<uint64_t> whole_parts(const std::vector<double>& shares, uint64_t total) {
  std::vector<uint64_t> parts(shares.size());
  uint64_t sum = 0;
  for (size_t i = 0; i < shares.size(); ++i) {
    parts[i] = std::max<uint64_t>(
        1, static_cast<uint64_t>(std::floor(shares[i] * static_cast<double>(total) + 1e-9)));
    sum += parts[i];
  }
  while (sum > total) {
    const auto it = std::max_element(parts.begin(), parts.end());
    --*it;
    --sum;
  }
  return parts;
}
}  // namespace

uint64_t Sequencer::start_pipeline() {
  const Kernel& k = m_kernels[m_open];
  std::vector<uint32_t> gemm_ops, vec_ops;
  std::vector<uint64_t> gemm_work, vec_work;
  uint64_t tokens = 0, width = 0;  // of the kernel's first GEMM (a projection)
  for (uint32_t i = k.begin; i < k.end; ++i) {
    const Op& o = m_plan.ops[i];
    if (o.kind == OpKind::kGemm) {
      if (gemm_ops.empty() && o.gemm_count > 0) {
        tokens = m_plan.gemms[o.gemm_begin].m;
        width = m_plan.gemms[o.gemm_begin].k;
      }
      gemm_ops.push_back(i);
      gemm_work.push_back(m_chip.compute().op_cycles(m_plan, o));
    } else if (o.kind == OpKind::kVector) {
      vec_ops.push_back(i);
      vec_work.push_back(m_chip.vector().op_cycles(o));
    }
  }
  const uint64_t arrays = m_chip.compute().parallel_parts();
  const uint64_t lanes = m_chip.vector().parallel_parts();
  if (gemm_ops.size() > arrays || vec_ops.size() > lanes) {
    const bool g = gemm_ops.size() > arrays;
    throw InputError(located_message(
        m_fusion.where, "mapping.fusion.kernels",
        fmt::format("a fused {} kernel of layer {} has {} {} stages, more than the {} {} of "
                    "chip.{} to divide among them (fuse fewer ops)",
                    segment_name(k.segment), m_plan.ops[k.begin].layer,
                    g ? gemm_ops.size() : vec_ops.size(), g ? "GEMM" : "vector", g ? arrays : lanes,
                    g ? "arrays" : "lanes", g ? "compute" : "vector")));
  }
  const std::vector<uint64_t> gparts =
      whole_parts(stage_shares(m_fusion.shares, gemm_work), arrays);
  const std::vector<uint64_t> vparts = whole_parts(stage_shares(m_fusion.shares, vec_work), lanes);
  // Stage cycles in plan order (the order tiles flow through them).
  std::vector<uint64_t> stage;
  size_t gi = 0, vi = 0;
  for (uint32_t i = k.begin; i < k.end; ++i) {
    const Op& o = m_plan.ops[i];
    uint64_t c = 0;
    if (o.kind == OpKind::kGemm) {
      const uint64_t parts = gparts[gi++];
      c = m_chip.compute().op_cycles_on(m_plan, o, parts);
      // In cycles of the whole unit: a stage on a quarter of the arrays for 4 cycles is one.
      m_chip.compute().account_stage(o, (c * parts + arrays - 1) / arrays);
    } else if (o.kind == OpKind::kVector) {
      const uint64_t parts = vparts[vi++];
      c = m_chip.vector().op_cycles_on(o, parts);
      m_chip.vector().account_stage(o, (c * parts + lanes - 1) / lanes);
    } else {
      continue;
    }
    stage.push_back(c);
  }
  // Tiles: the tokens in tiles of tile_tokens, each streamed in chunks of hidden_chunk
  // columns (a stage's output columns feed the next stage's reduction as they come).
  const uint64_t tile = m_fusion.tile_tokens;
  const uint64_t chunk = m_fusion.hidden_chunk;
  const uint64_t tiles = std::max<uint64_t>(1, (tokens + tile - 1) / tile) *
                         std::max<uint64_t>(1, (width + chunk - 1) / chunk);
  const uint64_t cycles = pipeline_cycles(stage, tiles);
  uint64_t max_tile = 0, busy = 0;
  for (uint64_t c : stage) {
    max_tile = std::max(max_tile, (c + tiles - 1) / tiles);
    busy += c;
  }
  const double hz = m_chip.clock_hz();
  const double pipe_s = static_cast<double>(cycles) / hz;
  m_kstats->pipeline_s += pipe_s;
  m_kstats->slowest_s += static_cast<double>(tiles * max_tile) / hz;
  m_kstats->fill_drain_s += static_cast<double>(cycles - tiles * max_tile) / hz;
  m_kstats->stages += stage.size();
  m_kstats->stage_busy_s += static_cast<double>(busy) / hz;
  m_kstats->stage_avail_s += static_cast<double>(stage.size()) * pipe_s;
  // The arrays (lanes) are the pipeline's while it runs.
  if (!gemm_ops.empty()) m_chip.compute().add_external_busy(gemm_ops.size(), pipe_s);
  if (!vec_ops.empty()) m_chip.vector().add_external_busy(vec_ops.size(), pipe_s);
  return cycles;
}

void Sequencer::finish_pipeline(bool memory_bound) {
  const Kernel& k = m_kernels[m_open];
  if (memory_bound) ++m_kstats->memory_bound;
  std::vector<uint32_t> compute;
  for (uint32_t i = k.begin; i < k.end; ++i) {
    const OpKind kind = m_plan.ops[i].kind;
    if (kind == OpKind::kGemm || kind == OpKind::kVector) compute.push_back(i);
  }
  // The last op_done() may end the step and start the next plan (execute() clears
  // m_finishing): nothing of this kernel is touched after it.
  const uint64_t plan = m_plans_started;
  m_finishing = true;
  for (uint32_t i : compute) op_done(i);
  if (plan == m_plans_started) m_finishing = false;
}

void Sequencer::kernel_op_done(uint32_t op) {
  const Kernel& k = m_kernels[m_open];
  if (k.fused) {
    const OpKind kind = m_plan.ops[op].kind;
    // The loads, not the pipeline, ended it. This op is still counted below, so the kernel
    // cannot end inside.
    if ((kind == OpKind::kLoad || kind == OpKind::kCopy) && --m_loads_left == 0 && m_pipe_timer) {
      finish_pipeline(true);
    }
  }
  if (--m_kernel_left != 0) return;
  const double t = (sc_core::sc_time_stamp() - m_kernel_start).to_seconds();
  m_kstats->kernel_s += t;
  if (k.compute_ops > 0) {
    ++*m_kstats->seg_kernels[static_cast<int>(k.segment)];
    *m_kstats->seg_time[static_cast<int>(k.segment)] += t;
  } else if (m_plan.ops[k.begin].kind == OpKind::kComm ||
             m_plan.ops[k.end - 1].kind == OpKind::kComm) {
    ++m_kstats->collective;
  }
  if (m_open + 1 < m_kernels.size()) launch(m_open + 1);
}

void Sequencer::issue(uint32_t op) {
  const Op& o = m_plan.ops[op];
  m_state[op] = 1;
  const bool dma = o.kind == OpKind::kLoad || o.kind == OpKind::kStore || o.kind == OpKind::kCopy;
  if (dma && m_tier_stats) {
    const uint8_t role = o.mem == MemRole::kWeights ? m_weights_tier : m_kv_tier;
    const uint8_t tier = o.src_tier != kRoleTier ? o.src_tier : role;
    const uint8_t sram = TierStats::kSramIndex;
    if (o.kind == OpKind::kCopy) {
      m_tier_stats->moved(o.src_tier, o.dst_tier, o.bytes);
      if (m_copy_ready.size() < m_plan.ops.size()) m_copy_ready.resize(m_plan.ops.size());
      m_copy_ready[op] = sc_core::sc_time_stamp();
    } else {
      m_tier_stats->moved(o.kind == OpKind::kLoad ? tier : sram,
                          o.kind == OpKind::kLoad ? sram : tier, o.bytes);
    }
  }
  unit_for(o)->push(op);
}

Unit* Sequencer::unit_for(const Op& o) const {
  switch (o.kind) {
    case OpKind::kLoad:
    case OpKind::kStore:
    case OpKind::kCopy:
      return &m_chip.dma();
    case OpKind::kGemm:
      return &m_chip.compute();
    case OpKind::kVector:
      return &m_chip.vector_unit_for(o);
    case OpKind::kAttention:
      return &m_chip.attention();
    case OpKind::kComm:
      return m_comm;
  }
  return nullptr;
}

void Sequencer::unit_idle(uint32_t op, double idle_s) {
  // 2: the last dependency was a weight load (see op_done).
  if (m_tier_stats && m_plan.ops[op].kind == OpKind::kGemm && m_last_dep_load[op] == 2) {
    m_tier_stats->weight_stall_time += idle_s;
  }
}

void Sequencer::op_done(uint32_t op) {
  const Op& o = m_plan.ops[op];
  m_state[op] = 2;
  const bool is_load = o.kind == OpKind::kLoad || o.kind == OpKind::kCopy;
  const uint8_t mark = is_load ? (o.mem == MemRole::kWeights ? 2 : 1) : 0;
  if (o.kind == OpKind::kCopy && m_tier_stats) {
    ++m_tier_stats->copies;
    m_tier_stats->copy_time += (sc_core::sc_time_stamp() - m_copy_ready[op]).to_seconds();
  }
  if (m_kstats) {
    for (uint32_t i = m_dep_offsets[op]; i < m_dep_offsets[op + 1]; ++i) {
      const uint32_t d = m_dependents[i];
      const Op& od = m_plan.ops[d];
      const bool d_compute = od.kind == OpKind::kGemm || od.kind == OpKind::kVector;
      // A fused kernel's loads were released from its compute ops at launch.
      if (m_finishing && m_kernel_of[d] == m_open && !d_compute) {
        if (od.kind == OpKind::kLoad || od.kind == OpKind::kCopy) continue;
      }
      if (--m_remaining[d] == 0) {
        m_last_dep_load[d] = mark;
        // Ops of later kernels wait for their kernel; a fused kernel's compute ops for its
        // pipeline.
        if (m_kernel_of[d] == m_open && !(d_compute && in_fused_kernel(d))) issue(d);
      }
    }
    // Before counting it: a fused kernel's last load finishes its pipeline (their ops are
    // counted inside), and the step must not end before them.
    kernel_op_done(op);
    if (--m_ops_left == 0) m_done(m_id);
    return;
  }
  for (uint32_t i = m_dep_offsets[op]; i < m_dep_offsets[op + 1]; ++i) {
    const uint32_t d = m_dependents[i];
    if (--m_remaining[d] == 0) {
      m_last_dep_load[d] = mark;
      issue(d);
    }
  }
  if (--m_ops_left == 0) m_done(m_id);
}

std::string Sequencer::describe_pending() const {
  if (m_ops_left == 0) return {};
  constexpr uint32_t kListed = 4;
  std::string issued;
  uint32_t n_issued = 0;
  for (uint32_t i = 0; i < m_state.size(); ++i) {
    if (m_state[i] != 1) continue;
    if (++n_issued > kListed) continue;
    const Op& o = m_plan.ops[i];
    const Unit* u = unit_for(o);
    const char* unit = u ? u->name() : "no comm unit";
    std::string what = fmt::format("{} {}", op_kind_name(o.kind), op_class_name(o.cls));
    if (o.kind == OpKind::kComm) {
      what = fmt::format("comm {}, collective {}", comm_role_name(o.comm_role), o.collective);
    }
    issued += fmt::format("{}op {} ({}, layer {}) on {}", issued.empty() ? "" : ", ", i, what,
                          o.layer, unit);
  }
  if (n_issued > kListed) issued += fmt::format(" and {} more", n_issued - kListed);
  const uint32_t waiting = m_ops_left - n_issued;
  return fmt::format("chip{}: {} of {} ops unfinished: {} issued ({}), {} waiting on them", m_id,
                     m_ops_left, m_plan.ops.size(), n_issued, issued.empty() ? "none" : issued,
                     waiting);
}

}  // namespace moesim
