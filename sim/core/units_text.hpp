#pragma once
/// Human-readable sizes, rates and times for messages and reports (not for stats files).

#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace moesim {

/// `b` in the largest binary unit (B, KiB, ..., TiB) it reaches: value and unit.
struct ScaledBytes {
  double value;
  const char* unit;
  bool whole_bytes;  ///< below 1 KiB: `value` is the byte count
};
inline ScaledBytes scale_bytes(uint64_t b) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int i = 0;
  while (v >= 1024 && i < 4) {
    v /= 1024;
    ++i;
  }
  return {v, units[i], i == 0};
}

/// "1.0 GiB", "520.0 MiB": for messages next to an exact byte count.
inline std::string human_bytes(uint64_t b) {
  const ScaledBytes s = scale_bytes(b);
  return fmt::format("{:.1f} {}", s.value, s.unit);
}

/// "742.0 GB/s" (decimal units, as bandwidths are quoted).
inline std::string human_rate(double bytes_per_s) {
  if (bytes_per_s >= 1e12) return fmt::format("{:.2f} TB/s", bytes_per_s / 1e12);
  if (bytes_per_s >= 1e9) return fmt::format("{:.1f} GB/s", bytes_per_s / 1e9);
  return fmt::format("{:.1f} MB/s", bytes_per_s / 1e6);
}

/// "1.250 ms", "80.0 ns".
inline std::string human_time(double s) {
  if (s >= 1) return fmt::format("{:.3f} s", s);
  if (s >= 1e-3) return fmt::format("{:.3f} ms", s * 1e3);
  if (s >= 1e-6) return fmt::format("{:.3f} us", s * 1e6);
  return fmt::format("{:.1f} ns", s * 1e9);
}

}  // namespace moesim
