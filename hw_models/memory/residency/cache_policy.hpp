#pragma once
/// Replacement policies of an expert cache level, registered by key ("lru", ...).
///
/// A policy is one file under policies/ with one MOESIM_REGISTER(CacheReplacement, ...)
/// line; `[mapping.cache.<tier>] policy = "<key>"` picks it, and `moesim list` lists it with
/// the parameters its static declare() adds to the cache section. Pure C++ (no SystemC).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/schema.hpp"

namespace moesim {

class NextUseOracle;

/// How one cache level ranks its experts and which misses it copies in.
class CacheReplacement {
 public:
  /// What every policy is constructed from.
  struct Args {
    uint32_t num_keys;            ///< possible experts (dense keys)
    const NextUseOracle* oracle;  ///< future accesses, when the policy sees the future
  };
  /// What the policy tells the rest of the simulator without being constructed.
  struct Facts {
    /// Needs a NextUseOracle; declares `lookahead` (steps it sees).
    bool sees_future = false;
    /// Admits only keys pinned from use counts; declares `counts` (a counts file or "").
    bool pins_most_used = false;
    int list_rank = 100;  ///< place in lists and messages (then by key)
  };
  /// A cached key's rank: the smallest one is evicted.
  struct Rank {
    uint64_t a;
    uint64_t b;
  };
  virtual ~CacheReplacement() = default;
  /// Rank of cached `key`, last accessed at `last`.
  virtual Rank rank(uint32_t key, uint64_t last) const = 0;
  /// Records an access to `key` (hit or miss), before the cache re-ranks it.
  virtual void accessed(uint32_t /*key*/) {}
  /// Whether a miss on `key` is copied in; `pinned`: whether it is pinned; `victim`: the key
  /// it would evict (kNoKey while the level has room).
  virtual bool admits(uint32_t /*key*/, bool /*pinned*/, uint32_t /*victim*/) const { return true; }
};

/// A replacement policy chosen by its registered key ("lru", "lfu", "belady", "static").
class CachePolicy {
 public:
  CachePolicy() : m_name("lru") {}
  explicit CachePolicy(std::string name) : m_name(std::move(name)) {}
  const std::string& name() const { return m_name; }
  /// The registered policy's facts (InternalError when the key is not registered).
  CacheReplacement::Facts facts() const;
  /// A new instance of the registered policy.
  std::unique_ptr<CacheReplacement> create(const CacheReplacement::Args& args) const;
  bool operator==(const CachePolicy& o) const { return m_name == o.m_name; }
  bool operator!=(const CachePolicy& o) const { return m_name != o.m_name; }

  /// The built-in policies (each defined in its file under policies/).
  static const CachePolicy kLru;     ///< least recently used
  static const CachePolicy kLfu;     ///< least frequently used (ties: least recently used)
  static const CachePolicy kBelady;  ///< used furthest in the future, with bypass (MIN)
  static const CachePolicy kStatic;  ///< a pinned set of the most used experts; others bypass

 private:
  std::string m_name;
};

/// Registered policy keys, in list order (built-ins as they have always been listed).
std::vector<std::string> cache_policy_names();

/// Name of a policy as written in configs ("lru", ...).
const char* cache_policy_name(const CachePolicy& p);

}  // namespace moesim
