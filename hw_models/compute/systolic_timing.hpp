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
///   to drain the R rows of results out).
/// total = folds * fold_cycles. Folds run back to back (no overlap between folds), which is
/// what a single-buffered array does; this matches SCALE-Sim's analytical model. The RTL
/// tile in rtl/systolic_tile is checked cycle-exact against this formula.

#include <cstdint>

namespace moesim {

enum class Dataflow { kWeightStationary, kOutputStationary };

/// Cycles one R x C array needs for an (M, K, N) GEMM. Zero-sized GEMMs take 0 cycles.
inline uint64_t systolic_gemm_cycles(Dataflow df, uint64_t rows, uint64_t cols, uint64_t m,
                                     uint64_t k, uint64_t n) {
  if (m == 0 || k == 0 || n == 0) return 0;
  auto ceil_div = [](uint64_t a, uint64_t b) { return (a + b - 1) / b; };
  if (df == Dataflow::kWeightStationary) {
    const uint64_t folds = ceil_div(k, rows) * ceil_div(n, cols);
    return folds * (2 * rows + cols + m - 2);
  }
  const uint64_t folds = ceil_div(m, rows) * ceil_div(n, cols);
  return folds * (2 * rows + cols + k - 2);
}

/// Cycles for `repeat` copies of an (M, K, N) GEMM on `arrays` identical arrays working in
/// parallel: the folds of all copies are dealt out to the arrays, so
/// cycles = ceil(repeat * folds / arrays) * fold_cycles. With one array and one copy this
/// is systolic_gemm_cycles().
inline uint64_t systolic_gemm_cycles_parallel(Dataflow df, uint64_t rows, uint64_t cols,
                                              uint64_t arrays, uint64_t m, uint64_t k, uint64_t n,
                                              uint64_t repeat) {
  if (m == 0 || k == 0 || n == 0 || repeat == 0) return 0;
  auto ceil_div = [](uint64_t a, uint64_t b) { return (a + b - 1) / b; };
  const bool ws = df == Dataflow::kWeightStationary;
  const uint64_t folds =
      repeat * (ws ? ceil_div(k, rows) * ceil_div(n, cols) : ceil_div(m, rows) * ceil_div(n, cols));
  const uint64_t fold_cycles = 2 * rows + cols + (ws ? m : k) - 2;
  return ceil_div(folds, arrays) * fold_cycles;
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
