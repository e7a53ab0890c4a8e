#include "sim/engine/sequencer.hpp"

#include <algorithm>

namespace moesim {

Sequencer::Sequencer(const sc_core::sc_module_name& name, Chip& chip, TraceReader& trace,
                     const Planner& planner, uint64_t max_steps, StatGroup* stats_parent,
                     Progress progress, TierStats* tier_stats, uint8_t weights_tier,
                     uint8_t kv_tier)
    : sc_core::sc_module(name),
      m_chip(chip),
      m_trace(trace),
      m_planner(planner),
      m_max_steps(max_steps),
      m_progress(std::move(progress)),
      m_stats(stats_parent),
      m_tier_stats(tier_stats),
      m_weights_tier(weights_tier),
      m_kv_tier(kv_tier) {
  m_chip.bind(&m_plan, this);
  SC_METHOD(begin);
}

void Sequencer::begin() {
  start_next_step();
}

bool Sequencer::start_next_step() {
  // An error reading the trace (a malformed record) must not unwind through the SystemC
  // kernel: keep it, stop the simulation, and let the caller rethrow it.
  try {
    return plan_next_step();
  } catch (...) {
    m_error = std::current_exception();
    sc_core::sc_stop();
    return false;
  }
}

bool Sequencer::plan_next_step() {
  if (m_max_steps != 0 && m_stats.steps.get() >= m_max_steps) return false;
  if (!m_trace.next(m_step)) return false;
  m_planner.plan(m_step, m_plan);
  const auto n = static_cast<uint32_t>(m_plan.ops.size());
  m_remaining.assign(n, 0);
  m_last_dep_load.assign(n, 0);
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
  m_step_start = sc_core::sc_time_stamp();
  m_stats.tokens += m_plan.tokens;
  m_stats.assignments += m_plan.assignments;
  m_stats.experts_run += m_plan.experts_run;
  m_stats.ops += n;
  m_stats.flops += m_plan.flops;
  m_stats.weight_bytes += m_plan.weight_bytes;
  m_stats.kv_read_bytes += m_plan.kv_read_bytes;
  m_stats.kv_write_bytes += m_plan.kv_write_bytes;
  for (uint32_t i = 0; i < n; ++i) {
    if (m_remaining[i] == 0) issue(i);
  }
  return true;
}

void Sequencer::issue(uint32_t op) {
  const Op& o = m_plan.ops[op];
  switch (o.kind) {
    case OpKind::kLoad:
    case OpKind::kStore:
    case OpKind::kCopy:
      if (m_tier_stats) {
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
      m_chip.dma().push(op);
      break;
    case OpKind::kGemm:
      m_chip.compute().push(op);
      break;
    case OpKind::kVector:
      m_chip.vector().push(op);
      break;
  }
}

void Sequencer::unit_idle(uint32_t op, double idle_s) {
  // 2: the last dependency was a weight load (see op_done).
  if (m_tier_stats && m_plan.ops[op].kind == OpKind::kGemm && m_last_dep_load[op] == 2) {
    m_tier_stats->weight_stall_time += idle_s;
  }
}

void Sequencer::op_done(uint32_t op) {
  const Op& o = m_plan.ops[op];
  const bool is_load = o.kind == OpKind::kLoad || o.kind == OpKind::kCopy;
  const uint8_t mark = is_load ? (o.mem == MemRole::kWeights ? 2 : 1) : 0;
  if (o.kind == OpKind::kCopy && m_tier_stats) {
    ++m_tier_stats->copies;
    m_tier_stats->copy_time += (sc_core::sc_time_stamp() - m_copy_ready[op]).to_seconds();
  }
  for (uint32_t i = m_dep_offsets[op]; i < m_dep_offsets[op + 1]; ++i) {
    const uint32_t d = m_dependents[i];
    if (--m_remaining[d] == 0) {
      m_last_dep_load[d] = mark;
      issue(d);
    }
  }
  if (--m_ops_left == 0) {
    const double dt = (sc_core::sc_time_stamp() - m_step_start).to_seconds();
    if (m_stats.steps.get() == 0 || dt > m_stats.max_step_time.get()) m_stats.max_step_time.set(dt);
    if (m_stats.steps.get() == 0 || dt < m_stats.min_step_time.get()) m_stats.min_step_time.set(dt);
    ++m_stats.steps;
    if (m_progress) m_progress(m_stats.steps.get());
    start_next_step();
  }
}

}  // namespace moesim
