#include "hw_models/memory/residency/expert_cache.hpp"

#include <utility>

#include "sim/core/error.hpp"

namespace moesim {

bool NextUseOracle::pop(uint32_t key, uint64_t pos) {
  std::deque<uint64_t>& q = m_queues[key];
  if (q.empty() || q.front() != pos) return false;
  q.pop_front();
  return true;
}

ExpertCache::ExpertCache(CachePolicy policy, uint32_t capacity, uint32_t num_keys,
                         const NextUseOracle* oracle)
    : m_policy(std::move(policy)),
      m_capacity(capacity),
      m_present(num_keys, 0),
      m_pinned(m_policy.facts().pins_most_used ? num_keys : 0, 0),
      m_last(num_keys, 0),
      m_rank(num_keys) {
  if (m_policy.facts().sees_future && oracle == nullptr) {
    throw InternalError("ExpertCache: " + m_policy.name() + " needs a next-use oracle");
  }
  m_impl = m_policy.create({num_keys, oracle});
}

ExpertCache::Rank ExpertCache::rank_of(uint32_t key) const {
  const CacheReplacement::Rank r = m_impl->rank(key, m_last[key]);
  return {r.a, r.b, key};
}

bool ExpertCache::admits(uint32_t key) const {
  const bool pinned = key < m_pinned.size() && m_pinned[key] != 0;
  const bool room = m_order.size() < m_capacity || m_order.empty();
  return m_impl->admits(key, pinned, room ? kNoKey : m_order.begin()->key);
}

void ExpertCache::rerank(uint32_t key) {
  m_order.erase(m_rank[key]);
  m_rank[key] = rank_of(key);
  m_order.insert(m_rank[key]);
}

void ExpertCache::access(uint32_t key, uint64_t stamp) {
  m_last[key] = stamp;
  m_impl->accessed(key);
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
