/// A fixed pinned set of the most used experts, each copied in on first use, never evicted.

#include "hw_models/memory/residency/cache_policy.hpp"
#include "sim/core/registry.hpp"

namespace moesim {

const CachePolicy CachePolicy::kStatic{"static"};

namespace {

class Static final : public CacheReplacement {
 public:
  static void declare(ParamSchema& s) {
    s.add("counts", ParamType::kPath,
          "CSV layer,expert,count ranking the experts to pin; \"\" = count uses in a first pass "
          "over the trace")
        .default_value(std::string());
  }
  static Facts describe(const Params&) { return {false, true, 3}; }
  explicit Static(const Args&) {}
  Rank rank(uint32_t, uint64_t last) const override { return {last, 0}; }
  bool admits(uint32_t, bool pinned, uint32_t) const override { return pinned; }
};

MOESIM_REGISTER(CacheReplacement, Static, "static",
                "a fixed set of the most used experts, pinned; other experts bypass");

}  // namespace
}  // namespace moesim
