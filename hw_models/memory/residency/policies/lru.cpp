/// Least recently used.

#include "hw_models/memory/residency/cache_policy.hpp"
#include "sim/core/registry.hpp"

namespace moesim {

const CachePolicy CachePolicy::kLru{"lru"};

namespace {

class Lru final : public CacheReplacement {
 public:
  static void declare(ParamSchema&) {}
  static Facts describe(const Params&) { return {false, false, 0}; }
  explicit Lru(const Args&) {}
  Rank rank(uint32_t, uint64_t last) const override { return {last, 0}; }
};

MOESIM_REGISTER(CacheReplacement, Lru, "lru", "least recently used");

}  // namespace
}  // namespace moesim
