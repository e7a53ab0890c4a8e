#include "hw_models/memory/dram/period_skip.hpp"

#include <algorithm>

namespace moesim {
namespace {
// Checkpoints kept to find a period between refreshes: periods of up to this many row steps
// are found (a stream whose write pattern repeats every 3 requests needs 3, for instance).
constexpr size_t kMarks = 8;
// Across refreshes every checkpoint is kept, up to this many (then they are dropped and the
// search starts again), and the replay log up to this many entries.
constexpr size_t kGlobalMarks = 1024;
constexpr size_t kMaxLog = size_t{6} << 20;  // 192 MiB

uint64_t hash(const std::vector<int64_t>& v) {
  uint64_t h = 1469598103934665603ull;
  for (const int64_t x : v) h = (h ^ static_cast<uint64_t>(x)) * 1099511628211ull;
  return h;
}
}  // namespace

DramPeriodSkip::DramPeriodSkip(DramSystem& sys, uint64_t id_step, bool replay)
    : m_sys(sys), m_id_step(id_step), m_replay(replay) {
  if (m_replay && possible()) m_sys.set_log(&m_log);
}

DramPeriodSkip::~DramPeriodSkip() {
  m_sys.set_log(nullptr);
}

void DramPeriodSkip::reset() {
  m_marks.clear();
  m_gmarks.clear();
  m_ghash.clear();
  m_log.clear();
}

void DramPeriodSkip::trim_log() {
  size_t first = m_log.size();
  for (const Mark& m : m_marks) first = std::min(first, m.log_pos);
  for (const Mark& m : m_gmarks) first = std::min(first, m.log_pos);
  // Erasing moves the rest: do it only once the dead prefix is most of the log.
  if (first == 0 || first < m_log.size() / 2) return;
  m_log.erase(m_log.begin(), m_log.begin() + static_cast<std::ptrdiff_t>(first));
  for (Mark& m : m_marks) m.log_pos -= first;
  for (Mark& m : m_gmarks) m.log_pos -= first;
}

void DramPeriodSkip::skip(const Mark& ref, uint64_t k, bool with_refresh) {
  const uint64_t index = m_marks.back().index;
  const uint64_t s = index - ref.index;
  const uint64_t period = m_sys.cycle() - ref.cycle;
  const DramStats at = m_sys.stats();
  // A skip between refreshes keeps the marks across refreshes, so the log must hold the
  // skipped periods too (if it would grow too long, those marks go).
  const size_t from = ref.log_pos, to = m_log.size();
  const bool extend = m_replay && !with_refresh && !m_gmarks.empty();
  if (extend && to + k * (to - from) > kMaxLog) {
    m_gmarks.clear();
    m_ghash.clear();
  }
  if (m_replay) {
    if (extend && !m_gmarks.empty()) m_log.reserve(to + k * (to - from));
    for (uint64_t t = 1; t <= k; ++t) {
      m_sys.replay(m_log.data() + from, m_log.data() + to, t * period, t * s, m_id_step);
      if (extend && !m_gmarks.empty())
        for (size_t i = from; i < to; ++i)
          m_log.push_back(m_sys.translated(m_log[i], t * period, t * s, m_id_step));
    }
  }
  m_sys.add_repeats(ref.stats, at, k);
  m_sys.translate(k * period, k * s, m_id_step, with_refresh);
  m_skipped_cycles += k * period;
  m_skipped_requests += k * ((at.reads + at.writes) - (ref.stats.reads + ref.stats.writes));
  ++m_skips;
  // The state now is this checkpoint's translated: it starts the next search.
  Mark now = std::move(m_marks.back());
  now.index += k * s;
  now.cycle = m_sys.cycle();
  now.stats = m_sys.stats();
  now.log_pos = m_log.size();
  m_marks.clear();
  if (with_refresh || !m_replay || m_gmarks.empty()) {
    if (with_refresh) {
      m_gmarks.clear();
      m_ghash.clear();
    }
    if (m_gmarks.empty()) m_log.clear(), now.log_pos = 0;
  }
  m_marks.push_back(now);
  if (!m_gsig.empty()) {
    // Across refreshes the deadlines count, and a skip between them has moved them closer.
    if (!with_refresh) {
      m_gsig = m_host;
      m_sys.period_signature(now.index, m_id_step, true, m_gsig);
    }
    m_ghash.emplace(hash(m_gsig), m_gmarks.size());
    m_gmarks.push_back({now.index, now.cycle, m_gsig, now.stats, now.log_pos});
  }
}

uint64_t DramPeriodSkip::checkpoint(uint64_t index, const std::vector<int64_t>& host,
                                    uint64_t host_steps) {
  if (!possible()) return 0;
  const uint64_t now = m_sys.cycle();
  m_host = host;
  m_sig = host;
  m_sys.period_signature(index, m_id_step, false, m_sig);
  m_gsig.clear();
  const bool refresh = m_sys.config().refresh;
  if (refresh) {
    m_gsig = host;
    m_sys.period_signature(index, m_id_step, true, m_gsig);
  }
  // Record this checkpoint (the skip below starts from it).
  if (m_marks.size() == kMarks) m_marks.erase(m_marks.begin());
  m_marks.push_back({index, now, m_sig, m_sys.stats(), m_log.size()});

  // Across refreshes: an earlier checkpoint whose whole state, deadlines included, this one
  // translates. Only the stream bounds the skip.
  if (refresh) {
    const uint64_t h = hash(m_gsig);
    const auto range = m_ghash.equal_range(h);
    for (auto it = range.first; it != range.second; ++it) {
      const Mark& ref = m_gmarks[it->second];
      if (ref.index >= index || ref.cycle >= now || ref.sig != m_gsig) continue;
      const uint64_t s = index - ref.index;
      uint64_t k = host_steps / s;
      while (k > 0 && !m_sys.state_translates(k * s)) k /= 2;
      if (k > 0) {
        const Mark r = ref;
        skip(r, k, true);
        return k * s;
      }
    }
    if (m_gmarks.size() == kGlobalMarks || m_log.size() > kMaxLog) {
      m_gmarks.clear();
      m_ghash.clear();
    }
    m_ghash.emplace(h, m_gmarks.size());
    m_gmarks.push_back({index, now, m_gsig, m_marks.back().stats, m_log.size()});
  }

  // Between refreshes: the most recent earlier checkpoint whose state (deadlines left out)
  // this one translates, with no REF between; the skip ends before the next REF.
  const uint64_t horizon = m_sys.refresh_horizon();
  for (size_t i = m_marks.size() - 1; i-- > 0 && now < horizon;) {
    const Mark& ref = m_marks[i];
    if (ref.cycle >= now || ref.stats.refreshes != m_sys.stats().refreshes || ref.sig != m_sig)
      continue;
    const uint64_t s = index - ref.index;
    const uint64_t period = now - ref.cycle;
    uint64_t k = std::min((horizon - now) / period, host_steps / s);
    while (k > 0 && !m_sys.state_translates(k * s)) k /= 2;
    if (k == 0) break;
    const Mark r = ref;
    skip(r, k, false);
    return k * s;
  }
  trim_log();
  return 0;
}

}  // namespace moesim
