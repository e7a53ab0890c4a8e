#pragma once
/// Bit-exact C++ reference of rtl/systolic_tile (see README.md).

#include <cstddef>
#include <cstdint>
#include <vector>

namespace moesim::rtl {

/// Shape of the weight-stationary tile.
struct SystolicTileParams {
  int rows = 4;    ///< R: K-tile (array rows)
  int cols = 4;    ///< C: N-tile (array columns)
  int acc_w = 32;  ///< accumulator bits; sums wrap modulo 2^acc_w
  /// The double-buffered variant (systolic_tile_pp.v).
  bool ping_pong = false;
};

/// Row-major int8 matrix.
struct Int8Matrix {
  int rows = 0, cols = 0;
  std::vector<int8_t> v;
  int8_t at(int r, int c) const { return v[static_cast<std::size_t>(r) * cols + c]; }
};

/// Two's complement wrap of `x` to `bits` bits, sign-extended back to int64.
int64_t wrap_acc(int64_t x, int bits);

/// One fold: out[m][j] = wrap(sum_i a[m][i] * w[i][j]) for a M x R activations and R x C
/// weights (zero padded by the caller). The array accumulates in acc_w bits; because
/// wrapping addition is associative the order of the additions does not matter.
std::vector<std::vector<int64_t>> systolic_fold_ref(const Int8Matrix& a, const Int8Matrix& w,
                                                    int acc_w);

/// One fold of a tiled GEMM C = A (M x K) * B (K x N): the zero-padded K-tile kf of A
/// (M x R) and the K x N tile (kf, nf) of B (R x C).
struct Fold {
  Int8Matrix a, w;
};

/// The folds the tile runs for A * B, in order: N-tiles outer, K-tiles inner.
std::vector<Fold> systolic_folds(const Int8Matrix& a, const Int8Matrix& b,
                                 const SystolicTileParams& p);

/// C = A * B with every element wrapped to acc_w bits (what the folds sum to when the
/// K-tile partial sums are added in acc_w bits).
std::vector<std::vector<int64_t>> gemm_ref(const Int8Matrix& a, const Int8Matrix& b, int acc_w);

/// Returns an empty string when `p` is legal, else why not.
const char* systolic_tile_check(const SystolicTileParams& p);

}  // namespace moesim::rtl
