#pragma once
/// Reading the energy model's per-event energies: `[chip.energy]` (compute, vector, DMA),
/// `[chip.sram.energy]`, `[chip.memory.NAME.energy]` and `[system.energy]` (links). Every
/// value has a default from the hardware kind (docs/energy.md cites each source) and can be
/// overridden; negative or non-numeric values are InputErrors at the key.

#include <string>
#include <vector>

#include "hw_models/chip/chip.hpp"
#include "sim/config/config.hpp"
#include "sim/plan/model.hpp"

namespace moesim {

/// Per-event energies of one memory (SRAM or an off-chip tier), validated.
struct MemoryEnergySpec {
  std::string name;        ///< "sram" or the tier's name
  std::string technology;  ///< "sram", "hbm3", "ddr4", ...
  bool on_chip = false;    ///< an SRAM model: energies per byte
  /// The model counts DRAM commands (type "dram", fidelity "detailed"): activates and
  /// precharges are charged per command; otherwise activation is amortised per bit.
  bool counts_commands = false;
  double read_pj_per_bit = 0;        ///< SRAM: read_pj_per_byte / 8
  double write_pj_per_bit = 0;       ///< SRAM: write_pj_per_byte / 8
  double activation_pj_per_bit = 0;  ///< off-chip without command counts
  double activate_pj = 0;            ///< per ACT command (counts_commands)
  double precharge_pj = 0;           ///< per PRE command (counts_commands)
  double static_w = 0;               ///< background power, whole run
};

/// Every per-event energy of a run (the same for each chip).
struct EnergySpec {
  std::string mac_dtype;         ///< data type the MACs run in ("bf16", "fp8", ...)
  double mac_pj = 0;             ///< energy of one MAC in mac_dtype
  double vector_element_pj = 0;  ///< per element the vector unit processes
  double compute_static_w = 0;
  double vector_static_w = 0;
  double dma_static_w = 0;
  MemoryEnergySpec sram;
  std::vector<MemoryEnergySpec> tiers;  ///< in ChipSpec::tiers order
  double link_pj_per_bit = 0;           ///< per bit per link direction crossed
};

/// Reads and consumes the energy tables of `cfg` for a chip described by `chip`. Defaults:
/// the MAC data type from the model's weight width; memories by model and technology.
/// `[system.energy]` is read only when the config has a [system] table (`has_system`).
EnergySpec read_energy(Config& cfg, const ModelSpec& model, const ChipSpec& chip, bool has_system);

/// Schemas of the energy tables with their built-in defaults, for `moesim list`.
ParamSchema chip_energy_schema(const std::string& default_dtype);
ParamSchema system_energy_schema();

}  // namespace moesim
