/// Belady's MIN with bypass: evicts the expert used furthest in the future.

#include "hw_models/memory/residency/cache_policy.hpp"
#include "hw_models/memory/residency/expert_cache.hpp"
#include "sim/core/registry.hpp"

namespace moesim {

const CachePolicy CachePolicy::kBelady{"belady"};

namespace {

class Belady final : public CacheReplacement {
 public:
  static void declare(ParamSchema& s) {
    s.add("lookahead", ParamType::kInt,
          "steps of future trace the oracle sees (read ahead, held in memory)")
        .range(1, 1 << 20)
        .default_value(int64_t{64});
  }
  static Facts describe(const Params&) { return {true, false, 2}; }
  explicit Belady(const Args& a) : m_oracle(a.oracle) {}
  // Furthest next use first; among keys never used again, the least recently used.
  Rank rank(uint32_t key, uint64_t last) const override {
    return {kNever - m_oracle->next(key), last};
  }
  // Keeping the furthest-used of the cached keys and the newcomer is optimal (MIN).
  bool admits(uint32_t key, bool, uint32_t victim) const override {
    return victim == kNoKey || m_oracle->next(key) < m_oracle->next(victim);
  }

 private:
  const NextUseOracle* m_oracle;
};

MOESIM_REGISTER(CacheReplacement, Belady, "belady",
                "used furthest in the future, with bypass (Belady's MIN over the lookahead)");

}  // namespace
}  // namespace moesim
