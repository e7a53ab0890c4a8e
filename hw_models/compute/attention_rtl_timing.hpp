#pragma once
/// impl = "rtl" for the attention unit: group cycles measured on the verilated block
/// (rtl/attention, the --cc build P = 4, D = 8, W = 2, RMAX = 8 rows, LMAX = 256 keys).
///
/// The block's cycles depend only on the number of groups G = ceil(rows / P), the keys L and
/// the slices per key c (its contract, README.md; checked cycle-exact by the co-simulation
/// over random rows, keys, slices, modes and data): one K/V slice is the W-wide piece of a
/// key row a row engine multiplies per cycle, so a head of head_dim d on a unit of dot width
/// W_cfg runs as c = ceil(d / W_cfg) slices of the block's W = 2 (the slice count, not the
/// slice width, sets the cycles). Composition, per (L, c, reordered/naive), cached:
///   - sample 1: one group (P rows, L keys, c slices, random Q4.4 data seeded by the shape)
///     -> first = its cycles from the first K slice to the last output;
///   - sample 2: two groups (2P rows) -> interval = cycles(2 groups) - first;
///   - L > 256: the two samples at L = 256 and one group at L = 128, and the cycles
///     extrapolated linearly in L from the measured per-key slope (the contract is linear in
///     L; the block's score buffer holds 256 keys);
///   cycles(rows, L, d, heads) = heads x (first + (G - 1) x interval).
/// Every sample's outputs are compared with the bit-exact reference, its cycles with the
/// model's contract (attention_timing.hpp) and its K/V slice and score reads with the
/// contract's; disagreements are counted (and warned about once), never hidden.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "hw_models/compute/attention_timing.hpp"
#include "sim/core/stats.hpp"

namespace moesim {

namespace rtl {
class AttentionRunner;
}

/// Statistics of the RTL-timed attention unit.
struct RtlAttentionStats : StatGroup {
  explicit RtlAttentionStats(StatGroup* parent) : StatGroup("rtl", parent) {}
  Counter shapes_run{this, "shapes_run", "shapes",
                     "distinct (keys, slices per key) run through the verilated block"};
  Counter samples_run{this, "samples_run", "runs", "ops run through the verilated block"};
  Counter cache_hits{this, "cache_hits", "shapes", "attention shapes timed from an earlier run"};
  Counter extrapolated{this, "extrapolated", "shapes",
                       "shapes with more keys than the block holds (256): linear in L"};
  Counter cycles_simulated{this, "cycles_simulated", "cycles",
                           "clock cycles of the verilated block"};
  Counter value_mismatches{this, "value_mismatches", "runs",
                           "runs whose outputs differ from the bit-exact reference"};
  Counter contract_mismatches{this, "contract_mismatches", "runs",
                              "runs whose cycles differ from groups (2 L c + 2)"};
  Counter read_mismatches{this, "read_mismatches", "runs",
                          "runs whose K/V slice or score reads differ from the contract"};
};

/// Times attention shapes with group cycles measured on the verilated block.
class RtlAttentionTiming {
 public:
  /// Throws InputError naming `key` when no --cc block of the design's P is baked in.
  RtlAttentionTiming(const AttentionDesign& design, const std::string& key,
                     StatGroup* stats_parent);
  ~RtlAttentionTiming();
  /// Cycles of `kv_heads` heads of `rows` query rows against `keys` keys of head dim `d`.
  uint64_t cycles(uint64_t rows, uint64_t keys, uint64_t d, uint64_t kv_heads);

 private:
  struct GroupTiming {
    uint64_t first = 0;     ///< one group
    uint64_t interval = 0;  ///< each further group
  };
  GroupTiming group_timing(uint64_t keys, uint64_t slices);
  GroupTiming measure(int keys, int slices);
  /// One random op of `groups` groups; returns its compute cycles, counts mismatches.
  uint64_t run_sample(int groups, int keys, int slices);

  AttentionDesign m_design;
  std::unique_ptr<rtl::AttentionRunner> m_runner;
  std::map<std::pair<uint64_t, uint64_t>, GroupTiming> m_cache;  ///< by (keys, slices)
  RtlAttentionStats m_stats;
  bool m_warned = false;
};

}  // namespace moesim
