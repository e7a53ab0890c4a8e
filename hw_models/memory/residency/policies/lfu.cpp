/// Least frequently used over the whole run (ties: least recently used).

#include <vector>

#include "hw_models/memory/residency/cache_policy.hpp"
#include "sim/core/registry.hpp"

namespace moesim {

const CachePolicy CachePolicy::kLfu{"lfu"};

namespace {

class Lfu final : public CacheReplacement {
 public:
  static void declare(ParamSchema&) {}
  static Facts describe(const Params&) { return {false, false, 1}; }
  explicit Lfu(const Args& a) : m_count(a.num_keys, 0) {}
  Rank rank(uint32_t key, uint64_t last) const override { return {m_count[key], last}; }
  void accessed(uint32_t key) override { ++m_count[key]; }

 private:
  std::vector<uint64_t> m_count;  // accesses so far
};

MOESIM_REGISTER(CacheReplacement, Lfu, "lfu",
                "least frequently used over the whole run (ties: least recently used)");

}  // namespace
}  // namespace moesim
