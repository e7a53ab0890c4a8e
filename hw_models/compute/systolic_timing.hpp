#pragma once
/// The cycle contract of an R x C systolic array for one GEMM C[M,N] = A[M,K] * B[K,N].
///
/// Weight-stationary (WS): the array holds a K-tile of R rows by an N-tile of C columns.
///   folds = ceil(K/R) * ceil(N/C)
///   per fold: R cycles to shift the weight tile in, then M input rows stream through with
///   row skew; the last partial sum leaves the bottom of the last column after M + R + C - 2
///   cycles. fold_cycles = 2R + C + M - 2.
/// Output-stationary (OS): each PE accumulates one output; the array holds an M-tile of R
///   rows by an N-tile of C columns and K operand pairs stream through with skew.
///   folds = ceil(M/R) * ceil(N/C)
///   fold_cycles = 2R + C + K - 2 (R + C - 2 skew plus K accumulation steps, plus R cycles
///   to drain the R rows of results out) with the drain exposed (OsDrain::kExposed, the
///   default), or R + C + K - 2 with the drain overlapped with the next fold's operands
///   (OsDrain::kOverlapped: SCALE-Sim's count, docs/scalesim.md).
/// Input-stationary (IS): the array holds a K-tile of R rows by an M-tile of C columns of
///   the inputs and the N weight columns stream through: WS with M and N swapped.
///   folds = ceil(K/R) * ceil(M/C), fold_cycles = 2R + C + N - 2.
/// total = folds * fold_cycles. Folds run back to back (no overlap between folds), which is
/// what a single-buffered array does. moesim counts the cycles the GEMM takes (cycle 0 is
/// the first weight row or operand entering, the count ends after the last result left);
/// SCALE-Sim's Total Cycles is the index of its last cycle, one less (docs/scalesim.md). The
/// RTL tile in rtl/systolic_tile is checked cycle-exact against the WS formula.

#include <cstdint>

namespace moesim {

enum class Dataflow { kWeightStationary, kOutputStationary, kInputStationary };

/// Output-stationary only: whether the R cycles that shift a fold's results out of the array
/// add to the fold (kExposed, moesim's default) or hide under the next fold (kOverlapped).
enum class OsDrain { kExposed, kOverlapped };

/// Folds of an (M, K, N) GEMM on one R x C array: the tiles the array holds in turn.
inline uint64_t systolic_folds(Dataflow df, uint64_t rows, uint64_t cols, uint64_t m, uint64_t k,
                               uint64_t n) {
  auto ceil_div = [](uint64_t a, uint64_t b) { return (a + b - 1) / b; };
  switch (df) {
    case Dataflow::kWeightStationary:
      return ceil_div(k, rows) * ceil_div(n, cols);
    case Dataflow::kOutputStationary:
      return ceil_div(m, rows) * ceil_div(n, cols);
    case Dataflow::kInputStationary:
      return ceil_div(k, rows) * ceil_div(m, cols);
  }
  return 0;
}

/// Cycles of one fold: 2R + C + T - 2 with T the streamed dimension (WS: M, IS: N, OS: K);
/// output-stationary with an overlapped drain takes R fewer.
inline uint64_t systolic_fold_cycles(Dataflow df, uint64_t rows, uint64_t cols, uint64_t m,
                                     uint64_t k, uint64_t n, OsDrain drain = OsDrain::kExposed) {
  switch (df) {
    case Dataflow::kWeightStationary:
      return 2 * rows + cols + m - 2;
    case Dataflow::kOutputStationary:
      return (drain == OsDrain::kExposed ? 2 * rows : rows) + cols + k - 2;
    case Dataflow::kInputStationary:
      return 2 * rows + cols + n - 2;
  }
  return 0;
}

/// Cycles one R x C array needs for an (M, K, N) GEMM. Zero-sized GEMMs take 0 cycles.
inline uint64_t systolic_gemm_cycles(Dataflow df, uint64_t rows, uint64_t cols, uint64_t m,
                                     uint64_t k, uint64_t n, OsDrain drain = OsDrain::kExposed) {
  if (m == 0 || k == 0 || n == 0) return 0;
  return systolic_folds(df, rows, cols, m, k, n) *
         systolic_fold_cycles(df, rows, cols, m, k, n, drain);
}

/// Cycles for `repeat` copies of an (M, K, N) GEMM on `arrays` identical arrays working in
/// parallel: the folds of all copies are dealt out to the arrays, so
/// cycles = ceil(repeat * folds / arrays) * fold_cycles. With one array and one copy this
/// is systolic_gemm_cycles().
inline uint64_t systolic_gemm_cycles_parallel(Dataflow df, uint64_t rows, uint64_t cols,
                                              uint64_t arrays, uint64_t m, uint64_t k, uint64_t n,
                                              uint64_t repeat, OsDrain drain = OsDrain::kExposed) {
  if (m == 0 || k == 0 || n == 0 || repeat == 0) return 0;
  const uint64_t folds = repeat * systolic_folds(df, rows, cols, m, k, n);
  return (folds + arrays - 1) / arrays * systolic_fold_cycles(df, rows, cols, m, k, n, drain);
}

/// Weight-stationary with ping-pong (double-buffered) weights, as in Edge-MoE's linear unit
/// and rtl/systolic_tile/systolic_tile_pp.v: weight rows arrive on their own port and fill the
/// bank not in use while the current fold's M rows stream, and the next fold's rows follow the
/// current fold's without a drain gap. A fold starts max(M, R) cycles after the previous one
/// (its M rows, or the R cycles its weights take to load, whichever is longer); only the first
/// weight load (R) and the last drain (R + C - 2) stay exposed:
///   cycles = (2R + C + M - 2) + (folds - 1) * max(M, R)
/// One fold costs what it costs single-buffered; never slower than systolic_gemm_cycles(), and
/// never faster than the compute bound folds * M.
inline uint64_t systolic_gemm_cycles_pingpong(uint64_t rows, uint64_t cols, uint64_t m, uint64_t k,
                                              uint64_t n) {
  if (m == 0 || k == 0 || n == 0) return 0;
  auto ceil_div = [](uint64_t a, uint64_t b) { return (a + b - 1) / b; };
  const uint64_t folds = ceil_div(k, rows) * ceil_div(n, cols);
  return (2 * rows + cols + m - 2) + (folds - 1) * (m > rows ? m : rows);
}

/// systolic_gemm_cycles_pingpong() for `repeat` copies on `arrays` arrays: each array runs
/// f = ceil(repeat * folds / arrays) folds back to back, overlapped across the copies too:
/// cycles = (2R + C + M - 2) + (f - 1) * max(M, R).
inline uint64_t systolic_gemm_cycles_parallel_pingpong(uint64_t rows, uint64_t cols,
                                                       uint64_t arrays, uint64_t m, uint64_t k,
                                                       uint64_t n, uint64_t repeat) {
  if (m == 0 || k == 0 || n == 0 || repeat == 0) return 0;
  auto ceil_div = [](uint64_t a, uint64_t b) { return (a + b - 1) / b; };
  const uint64_t per_array = ceil_div(repeat * ceil_div(k, rows) * ceil_div(n, cols), arrays);
  return (2 * rows + cols + m - 2) + (per_array - 1) * (m > rows ? m : rows);
}

}  // namespace moesim
