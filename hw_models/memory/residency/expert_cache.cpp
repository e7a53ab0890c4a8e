#include "hw_models/memory/residency/expert_cache.hpp"

#include "sim/core/error.hpp"

namespace moesim {

const char* cache_policy_name(CachePolicy p) {
  switch (p) {
    case CachePolicy::kLru:
      return "lru";
    case CachePolicy::kLfu:
      return "lfu";
    case CachePolicy::kBelady:
      return "belady";
    case CachePolicy::kStatic:
      return "static";
  }
  return "?";
}

bool NextUseOracle::pop(uint32_t key, uint64_t pos) {
  std::deque<uint64_t>& q = m_queues[key];
  if (q.empty() || q.front() != pos) return false;
  q.pop_front();
  return true;
}

ExpertCache::ExpertCache(CachePolicy policy, uint32_t capacity, uint32_t num_keys,
                         const NextUseOracle* oracle)
    : m_policy(policy),
      m_capacity(capacity),
      m_oracle(oracle),
      m_present(num_keys, 0),
      m_pinned(policy == CachePolicy::kStatic ? num_keys : 0, 0),
      m_last(num_keys, 0),
      m_count(policy == CachePolicy::kLfu ? num_keys : 0, 0),
      m_rank(num_keys) {
  if (policy == CachePolicy::kBelady && oracle == nullptr) {
    throw InternalError("ExpertCache: belady needs a next-use oracle");
  }
}

ExpertCache::Rank ExpertCache::rank_of(uint32_t key) const {
  switch (m_policy) {
    case CachePolicy::kLru:
    case CachePolicy::kStatic:
      return {m_last[key], 0, key};
    case CachePolicy::kLfu:
      return {m_count[key], m_last[key], key};
    case CachePolicy::kBelady:
      // Furthest next use first; among keys never used again, the least recently used.
      return {kNever - m_oracle->next(key), m_last[key], key};
  }
  return {0, 0, key};
}

bool ExpertCache::admits(uint32_t key) const {
  switch (m_policy) {
    case CachePolicy::kStatic:
      return m_pinned[key] != 0;
    case CachePolicy::kBelady:
      // Keeping the furthest-used of the cached keys and the newcomer is optimal (MIN).
      return m_order.size() < m_capacity ||
             m_oracle->next(key) < m_oracle->next(m_order.begin()->key);
    default:
      return true;
  }
}

void ExpertCache::rerank(uint32_t key) {
  m_order.erase(m_rank[key]);
  m_rank[key] = rank_of(key);
  m_order.insert(m_rank[key]);
}

void ExpertCache::access(uint32_t key, uint64_t stamp) {
  m_last[key] = stamp;
  if (m_policy == CachePolicy::kLfu) ++m_count[key];
  if (m_present[key]) rerank(key);
}

uint32_t ExpertCache::insert(uint32_t key, uint64_t stamp) {
  if (m_present[key] || !admits(key) || m_capacity == 0) {
    throw InternalError("ExpertCache::insert: key present, not admitted, or no capacity");
  }
  uint32_t victim = kNoKey;
  if (m_order.size() >= m_capacity) {
    victim = m_order.begin()->key;
    m_order.erase(m_order.begin());
    m_present[victim] = 0;
  }
  m_present[key] = 1;
  m_last[key] = stamp;
  m_rank[key] = rank_of(key);
  m_order.insert(m_rank[key]);
  return victim;
}

void ExpertCache::reposition(uint32_t key) {
  if (m_present[key]) rerank(key);
}

bool ExpertCache::pin(uint32_t key) {
  if (m_pinned[key]) return true;
  if (m_pinned_count >= m_capacity) return false;
  m_pinned[key] = 1;
  ++m_pinned_count;
  return true;
}

std::vector<uint32_t> ExpertCache::keys() const {
  std::vector<uint32_t> out;
  for (uint32_t k = 0; k < m_present.size(); ++k) {
    if (m_present[k]) out.push_back(k);
  }
  return out;
}

}  // namespace moesim
