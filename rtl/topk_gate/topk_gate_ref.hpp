#pragma once
/// Bit-exact C++ reference of rtl/topk_gate (see README.md).

#include <cstdint>
#include <vector>

namespace moesim::rtl {

/// Shape of a top-k gate: N scores, K outputs, optional DeepSeek-V3 group limit.
struct TopkGateParams {
  int n = 8;           ///< scores per vector (2..256)
  int k = 1;           ///< experts selected (1..8, <= candidates)
  int groups = 1;      ///< G; 1 disables group-limited selection
  int top_groups = 1;  ///< TG groups kept when groups > 1
};

/// One selected expert: its id (arrival index) and its Q8.8 score.
struct TopkEntry {
  uint32_t id = 0;
  int16_t value = 0;
  bool operator==(const TopkEntry& o) const { return id == o.id && value == o.value; }
};

/// Top-K of `scores` (size n), sorted by value descending, ties to the lower id. With groups
/// > 1 only experts of the top_groups groups with the largest top-2 sums compete (group ties
/// to the lower group id).
std::vector<TopkEntry> topk_gate_ref(const std::vector<int16_t>& scores, const TopkGateParams& p);

/// Returns an empty string when `p` is a legal configuration, else why not.
const char* topk_gate_check(const TopkGateParams& p);

}  // namespace moesim::rtl
