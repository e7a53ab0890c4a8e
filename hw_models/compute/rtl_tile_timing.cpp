#include "hw_models/compute/rtl_tile_timing.hpp"

#include <cstdio>
#include <random>

#include <fmt/format.h>

#include "rtl/cc/rtl_runners.hpp"
#include "sim/core/error.hpp"

namespace moesim {

RtlTileTiming::RtlTileTiming(uint64_t rows, uint64_t cols, bool ping_pong, const std::string& key,
                             StatGroup* stats_parent)
    : m_rows(rows), m_cols(cols), m_ping_pong(ping_pong), m_stats(stats_parent, ping_pong) {
  m_runner = rtl::make_systolic_tile_runner(
      {static_cast<int>(rows), static_cast<int>(cols), 32, ping_pong});
  if (!m_runner) {
    throw InputError(fmt::format("{}: \"rtl\" needs a tile of a baked RTL shape ({}), got {}x{}",
                                 key, rtl::systolic_tile_cc_shapes(ping_pong), rows, cols));
  }
}

RtlTileTiming::~RtlTileTiming() = default;

RtlTileTiming::FoldTiming RtlTileTiming::fold_cycles(uint64_t m) {
  const auto it = m_fold_cycles.find(m);
  if (it != m_fold_cycles.end()) {
    ++m_stats.cache_hits;
    return it->second;
  }
  const uint64_t fold = 2 * m_rows + m_cols + m - 2;
  FoldTiming t;
  if (m_ping_pong) {
    const uint64_t step = m > m_rows ? m : m_rows;
    t.first = run_sample(m, 1, 1, fold);
    const uint64_t c4 = run_sample(m, 2, 2, fold + 3 * step);
    t.interval = c4 > t.first ? (c4 - t.first + 2) / 3 : 0;
  } else {
    // Whole-run cycles from the RTL; the per-fold share rounds up if the folds were uneven.
    const uint64_t c4 = run_sample(m, 2, 2, 4 * fold);
    t.first = t.interval = (c4 + 3) / 4;
  }
  ++m_stats.shapes_run;
  m_fold_cycles.emplace(m, t);
  return t;
}

uint64_t RtlTileTiming::run_sample(uint64_t m, int kf, int nf, uint64_t contract) {
  // The sample: K = kf R, N = nf C (kf nf whole folds), random int8 operands seeded by M.
  std::mt19937_64 rng(0x5eed0000ULL + m);
  const int M = static_cast<int>(m), K = kf * static_cast<int>(m_rows),
            N = nf * static_cast<int>(m_cols);
  rtl::Int8Matrix a{M, K, std::vector<int8_t>(static_cast<size_t>(M) * K)};
  rtl::Int8Matrix b{K, N, std::vector<int8_t>(static_cast<size_t>(K) * N)};
  for (auto& v : a.v) v = static_cast<int8_t>(rng());
  for (auto& v : b.v) v = static_cast<int8_t>(rng());
  const uint64_t before = m_runner->cycles_simulated();
  const auto r = m_runner->run_gemm(a, b);
  m_stats.cycles_simulated += m_runner->cycles_simulated() - before;
  const bool cycles_ok = r.cycles == contract;
  if (!r.values_match) ++m_stats.value_mismatches;
  if (!cycles_ok) ++m_stats.contract_mismatches;
  if ((!r.values_match || !cycles_ok) && !m_warned) {
    m_warned = true;
    std::fprintf(
        stderr,
        "moesim: warning: verilated %llux%llu%s tile, M=%llu: %s; %llu cycles for %llu "
        "folds, contract %llu (counted in compute.array.rtl stats)\n",
        static_cast<unsigned long long>(m_rows), static_cast<unsigned long long>(m_cols),
        m_ping_pong ? " ping-pong" : "", static_cast<unsigned long long>(m),
        r.values_match ? "outputs match the reference" : "OUTPUTS DIFFER from the reference",
        static_cast<unsigned long long>(r.cycles), static_cast<unsigned long long>(r.folds),
        static_cast<unsigned long long>(contract));
  }
  return r.cycles;
}

uint64_t RtlTileTiming::gemm_cycles(uint64_t arrays, uint64_t m, uint64_t k, uint64_t n,
                                    uint64_t repeat) {
  if (m == 0 || k == 0 || n == 0 || repeat == 0) return 0;
  auto ceil_div = [](uint64_t x, uint64_t y) { return (x + y - 1) / y; };
  const uint64_t folds = repeat * ceil_div(k, m_rows) * ceil_div(n, m_cols);
  const FoldTiming t = fold_cycles(m);
  return t.first + (ceil_div(folds, arrays) - 1) * t.interval;
}

}  // namespace moesim
