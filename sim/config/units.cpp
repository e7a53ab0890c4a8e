#include "sim/config/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

namespace moesim {

namespace {

/// A unit: its name and its factor 10^dec * 2^bin relative to the base unit.
struct Unit {
  const char* name;
  int dec;
  int bin;
};

const std::vector<Unit>& units_of(Dim dim) {
  static const std::vector<Unit> kSize = {{"TB", 12, 0},  {"GB", 9, 0},   {"MB", 6, 0},
                                          {"KB", 3, 0},   {"B", 0, 0},    {"TiB", 0, 40},
                                          {"GiB", 0, 30}, {"MiB", 0, 20}, {"KiB", 0, 10}};
  static const std::vector<Unit> kBandwidth = {
      {"TB/s", 12, 0},  {"GB/s", 9, 0},   {"MB/s", 6, 0},   {"KB/s", 3, 0},  {"B/s", 0, 0},
      {"TiB/s", 0, 40}, {"GiB/s", 0, 30}, {"MiB/s", 0, 20}, {"KiB/s", 0, 10}};
  static const std::vector<Unit> kTime = {
      {"s", 0, 0}, {"ms", -3, 0}, {"us", -6, 0}, {"ns", -9, 0}, {"ps", -12, 0}};
  static const std::vector<Unit> kFrequency = {
      {"GHz", 9, 0}, {"MHz", 6, 0}, {"kHz", 3, 0}, {"Hz", 0, 0}};
  switch (dim) {
    case Dim::kSize:
      return kSize;
    case Dim::kBandwidth:
      return kBandwidth;
    case Dim::kTime:
      return kTime;
    case Dim::kFrequency:
      break;
  }
  return kFrequency;
}

const Unit* find_unit(Dim dim, std::string_view name) {
  for (const Unit& u : units_of(dim)) {
    if (name == u.name) return &u;
  }
  return nullptr;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// Splits "1.6 TB/s" into number "1.6" and unit "TB/s". The number is digits with an optional
/// fraction ("1", "1.5"; not ".5", "1.", "1e3"); at most one space may separate the two.
bool split(std::string_view text, std::string_view* number, std::string_view* unit) {
  size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i == 0) return false;
  if (i < text.size() && text[i] == '.') {
    size_t j = i + 1;
    while (j < text.size() && is_digit(text[j])) ++j;
    if (j == i + 1) return false;
    i = j;
  }
  *number = text.substr(0, i);
  if (i < text.size() && text[i] == ' ') ++i;
  *unit = text.substr(i);
  return !unit->empty();
}

/// Digits of a decimal number without its point, and the power of ten to scale them by
/// ("1.50" -> "150", -2). Leading zeros are dropped; "" stands for zero.
void decimal_digits(std::string_view number, std::string* digits, int* exp10) {
  digits->clear();
  *exp10 = 0;
  bool frac = false;
  for (char c : number) {
    if (c == '.') {
      frac = true;
      continue;
    }
    if (digits->empty() && c == '0') {
      if (frac) --*exp10;
      continue;
    }
    digits->push_back(c);
    if (frac) --*exp10;
  }
}

/// Exact whole-byte value of `number` times 10^dec * 2^bin, or an error text.
std::optional<double> exact_bytes(std::string_view number, const Unit& u, std::string* error) {
  std::string digits;
  int e = 0;
  decimal_digits(number, &digits, &e);
  e += u.dec;
  // Trailing zeros become powers of ten, so the mantissa is as small as it can be.
  while (!digits.empty() && digits.back() == '0') {
    digits.pop_back();
    ++e;
  }
  if (digits.empty()) return 0.0;
  const auto too_large = [&]() {
    if (error) *error = "a size of at most 8192TiB";
    return std::nullopt;
  };
  if (digits.size() > 18) return too_large();
  unsigned __int128 m = std::stoull(digits);
  for (int i = 0; i < u.bin; ++i) m *= 2;  // at most 2^40 * 10^18 < 2^128
  if (e >= 0) {
    for (int i = 0; i < e; ++i) {
      m *= 10;
      if (m > static_cast<unsigned __int128>(kMaxSizeBytes)) return too_large();
    }
  } else {
    for (int i = 0; i < -e; ++i) {
      if (m % 10 != 0) {
        if (error) *error = "a whole number of bytes";
        return std::nullopt;
      }
      m /= 10;
    }
  }
  if (m > static_cast<unsigned __int128>(kMaxSizeBytes)) return too_large();
  return static_cast<double>(static_cast<uint64_t>(m));
}

/// Correctly rounded value of `number` times 10^dec * 2^bin.
std::optional<double> scaled(std::string_view number, const Unit& u) {
  std::string text(number);
  if (u.dec != 0) text += fmt::format("e{}", u.dec);
  double v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return std::ldexp(v, u.bin);  // exact: a power of two
}

std::optional<Quantity> parse_positive(std::string_view text, Dim dim, std::string* error) {
  std::string_view number, unit;
  if (!split(text, &number, &unit)) return std::nullopt;
  if (dim == Dim::kTime && (unit == "cycles" || unit == "cycle")) {
    if (number.find('.') != std::string_view::npos) {
      if (error) *error = "a whole number of cycles";
      return std::nullopt;
    }
    std::string digits;
    int e = 0;
    decimal_digits(number, &digits, &e);
    if (digits.size() > 15) {
      if (error) *error = "at most 999999999999999 cycles";
      return std::nullopt;
    }
    return Quantity{digits.empty() ? 0.0 : static_cast<double>(std::stoull(digits)), true};
  }
  const Unit* u = find_unit(dim, unit);
  if (u == nullptr) return std::nullopt;
  if (dim == Dim::kSize) {
    std::optional<double> bytes = exact_bytes(number, *u, error);
    if (!bytes) return std::nullopt;
    return Quantity{*bytes, false};
  }
  std::optional<double> v = scaled(number, *u);
  if (!v) {
    if (error) *error = fmt::format("a finite {}", dim_name(dim));
    return std::nullopt;
  }
  return Quantity{*v, false};
}

/// Shortest decimal digits and exponent of a finite non-negative double: v = digits * 10^exp.
void shortest_digits(double v, std::string* digits, int* exp10) {
  // fmt's "{}" is the shortest text that round-trips: "1.6e+12", "1600000", "0.001", "1e-07".
  const std::string s = fmt::format("{}", v);
  const size_t epos = s.find('e');
  const std::string mant = s.substr(0, epos);
  const int e = epos == std::string::npos ? 0 : std::stoi(s.substr(epos + 1));
  std::string d;
  int frac = 0;
  bool after_point = false;
  for (char c : mant) {
    if (c == '.') {
      after_point = true;
      continue;
    }
    d.push_back(c);
    if (after_point) ++frac;
  }
  int x = e - frac;
  while (d.size() > 1 && d.back() == '0') {
    d.pop_back();
    ++x;
  }
  size_t lead = 0;
  while (lead + 1 < d.size() && d[lead] == '0') ++lead;
  *digits = d.substr(lead);
  *exp10 = x;
}

/// digits * 10^exp10 as plain decimal text ("16", -1 -> "1.6"); long for extreme values,
/// but always exact, since the parser takes no exponent.
std::string plain_decimal(const std::string& digits, int exp10) {
  if (digits == "0") return "0";
  if (exp10 >= 0) return digits + std::string(static_cast<size_t>(exp10), '0');
  const size_t frac = static_cast<size_t>(-exp10);
  if (digits.size() > frac) {
    return digits.substr(0, digits.size() - frac) + "." + digits.substr(digits.size() - frac);
  }
  return "0." + std::string(frac - digits.size(), '0') + digits;
}

}  // namespace

const char* base_unit(Dim dim) {
  switch (dim) {
    case Dim::kSize:
      return "B";
    case Dim::kBandwidth:
      return "B/s";
    case Dim::kTime:
      return "s";
    case Dim::kFrequency:
      break;
  }
  return "Hz";
}

const char* dim_name(Dim dim) {
  switch (dim) {
    case Dim::kSize:
      return "size";
    case Dim::kBandwidth:
      return "bandwidth";
    case Dim::kTime:
      return "time";
    case Dim::kFrequency:
      break;
  }
  return "frequency";
}

const char* dim_example(Dim dim) {
  switch (dim) {
    case Dim::kSize:
      return "a size such as \"64KiB\" or \"2GB\"";
    case Dim::kBandwidth:
      return "a bandwidth such as \"1.6TB/s\" or \"900GB/s\"";
    case Dim::kTime:
      return "a time such as \"14ns\" or \"12cycles\"";
    case Dim::kFrequency:
      break;
  }
  return "a frequency such as \"1.4GHz\" or \"800MHz\"";
}

std::optional<Quantity> parse_quantity(std::string_view text, Dim dim, std::string* error) {
  if (error) *error = dim_example(dim);
  if (!text.empty() && text[0] == '-') {
    std::string ignored;
    if (parse_positive(text.substr(1), dim, &ignored)) {
      if (error) *error = fmt::format("a non-negative {}", dim_name(dim));
      return std::nullopt;
    }
    return std::nullopt;
  }
  return parse_positive(text, dim, error);
}

std::string format_quantity(const Quantity& q, Dim dim) {
  if (dim == Dim::kTime && q.cycles) {
    return fmt::format("{}{}", q.value, q.value == 1.0 ? "cycle" : "cycles");
  }
  const double v = q.value;
  if (!std::isfinite(v) || v < 0) return fmt::format("{}{}", v, base_unit(dim));
  if (v == 0) return fmt::format("0{}", base_unit(dim));
  if (dim == Dim::kSize && v == std::floor(v) && v <= kMaxSizeBytes) {
    // The unit that divides exactly with the fewest digits; ties go to binary units, the
    // largest first: 549755813888 -> "512GiB", 2e9 -> "2GB" (not "1953125KiB"), 1500 -> "1500B".
    const uint64_t b = static_cast<uint64_t>(v);
    std::string best = fmt::format("{}B", b);
    size_t best_digits = best.size() - 1;
    for (int pass = 0; pass < 2; ++pass) {
      for (const Unit& u : units_of(dim)) {
        if ((pass == 0) != (u.bin != 0)) continue;
        uint64_t p = uint64_t{1} << u.bin;
        for (int i = 0; i < u.dec; ++i) p *= 10;
        if (p == 1 || b % p != 0) continue;
        const std::string n = fmt::format("{}", b / p);
        if (n.size() < best_digits) {
          best = n + u.name;
          best_digits = n.size();
        }
      }
    }
    return best;
  }
  // Candidates in every unit of the dimension; one that parses back to exactly `v` wins,
  // preferring a number >= 1, then the fewest digits, then the first unit (decimal units
  // from the largest down): 1.6e12 -> "1.6TB/s", 0.1 s -> "100ms".
  std::string digits;
  int exp10 = 0;
  shortest_digits(v, &digits, &exp10);
  std::string best;
  size_t best_len = 0;
  bool best_ge1 = false;
  for (const Unit& u : units_of(dim)) {
    std::string number;
    if (u.bin == 0) {
      number = plain_decimal(digits, exp10 - u.dec);
    } else {
      number = fmt::format("{}", std::ldexp(v, -u.bin));
      if (number.find_first_not_of("0123456789.") != std::string::npos) number.clear();
    }
    if (number.empty()) continue;
    const std::string text = number + u.name;
    const std::optional<Quantity> back = parse_quantity(text, dim, nullptr);
    if (!back || back->value != v) continue;
    const bool ge1 = number == "0" || number.rfind("0.", 0) != 0;
    const size_t len = number.size() - std::count(number.begin(), number.end(), '.');
    if (best.empty() || (ge1 && !best_ge1) || (ge1 == best_ge1 && len < best_len)) {
      best = text;
      best_len = len;
      best_ge1 = ge1;
    }
  }
  if (!best.empty()) return best;
  return fmt::format("{}{}", v, base_unit(dim));
}

}  // namespace moesim
