#pragma once
/// The energy model: a post-run account of the counters every unit, memory and link keeps
/// (MACs, elements, bytes, DRAM commands, simulated time) times the run's per-event energies
/// (RunSpec::energy, see docs/energy.md). Nothing is counted while the simulation runs: each
/// statistic is a Formula evaluated when results are written.
///
/// Statistics: `chipN.energy.*` per chip (each unit and memory: its parts and its total, the
/// chip's total and average power) and `energy.*` for the system (every link direction, the
/// total, energy per token and average power).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/stats.hpp"
#include "sim/engine/energy_config.hpp"
#include "sim/engine/step_driver.hpp"
#include "sim/engine/system.hpp"

namespace moesim {

/// The energy statistics of one chip (`chipN.energy`), a child of the chip's stat group.
class ChipEnergy : public StatGroup {
 public:
  ChipEnergy(const System& system, ChipId chip, const EnergySpec& e);
  /// Joules of the whole chip so far (every unit and memory, static included).
  double total_j() const;
  /// Each unit's and memory's total, labelled ("compute", "sram", "hbm", ...), in output order.
  const std::vector<std::pair<std::string, const Formula*>>& components() const {
    return m_components;
  }

 private:
  /// Adds `name` (J) computed by `fn`, counted in the chip's total when `in_total`.
  Formula& add(const std::string& name, const std::string& description, std::function<double()> fn,
               bool in_total);
  /// Adds `label`_j: the sum of the parts added since the previous component ended.
  void end_component(const std::string& label, const std::string& description);
  std::vector<std::unique_ptr<Formula>> m_stats;
  std::vector<const Formula*> m_parts;      // summed by total_j()
  std::vector<const Formula*> m_component;  // parts of the component being added
  std::vector<std::pair<std::string, const Formula*>> m_components;
};

/// Every chip's ChipEnergy and the system's `energy.*` group.
class EnergyAccount : public StatGroup {
 public:
  EnergyAccount(const System& system, const StepDriver& driver, const EnergySpec& e);
  ~EnergyAccount() override;
  /// Joules of the system: every chip and every link direction.
  double total_j() const;
  /// Joules per token processed (0 without tokens).
  double per_token_j() const;
  /// total_j() over the simulated time (0 at time 0).
  double average_power_w() const;
  const ChipEnergy& chip(ChipId c) const { return *m_chips[c]; }
  /// Joules of every link direction (0 with one chip).
  double links_j() const;

 private:
  std::vector<std::unique_ptr<ChipEnergy>> m_chips;
  std::vector<std::unique_ptr<Formula>> m_stats;
  std::vector<const Formula*> m_links;
  const StepDriver& m_driver;
};

}  // namespace moesim
