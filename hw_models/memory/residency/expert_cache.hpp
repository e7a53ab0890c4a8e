#pragma once
/// One cache level of expert weights: which experts a tier holds, and which one to evict.
///
/// Pure C++ (no SystemC): the residency manager drives it in plan order, and the unit tests
/// drive it with hand-made access sequences. Experts are whole items of equal size, so a
/// level's capacity is a number of experts. Keys are dense ids (moe_layer * experts + e).

#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "hw_models/memory/residency/cache_policy.hpp"

namespace moesim {

inline constexpr uint32_t kNoKey = UINT32_MAX;
inline constexpr uint64_t kNever = UINT64_MAX;  ///< next use beyond what the oracle sees

/// Future accesses within a window: for each key, the positions (global access indices) at
/// which it will be accessed, in order. The feeder pushes accesses as steps enter the window;
/// the consumer pops each access as it happens. Memory is O(accesses in the window).
class NextUseOracle {
 public:
  explicit NextUseOracle(uint32_t num_keys) : m_queues(num_keys) {}
  /// Records that `key` will be accessed at `pos` (positions pushed in increasing order).
  void push(uint32_t key, uint64_t pos) { m_queues[key].push_back(pos); }
  /// Consumes the access of `key` at `pos`; returns false when it was not the key's next.
  bool pop(uint32_t key, uint64_t pos);
  /// Position of the next access of `key`, or kNever.
  uint64_t next(uint32_t key) const {
    return m_queues[key].empty() ? kNever : m_queues[key].front();
  }

 private:
  std::vector<std::deque<uint64_t>> m_queues;
};

/// The contents and replacement state of one cache level.
class ExpertCache {
 public:
  /// A level holding at most `capacity` of `num_keys` possible experts. A policy that sees
  /// the future (kBelady) needs `oracle` (kept by reference; must outlive the cache).
  ExpertCache(CachePolicy policy, uint32_t capacity, uint32_t num_keys,
              const NextUseOracle* oracle = nullptr);

  const CachePolicy& policy() const { return m_policy; }
  uint32_t capacity() const { return m_capacity; }
  uint32_t size() const { return static_cast<uint32_t>(m_order.size()); }
  bool contains(uint32_t key) const { return m_present[key] != 0; }
  /// Whether a miss on `key` is copied in. kStatic: only pinned keys. kBelady (MIN with
  /// bypass): when full, only if `key` is used again before the expert it would evict;
  /// otherwise it streams from below and the cache is left as it is. Others: always.
  bool admits(uint32_t key) const;

  /// Records an access to `key` at time `stamp` (increasing): tells the policy (kLfu counts
  /// it) and, if cached, refreshes its rank. Call for every access, hit or miss, before insert().
  void access(uint32_t key, uint64_t stamp);
  /// Inserts `key` (absent, admitted) at time `stamp`; returns the evicted key or kNoKey.
  uint32_t insert(uint32_t key, uint64_t stamp);
  /// kBelady: the oracle's next use of `key` changed; re-rank it if cached.
  void reposition(uint32_t key);
  /// kStatic (a policy that pins): pins `key`, the only keys admitted (at most capacity keys; extra
  /// ones are refused). Returns whether it is pinned. A pinned key is copied in on its first miss.
  bool pin(uint32_t key);
  /// Keys pinned so far (kStatic).
  uint32_t pinned() const { return m_pinned_count; }
  /// The keys held, in ascending order (for tests and end-of-run accounting).
  std::vector<uint32_t> keys() const;

 private:
  struct Rank {
    uint64_t a;
    uint64_t b;
    uint32_t key;
    bool operator<(const Rank& o) const {
      return a != o.a ? a < o.a : b != o.b ? b < o.b : key < o.key;
    }
  };
  Rank rank_of(uint32_t key) const;  // the victim is the smallest rank
  void rerank(uint32_t key);

  CachePolicy m_policy;
  std::unique_ptr<CacheReplacement> m_impl;
  uint32_t m_capacity;
  std::vector<uint8_t> m_present;
  std::vector<uint8_t> m_pinned;  // kStatic
  uint32_t m_pinned_count = 0;
  std::vector<uint64_t> m_last;  // stamp of the last access
  std::vector<Rank> m_rank;      // current rank of each cached key
  std::set<Rank> m_order;
};

}  // namespace moesim
