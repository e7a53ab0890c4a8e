#include "sim/output/energy.hpp"

#include <utility>

#include <systemc>

#include "hw_models/compute/attention_unit.hpp"
#include "hw_models/memory/detailed_dram.hpp"
#include "sim/core/error.hpp"

namespace moesim {

namespace {

constexpr double kPj = 1e-12;  // J per pJ

double now_s() {
  return sc_core::sc_time_stamp().to_seconds();
}

}  // namespace

Formula& ChipEnergy::add(const std::string& name, const std::string& description,
                         std::function<double()> fn, bool in_total) {
  m_stats.push_back(std::make_unique<Formula>(this, name, "J", description, std::move(fn)));
  if (in_total) {
    m_parts.push_back(m_stats.back().get());
    m_component.push_back(m_stats.back().get());
  }
  return *m_stats.back();
}

void ChipEnergy::end_component(const std::string& label, const std::string& description) {
  std::vector<const Formula*> mine = std::move(m_component);
  m_component.clear();
  Formula& f = add(
      label + "_j", description,
      [mine] {
        double j = 0;
        for (const Formula* f : mine) j += f->value();
        return j;
      },
      false);
  m_components.emplace_back(label, &f);
}

double ChipEnergy::total_j() const {
  double j = 0;
  for (const Formula* f : m_parts) j += f->value();
  return j;
}

ChipEnergy::ChipEnergy(const System& system, ChipId c, const EnergySpec& e)
    : StatGroup("energy", &system.chip(c).stats()) {
  Chip& chip = system.chip(c);
  const ComputeUnit* compute = &chip.compute();
  const VectorUnit* vector = &chip.vector();
  const double mac_pj = e.mac_pj;
  add(
      "compute_mac_j", "MACs (flops / 2) x energy of one " + e.mac_dtype + " MAC",
      [compute, mac_pj] { return static_cast<double>(compute->flops_done()) / 2 * mac_pj * kPj; },
      true);
  const double cs = e.compute_static_w;
  add(
      "compute_static_j", "compute unit static power x simulated time",
      [cs] { return cs * now_s(); }, true);
  end_component("compute", "compute unit: MACs and static");
  const double vpj = e.vector_element_pj;
  add(
      "vector_element_j", "vector elements processed x energy per element",
      [vector, vpj] { return static_cast<double>(vector->elements_done()) * vpj * kPj; }, true);
  const double vs = e.vector_static_w;
  add(
      "vector_static_j", "vector unit static power x simulated time", [vs] { return vs * now_s(); },
      true);
  end_component("vector", "vector unit: elements and static");
  // Edge-MoE's optional units: the attention unit's dot products are MACs of the chip's
  // data type, the activation unit's elements cost what the vector unit's do.
  if (const AttentionUnit* att = chip.attention_unit()) {
    add(
        "attention_mac_j",
        "attention unit MACs (flops / 2) x energy of one " + e.mac_dtype + " MAC",
        [att, mac_pj] { return static_cast<double>(att->flops_done()) / 2 * mac_pj * kPj; }, true);
    end_component("attention", "attention unit: MACs");
  }
  if (const ActivationUnit* act = chip.activation_unit()) {
    add(
        "activation_element_j", "activation unit elements x energy per vector element",
        [act, vpj] { return static_cast<double>(act->elements_done()) * vpj * kPj; }, true);
    end_component("activation", "activation unit: elements");
  }
  const double ds = e.dma_static_w;
  add(
      "dma_static_j", "DMA engine static power x simulated time (its bytes are the memories')",
      [ds] { return ds * now_s(); }, true);
  end_component("dma", "DMA engine: static");

  auto memory = [&](const Memory& mem, const MemoryEnergySpec& m) {
    const MemoryStats* st = &mem.stats();
    const std::string& n = m.name;
    const double rd = m.read_pj_per_bit;
    const double wr = m.write_pj_per_bit;
    add(
        n + "_read_j", "bytes read x 8 x read energy per bit (" + m.technology + ")",
        [st, rd] { return static_cast<double>(st->read_bytes.get()) * 8 * rd * kPj; }, true);
    add(
        n + "_write_j", "bytes written x 8 x write energy per bit (" + m.technology + ")",
        [st, wr] { return static_cast<double>(st->write_bytes.get()) * 8 * wr * kPj; }, true);
    if (m.counts_commands) {
      const auto* dram = dynamic_cast<const DetailedDramStats*>(st);
      if (dram == nullptr) throw InternalError(n + ": a detailed DRAM without command counts");
      const double act = m.activate_pj;
      const double pre = m.precharge_pj;
      add(
          n + "_activate_j", "ACT commands x energy per activate",
          [dram, act] { return static_cast<double>(dram->activates.get()) * act * kPj; }, true);
      add(
          n + "_precharge_j", "PRE commands x energy per precharge",
          [dram, pre] { return static_cast<double>(dram->precharges.get()) * pre * kPj; }, true);
    } else if (!m.on_chip) {
      const double a = m.activation_pj_per_bit;
      add(
          n + "_activation_j", "bytes moved x 8 x row activation energy per bit (amortised)",
          [st, a] {
            return static_cast<double>(st->read_bytes.get() + st->write_bytes.get()) * 8 * a * kPj;
          },
          true);
    }
    const double sw = m.static_w;
    add(
        n + "_static_j", "static power x simulated time", [sw] { return sw * now_s(); }, true);
    end_component(
        n, m.on_chip ? "reads, writes and static" : "reads, writes, row activation and static");
  };
  memory(chip.sram(), e.sram);
  for (size_t i = 0; i < e.tiers.size(); ++i) memory(chip.tier(e.tiers[i].name), e.tiers[i]);

  add(
      "total_j", "every unit and memory of the chip", [this] { return total_j(); }, false);
  m_stats.push_back(
      std::make_unique<Formula>(this, "average_power_w", "W", "total_j / simulated time", [this] {
        const double t = now_s();
        return t > 0 ? total_j() / t : 0.0;
      }));
}

EnergyAccount::EnergyAccount(const System& system, const StepDriver& driver, const EnergySpec& e)
    : StatGroup("energy"), m_driver(driver) {
  for (ChipId c = 0; c < system.chips(); ++c) {
    m_chips.push_back(std::make_unique<ChipEnergy>(system, c, e));
  }
  if (const Network* net = system.network()) {
    const double pj = e.link_pj_per_bit;
    for (uint32_t i = 0; i < net->topology().links().size(); ++i) {
      const LinkStats* l = &net->link_stats(i);
      m_stats.push_back(std::make_unique<Formula>(
          this, net->topology().links()[i].name + "_j", "J",
          "bytes carried x 8 x link energy per bit",
          [l, pj] { return static_cast<double>(l->bytes.get()) * 8 * pj * kPj; }));
      m_links.push_back(m_stats.back().get());
    }
    m_stats.push_back(std::make_unique<Formula>(this, "links_j", "J", "every link direction",
                                                [this] { return links_j(); }));
  }
  m_stats.push_back(std::make_unique<Formula>(
      this, "total_j", "J", "every chip and every link direction", [this] { return total_j(); }));
  m_stats.push_back(std::make_unique<Formula>(this, "per_token_j", "J/token",
                                              "total_j / tokens processed",
                                              [this] { return per_token_j(); }));
  m_stats.push_back(std::make_unique<Formula>(this, "average_power_w", "W",
                                              "total_j / simulated time",
                                              [this] { return average_power_w(); }));
}

EnergyAccount::~EnergyAccount() = default;

double EnergyAccount::links_j() const {
  double j = 0;
  for (const Formula* f : m_links) j += f->value();
  return j;
}

double EnergyAccount::total_j() const {
  double j = links_j();
  for (const auto& c : m_chips) j += c->total_j();
  return j;
}

double EnergyAccount::per_token_j() const {
  const uint64_t tokens = m_driver.stats().tokens.get();
  return tokens > 0 ? total_j() / static_cast<double>(tokens) : 0.0;
}

double EnergyAccount::average_power_w() const {
  const double t = now_s();
  return t > 0 ? total_j() / t : 0.0;
}

}  // namespace moesim
