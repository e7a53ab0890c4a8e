#include "sim/engine/sequencer.hpp"

#include <algorithm>

namespace moesim {

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
}

void Sequencer::set_comm(Unit* comm) {
  m_comm = comm;
  m_comm->bind(&m_plan, this, UnitMemories{});
}

void Sequencer::execute() {
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
  if (n == 0) {
    m_done(m_id);
    return;
  }
  // The ops ready at the start, listed before any is issued: an op can finish inside
  // issue() (a collective with no message, on a chip with no token), and op_done() then
  // issues its dependents itself; a scan of m_remaining would issue those a second time.
  m_initial.clear();
  for (uint32_t i = 0; i < n; ++i) {
    if (m_remaining[i] == 0) m_initial.push_back(i);
  }
  for (uint32_t i : m_initial) issue(i);
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
      m_chip.vector_unit_for(o).push(op);
      break;
    case OpKind::kAttention:
      m_chip.attention().push(op);
      break;
    case OpKind::kComm:
      m_comm->push(op);
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
  if (--m_ops_left == 0) m_done(m_id);
}

}  // namespace moesim
