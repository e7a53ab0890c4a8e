#include "hw_models/memory/dram/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace moesim {
namespace {

int msb(uint64_t v) {
  return 63 - __builtin_clzll(v);
}

constexpr int kExactBits = 10;  // log2(kExact)

}  // namespace

LatencyHistogram::LatencyHistogram() : m_buckets(kExact + (64 - kExactBits) * (1 << kSubBits), 0) {}

int LatencyHistogram::bucket_of(uint64_t v) {
  if (v < static_cast<uint64_t>(kExact)) return static_cast<int>(v);
  const int m = msb(v);
  const int sub = static_cast<int>((v >> (m - kSubBits)) & ((1u << kSubBits) - 1));
  return kExact + (m - kExactBits) * (1 << kSubBits) + sub;
}

double LatencyHistogram::bucket_value(int b) {
  if (b < kExact) return b;
  const int rel = b - kExact;
  const int m = rel / (1 << kSubBits) + kExactBits;
  const int sub = rel % (1 << kSubBits);
  const double lo = std::ldexp(1.0, m) + sub * std::ldexp(1.0, m - kSubBits);
  return lo + std::ldexp(1.0, m - kSubBits) / 2;  // middle of the bucket
}

void LatencyHistogram::record(uint64_t cycles) {
  ++m_buckets[bucket_of(cycles)];
  ++m_count;
  m_sum += cycles;
  m_max = std::max(m_max, cycles);
}

double LatencyHistogram::percentile(double p) const {
  if (m_count == 0) return 0.0;
  p = std::clamp(p, 0.0, 1.0);
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(p * m_count)));
  uint64_t seen = 0;
  for (size_t b = 0; b < m_buckets.size(); ++b) {
    seen += m_buckets[b];
    if (seen >= rank) return std::min(bucket_value(static_cast<int>(b)), double(m_max));
  }
  return static_cast<double>(m_max);
}

void LatencyHistogram::add_repeats(const LatencyHistogram& from, const LatencyHistogram& to,
                                   uint64_t times) {
  for (size_t b = 0; b < m_buckets.size(); ++b)
    m_buckets[b] += times * (to.m_buckets[b] - from.m_buckets[b]);
  m_count += times * (to.m_count - from.m_count);
  m_sum += times * (to.m_sum - from.m_sum);
  m_max = std::max(m_max, to.m_max);
}

}  // namespace moesim
