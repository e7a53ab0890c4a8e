#include "hw_models/chip/chip.hpp"

#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"

namespace moesim {

void ChipSpec::declare(ParamSchema& s) {
  s.add("frequency", ParamType::kFrequency, "chip clock (cycles in stats are of this clock)")
      .at_least(1);
}

namespace {
template <class Interface, class ArgsT>
std::unique_ptr<Interface> make(const ComponentSpec& c, const ArgsT& args) {
  const auto* entry = Registry<Interface>::instance().find(c.type);
  if (!entry) throw InternalError("unregistered model type '" + c.type + "'");
  return entry->create(args);
}
}  // namespace

Chip::Chip(const sc_core::sc_module_name& name, const ChipSpec& spec)
    : sc_core::sc_module(name), m_spec(spec), m_stats(static_cast<const char*>(name)) {
  const double hz = spec.clock_hz;
  m_sram = make<Memory>(spec.sram, Memory::Args{"sram", spec.sram.params, hz, &m_stats});
  for (const auto& [tier_name, c] : spec.tiers) {
    m_tiers.emplace(tier_name,
                    make<Memory>(c, Memory::Args{tier_name.c_str(), c.params, hz, &m_stats}));
  }
  m_compute =
      make<ComputeUnit>(spec.compute, Unit::Args{"compute", spec.compute.params, hz, &m_stats});
  m_vector = make<VectorUnit>(spec.vector, Unit::Args{"vector", spec.vector.params, hz, &m_stats});
  m_dma = make<DmaEngine>(spec.dma, Unit::Args{"dma", spec.dma.params, hz, &m_stats});
  if (!spec.attention.type.empty())
    m_attention = make<AttentionUnit>(spec.attention,
                                      Unit::Args{"attention", spec.attention.params, hz, &m_stats});
  if (!spec.activation.type.empty())
    m_activation = make<ActivationUnit>(
        spec.activation, Unit::Args{"activation", spec.activation.params, hz, &m_stats});
}

Chip::~Chip() = default;

void Chip::bind(const StepPlan* plan, OpSink* sink) {
  UnitMemories mem{m_sram.get(),
                   m_tiers.at(m_spec.weights_tier).get(),
                   m_tiers.at(m_spec.kv_cache_tier).get(),
                   {}};
  for (const auto& [tier_name, c] : m_spec.tiers) mem.tiers.push_back(m_tiers.at(tier_name).get());
  m_compute->bind(plan, sink, mem);
  m_vector->bind(plan, sink, mem);
  m_dma->bind(plan, sink, mem);
  if (m_attention) m_attention->bind(plan, sink, mem);
  if (m_activation) m_activation->bind(plan, sink, mem);
}

}  // namespace moesim
