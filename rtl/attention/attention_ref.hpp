#pragma once
/// Bit-exact C++ reference of rtl/attention (README.md: stream format, formats, contract).

#include <array>
#include <cstdint>
#include <vector>

namespace moesim::rtl {

/// The block's baked shape (Verilog parameters).
struct AttentionParams {
  int p = 4;      ///< P: query rows computed in parallel
  int d = 8;      ///< D: largest head dim (Q row and output width)
  int w = 2;      ///< W: MACs per row engine per cycle (K/V slice width)
  int rmax = 8;   ///< largest number of query rows per op
  int lmax = 32;  ///< largest number of keys
};

/// One op: `rows` query rows of one KV head against `keys` keys, head dim slices x W.
struct AttentionCase {
  int rows = 1;
  int keys = 1;
  int slices = 1;               ///< c: K/V slices per key (head dim used = c W <= D)
  bool naive = false;           ///< K and V streamed again for every group of P rows
  std::vector<int8_t> q, k, v;  ///< rows x D, keys x D, keys x D (signed Q4.4)
};

/// Internal values of one row, for reports.
struct AttentionRowTrace {
  int16_t max = 0;
  uint64_t sum = 0;    ///< Q.16
  uint32_t recip = 0;  ///< Q1.24
};

/// Outputs as the RTL computes them: rows x D signed Q8.8 (elements >= c W are 0).
std::vector<int16_t> attention_ref(const AttentionCase& c, const AttentionParams& p,
                                   std::vector<AttentionRowTrace>* trace = nullptr);

/// Double-precision attention of the same inputs (Q4.4 values, no 1/sqrt(d) scaling).
std::vector<double> attention_double(const AttentionCase& c, const AttentionParams& p);

/// One stream beat as words (bit 0 of word 0 = bit 0 of the port).
using AttentionWords = std::array<uint32_t, 16>;

/// The input stream of `c`: header, Q rows, then the K/V slices in the block's order
/// (reordered: K once, V once; naive: K, V again for every group of P rows).
std::vector<AttentionWords> attention_in_beats(const AttentionCase& c, const AttentionParams& p);
/// The output stream: one beat per group of P rows (row i, element e at bit 16 (i D + e)).
std::vector<AttentionWords> attention_out_beats(const std::vector<int16_t>& out,
                                                const AttentionCase& c, const AttentionParams& p);

/// The block's contract (README.md), no back-pressure:
struct AttentionContract {
  uint64_t groups = 0;          ///< ceil(rows / P)
  uint64_t compute_cycles = 0;  ///< first K slice in .. last output out: groups (2 L c + 2)
  uint64_t total_cycles = 0;    ///< header in .. last output out: 1 + rows + compute_cycles
  uint64_t kv_reads = 0;        ///< K/V slices read: 2 L c (reordered), groups 2 L c (naive)
  uint64_t score_reads = 0;     ///< rows 2 L
};
AttentionContract attention_contract(const AttentionCase& c, const AttentionParams& p);

/// Returns an empty string when `c` is legal for `p`, else why not.
const char* attention_check(const AttentionCase& c, const AttentionParams& p);

}  // namespace moesim::rtl
