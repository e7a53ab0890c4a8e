#pragma once
/// A chip: compute unit, vector unit, DMA, SRAM and memory tiers, composed from typed specs.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <systemc>

#include "hw_models/chip/dma.hpp"
#include "hw_models/compute/attention_unit.hpp"
#include "hw_models/compute/compute_unit.hpp"
#include "hw_models/compute/vector_unit.hpp"
#include "hw_models/memory/memory.hpp"
#include "sim/core/registry.hpp"

namespace moesim {

/// A registered model chosen by `type`, with its validated parameters.
struct ComponentSpec {
  std::string type;
  Params params;
  /// What the model of `Interface` registered as `type` tells others of these params.
  template <class Interface>
  typename FactsOf<Interface>::type facts() const {
    return Registry<Interface>::instance().describe(type, params);
  }
};

/// Everything needed to build one chip (validated; no config access needed).
struct ChipSpec {
  double clock_hz = 0;
  ComponentSpec compute;
  ComponentSpec vector;
  ComponentSpec dma;
  ComponentSpec sram;
  ComponentSpec attention;   ///< optional ([chip.attention]); type empty: none
  ComponentSpec activation;  ///< optional ([chip.activation]); type empty: none
  std::vector<std::pair<std::string, ComponentSpec>> tiers;  ///< off-chip tiers by name
  std::string weights_tier;                                  ///< tier weights stream from
  std::string kv_cache_tier;                                 ///< tier holding the KV cache

  /// Declares the `[chip]` keys of the chip itself (not of its components).
  static void declare(ParamSchema& schema);
};

/// The composed chip (a SystemC module with its units and memories as children).
class Chip : public sc_core::sc_module {
 public:
  Chip(const sc_core::sc_module_name& name, const ChipSpec& spec);
  ~Chip() override;

  ComputeUnit& compute() { return *m_compute; }
  VectorUnit& vector() { return *m_vector; }
  DmaEngine& dma() { return *m_dma; }
  /// The attention unit (only when the chip has one: the plan then has kAttention ops).
  AttentionUnit& attention() { return *m_attention; }
  /// The optional units, or null.
  AttentionUnit* attention_unit() { return m_attention.get(); }
  ActivationUnit* activation_unit() { return m_activation.get(); }
  /// The unit that runs kVector op `op`: the activation unit for activations when the chip
  /// has one, else the vector unit.
  Unit& vector_unit_for(const Op& op) {
    if (m_activation && op.vfn == VecFn::kActivation) return *m_activation;
    return *m_vector;
  }
  Memory& sram() { return *m_sram; }
  Memory& tier(const std::string& name) { return *m_tiers.at(name); }
  const std::map<std::string, std::unique_ptr<Memory>>& tiers() const { return m_tiers; }
  /// Connects every unit to the plan being executed and to its memories.
  void bind(const StepPlan* plan, OpSink* sink);
  StatGroup& stats() { return m_stats; }
  double clock_hz() const { return m_spec.clock_hz; }

 private:
  ChipSpec m_spec;
  StatGroup m_stats;
  std::unique_ptr<Memory> m_sram;
  std::map<std::string, std::unique_ptr<Memory>> m_tiers;
  std::unique_ptr<ComputeUnit> m_compute;
  std::unique_ptr<VectorUnit> m_vector;
  std::unique_ptr<DmaEngine> m_dma;
  std::unique_ptr<AttentionUnit> m_attention;
  std::unique_ptr<ActivationUnit> m_activation;
};

}  // namespace moesim
