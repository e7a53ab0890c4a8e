#pragma once
/// The cycle and traffic contract of the attention unit (README.md, "attention unit").
///
/// One shape: `rows` query rows attending to `keys` keys of one KV head, head_dim d, repeated
/// for `kv_heads` heads. P row engines work in parallel, each with a W-wide dot-product
/// datapath (c = ceil(d / W) cycles per key and row) and a softmax unit of rtl/softmax's
/// contract (one score per cycle per pass):
///   groups  = ceil(rows / P)
///   online softmax (rtl/softmax online: 2L + 2 cycles, 2L score reads per row):
///     pass 1 scores q.k with the running max and sum (L c), pass 2 A*V applying
///     exp(x - m) / s (L c), + 2:                   group = 2 L c + 2
///   three-pass softmax (rtl/softmax three_pass: 3L + 2, 3L reads): pass 1 scores and max
///     (L c), pass 2 sum of exp over the stored scores (L, one score per cycle), pass 3 A*V
///     (L c), + 2:                                   group = 2 L c + L + 2
///   cycles      = kv_heads * groups * group
///   score reads = kv_heads * rows * (2L online | 3L three-pass)
/// With c = 1 a group's cycles are rtl/softmax's cycle contract exactly.
/// Memory (bytes from the tier K and V live in, b = bytes per element):
///   Q           = kv_heads * rows * d * b (once)
///   reordered   : K and V stream once, shared by every group    KV = kv_heads * 2 L d b
///   naive       : K and V stream again for every group of P rows KV = kv_heads * groups * 2 L d b
/// so with reordering the attention traffic is independent of P.

#include <cstdint>

namespace moesim {

/// The attention unit's design parameters.
struct AttentionDesign {
  uint64_t parallel_rows = 4;  ///< P: query rows computed in parallel
  uint64_t dot_width = 16;     ///< W: MACs per row engine per cycle
  bool reorder = true;         ///< K/V streamed once (true) or once per group of P rows
  bool online_softmax = true;  ///< single-pass (online) softmax, else three-pass
};

/// What one attention shape costs.
struct AttentionCost {
  uint64_t cycles = 0;
  uint64_t groups = 0;       ///< groups of P rows (all heads)
  uint64_t score_reads = 0;  ///< softmax score-buffer reads
  uint64_t q_bytes = 0;      ///< Q read from memory
  uint64_t kv_bytes = 0;     ///< K and V read from memory
  uint64_t flops = 0;        ///< 2 * rows * keys * d * 2 (scores and A*V) * kv_heads
};

/// Cycles of one group of P rows over `keys` keys with head_dim `d`.
inline uint64_t attention_group_cycles(const AttentionDesign& a, uint64_t keys, uint64_t d) {
  const uint64_t c = (d + a.dot_width - 1) / a.dot_width;
  return 2 * keys * c + (a.online_softmax ? 0 : keys) + 2;
}

/// The cost of `kv_heads` heads of `rows` query rows against `keys` keys.
inline AttentionCost attention_cost(const AttentionDesign& a, uint64_t rows, uint64_t keys,
                                    uint64_t d, uint64_t kv_heads, uint64_t elem_bytes) {
  AttentionCost r;
  if (rows == 0 || keys == 0 || d == 0 || kv_heads == 0) return r;
  const uint64_t groups = (rows + a.parallel_rows - 1) / a.parallel_rows;
  r.groups = kv_heads * groups;
  r.cycles = r.groups * attention_group_cycles(a, keys, d);
  r.score_reads = kv_heads * rows * (a.online_softmax ? 2 : 3) * keys;
  r.q_bytes = kv_heads * rows * d * elem_bytes;
  r.kv_bytes = kv_heads * (a.reorder ? 1 : groups) * 2 * keys * d * elem_bytes;
  r.flops = 4 * rows * keys * d * kv_heads;
  return r;
}

}  // namespace moesim
