#pragma once
/// One GEMM on one R x C systolic array, with the quantities of SCALE-Sim's
/// COMPUTE_REPORT.csv (docs/scalesim.md). The cycles are the compute unit's contract
/// (systolic_timing.hpp); the report's percentages follow SCALE-Sim's definitions.

#include <cstdint>

#include "hw_models/compute/systolic_timing.hpp"

namespace moesim {

struct SystolicGemmReport {
  uint64_t folds = 0;
  uint64_t cycles = 0;        ///< moesim's count: the cycles the GEMM takes
  uint64_t total_cycles = 0;  ///< SCALE-Sim's Total Cycles: the index of the last cycle
  uint64_t macs = 0;          ///< M x N x K
  double overall_util = 0;    ///< Overall Util %: 100 MACs / (Total Cycles x R x C)
  double mapping_eff = 0;     ///< Mapping Efficiency %: mean over folds of PEs mapped / (R C)
  double compute_util = 0;    ///< Compute Util %: mean over folds of MACs / (R C window)
};

/// The report of an (M, K, N) GEMM (all at least 1). SCALE-Sim's names for the three
/// dimensions per dataflow: the array's rows hold Sr, its columns Sc, and T streams:
///   WS: Sr = K, Sc = N, T = M    OS: Sr = M, Sc = N, T = K    IS: Sr = K, Sc = M, T = N
/// A fold maps min(R, rest of Sr) x min(C, rest of Sc) PEs, so the mapped PEs of all folds
/// add up to Sr x Sc, and each mapped PE does T MACs. SCALE-Sim's compute-utilisation
/// window of one fold is 2R + 2C + T - 3 (WS, IS: its filter (WS) or input (IS) demand
/// lines plus C - 1) and R + C + K - 2 (OS: its output demand lines plus C - 1); an exposed
/// OS drain adds its R cycles to the window.
inline SystolicGemmReport systolic_gemm_report(Dataflow df, uint64_t rows, uint64_t cols,
                                               uint64_t m, uint64_t k, uint64_t n,
                                               OsDrain drain = OsDrain::kExposed) {
  SystolicGemmReport r;
  r.folds = systolic_folds(df, rows, cols, m, k, n);
  r.cycles = systolic_gemm_cycles(df, rows, cols, m, k, n, drain);
  r.total_cycles = r.cycles - 1;
  r.macs = m * n * k;
  uint64_t sr = k, sc = n, t = m;
  if (df == Dataflow::kOutputStationary) {
    sr = m;
    t = k;
  } else if (df == Dataflow::kInputStationary) {
    sc = m;
    t = n;
  }
  uint64_t window = 2 * rows + 2 * cols + t - 3;
  if (df == Dataflow::kOutputStationary)
    window = t + rows + cols - 2 + (drain == OsDrain::kExposed ? rows : 0);
  const double pes = static_cast<double>(rows * cols);
  const double folds = static_cast<double>(r.folds);
  const double mapped = static_cast<double>(sr) * static_cast<double>(sc);
  // SCALE-Sim divides by its Total Cycles, which is 0 for a 1-cycle GEMM (1 x 1 x 1 on a
  // 1 x 1 output-stationary array with the drain overlapped; it stops with a division by
  // zero there): that one MAC in one cycle on one PE is 100 %.
  r.overall_util = r.total_cycles == 0 ? 100.0
                                       : static_cast<double>(r.macs) * 100.0 /
                                             (static_cast<double>(r.total_cycles) * pes);
  r.mapping_eff = mapped / (folds * pes) * 100.0;
  r.compute_util =
      mapped * static_cast<double>(t) / (folds * pes * static_cast<double>(window)) * 100.0;
  return r;
}

}  // namespace moesim
