#pragma once
/// GELU, exact and as Edge-MoE approximates it (arXiv 2305.18691; shared/REFERENCE.md):
/// GELU(x) = x * Phi(x) = ReLU(x) - c(|x|) with c(a) = a * Phi(-a), symmetric in x and
/// vanishing fast (c(5.5) ~ 1e-7). The approximation keeps c in a 177-entry table at
/// a = i / 32 (i = 0..176, covering |x| <= 5.5), interpolates it linearly, and takes c = 0
/// beyond the table.

#include <array>
#include <cstdint>

namespace moesim {

/// Entries of the correction table, and its step (1/32).
inline constexpr int kGeluTableEntries = 177;
inline constexpr double kGeluTableStep = 1.0 / 32.0;

/// x * Phi(x), Phi the standard normal CDF (via erfc).
double gelu_exact(double x);

/// ReLU(x) minus the linearly interpolated table correction.
double gelu_lut(double x);

/// The table: c(i / 32) for i = 0..176.
const std::array<double, kGeluTableEntries>& gelu_correction_table();

/// Cycles of an activation unit for `elements` elements: `lanes` pipelines, each accepting a
/// new element every `interval` cycles, `latency` cycles from an element's input to its output:
///   cycles = ceil(elements / lanes) * interval + latency   (0 for no elements)
inline uint64_t activation_cycles(uint64_t elements, uint64_t lanes, uint64_t interval,
                                  uint64_t latency) {
  if (elements == 0) return 0;
  return (elements + lanes - 1) / lanes * interval + latency;
}

}  // namespace moesim
