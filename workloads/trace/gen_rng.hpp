#pragma once
/// The generators' own random numbers: xoshiro256** seeded by splitmix64, and a Walker/Vose
/// alias table. No standard-library distributions, so a seed gives the same trace with any
/// standard library.

#include <cmath>
#include <cstdint>
#include <vector>

namespace moesim {

/// One splitmix64 step (advances `x`); used to seed and to derive independent streams.
inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// xoshiro256** 1.0 (Blackman and Vigna).
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& w : m_s) w = splitmix64(seed);
  }
  uint64_t next() {
    const uint64_t result = rotl(m_s[1] * 5, 7) * 9;
    const uint64_t t = m_s[1] << 17;
    m_s[2] ^= m_s[0];
    m_s[3] ^= m_s[1];
    m_s[1] ^= m_s[2];
    m_s[0] ^= m_s[3];
    m_s[2] ^= t;
    m_s[3] = rotl(m_s[3], 45);
    return result;
  }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, n) (multiply-shift; bias below n / 2^32, irrelevant here).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next() >> 32) * n) >> 32); }
  /// Exponential variate with rate 1 (inverse CDF), always > 0.
  double exponential() { return -std::log(1.0 - uniform()) + 1e-300; }
  /// True with probability `p`.
  bool chance(double p) { return uniform() < p; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t m_s[4];
};

/// Walker/Vose alias table over ids 0..n-1: O(1) draws from a fixed distribution.
struct AliasTable {
  std::vector<double> prob;     ///< probability of keeping column i
  std::vector<uint32_t> alias;  ///< the other outcome of column i
  std::vector<double> weight;   ///< the normalised distribution (for exact fallbacks)

  /// Builds the table for `p` (non-negative, summing to 1).
  void build(const std::vector<double>& p) {
    const uint32_t n = static_cast<uint32_t>(p.size());
    weight = p;
    prob.assign(n, 0.0);
    alias.assign(n, 0);
    std::vector<double> scaled(n);
    std::vector<uint32_t> small, large;
    for (uint32_t i = 0; i < n; ++i) {
      scaled[i] = p[i] * n;
      (scaled[i] < 1.0 ? small : large).push_back(i);
    }
    while (!small.empty() && !large.empty()) {
      const uint32_t s = small.back();
      small.pop_back();
      const uint32_t l = large.back();
      prob[s] = scaled[s];
      alias[s] = l;
      scaled[l] = (scaled[l] + scaled[s]) - 1.0;
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    for (uint32_t i : large) prob[i] = 1.0;
    for (uint32_t i : small) prob[i] = 1.0;  // rounding leftovers
  }
  /// One draw.
  uint32_t draw(Rng& rng) const {
    const uint32_t i = rng.below(static_cast<uint32_t>(prob.size()));
    return rng.uniform() < prob[i] ? i : alias[i];
  }
};

}  // namespace moesim
