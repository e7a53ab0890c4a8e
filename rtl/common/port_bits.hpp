#pragma once
/// Bit-field access on the C++ types Verilator gives SystemC ports (uint32_t up to 32 bits,
/// uint64_t up to 64, sc_bv<W> beyond), so models can share port types with the RTL.

#include <systemc>

#include <cstdint>
#include <type_traits>

namespace moesim::rtl {

/// The port value type Verilator uses for a W-bit SystemC port (W >= 2).
template <int W>
using PortBits = std::conditional_t<(W <= 32), uint32_t,
                                    std::conditional_t<(W <= 64), uint64_t, sc_dt::sc_bv<W>>>;

/// Reads `width` (<= 32) bits at `lo`.
inline uint32_t get_bits(const uint32_t& v, int lo, int width) {
  return static_cast<uint32_t>((uint64_t{v} >> lo) & ((uint64_t{1} << width) - 1));
}
inline uint32_t get_bits(const uint64_t& v, int lo, int width) {
  return static_cast<uint32_t>((v >> lo) & ((uint64_t{1} << width) - 1));
}
template <int W>
uint32_t get_bits(const sc_dt::sc_bv<W>& v, int lo, int width) {
  return static_cast<uint32_t>(v.range(lo + width - 1, lo).to_uint());
}

/// Writes the low `width` (<= 32) bits of `x` at `lo`.
inline void set_bits(uint32_t& v, int lo, int width, uint32_t x) {
  const uint64_t mask = ((uint64_t{1} << width) - 1) << lo;
  v = static_cast<uint32_t>((v & ~mask) | ((uint64_t{x} << lo) & mask));
}
inline void set_bits(uint64_t& v, int lo, int width, uint32_t x) {
  const uint64_t mask = ((uint64_t{1} << width) - 1) << lo;
  v = (v & ~mask) | ((uint64_t{x} << lo) & mask);
}
template <int W>
void set_bits(sc_dt::sc_bv<W>& v, int lo, int width, uint32_t x) {
  v.range(lo + width - 1, lo) = x;
}

}  // namespace moesim::rtl
