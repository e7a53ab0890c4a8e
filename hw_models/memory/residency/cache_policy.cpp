#include "hw_models/memory/residency/cache_policy.hpp"

#include <algorithm>

#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"

namespace moesim {

namespace {

const Registry<CacheReplacement>::Entry& entry_of(const std::string& name) {
  const auto* e = Registry<CacheReplacement>::instance().find(name);
  if (e == nullptr) throw InternalError("cache policy '" + name + "' is not registered");
  return *e;
}

}  // namespace

CacheReplacement::Facts CachePolicy::facts() const {
  return Registry<CacheReplacement>::instance().describe(entry_of(m_name), Params());
}

std::unique_ptr<CacheReplacement> CachePolicy::create(const CacheReplacement::Args& args) const {
  return entry_of(m_name).create(args);
}

std::vector<std::string> cache_policy_names() {
  std::vector<std::string> names = Registry<CacheReplacement>::instance().names();
  std::stable_sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return CachePolicy(a).facts().list_rank < CachePolicy(b).facts().list_rank;
  });
  return names;
}

const char* cache_policy_name(const CachePolicy& p) {
  return p.name().c_str();
}

}  // namespace moesim
