// Co-simulation of rtl/systolic_tile: reference vs SystemC model vs verilated RTL, with the
// cycle count of every no-stall GEMM checked against hw_models/compute/systolic_timing.hpp.
#include <verilated.h>
#include <verilated_vcd_sc.h>

#include "Vsystolic_tile_pp_r2_c2_acc16.h"
#include "Vsystolic_tile_pp_r4_c4_acc32.h"
#include "Vsystolic_tile_r16_c16_acc32.h"
#include "Vsystolic_tile_r2_c2_acc16.h"
#include "Vsystolic_tile_r4_c4_acc32.h"

#include <sstream>

#include "hw_models/compute/systolic_timing.hpp"
#include "rtl/common/cosim_run.hpp"
#include "rtl/systolic_tile/systolic_tile_model.hpp"
#include "rtl/systolic_tile/systolic_tile_pp_model.hpp"
#include "rtl/systolic_tile/systolic_tile_ref.hpp"

namespace moesim {
namespace rtl {
namespace {

struct GemmLimits {
  int max_m = 24, max_kf = 3, max_nf = 3;
};

Int8Matrix make_matrix(int rows, int cols, int mode, std::mt19937_64& rng) {
  Int8Matrix x{rows, cols, std::vector<int8_t>(static_cast<std::size_t>(rows) * cols)};
  for (auto& v : x.v) {
    if (mode == 0) v = static_cast<int8_t>(rng());                // full int8 range
    if (mode == 1) v = (rng() % 2) ? int8_t{127} : int8_t{-128};  // extremes
    if (mode == 2) v = static_cast<int8_t>(int(rng() % 5) - 2);   // small
    if (mode == 3) v = int8_t{-128};                              // largest products
  }
  return x;
}

Int8Matrix filled(int rows, int cols, int8_t v) {
  return {rows, cols, std::vector<int8_t>(static_cast<std::size_t>(rows) * cols, v)};
}

std::string format_matrix(const Int8Matrix& x) {
  std::ostringstream os;
  os << "[";
  for (int r = 0; r < x.rows; ++r) {
    os << (r ? ";" : "");
    for (int c = 0; c < x.cols; ++c) os << (c ? "," : "") << int{x.at(r, c)};
  }
  os << "]";
  return os.str();
}

/// ping_pong: the double-buffered tile (systolic_tile_pp.v): weight rows go to the w stream,
/// activation rows to the in stream, and the contract is systolic_gemm_cycles_pingpong().
CaseSource systolic_source(const SystolicTileParams& p, const GemmLimits& lim, bool ping_pong) {
  CaseSource src;
  src.serial_cases = ping_pong;
  const int R = p.rows, C = p.cols;
  // Directed GEMMs: (M, K, N, a value, b value); value 0 means random full range.
  struct Directed {
    int m, k, n;
    int8_t a, b;
  };
  const std::vector<Directed> directed = {
      {1, 1, 1, 1, 1},                   // smallest GEMM
      {1, R, C, 3, -2},                  // exactly one full fold, M = 1
      {4, R, C, -128, -128},             // largest products: R * 2^14 (wraps for ACC_W=16)
      {4, R, C, 127, -128},              // most negative sums
      {3, R, C, 0, 0},                   // zeros (random fill below is skipped for 0/0)
      {5, 3 * R + 1, 2 * C + 1, 1, -1},  // multi-fold in K and N, ragged edges
      {64, R, C, 0, 0},                  // long M
      {2, 2 * R, C, -128, -128},         // K folds: partial sums leave the tile separately
  };
  src.make = [p, lim, directed, R, C, ping_pong](uint64_t idx, std::mt19937_64& rng) {
    Case c;
    Int8Matrix a, b;
    const size_t nd = directed.size();
    if (idx < 2 * nd) {
      const Directed& d = directed[idx % nd];
      const bool rnd = d.a == 0 && d.b == 0 && d.m != 3;
      a = rnd ? make_matrix(d.m, d.k, 0, rng) : filled(d.m, d.k, d.a);
      b = rnd ? make_matrix(d.k, d.n, 0, rng) : filled(d.k, d.n, d.b);
      c.stalls = idx >= nd;
    } else {
      const int m = 1 + static_cast<int>(rng() % lim.max_m);
      const int k = 1 + static_cast<int>(rng() % (lim.max_kf * R));
      const int n = 1 + static_cast<int>(rng() % (lim.max_nf * C));
      const int mode = static_cast<int>(rng() % 4);
      a = make_matrix(m, k, mode == 3 ? 3 : mode, rng);
      b = make_matrix(k, n, mode, rng);
      c.stalls = rng() % 4 != 0;
    }
    const int M = a.rows, K = a.cols, N = b.cols;
    const auto folds = systolic_folds(a, b, p);
    for (const Fold& f : folds) {
      for (int i = 0; i < R; ++i) {
        Beat w;
        for (int j = 0; j < C; ++j) set_field(w, 8 * j, 8, static_cast<uint8_t>(f.w.at(i, j)));
        (ping_pong ? c.w_in : c.in).push_back(w);
      }
      for (int m = 0; m < M; ++m) {
        Beat x;
        for (int i = 0; i < R; ++i) set_field(x, 8 * i, 8, static_cast<uint8_t>(f.a.at(m, i)));
        x.last = m == M - 1;
        c.in.push_back(x);
      }
      const auto out = systolic_fold_ref(f.a, f.w, p.acc_w);
      for (int m = 0; m < M; ++m) {
        Beat y;
        for (int j = 0; j < C; ++j)
          set_field(y, p.acc_w * j, p.acc_w,
                    static_cast<uint32_t>(static_cast<uint64_t>(out[m][j])));
        y.last = m == M - 1;
        c.out.push_back(y);
      }
    }
    c.contract_cycles = ping_pong
                            ? systolic_gemm_cycles_pingpong(R, C, M, K, N)
                            : systolic_gemm_cycles(Dataflow::kWeightStationary, R, C, M, K, N);
    c.contract_stat = folds.size() * static_cast<uint64_t>(R + M);
    std::ostringstream os;
    os << "GEMM M=" << M << " K=" << K << " N=" << N << " (" << folds.size();
    if (ping_pong)
      os << " folds, ping-pong: 2R+C+M-2=" << 2 * R + C + M - 2
         << " + (folds-1)*max(M,R)=" << (folds.size() - 1) * static_cast<uint64_t>(std::max(M, R))
         << " cycles)";
    else
      os << " folds of 2R+C+M-2=" << 2 * R + C + M - 2 << " cycles)";
    os << " A=" << format_matrix(a) << " B=" << format_matrix(b);
    c.desc = os.str();
    return c;
  };
  src.format_out = [p](const Beat& b) {
    std::ostringstream os;
    os << "row [";
    for (int j = 0; j < p.cols; ++j)
      os << (j ? "," : "") << wrap_acc(get_field(b, p.acc_w * j, p.acc_w), p.acc_w);
    os << "]";
    return os.str();
  };
  return src;
}

template <class Rtl, int R, int C, int ACC_W>
int run(const std::string& variant, const HarnessConfig& cfg, const GemmLimits& lim,
        std::ostream& report) {
  const SystolicTileParams p{R, C, ACC_W};
  report << variant << ": contract per fold 2R+C+M-2 = " << 2 * R + C - 2
         << "+M cycles, folds = ceil(K/R)*ceil(N/C), back to back\n";
  using Model = SystolicTileModel<R, C, ACC_W>;
  return run_cosim<Rtl, Model>(
      variant, cfg, systolic_source(p, lim, false),
      [] { return std::make_unique<Model>("systemc_model"); }, report);
}

template <class Rtl, int R, int C, int ACC_W>
int run_pp(const std::string& variant, const HarnessConfig& cfg, const GemmLimits& lim,
           std::ostream& report) {
  const SystolicTileParams p{R, C, ACC_W};
  report << variant
         << ": ping-pong weights, contract (2R+C+M-2) + (folds-1)*max(M,R) = " << 2 * R + C - 2
         << "+M + (folds-1)*max(M," << R << ") cycles, folds = ceil(K/R)*ceil(N/C)\n";
  using Model = SystolicTilePpModel<R, C, ACC_W>;
  return run_cosim<Rtl, Model, DualLane>(
      variant, cfg, systolic_source(p, lim, true),
      [] { return std::make_unique<Model>("systemc_model"); }, report);
}

}  // namespace
}  // namespace rtl

int rtl_verify_systolic_tile(uint64_t cases, uint64_t seed, const ParamMap& params,
                             std::ostream& report) {
  using namespace rtl;
  try {
    ParamReader r(params);
    SystolicTileParams p;
    p.rows = static_cast<int>(r.get_int("R", 4));
    p.cols = static_cast<int>(r.get_int("C", 4));
    p.acc_w = static_cast<int>(r.get_int("ACC_W", p.rows == 2 && p.cols == 2 ? 16 : 32));
    GemmLimits lim;
    lim.max_m = static_cast<int>(r.get_int("MAX_M", 24));
    lim.max_kf = static_cast<int>(r.get_int("MAX_KF", 3));
    lim.max_nf = static_cast<int>(r.get_int("MAX_NF", 3));
    const int64_t buffers = r.get_int("BUFFERS", 1);
    if (buffers != 1 && buffers != 2)
      throw std::invalid_argument("BUFFERS must be 1 (single-buffered weights) or 2 (ping-pong)");
    if (lim.max_m < 1 || lim.max_kf < 1 || lim.max_nf < 1)
      throw std::invalid_argument("MAX_M, MAX_KF and MAX_NF must be >= 1");
    const std::string variant =
        std::string(buffers == 2 ? "systolic_tile_pp_r" : "systolic_tile_r") +
        std::to_string(p.rows) + "_c" + std::to_string(p.cols) + "_acc" + std::to_string(p.acc_w);
    const HarnessConfig cfg = harness_config(variant, cases, seed, r);
    r.finish(
        "R, C, ACC_W, BUFFERS, MAX_M, MAX_KF, MAX_NF, stall, bubble, waves, lanes, inject_fault");
    if (buffers == 2) {
      if (p.rows == 2 && p.cols == 2 && p.acc_w == 16)
        return run_pp<Vsystolic_tile_pp_r2_c2_acc16, 2, 2, 16>(variant, cfg, lim, report);
      if (p.rows == 4 && p.cols == 4 && p.acc_w == 32)
        return run_pp<Vsystolic_tile_pp_r4_c4_acc32, 4, 4, 32>(variant, cfg, lim, report);
      throw std::invalid_argument("no RTL build for " + variant + "\n" + rtl_verify_help());
    }
    if (p.rows == 2 && p.cols == 2 && p.acc_w == 16)
      return run<Vsystolic_tile_r2_c2_acc16, 2, 2, 16>(variant, cfg, lim, report);
    if (p.rows == 4 && p.cols == 4 && p.acc_w == 32)
      return run<Vsystolic_tile_r4_c4_acc32, 4, 4, 32>(variant, cfg, lim, report);
    if (p.rows == 16 && p.cols == 16 && p.acc_w == 32)
      return run<Vsystolic_tile_r16_c16_acc32, 16, 16, 32>(variant, cfg, lim, report);
    throw std::invalid_argument("no RTL build for " + variant + "\n" + rtl_verify_help());
  } catch (const std::invalid_argument& e) {
    report << "rtl-verify systolic_tile: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace moesim
