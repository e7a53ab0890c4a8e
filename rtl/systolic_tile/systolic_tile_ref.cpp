#include "rtl/systolic_tile/systolic_tile_ref.hpp"

namespace moesim::rtl {

int64_t wrap_acc(int64_t x, int bits) {
  const uint64_t mask = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  uint64_t u = static_cast<uint64_t>(x) & mask;
  if (bits < 64 && (u >> (bits - 1)) & 1) u |= ~mask;
  return static_cast<int64_t>(u);
}

std::vector<std::vector<int64_t>> systolic_fold_ref(const Int8Matrix& a, const Int8Matrix& w,
                                                    int acc_w) {
  std::vector<std::vector<int64_t>> out(a.rows, std::vector<int64_t>(w.cols));
  for (int m = 0; m < a.rows; ++m)
    for (int j = 0; j < w.cols; ++j) {
      int64_t s = 0;
      for (int i = 0; i < w.rows; ++i) s = wrap_acc(s + int64_t{a.at(m, i)} * w.at(i, j), acc_w);
      out[m][j] = s;
    }
  return out;
}

std::vector<Fold> systolic_folds(const Int8Matrix& a, const Int8Matrix& b,
                                 const SystolicTileParams& p) {
  std::vector<Fold> folds;
  const int kt = (a.cols + p.rows - 1) / p.rows, nt = (b.cols + p.cols - 1) / p.cols;
  for (int nf = 0; nf < nt; ++nf)
    for (int kf = 0; kf < kt; ++kf) {
      Fold f;
      f.a = {a.rows, p.rows, std::vector<int8_t>(static_cast<std::size_t>(a.rows) * p.rows)};
      f.w = {p.rows, p.cols, std::vector<int8_t>(static_cast<std::size_t>(p.rows) * p.cols)};
      for (int m = 0; m < a.rows; ++m)
        for (int i = 0; i < p.rows; ++i) {
          const int k = kf * p.rows + i;
          f.a.v[static_cast<std::size_t>(m) * p.rows + i] = k < a.cols ? a.at(m, k) : 0;
        }
      for (int i = 0; i < p.rows; ++i)
        for (int j = 0; j < p.cols; ++j) {
          const int k = kf * p.rows + i, n = nf * p.cols + j;
          f.w.v[static_cast<std::size_t>(i) * p.cols + j] =
              (k < b.rows && n < b.cols) ? b.at(k, n) : 0;
        }
      folds.push_back(std::move(f));
    }
  return folds;
}

std::vector<std::vector<int64_t>> gemm_ref(const Int8Matrix& a, const Int8Matrix& b, int acc_w) {
  std::vector<std::vector<int64_t>> out(a.rows, std::vector<int64_t>(b.cols));
  for (int m = 0; m < a.rows; ++m)
    for (int n = 0; n < b.cols; ++n) {
      int64_t s = 0;
      for (int k = 0; k < a.cols; ++k) s += int64_t{a.at(m, k)} * b.at(k, n);
      out[m][n] = wrap_acc(s, acc_w);
    }
  return out;
}

const char* systolic_tile_check(const SystolicTileParams& p) {
  if (p.rows < 2 || p.rows > 16 || p.cols < 2 || p.cols > 16) return "R and C must be in 2..16";
  if (p.acc_w < 16 || p.acc_w > 32) return "ACC_W must be in 16..32";
  return "";
}

}  // namespace moesim::rtl
