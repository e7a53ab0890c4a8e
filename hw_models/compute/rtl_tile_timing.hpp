#pragma once
/// impl = "rtl" for the systolic compute unit: GEMM timing measured on the verilated tile.
///
/// A weight-stationary fold takes 2R + C + M - 2 cycles whatever the K and N extents of its
/// tile and whatever the data (rtl/systolic_tile/README.md; checked cycle-exact by the
/// co-simulation on ragged random shapes), so the cycles of a fold depend only on M. The first
/// GEMM with a given M runs a 2R x 2C sample (4 folds back to back, random int8 data seeded
/// by M) through the verilated tile; its measured cycles / 4 become the fold cycles for M,
/// cached for the rest of the run. The outputs are compared with the bit-exact reference and
/// the measured cycles with the contract formula; disagreements are counted (and warned
/// about once), never hidden. Folds are dealt out to the arrays as in the model:
/// cycles = ceil(repeat * folds / arrays) * fold_cycles.
///
/// ping_pong (the double-buffered tile, systolic_tile_pp.v): a first fold costs what it costs
/// single-buffered and every further fold max(M, R). The first GEMM with a given M runs two
/// samples, 1 fold (R x C) and 4 folds (2R x 2C); first = c1, interval = (c4 - c1) / 3;
/// checked against 2R + C + M - 2 and (2R + C + M - 2) + 3 max(M, R). With
/// f = ceil(repeat * folds / arrays): cycles = first + (f - 1) * interval.

#include <cstdint>
#include <map>
#include <memory>

#include "sim/core/stats.hpp"

namespace moesim {

namespace rtl {
class SystolicTileRunner;
}

/// Statistics of the RTL-timed tile.
struct RtlTileStats : StatGroup {
  RtlTileStats(StatGroup* parent, bool ping_pong) : StatGroup("rtl", parent), pp(ping_pong) {}
  bool pp;  ///< the ping-pong tile (its descriptions name its samples and contract)
  Counter shapes_run{this, "shapes_run", "shapes",
                     pp ? "distinct M run through the verilated ping-pong tile (1 and 4 folds)"
                        : "distinct M run through the verilated tile (4 folds each)"};
  Counter cache_hits{this, "cache_hits", "gemms", "GEMM shapes timed from an earlier RTL run"};
  Counter cycles_simulated{this, "cycles_simulated", "cycles",
                           "clock cycles of the verilated tile"};
  Counter value_mismatches{this, "value_mismatches", "shapes",
                           "RTL runs whose outputs differ from the bit-exact reference"};
  Counter contract_mismatches{
      this, "contract_mismatches", "shapes",
      pp ? "RTL runs whose cycles differ from (2R + C + M - 2) + (folds - 1) max(M, R)"
         : "RTL runs whose cycles differ from 4 * (2R + C + M - 2)"};
};

/// Times GEMMs with fold cycles measured on the verilated R x C tile.
class RtlTileTiming {
 public:
  /// Throws InputError naming `key` when no --cc tile of rows x cols is baked in.
  RtlTileTiming(uint64_t rows, uint64_t cols, bool ping_pong, const std::string& key,
                StatGroup* stats_parent);
  ~RtlTileTiming();
  /// Cycles for `repeat` copies of an (m, k, n) weight-stationary GEMM on `arrays` arrays.
  uint64_t gemm_cycles(uint64_t arrays, uint64_t m, uint64_t k, uint64_t n, uint64_t repeat);

 private:
  struct FoldTiming {
    uint64_t first = 0;     ///< cycles of a GEMM of one fold
    uint64_t interval = 0;  ///< cycles each further fold adds
  };
  FoldTiming fold_cycles(uint64_t m);
  /// One random sample of kf x nf folds; returns its cycles, counts mismatches.
  uint64_t run_sample(uint64_t m, int kf, int nf, uint64_t contract);
  uint64_t m_rows, m_cols;
  bool m_ping_pong;
  std::unique_ptr<rtl::SystolicTileRunner> m_runner;
  std::map<uint64_t, FoldTiming> m_fold_cycles;  ///< by M
  RtlTileStats m_stats;
  bool m_warned = false;
};

}  // namespace moesim
