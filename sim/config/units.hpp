#pragma once
/// Physical quantities in config values: parsing "520MiB", "1.6TB/s", "14ns", "1.4GHz".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace moesim {

/// The dimension a quantity parameter is expressed in.
enum class Dim {
  kSize,       ///< bytes: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB
  kBandwidth,  ///< bytes per second: B/s, KB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s, TiB/s
  kTime,       ///< seconds: ps, ns, us, ms, s; or cycles of a clock ("12cycles")
  kFrequency,  ///< hertz: Hz, kHz, MHz, GHz
};

/// A parsed quantity. For kTime given in cycles, `cycles` is set and `value` is the count.
struct Quantity {
  double value = 0.0;   ///< in base units (B, B/s, s, Hz), or cycles when `cycles`
  bool cycles = false;  ///< true when a kTime value was written as "<n>cycles"
};

inline bool operator==(const Quantity& a, const Quantity& b) {
  return a.value == b.value && a.cycles == b.cycles;
}
inline bool operator!=(const Quantity& a, const Quantity& b) {
  return !(a == b);
}

/// Largest size accepted, 2^53 bytes (8192TiB): every size up to it is exact in a double.
constexpr double kMaxSizeBytes = 9007199254740992.0;

/// Parses `text` as a quantity of dimension `dim`: a non-negative decimal number ("1.6"; no
/// exponent), at most one space, then a unit of `dim` (case-sensitive). Sizes must come out
/// as whole bytes. On failure returns nullopt and sets `error` (when not null) to what was
/// expected, e.g. the dim_example() text or "a whole number of bytes".
std::optional<Quantity> parse_quantity(std::string_view text, Dim dim, std::string* error);

/// The unit name used in stats and `moesim list` for a dimension ("B", "B/s", "s", "Hz").
const char* base_unit(Dim dim);

/// Human text for what a value of `dim` looks like, used in error messages
/// ("a size such as \"64KiB\" or \"2GB\"").
const char* dim_example(Dim dim);

/// The dimension's name in messages ("size", "bandwidth", "time", "frequency").
const char* dim_name(Dim dim);

/// Formats a quantity back into config text that parses to the same value (for
/// effective_config.toml), e.g. 549755813888 B -> "512GiB", 1.6e12 B/s -> "1.6TB/s".
std::string format_quantity(const Quantity& q, Dim dim);

}  // namespace moesim
