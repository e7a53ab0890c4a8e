#include "rtl/topk_gate/topk_gate_ref.hpp"

#include <algorithm>

namespace moesim::rtl {

const char* topk_gate_check(const TopkGateParams& p) {
  if (p.n < 2 || p.n > 256) return "N must be in 2..256";
  if (p.k < 1 || p.k > 8 || p.k > p.n) return "K must be in 1..min(8, N)";
  if (p.groups < 1 || p.n % p.groups != 0) return "G must divide N";
  if (p.groups > 1) {
    if (p.n / p.groups < 2) return "groups need at least 2 experts (top-2 group score)";
    if (p.top_groups < 1 || p.top_groups > p.groups) return "TG must be in 1..G";
    if (p.top_groups * (p.n / p.groups) < p.k) return "TG * N/G must be >= K";
  }
  return "";
}

std::vector<TopkEntry> topk_gate_ref(const std::vector<int16_t>& scores, const TopkGateParams& p) {
  const int n = p.n;
  std::vector<bool> allowed(n, true);
  if (p.groups > 1) {
    const int gs = n / p.groups;
    std::vector<int32_t> gscore(p.groups);
    for (int g = 0; g < p.groups; ++g) {
      std::vector<int16_t> v(scores.begin() + g * gs, scores.begin() + (g + 1) * gs);
      std::partial_sort(v.begin(), v.begin() + 2, v.end(), std::greater<int16_t>());
      gscore[g] = int32_t{v[0]} + int32_t{v[1]};
    }
    for (int g = 0; g < p.groups; ++g) {
      int rank = 0;
      for (int h = 0; h < p.groups; ++h)
        if (gscore[h] > gscore[g] || (gscore[h] == gscore[g] && h < g)) ++rank;
      for (int i = 0; i < gs; ++i) allowed[g * gs + i] = rank < p.top_groups;
    }
  }
  std::vector<TopkEntry> cand;
  for (int i = 0; i < n; ++i)
    if (allowed[i]) cand.push_back({static_cast<uint32_t>(i), scores[i]});
  std::stable_sort(cand.begin(), cand.end(),
                   [](const TopkEntry& a, const TopkEntry& b) { return a.value > b.value; });
  cand.resize(std::min<size_t>(cand.size(), p.k));
  return cand;
}

}  // namespace moesim::rtl
