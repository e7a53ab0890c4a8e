/// CollectiveExecutor: starts each scheduled message when its source chip and its deps have
/// arrived, and reports each chip done once its part of the collective has arrived.

#include <algorithm>

#include <fmt/format.h>

#include "hw_models/interconnect/collective.hpp"
#include "sim/core/error.hpp"

namespace moesim {

namespace {
constexpr uint32_t kNotInGroup = UINT32_MAX;
}  // namespace

struct CollectiveExecutor::Instance {
  uint32_t id = 0;
  CollectiveSchedule s;
  std::vector<uint32_t> pos_of;              // chip id -> group position (kNotInGroup)
  std::vector<uint32_t> waiting_deps;        // per message: deps not yet arrived
  std::vector<uint32_t> dependents;          // CSR of messages waiting on each message
  std::vector<uint32_t> dependents_at;       // size messages + 1
  std::vector<std::vector<uint32_t>> sends;  // per position: messages it sends
  std::vector<uint32_t> open;                // per position: its messages not yet arrived
  std::vector<bool> arrived;
  std::vector<bool> done;
  std::vector<bool> started;
  uint32_t chips_done = 0;
  uint32_t in_flight = 0;  // messages sent on the network, not yet delivered
};

CollectiveExecutor::CollectiveExecutor(Network& net, Done done)
    : m_net(net), m_done(std::move(done)) {}

CollectiveExecutor::~CollectiveExecutor() = default;

uint32_t CollectiveExecutor::add(CollectiveSchedule schedule) {
  auto in = std::make_unique<Instance>();
  in->id = static_cast<uint32_t>(m_instances.size());
  in->s = std::move(schedule);
  const CollectiveSchedule& s = in->s;
  const uint32_t n = static_cast<uint32_t>(s.group.size());
  const size_t msgs = s.messages.size();
  if (msgs > UINT32_MAX) throw InternalError("collective: too many messages for a tag");
  ChipId top = 0;
  for (ChipId c : s.group) top = std::max(top, c);
  in->pos_of.assign(n == 0 ? 0 : top + 1, kNotInGroup);
  for (uint32_t i = 0; i < n; ++i) in->pos_of[s.group[i]] = i;
  auto pos = [&](ChipId c) {
    if (c >= in->pos_of.size() || in->pos_of[c] == kNotInGroup)
      throw InternalError(fmt::format("collective: message names chip {}, not in its group", c));
    return in->pos_of[c];
  };
  in->waiting_deps.resize(msgs);
  in->dependents_at.assign(msgs + 1, 0);
  in->sends.resize(n);
  in->open.assign(n, 0);
  for (uint32_t m = 0; m < msgs; ++m) {
    const ScheduledMessage& msg = s.messages[m];
    in->waiting_deps[m] = msg.dep_count;
    for (uint32_t d = msg.dep_begin; d < msg.dep_begin + msg.dep_count; ++d) {
      if (s.deps[d] >= m) throw InternalError("collective: a dep must be an earlier message");
      ++in->dependents_at[s.deps[d] + 1];
    }
    in->sends[pos(msg.src)].push_back(m);
    ++in->open[pos(msg.src)];
    ++in->open[pos(msg.dst)];
  }
  for (size_t m = 0; m < msgs; ++m) in->dependents_at[m + 1] += in->dependents_at[m];
  in->dependents.resize(in->dependents_at[msgs]);
  std::vector<uint32_t> fill(in->dependents_at.begin(), in->dependents_at.end() - 1);
  for (uint32_t m = 0; m < msgs; ++m) {
    const ScheduledMessage& msg = s.messages[m];
    for (uint32_t d = msg.dep_begin; d < msg.dep_begin + msg.dep_count; ++d)
      in->dependents[fill[s.deps[d]]++] = m;
  }
  in->arrived.assign(n, false);
  in->done.assign(n, false);
  in->started.assign(msgs, false);
  m_instances.push_back(std::move(in));
  return static_cast<uint32_t>(m_instances.size() - 1);
}

void CollectiveExecutor::arrive(uint32_t instance, ChipId chip) {
  if (instance >= m_instances.size())
    throw InternalError(fmt::format("collective: no instance {}", instance));
  Instance& in = *m_instances[instance];
  if (chip >= in.pos_of.size() || in.pos_of[chip] == kNotInGroup)
    throw InternalError(fmt::format("collective {}: chip {} is not in the group", instance, chip));
  const uint32_t p = in.pos_of[chip];
  if (in.arrived[p])
    throw InternalError(fmt::format("collective {}: chip {} arrived twice", instance, chip));
  in.arrived[p] = true;
  std::vector<uint32_t> ready;
  for (uint32_t m : in.sends[p]) {
    if (in.waiting_deps[m] == 0) ready.push_back(m);
  }
  std::vector<uint32_t> touched = {p};
  start_ready(in, ready, touched);
  finish_in_order(in, touched);
}

void CollectiveExecutor::start_ready(Instance& in, std::vector<uint32_t>& ready,
                                     std::vector<uint32_t>& touched) {
  // Zero-byte messages arrive the moment they start, which can make more messages ready.
  while (!ready.empty()) {
    std::sort(ready.begin(), ready.end());
    std::vector<uint32_t> next;
    for (uint32_t m : ready) {
      if (in.started[m]) continue;
      in.started[m] = true;
      const ScheduledMessage& msg = in.s.messages[m];
      if (msg.bytes > 0) {
        ++in.in_flight;
        m_net.send(msg.src, msg.dst, msg.bytes, this, (static_cast<uint64_t>(in.id) << 32) | m);
        continue;
      }
      --in.open[in.pos_of[msg.src]];
      --in.open[in.pos_of[msg.dst]];
      touched.push_back(in.pos_of[msg.src]);
      touched.push_back(in.pos_of[msg.dst]);
      for (uint32_t k = in.dependents_at[m]; k < in.dependents_at[m + 1]; ++k) {
        const uint32_t d = in.dependents[k];
        if (--in.waiting_deps[d] == 0 && in.arrived[in.pos_of[in.s.messages[d].src]])
          next.push_back(d);
      }
    }
    ready.swap(next);
  }
}

void CollectiveExecutor::finish_chip_if_done(Instance& in, uint32_t pos) {
  if (in.done[pos] || !in.arrived[pos] || in.open[pos] != 0) return;
  in.done[pos] = true;
  ++in.chips_done;
  if (m_done) m_done(in.id, in.s.group[pos]);
}

void CollectiveExecutor::message_done(uint64_t tag) {
  const uint32_t id = static_cast<uint32_t>(tag >> 32);
  const uint32_t m = static_cast<uint32_t>(tag & 0xffffffffu);
  if (id >= m_instances.size() || m >= m_instances[id]->s.messages.size() ||
      !m_instances[id]->started[m])
    throw InternalError(fmt::format("collective: unexpected delivery tag {:#x}", tag));
  Instance& in = *m_instances[id];
  const ScheduledMessage& msg = in.s.messages[m];
  const uint32_t ps = in.pos_of[msg.src];
  const uint32_t pd = in.pos_of[msg.dst];
  --in.in_flight;
  --in.open[ps];
  --in.open[pd];
  std::vector<uint32_t> ready;
  for (uint32_t k = in.dependents_at[m]; k < in.dependents_at[m + 1]; ++k) {
    const uint32_t d = in.dependents[k];
    if (--in.waiting_deps[d] == 0 && in.arrived[in.pos_of[in.s.messages[d].src]])
      ready.push_back(d);
  }
  std::vector<uint32_t> touched = {ps, pd};
  start_ready(in, ready, touched);
  finish_in_order(in, touched);
}

void CollectiveExecutor::finish_in_order(Instance& in, std::vector<uint32_t>& touched) {
  // Done callbacks in group order, whatever the order the chips finished in.
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  for (uint32_t p : touched) finish_chip_if_done(in, p);
}

bool CollectiveExecutor::all_done() const {
  for (const auto& in : m_instances) {
    if (in->chips_done != in->s.group.size()) return false;
  }
  return true;
}

std::string CollectiveExecutor::describe_pending() const {
  auto chips = [](const Instance& in, const std::vector<bool>& flag, bool value) {
    std::string out;
    for (size_t p = 0; p < flag.size(); ++p) {
      if (flag[p] == value) out += fmt::format("{}{}", out.empty() ? "" : ",", in.s.group[p]);
    }
    return out.empty() ? std::string("none") : out;
  };
  // Collectives some chip has reached, up to four; the rest counted.
  constexpr uint32_t kListed = 4;
  std::string out;
  uint32_t listed = 0, more = 0, unreached = 0;
  for (const auto& in : m_instances) {
    if (in->chips_done == in->s.group.size()) continue;
    if (std::find(in->arrived.begin(), in->arrived.end(), true) == in->arrived.end()) {
      ++unreached;
      continue;
    }
    if (++listed > kListed) {
      ++more;
      continue;
    }
    uint32_t started = 0;
    for (bool b : in->started) started += b ? 1 : 0;
    out += fmt::format(
        "{}collective {} ({} chips): arrived {}; not arrived {}; not done {}; {} of {} "
        "messages started, {} in flight",
        out.empty() ? "" : "; ", in->id, in->s.group.size(), chips(*in, in->arrived, true),
        chips(*in, in->arrived, false), chips(*in, in->done, false), started, in->s.messages.size(),
        in->in_flight);
  }
  if (more > 0) out += fmt::format("; {} more collectives in progress", more);
  if (unreached > 0) {
    out += fmt::format("{}{} collectives no chip has reached", out.empty() ? "" : "; ", unreached);
  }
  return out;
}

void CollectiveExecutor::reset() {
  if (!all_done()) throw InternalError("collective: reset() while a collective is running");
  m_instances.clear();
}

}  // namespace moesim
