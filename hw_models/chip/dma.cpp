/// Multi-channel DMA: each channel copies one op's bytes (tier -> SRAM, SRAM -> tier, or
/// tier -> tier), reading the source memory and writing the destination concurrently; the
/// copy ends when both sides are done, so it runs at the pace of the slower (and more
/// contended) memory.

#include <vector>

#include "hw_models/chip/dma.hpp"
#include "sim/core/registry.hpp"

namespace moesim {
namespace {

class MultiChannelDma final : public DmaEngine, public MemoryClient {
 public:
  static void declare(ParamSchema& s) {
    s.add("channels", ParamType::kInt, "transfers in flight at once").range(1, 1024);
  }
  explicit MultiChannelDma(const Unit::Args& a)
      : DmaEngine(a.name, static_cast<uint32_t>(a.params.get_int("channels")), a.clock_hz,
                  a.stats_parent),
        m_joins(static_cast<size_t>(a.params.get_int("channels"))),
        m_load_bytes(m_unit_stats.get(), "load_bytes", "B", "bytes copied into SRAM"),
        m_store_bytes(m_unit_stats.get(), "store_bytes", "B", "bytes copied out of SRAM"),
        m_copy_bytes(m_unit_stats.get(), "copy_bytes", "B",
                     "bytes copied between memory tiers (expert cache fills, prefetches)") {
    for (size_t i = m_joins.size(); i-- > 0;) m_free.push_back(static_cast<uint32_t>(i));
  }

 protected:
  void start(uint32_t op_index) override {
    const Op& op = m_plan->ops[op_index];
    const uint32_t slot = m_free.back();
    m_free.pop_back();
    Memory* tier = op.mem == MemRole::kWeights ? m_mem.weights : m_mem.kv_cache;
    if (op.src_tier != kRoleTier) tier = m_mem.tiers.at(op.src_tier);
    Memory* src = op.kind == OpKind::kStore ? m_mem.sram : tier;
    Memory* dst = op.kind == OpKind::kStore ? tier : m_mem.sram;
    if (op.kind == OpKind::kCopy) {
      dst = m_mem.tiers.at(op.dst_tier);
      m_copy_bytes += op.bytes;
    } else {
      (op.kind == OpKind::kLoad ? m_load_bytes : m_store_bytes) += op.bytes;
    }
    m_joins[slot].begin(op_index, 2);
    src->transfer(op.bytes, false, this, slot);
    dst->transfer(op.bytes, true, this, slot);
  }

 private:
  void transfer_done(uint64_t tag) override {
    JoinTracker& j = m_joins[tag];
    if (j.part_done()) {
      m_free.push_back(static_cast<uint32_t>(tag));
      complete(j.op());
    }
  }

  std::vector<JoinTracker> m_joins;
  std::vector<uint32_t> m_free;
  Counter m_load_bytes;
  Counter m_store_bytes;
  Counter m_copy_bytes;
};

MOESIM_REGISTER(DmaEngine, MultiChannelDma, "dma",
                "multi-channel DMA copying between a memory tier and SRAM");

}  // namespace
}  // namespace moesim
