/// The `fast` network: chunked store-and-forward over fair-shared links.
///
/// A message is cut into chunks of `chunk` bytes. Each link direction is a processor-sharing
/// server: the chunks on it share its bandwidth equally. A chunk that has crossed a link
/// arrives at the far node after the link's latency, plus the switch's latency when that
/// node is a switch (latency is pipelined: it does not hold the link). Chunk k+1 of a
/// message enters a link once chunk k has left it and once chunk k+1 has arrived from the
/// previous hop, so a message holds at most one share of each link and pipelines over hops.
///
/// Event-driven: a link tracks its fair-share progress in "virtual bytes" (bytes served to
/// each chunk on it so far), so a chunk entering at virtual time V with s bytes leaves when
/// the link's virtual time reaches V + s; a heap per link gives the next departure, one global
/// heap orders every link's next departure and every arrival. Cost per chunk and hop is
/// O(log) in the chunks on the link and the pending events; nothing ticks.
///
/// Times are integer picoseconds. Ties at one instant go by insertion sequence number,
/// which only depends on the order of send() calls and of earlier events.

#include <cmath>
#include <cstdint>
#include <memory>
#include <queue>
#include <vector>

#include <fmt/format.h>

#include "hw_models/interconnect/network.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/sim_time.hpp"

namespace moesim {

namespace {

/// A chunk finishes when less than this much of its time on the link remains (picoseconds);
/// event times are rounded to whole picoseconds.
constexpr double kDoneSlackPs = 1e-2;

class FastNetwork final : public Network {
 public:
  static void declare(ParamSchema& s) {
    s.add("chunk", ParamType::kSize,
          "messages are cut into chunks of this many bytes (the last one may be shorter); "
          "chunks are stored and forwarded hop by hop, so a long message pipelines over its "
          "route")
        .at_least(1)
        .default_value(Quantity{64.0 * 1024.0, false});
    s.add("efficiency", ParamType::kFloat,
          "fraction of every link's bandwidth that carries payload (protocol headers, "
          "encoding); 1 means the configured bandwidths are payload bandwidths")
        .range(0.01, 1.0)
        .default_value(1.0);
  }

  SC_HAS_PROCESS(FastNetwork);
  explicit FastNetwork(const Args& a)
      : Network(a.name), m_topo(a.topology), m_chunk(a.params.get_bytes("chunk")) {
    const double eff = a.params.get_float("efficiency");
    const auto& specs = m_topo.links();
    m_links.resize(specs.size());
    m_stats.reserve(specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      const LinkSpec& l = specs[i];
      Link& k = m_links[i];
      k.bytes_per_ps = l.bytes_per_s * eff * 1e-12;
      k.arrive_delay_ps =
          to_ps(l.latency_s + (l.to >= m_topo.chips() ? m_topo.node_latency_s(l.to) : 0.0));
      m_stats.push_back(std::make_unique<LinkStats>(l.name, a.stats_parent, l.bytes_per_s));
    }
    SC_METHOD(on_event);
    sensitive << m_event;
    dont_initialize();
  }

  void send(ChipId src, ChipId dst, uint64_t bytes, NetworkClient* client, uint64_t tag) override {
    if (src == dst || bytes == 0 || src >= m_topo.chips() || dst >= m_topo.chips()) {
      throw InternalError(
          fmt::format("FastNetwork::send(chip{} -> chip{}, {} B): needs two "
                      "different chips of the system and some bytes",
                      src, dst, bytes));
    }
    const uint64_t now = now_ps();
    uint32_t id;
    if (!m_free.empty()) {
      id = m_free.back();
      m_free.pop_back();
    } else {
      id = static_cast<uint32_t>(m_msgs.size());
      m_msgs.emplace_back();
    }
    Message& m = m_msgs[id];
    m.route = m_topo.route_begin(src, dst);
    m.hops = m_topo.hops(src, dst);
    m.chunks = (bytes + m_chunk - 1) / m_chunk;
    m.last_chunk = bytes - (m.chunks - 1) * m_chunk;
    m.client = client;
    m.tag = tag;
    m.hop.assign(m.hops + 1, HopState{});
    m.hop[0].arrived = m.chunks;  // every chunk is at the source
    try_enter(id, 0, now);
    wake();
  }

  const Topology& topology() const override { return m_topo; }
  const LinkStats& link_stats(uint32_t i) const override { return *m_stats.at(i); }

 private:
  /// Progress of one message at one hop: chunks arrived at the link's start node, chunks
  /// that entered the link, and the one on it (if any).
  struct HopState {
    uint64_t arrived = 0;
    uint64_t entered = 0;
    bool on_link = false;
    uint64_t enter_ps = 0;  // when the chunk on the link entered it
    uint64_t bytes = 0;     // its size
  };
  struct Message {
    const uint32_t* route = nullptr;
    uint32_t hops = 0;
    uint64_t chunks = 0;
    uint64_t last_chunk = 0;
    NetworkClient* client = nullptr;
    uint64_t tag = 0;
    std::vector<HopState> hop;  // hops + 1 (the last counts arrivals at the destination)
  };
  /// A chunk on a link: leaves when the link's virtual bytes reach `tag`.
  struct Job {
    double tag;
    uint64_t seq;
    uint32_t msg;
    uint32_t hop;
    bool operator>(const Job& o) const { return tag != o.tag ? tag > o.tag : seq > o.seq; }
  };
  struct Link {
    double bytes_per_ps = 0;
    uint64_t arrive_delay_ps = 0;  // wire latency + the far switch's latency
    double vbytes = 0;             // bytes served to each chunk on the link so far
    uint64_t last_ps = 0;
    uint32_t version = 0;        // invalidates its earlier departure events
    uint64_t busy_begin_ps = 0;  // timeline: when the link last left idle
    bool timeline_busy = false;
    std::priority_queue<Job, std::vector<Job>, std::greater<Job>> jobs;
  };
  enum class Kind : uint32_t { kDepart, kArrive };
  struct Event {
    uint64_t t_ps;
    uint64_t seq;
    Kind kind;
    uint32_t a;  // kDepart: link; kArrive: message
    uint32_t b;  // kDepart: link version; kArrive: hop the chunk arrives before
    bool operator>(const Event& o) const { return t_ps != o.t_ps ? t_ps > o.t_ps : seq > o.seq; }
  };

  /// Past the time range: one tick beyond it, which the checked notification refuses.
  static uint64_t to_ps(double s) {
    const double ps = s * 1e12;
    return ps < static_cast<double>(kMaxSimTicks) ? static_cast<uint64_t>(std::llround(ps))
                                                  : kMaxSimTicks + 1;
  }
  /// Whole picoseconds for `ps`, rounded up (a chunk never leaves early) except for the
  /// floating-point crumbs of values that are whole already.
  static uint64_t ps_for(double ps) {
    if (ps <= kDoneSlackPs) return 0;
    const double t = std::ceil(ps - 1e-3);
    return t < static_cast<double>(kMaxSimTicks) ? static_cast<uint64_t>(t) : kMaxSimTicks + 1;
  }
  static uint64_t now_ps() { return sc_core::sc_time_stamp().value(); }

  void push(uint64_t t, Kind k, uint32_t a, uint32_t b) { m_events.push({t, m_seq++, k, a, b}); }

  /// Brings link `li`'s fair-share progress up to `now`.
  void settle(uint32_t li, uint64_t now) {
    Link& k = m_links[li];
    if (!k.jobs.empty() && now > k.last_ps) {
      const uint64_t dt = now - k.last_ps;
      k.vbytes += static_cast<double>(dt) * k.bytes_per_ps / static_cast<double>(k.jobs.size());
      m_stats[li]->busy_s += static_cast<double>(dt) * 1e-12;
    }
    k.last_ps = now;
  }

  /// Picoseconds until the first chunk on link `li` leaves (0: now).
  double remaining_ps(const Link& k) const {
    const double left = k.jobs.top().tag - k.vbytes;
    return left * static_cast<double>(k.jobs.size()) / k.bytes_per_ps;
  }

  /// Schedules link `li`'s next departure (after settle()).
  void reschedule(uint32_t li, uint64_t now) {
    Link& k = m_links[li];
    ++k.version;
    if (k.jobs.empty()) {
      k.vbytes = 0;  // idle: restart the virtual clock, keeping it small and exact
      return;
    }
    push(now + ps_for(remaining_ps(k)), Kind::kDepart, li, k.version);
  }

  /// Moves the next chunk of message `id` onto its link `h` if it is there and the link is
  /// free of this message's previous chunk.
  void try_enter(uint32_t id, uint32_t h, uint64_t now) {
    Message& m = m_msgs[id];
    HopState& hs = m.hop[h];
    if (hs.on_link || hs.entered == hs.arrived) return;
    const uint64_t bytes = hs.entered + 1 == m.chunks ? m.last_chunk : m_chunk;
    ++hs.entered;
    hs.on_link = true;
    hs.enter_ps = now;
    hs.bytes = bytes;
    const uint32_t li = m.route[h];
    settle(li, now);
    Link& k = m_links[li];
    // (A link that on_depart() emptied a moment ago is still in its busy period.)
    if (!k.timeline_busy) {
      if (ActivityTimeline* tl = timeline(li)) {
        k.timeline_busy = true;
        k.busy_begin_ps = now;
        tl->bandwidth(now, k.bytes_per_ps * 1e12, 0);
      }
    }
    k.jobs.push({k.vbytes + static_cast<double>(bytes), m_seq++, id, h});
    LinkStats& st = *m_stats[li];
    st.bytes += bytes;
    ++st.transfers;
    reschedule(li, now);
  }

  void on_depart(uint32_t li, uint64_t now) {
    settle(li, now);
    Link& k = m_links[li];
    while (!k.jobs.empty() && remaining_ps(k) <= kDoneSlackPs) {
      const Job j = k.jobs.top();
      k.jobs.pop();
      HopState& hs = m_msgs[j.msg].hop[j.hop];
      hs.on_link = false;
      // Queueing: time on the link beyond what the bytes take alone (rounded as alone).
      const uint64_t alone_ps = ps_for(static_cast<double>(hs.bytes) / k.bytes_per_ps);
      if (now - hs.enter_ps > alone_ps) {
        m_stats[li]->queue_s += static_cast<double>(now - hs.enter_ps - alone_ps) * 1e-12;
      }
      push(now + k.arrive_delay_ps, Kind::kArrive, j.msg, j.hop + 1);
      // The next chunk may take its place (it joins the link's share from now on).
      try_enter(j.msg, j.hop, now);
    }
    if (k.jobs.empty() && k.timeline_busy) {
      k.timeline_busy = false;
      if (ActivityTimeline* tl = timeline(li)) {
        tl->busy(k.busy_begin_ps, now);
        tl->bandwidth(now, 0, 0);
      }
    }
    reschedule(li, now);
  }

  void on_arrive(uint32_t id, uint32_t h, uint64_t now) {
    Message& m = m_msgs[id];
    ++m.hop[h].arrived;
    if (h < m.hops) {
      try_enter(id, h, now);
      return;
    }
    if (m.hop[h].arrived < m.chunks) return;
    NetworkClient* client = m.client;
    const uint64_t tag = m.tag;
    m_free.push_back(id);
    client->message_done(tag);  // may send(), growing m_msgs: no reference is held
  }

  void on_event() {
    const uint64_t now = now_ps();
    while (!m_events.empty() && m_events.top().t_ps <= now) {
      const Event e = m_events.top();
      m_events.pop();
      if (e.kind == Kind::kDepart) {
        if (m_links[e.a].version == e.b) on_depart(e.a, now);
      } else {
        on_arrive(e.a, e.b, now);
      }
    }
    wake();
  }

  /// Notifies the process for the earliest pending event (an earlier notification wins).
  void wake() {
    // Drop departures made stale by later changes of their link.
    while (!m_events.empty() && m_events.top().kind == Kind::kDepart &&
           m_links[m_events.top().a].version != m_events.top().b) {
      m_events.pop();
    }
    if (m_events.empty()) return;
    m_event.notify(checked_until(m_events.top().t_ps, name()));
  }

  const Topology& m_topo;
  uint64_t m_chunk;
  std::vector<Link> m_links;
  std::vector<std::unique_ptr<LinkStats>> m_stats;
  std::vector<Message> m_msgs;
  std::vector<uint32_t> m_free;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> m_events;
  uint64_t m_seq = 0;
  sc_core::sc_event m_event;
};

MOESIM_REGISTER(Network, FastNetwork, "fast",
                "chunked store-and-forward: every link direction shares its bandwidth fairly "
                "among the chunks on it, chunks pay the link and switch latencies hop by hop");

}  // namespace
}  // namespace moesim
