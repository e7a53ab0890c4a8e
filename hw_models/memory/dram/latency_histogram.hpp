#pragma once
/// A compact latency histogram: exact below 1024 cycles, ~1.6% buckets above.

#include <cstdint>
#include <vector>

namespace moesim {

/// Counts latencies (in cycles) for mean and percentiles without storing samples.
class LatencyHistogram {
 public:
  LatencyHistogram();
  /// Adds one sample.
  void record(uint64_t cycles);
  /// Number of samples.
  uint64_t count() const { return m_count; }
  /// Sum of all samples (exact).
  uint64_t sum() const { return m_sum; }
  /// Largest sample (exact).
  uint64_t max() const { return m_max; }
  /// Mean of the samples (exact), 0 if empty.
  double mean() const { return m_count ? static_cast<double>(m_sum) / m_count : 0.0; }
  /// Value below which a fraction `p` (0..1) of samples fall; exact below 1024 cycles.
  double percentile(double p) const;
  /// Adds `times` x (the samples `to` holds beyond `from`), `from` being an earlier copy of
  /// `to`; the maximum is unchanged (repeated samples are no larger than the ones in `to`).
  void add_repeats(const LatencyHistogram& from, const LatencyHistogram& to, uint64_t times);

 private:
  static constexpr int kExact = 1024;
  static constexpr int kSubBits = 6;  // 64 sub-buckets per power of two above kExact
  static int bucket_of(uint64_t v);
  static double bucket_value(int b);
  std::vector<uint64_t> m_buckets;
  uint64_t m_count = 0;
  uint64_t m_sum = 0;
  uint64_t m_max = 0;
};

}  // namespace moesim
