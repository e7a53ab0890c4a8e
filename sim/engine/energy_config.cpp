#include "sim/engine/energy_config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <utility>
#include <variant>

#include "sim/core/error.hpp"

namespace moesim {

namespace {

// Every default below cites its source in docs/energy.md (section "Defaults").

/// Largest accepted per-event energy (1 mJ) and static power (1 MW): rejects inf and typos.
constexpr double kMaxPj = 1e9;
constexpr double kMaxW = 1e6;

/// Horowitz, ISSCC 2014, 45 nm: a MAC is one multiply plus one add.
struct MacDefault {
  const char* dtype;
  double pj;
};
constexpr MacDefault kMacDefaults[] = {
    {"fp32", 4.6},  // FP32 mul 3.7 + add 0.9
    {"fp16", 1.5},  // FP16 mul 1.1 + add 0.4
    {"bf16", 1.5},  // no published figure: FP16's (a narrower mantissa costs less)
    {"fp8", 0.6},   // no published figure: 8-bit int mul 0.2 + FP16 accumulate 0.4
    {"int8", 0.3},  // 8-bit int mul 0.2 + 32-bit int accumulate 0.1
};
/// One FP32 multiply-add per element (Horowitz 45 nm: 3.7 + 0.9).
constexpr double kVectorElementPj = 4.6;

/// Off-chip DRAM per bit: column access + I/O (read and write alike: no separate figures)
/// and the row activation amortised per bit at the reference access pattern.
struct DramDefault {
  const char* technology;
  double column_pj_per_bit;
  double activation_pj_per_bit;
};
// HBM2 3.97 pJ/bit = activation 1.21 + I/O 0.22 + data transfer 2.54 (REFERENCE.md). Totals of
// the others (Accelergy's table; DDR4 the commonly quoted 15 pJ/bit) split in HBM2's ratio
// (activation 1.21 / 3.97 = 30.5 %), rounded to 0.01.
constexpr DramDefault kDramDefaults[] = {
    {"hbm2", 2.76, 1.21},  {"hbm2e", 2.76, 1.21}, {"hbm3", 2.76, 1.21},   {"ddr3", 48.67, 21.33},
    {"ddr4", 10.43, 4.57}, {"ddr5", 10.43, 4.57}, {"lpddr4", 5.56, 2.44}, {"gddr5", 9.73, 4.27},
};
/// Bits per request of the detailed DRAM model: one activate per 64-byte request is the
/// pattern at which the per-bit activation share becomes a per-command energy.
constexpr double kBitsPerActivate = 64 * 8;

/// Board-level SerDes 1.4-1.9 pJ/bit (IBM, 32 nm; REFERENCE.md): the upper end.
constexpr double kLinkPjPerBit = 1.9;

/// Horowitz 45 nm SRAM read of 64 bits by array size (8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ),
/// linear in log2(size) between the points and clamped outside them; per byte = / 8.
double sram_pj_per_byte(double bank_bytes) {
  constexpr std::pair<double, double> kPts[] = {{13, 10}, {15, 20}, {20, 100}};  // log2(B), pJ
  const double x = std::log2(std::max(bank_bytes, 1.0));
  double pj = kPts[0].second;
  if (x >= kPts[2].first) {
    pj = kPts[2].second;
  } else {
    for (int i = 0; i < 2; ++i) {
      if (x >= kPts[i].first && x < kPts[i + 1].first) {
        const double t = (x - kPts[i].first) / (kPts[i + 1].first - kPts[i].first);
        pj = kPts[i].second + t * (kPts[i + 1].second - kPts[i].second);
      }
    }
  }
  return pj / 8;
}

std::vector<std::string> dram_technologies() {
  std::vector<std::string> out;
  for (const DramDefault& d : kDramDefaults) out.emplace_back(d.technology);
  return out;
}

const DramDefault& dram_default(const std::string& tech) {
  for (const DramDefault& d : kDramDefaults) {
    if (tech == d.technology) return d;
  }
  throw InternalError("no energy defaults for technology '" + tech + "'");
}

/// The technology a tier's energies default to: a "dram" tier's preset family; otherwise
/// by the tier's name (hbm*, lpddr*, gddr*; anything else ddr4).
std::string default_technology(const std::string& name, const ComponentSpec& c) {
  if (c.type == "dram") {
    std::string p = c.params.get_string("preset");
    p = p.substr(0, p.find('-'));
    std::transform(p.begin(), p.end(), p.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    for (const DramDefault& d : kDramDefaults) {
      if (p == d.technology) return p;
    }
    throw InternalError("DRAM preset '" + c.params.get_string("preset") +
                        "' has no energy technology");
  }
  auto starts = [&](const char* prefix) { return name.rfind(prefix, 0) == 0; };
  if (starts("hbm")) return "hbm3";
  if (starts("lpddr")) return "lpddr4";
  if (starts("gddr")) return "gddr5";
  return "ddr4";
}

/// An on-chip SRAM model (its energies are per byte, by bank size).
bool is_sram_model(const ComponentSpec& c) {
  return c.type == "sram" || c.type == "banked_sram";
}

ParamSpec& pj(ParamSchema& s, const std::string& name, const std::string& what, double dflt) {
  return s.add(name, ParamType::kFloat, what + " (pJ)").range(0, kMaxPj).default_value(dflt);
}

ParamSpec& watts(ParamSchema& s, const std::string& name, const std::string& what) {
  return s.add(name, ParamType::kFloat, what + " (W), charged for the whole simulated time")
      .range(0, kMaxW)
      .default_value(0.0);
}

MemoryEnergySpec read_memory(Config& cfg, const std::string& name, const std::string& path,
                             const ComponentSpec& c) {
  MemoryEnergySpec m;
  m.name = name;
  const std::string epath = path + ".energy";
  const bool sram = is_sram_model(c);
  m.counts_commands = c.type == "dram" && c.params.get_string("fidelity") == "detailed";
  // Named in "unknown key for '...'" messages: which keys apply depends on the model.
  ParamSchema s(sram                ? "SRAM energy"
                : m.counts_commands ? "DRAM energy per command (detailed dram)"
                                    : "DRAM energy without command counts (" + c.type + ")");
  if (sram) {
    m.technology = "sram";
    m.on_chip = true;
    const double bank = static_cast<double>(c.facts<Memory>().capacity_bytes) /
                        static_cast<double>(c.params.get_int("banks"));
    const double e = sram_pj_per_byte(bank);
    s.add("read_pj_per_byte", ParamType::kFloat, "energy per byte read (pJ)")
        .range(0, kMaxPj)
        .default_value(e);
    s.add("write_pj_per_byte", ParamType::kFloat, "energy per byte written (pJ)")
        .range(0, kMaxPj)
        .default_value(e);
    watts(s, "static_w", "leakage power");
    const Params p = cfg.section(epath, s);
    m.read_pj_per_bit = p.get_float("read_pj_per_byte") / 8;
    m.write_pj_per_bit = p.get_float("write_pj_per_byte") / 8;
    m.static_w = p.get_float("static_w");
    return m;
  }
  const std::vector<std::string> techs = dram_technologies();
  m.technology = cfg.has(epath + ".technology") ? cfg.choose(epath + ".technology", techs)
                                                : default_technology(name, c);
  const DramDefault& d = dram_default(m.technology);
  s.add("technology", ParamType::kEnum, "DRAM kind the defaults below are taken from")
      .one_of(techs)
      .default_value(m.technology);
  pj(s, "read_pj_per_bit", "energy per bit read: column access and I/O", d.column_pj_per_bit);
  pj(s, "write_pj_per_bit", "energy per bit written: column access and I/O", d.column_pj_per_bit);
  if (m.counts_commands) {
    pj(s, "activate_pj", "energy per ACT command (with its precharge unless precharge_pj is set)",
       d.activation_pj_per_bit * kBitsPerActivate);
    pj(s, "precharge_pj", "energy per PRE command", 0.0);
  } else {
    pj(s, "activation_pj_per_bit", "row activation per bit moved (this model counts no commands)",
       d.activation_pj_per_bit);
  }
  watts(s, "static_w", "background power");
  const Params p = cfg.section(epath, s);
  m.read_pj_per_bit = p.get_float("read_pj_per_bit");
  m.write_pj_per_bit = p.get_float("write_pj_per_bit");
  if (m.counts_commands) {
    m.activate_pj = p.get_float("activate_pj");
    m.precharge_pj = p.get_float("precharge_pj");
  } else {
    m.activation_pj_per_bit = p.get_float("activation_pj_per_bit");
  }
  m.static_w = p.get_float("static_w");
  return m;
}

std::string default_mac_dtype(const ModelSpec& model) {
  if (model.weight_bytes == 1) return "fp8";
  if (model.weight_bytes == 2) return "bf16";
  return "fp32";
}

}  // namespace

ParamSchema chip_energy_schema(const std::string& default_dtype) {
  ParamSchema s("chip.energy");
  std::vector<std::string> dtypes;
  for (const MacDefault& m : kMacDefaults) dtypes.emplace_back(m.dtype);
  s.add("mac_dtype", ParamType::kEnum,
        "data type the MACs run in, choosing which mac_*_pj applies (default: the model's "
        "weight width: 1 B fp8, 2 B bf16, else fp32)")
      .one_of(dtypes)
      .default_value(default_dtype);
  for (const MacDefault& m : kMacDefaults) {
    pj(s, std::string("mac_") + m.dtype + "_pj", std::string("energy of one ") + m.dtype + " MAC",
       m.pj);
  }
  pj(s, "vector_element_pj", "energy per element the vector unit processes", kVectorElementPj);
  watts(s, "compute_static_w", "compute unit leakage power");
  watts(s, "vector_static_w", "vector unit leakage power");
  watts(s, "dma_static_w", "DMA engine leakage power");
  return s;
}

ParamSchema system_energy_schema() {
  ParamSchema s("system.energy");
  pj(s, "link_pj_per_bit", "energy per bit per link direction crossed", kLinkPjPerBit);
  return s;
}

EnergySpec read_energy(Config& cfg, const ModelSpec& model, const ChipSpec& chip, bool has_system) {
  EnergySpec e;
  const Params p = cfg.section("chip.energy", chip_energy_schema(default_mac_dtype(model)));
  e.mac_dtype = p.get_string("mac_dtype");
  e.mac_pj = p.get_float("mac_" + e.mac_dtype + "_pj");
  e.vector_element_pj = p.get_float("vector_element_pj");
  e.compute_static_w = p.get_float("compute_static_w");
  e.vector_static_w = p.get_float("vector_static_w");
  e.dma_static_w = p.get_float("dma_static_w");
  e.sram = read_memory(cfg, "sram", "chip.sram", chip.sram);
  for (const auto& [name, c] : chip.tiers) {
    e.tiers.push_back(read_memory(cfg, name, "chip.memory." + name, c));
  }
  // Without a [system] table there are no links, and the effective config gets no [system].
  const ParamSchema links = system_energy_schema();
  e.link_pj_per_bit = has_system ? cfg.section("system.energy", links).get_float("link_pj_per_bit")
                                 : std::get<double>(*links.find("link_pj_per_bit")->default_val);
  return e;
}

}  // namespace moesim
