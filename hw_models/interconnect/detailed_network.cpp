/// Network model `detailed`: messages cut into packets that cross every link direction one
/// at a time, with credit-based flow control into FIFO input buffers, bounded FIFO output
/// queues and switch pipelines, so incast, back-pressure and head-of-line blocking show.
///
/// Per link direction l from node u to node v:
///   - an output queue at u (at most `output_queue_packets`, the packet on the wire
///     included), fed by the heads of u's input buffers when u is a switch, or by the chip
///     u's own messages (round robin, one packet each) and the packets it relays;
///   - the wire: one packet at a time, (header + payload) / bandwidth, then `latency`;
///   - an input buffer at v of `buffer_packets` credits; u sends only while it holds a
///     credit; the credit is back at u one link latency after the packet leaves the buffer.
/// At a switch a packet waits out the pipeline (switch latency + `router_delay`), then
/// moves from the head of its input buffer into the output queue of its next link when
/// that queue has room; until then it blocks the packets behind it (FIFO input buffer:
/// head-of-line blocking). Output queue slots go to waiting inputs in the order they
/// started waiting. A chip empties its input buffers at once: it consumes the packets for
/// itself and keeps those it relays (after `router_delay`) in its memory, unbounded, so
/// every cycle of routes through a chip is free of deadlock.
///
/// Events, not ticks: one queue of (time, sequence) events, a handful per packet per hop;
/// ties break by sequence number, and the sends of one instant start in (src, dst, tag)
/// order, so SystemC's notification order never matters.

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "hw_models/interconnect/network.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/sim_time.hpp"

namespace moesim {

namespace {

// Wait-list entries: an input buffer's link id, or a chip's own messages or relayed packets.
constexpr uint32_t kInjectBit = 0x80000000u;
constexpr uint32_t kRelayBit = 0x40000000u;
constexpr double kPsPerS = 1e12;

/// Seconds to whole picoseconds, rounded up so nothing happens early.
/// Past the time range both give one tick beyond it (sums with a time below the range cannot
/// wrap), which the checked notification refuses.
uint64_t ceil_ps(double s) {
  const double ps = std::ceil(s * kPsPerS - 1e-6);
  return ps < static_cast<double>(kMaxSimTicks) ? static_cast<uint64_t>(ps) : kMaxSimTicks + 1;
}
uint64_t round_ps(double s) {
  const double ps = s * kPsPerS;
  return ps < static_cast<double>(kMaxSimTicks) ? static_cast<uint64_t>(std::llround(ps))
                                                : kMaxSimTicks + 1;
}

/// A fixed-capacity FIFO of packet ids.
class Fifo {
 public:
  explicit Fifo(uint32_t capacity = 1) : m_slots(capacity) {}
  bool empty() const { return m_size == 0; }
  bool full() const { return m_size == m_slots.size(); }
  uint32_t size() const { return m_size; }
  uint32_t capacity() const { return static_cast<uint32_t>(m_slots.size()); }
  uint32_t front() const { return m_slots[m_head]; }
  void push(uint32_t v) {
    if (full()) throw InternalError("detailed network: push into a full buffer");
    m_slots[(m_head + m_size) % m_slots.size()] = v;
    ++m_size;
  }
  void pop() {
    m_head = (m_head + 1) % static_cast<uint32_t>(m_slots.size());
    --m_size;
  }

 private:
  std::vector<uint32_t> m_slots;
  uint32_t m_head = 0;
  uint32_t m_size = 0;
};

/// A growable FIFO (for the per-link event streams).
template <class T>
class Ring {
 public:
  bool empty() const { return m_size == 0; }
  size_t size() const { return m_size; }
  const T& front() const { return m_slots[m_head]; }
  void push(const T& v) {
    if (m_size == m_slots.size()) {
      std::vector<T> grown(std::max<size_t>(8, 2 * m_slots.size()));
      for (size_t i = 0; i < m_size; ++i) grown[i] = m_slots[(m_head + i) % m_slots.size()];
      m_slots.swap(grown);
      m_head = 0;
    }
    m_slots[(m_head + m_size) % m_slots.size()] = v;
    ++m_size;
  }
  void pop() {
    m_head = (m_head + 1) % m_slots.size();
    --m_size;
  }

 private:
  std::vector<T> m_slots;
  size_t m_head = 0;
  size_t m_size = 0;
};

/// Totals of the model, beside the per-link stats.
struct DetailedNetworkStats : StatGroup {
  using StatGroup::StatGroup;
  Counter messages{this, "messages", "messages", "messages delivered"};
  Counter packets{this, "packets", "packets", "packets injected by the chips"};
  Counter packet_hops{this, "packet_hops", "packets", "packets carried, summed over links"};
  Counter payload_bytes{this, "payload_bytes", "B",
                        "payload bytes carried, summed over links (link bytes minus headers)"};
  Counter header_bytes{this, "header_bytes", "B",
                       "packet header bytes carried, summed over links (included in the "
                       "links' bytes)"};
  Scalar hol_blocked_s{this, "hol_blocked_time", "s",
                       "summed time input-buffer head packets waited for room in their next "
                       "output queue (the packets behind them wait too)"};
};

/// One input buffer of a switch (`sw.p3`: the fourth link into switch `sw`, by link index).
struct PortStats : StatGroup {
  PortStats(const std::string& name, StatGroup* parent)
      : StatGroup(name, parent),
        mean_occupancy(this, "mean_occupancy", "packets",
                       "time-averaged packets held in the input buffer", [this] {
                         const uint64_t now = sc_core::sc_time_stamp().value();
                         const double area =
                             area_ps + static_cast<double>(occupancy) *
                                           static_cast<double>(now - last_change_ps);
                         return now > 0 ? area / static_cast<double>(now) : 0.0;
                       }) {}
  Counter packets{this, "packets", "packets", "packets through this input buffer"};
  Scalar max_occupancy{this, "max_occupancy", "packets", "most packets held at once"};
  Formula mean_occupancy;
  Scalar hol_blocked_s{this, "hol_blocked_time", "s",
                       "time the head packet waited for room in its next output queue"};
  Scalar capacity{this, "capacity", "packets", "buffer depth (credits)"};
  // Occupancy integral, advanced at every change.
  double area_ps = 0;
  uint64_t last_change_ps = 0;
  uint32_t occupancy = 0;
};

class DetailedNetwork final : public Network {
 public:
  SC_HAS_PROCESS(DetailedNetwork);
  static void declare(ParamSchema& s) {
    s.add("packet_payload", ParamType::kSize,
          "largest payload of one packet; a message is cut into ceil(bytes / packet_payload) "
          "packets, the last one shorter (default 4KiB: the InfiniBand MTU, also PCIe's "
          "largest max payload size)")
        .range(1, 16 * 1024 * 1024)
        .default_value(Quantity{4096, false});
    s.add("header_bytes", ParamType::kSize,
          "bytes every packet carries on the wire besides its payload (default 32B, an "
          "assumption: InfiniBand LRH+BTH+ICRC+VCRC is 26B, a PCIe TLP with a 4DW header, "
          "sequence number, LCRC and framing about 28B)")
        .range(0, 65536)
        .default_value(Quantity{32, false});
    s.add("buffer_packets", ParamType::kInt,
          "depth in packets (credits) of the input buffer at the far end of every link "
          "direction; 0 sizes each buffer to its link's credit round trip, "
          "ceil((T + 2 latency + D) / T) with T a full packet's serialisation and D the far "
          "node's pipeline, at least 2, so no link is credit-bound when uncongested")
        .range(0, 1 << 20)
        .default_value(int64_t{0});
    s.add("output_queue_packets", ParamType::kInt,
          "depth in packets of the output queue of every link direction, the packet being "
          "serialised included")
        .range(1, 1 << 20)
        .default_value(int64_t{2});
    s.add("router_delay", ParamType::kTime,
          "pipeline delay a packet pays at every node it is forwarded by (switch or chip), "
          "on top of the switch's own latency; in s/ns, not cycles (the network has no clock)")
        .at_least(0)
        .default_value(Quantity{0, false});
  }

  explicit DetailedNetwork(const Args& a)
      : Network(a.name),
        m_topo(a.topology),
        m_payload(a.params.get_bytes("packet_payload")),
        m_header(a.params.get_bytes("header_bytes")),
        m_stats(basename(), a.stats_parent) {
    const Params& p = a.params;
    if (const auto& v = p.values().at("router_delay"); std::get<Quantity>(v).cycles) {
      throw InputError(fmt::format(
          "{}.router_delay: a time in cycles needs a clock and the network has none; write "
          "it in ns",
          p.path()));
    }
    const double router_delay_s = p.get_seconds("router_delay", 0);
    const uint64_t buffer_packets = static_cast<uint64_t>(p.get_int("buffer_packets"));
    const uint32_t out_packets = static_cast<uint32_t>(p.get_int("output_queue_packets"));
    if (sc_core::sc_get_time_resolution() != sc_core::sc_time(1, sc_core::SC_PS)) {
      throw InternalError("detailed network: needs the default SystemC resolution of 1 ps");
    }

    const uint32_t nodes = m_topo.nodes();
    m_pipe_ps.resize(nodes);
    for (uint32_t n = 0; n < nodes; ++n) {
      m_pipe_ps[n] = round_ps(m_topo.node_latency_s(n) + router_delay_s);
    }

    const std::vector<LinkSpec>& specs = m_topo.links();
    m_links.reserve(specs.size());
    std::vector<uint32_t> ports_of_switch(m_topo.switches().size(), 0);
    m_switch_stats.reserve(m_topo.switches().size());
    for (const SwitchSpec& sw : m_topo.switches()) {
      m_switch_stats.push_back(std::make_unique<StatGroup>(sw.name, a.stats_parent));
    }
    for (uint32_t i = 0; i < specs.size(); ++i) {
      const LinkSpec& s = specs[i];
      if (!(s.bytes_per_s > 0)) {
        throw InternalError(fmt::format("detailed network: link {} has no bandwidth", s.name));
      }
      Link l;
      l.to = s.to;
      l.bytes_per_s = s.bytes_per_s;
      l.latency_ps = round_ps(s.latency_s);
      l.full_ser_ps = serialise_ps(s.bytes_per_s, m_payload + m_header);
      uint64_t depth = buffer_packets;
      if (depth == 0) {
        const double t = static_cast<double>(l.full_ser_ps);
        const double loop =
            t + 2.0 * static_cast<double>(l.latency_ps) + static_cast<double>(m_pipe_ps[s.to]);
        depth = std::max<uint64_t>(2, static_cast<uint64_t>(std::ceil(loop / t - 1e-9)));
      }
      if (depth > (uint64_t{1} << 24)) {
        throw InputError(fmt::format(
            "{}.buffer_packets: link {} would need {} packets of buffer to cover its credit "
            "round trip; set buffer_packets or a larger packet_payload",
            p.path(), s.name, depth));
      }
      l.credits = static_cast<uint32_t>(depth);
      l.in = Fifo(static_cast<uint32_t>(depth));
      l.out = Fifo(out_packets);
      if (s.to >= m_topo.chips()) {
        const uint32_t sw = s.to - m_topo.chips();
        l.port = std::make_unique<PortStats>(fmt::format("p{}", ports_of_switch[sw]++),
                                             m_switch_stats[sw].get());
        l.port->capacity.set(static_cast<double>(depth));
      }
      m_links.push_back(std::move(l));
      m_link_stats.push_back(std::make_unique<LinkStats>(s.name, a.stats_parent, s.bytes_per_s));
    }

    SC_METHOD(on_wake);
    sensitive << m_wake;
    dont_initialize();
  }

  void send(ChipId src, ChipId dst, uint64_t bytes, NetworkClient* client, uint64_t tag) override {
    if (src == dst || bytes == 0 || src >= m_topo.chips() || dst >= m_topo.chips()) {
      throw InternalError(
          fmt::format("detailed network: bad send {} -> {} of {} B", src, dst, bytes));
    }
    m_new.push_back({src, dst, bytes, client, tag, m_new_seq++});
    m_wake.notify(zero_delay(name()));
  }
  const Topology& topology() const override { return m_topo; }
  const LinkStats& link_stats(uint32_t i) const override { return *m_link_stats.at(i); }
  void visit_stats(const std::function<void(const std::string&, const Stat&)>& fn) const override {
    m_stats.visit(fn);
    for (const auto& sw : m_switch_stats) sw->visit(fn);
    for (const auto& l : m_link_stats) l->visit(fn);
  }

 private:
  enum class Kind : uint8_t { kLinkFree, kArrive, kCredit, kHeadReady, kRelayReady };
  // The heap holds the head of every per-link event stream; each stream is in (time,
  // sequence) order, so merging the heads processes events as one global queue would.
  struct Event {
    uint64_t t_ps;
    uint64_t seq;
    uint32_t link;
    Kind kind;
    bool operator>(const Event& o) const { return t_ps != o.t_ps ? t_ps > o.t_ps : seq > o.seq; }
  };
  struct Timed {
    uint64_t t_ps;
    uint64_t seq;
    uint32_t packet;
  };
  struct NewSend {
    ChipId src;
    ChipId dst;
    uint64_t bytes;
    NetworkClient* client;
    uint64_t tag;
    uint64_t seq;
  };
  struct Message {
    const uint32_t* route;
    uint32_t hops;
    uint32_t to_inject;  // packets not cut yet
    uint32_t to_arrive;  // packets not at dst yet
    uint64_t bytes_left;
    uint64_t send_ps;
    uint64_t last_end_ps;  // when its previous packet left the first link's serialiser
    NetworkClient* client;
    uint64_t tag;
  };
  struct Packet {
    uint32_t msg;
    uint32_t payload;
    uint32_t hop;       // index in the route of the link it is on or queued for
    uint64_t ready_ps;  // when it could first go on that link (pipeline done, or sent)
  };
  struct Link {
    uint32_t to = 0;
    double bytes_per_s = 0;
    uint64_t latency_ps = 0;
    uint64_t full_ser_ps = 0;
    uint32_t credits = 0;
    bool busy = false;
    bool inject_waiting = false;
    bool relay_waiting = false;
    bool credit_wake = false;     // a kCredit event is pending for the earliest credit return
    bool credit_starved = false;  // packets wait for a credit
    uint64_t blocked_since_ps = UINT64_MAX;  // head of `in` waiting for an output queue
    Fifo in;                                 // at node `to` (used when it is a switch)
    Fifo out;                                // at the upstream node
    std::deque<uint32_t> waiters;            // wait-list entries waiting for room in `out`
    std::deque<uint32_t> inject;             // messages starting on this link, round robin
    std::deque<uint32_t> relay;              // packets a chip relays onto this link
    Ring<Timed> arrivals;                    // packets on the wire, by landing time
    Ring<Timed> relays;          // packets a chip will relay onto this link, by ready time
    Ring<uint64_t> credit_back;  // when credits in flight are back at the upstream node
    std::unique_ptr<PortStats> port;
  };

  static uint64_t serialise_ps(double bytes_per_s, uint64_t wire_bytes) {
    return ceil_ps(static_cast<double>(wire_bytes) / bytes_per_s);
  }
  uint64_t now_ps() const { return sc_core::sc_time_stamp().value(); }
  void schedule(uint64_t t_ps, Kind kind, uint32_t link) {
    m_events.push({t_ps, m_event_seq++, link, kind});
  }
  void schedule_stream(Ring<Timed>& stream, uint64_t t_ps, Kind kind, uint32_t link,
                       uint32_t packet) {
    const uint64_t seq = m_event_seq++;
    stream.push({t_ps, seq, packet});
    if (stream.size() == 1) m_events.push({t_ps, seq, link, kind});
  }
  /// Pops the head of `stream` (whose heap entry just fired) and enters the next head.
  uint32_t pop_stream(Ring<Timed>& stream, Kind kind, uint32_t link) {
    const uint32_t p = stream.front().packet;
    stream.pop();
    if (!stream.empty()) m_events.push({stream.front().t_ps, stream.front().seq, link, kind});
    return p;
  }
  void return_credit(uint32_t l, uint64_t t_ps) {
    Link& link = m_links[l];
    link.credit_back.push(t_ps);
    if (link.credit_starved && !link.credit_wake) {
      link.credit_wake = true;
      schedule(t_ps, Kind::kCredit, l);
    }
  }

  void on_wake() {
    const uint64_t now = now_ps();
    if (!m_new.empty()) {
      std::vector<NewSend> sends;
      sends.swap(m_new);
      std::sort(sends.begin(), sends.end(), [](const NewSend& a, const NewSend& b) {
        if (a.src != b.src) return a.src < b.src;
        if (a.dst != b.dst) return a.dst < b.dst;
        if (a.tag != b.tag) return a.tag < b.tag;
        return a.seq < b.seq;
      });
      for (const NewSend& s : sends) start_message(s, now);
    }
    while (!m_events.empty() && m_events.top().t_ps <= now) {
      const Event e = m_events.top();
      m_events.pop();
      switch (e.kind) {
        case Kind::kLinkFree:
          on_link_free(e.link, now);
          break;
        case Kind::kArrive:
          on_arrive(e.link, pop_stream(m_links[e.link].arrivals, e.kind, e.link), now);
          break;
        case Kind::kCredit:
          m_links[e.link].credit_wake = false;
          try_start(e.link, now);
          break;
        case Kind::kHeadReady:
          try_forward(e.link, now);
          break;
        case Kind::kRelayReady:
          relay(e.link, pop_stream(m_links[e.link].relays, e.kind, e.link), now);
          break;
      }
    }
    if (!m_new.empty()) {
      m_wake.notify(zero_delay(name()));
    } else if (!m_events.empty()) {
      m_wake.notify(checked_until(m_events.top().t_ps, name()));
    } else if (m_outstanding > 0) {
      // Nothing can move and messages are in flight: full buffers wait on each other
      // around a cycle of routes through switches.
      // Inside a SystemC process: kept and rethrown after sc_start(), never unwound through
      // the kernel.
      stop_with(std::make_exception_ptr(InputError(fmt::format(
          "{}: the detailed network deadlocked with {} messages in flight (routes form a "
          "cycle through switches whose input buffers are all full); raise buffer_packets",
          name(), m_outstanding))));
    }
  }

  uint32_t alloc_message() {
    if (!m_free_msgs.empty()) {
      const uint32_t m = m_free_msgs.back();
      m_free_msgs.pop_back();
      return m;
    }
    m_msgs.emplace_back();
    return static_cast<uint32_t>(m_msgs.size() - 1);
  }
  uint32_t alloc_packet() {
    if (!m_free_packets.empty()) {
      const uint32_t p = m_free_packets.back();
      m_free_packets.pop_back();
      return p;
    }
    m_packets.emplace_back();
    return static_cast<uint32_t>(m_packets.size() - 1);
  }

  void start_message(const NewSend& s, uint64_t now) {
    const uint32_t m = alloc_message();
    Message& msg = m_msgs[m];
    msg.route = m_topo.route_begin(s.src, s.dst);
    msg.hops = m_topo.hops(s.src, s.dst);
    const uint64_t packets = (s.bytes + m_payload - 1) / m_payload;
    if (packets > UINT32_MAX || msg.hops == 0) {
      throw InternalError(
          fmt::format("detailed network: cannot send {} B from {} to {}", s.bytes, s.src, s.dst));
    }
    msg.to_inject = static_cast<uint32_t>(packets);
    msg.to_arrive = static_cast<uint32_t>(packets);
    msg.bytes_left = s.bytes;
    msg.send_ps = now;
    msg.last_end_ps = now;
    msg.client = s.client;
    msg.tag = s.tag;
    ++m_outstanding;
    const uint32_t l = msg.route[0];
    Link& link = m_links[l];
    link.inject.push_back(m);
    if (link.inject_waiting) return;  // its output queue is full; the slot grant serves it
    while (!link.out.full() && !link.inject.empty()) inject_one(l);
    if (!link.inject.empty()) {
      link.waiters.push_back(kInjectBit | l);
      link.inject_waiting = true;
    }
    try_start(l, now);
  }

  /// Cuts the next packet of the message at the front of link `l`'s round robin into `l`'s
  /// output queue.
  void inject_one(uint32_t l) {
    Link& link = m_links[l];
    const uint32_t m = link.inject.front();
    link.inject.pop_front();
    Message& msg = m_msgs[m];
    const uint32_t p = alloc_packet();
    Packet& pkt = m_packets[p];
    pkt.msg = m;
    pkt.payload = static_cast<uint32_t>(std::min<uint64_t>(m_payload, msg.bytes_left));
    pkt.hop = 0;
    pkt.ready_ps = msg.send_ps;
    msg.bytes_left -= pkt.payload;
    link.out.push(p);
    ++m_stats.packets;
    if (--msg.to_inject > 0) link.inject.push_back(m);
  }

  /// Puts the head of `l`'s output queue on the wire if the wire is idle and a credit is
  /// held.
  void try_start(uint32_t l, uint64_t now) {
    Link& link = m_links[l];
    if (link.busy || link.out.empty()) return;
    // Credits come back lazily: only a link that waits for one schedules an event.
    while (!link.credit_back.empty() && link.credit_back.front() <= now) {
      link.credit_back.pop();
      ++link.credits;
    }
    if (link.credits == 0) {
      // Woken by the earliest credit on its way back, or when one is sent back.
      link.credit_starved = true;
      if (!link.credit_back.empty() && !link.credit_wake) {
        link.credit_wake = true;
        schedule(link.credit_back.front(), Kind::kCredit, l);
      }
      return;
    }
    link.credit_starved = false;
    const uint32_t p = link.out.front();
    Packet& pkt = m_packets[p];
    Message& msg = m_msgs[pkt.msg];
    const uint64_t wire = pkt.payload + m_header;
    const uint64_t ser =
        wire == m_payload + m_header ? link.full_ser_ps : serialise_ps(link.bytes_per_s, wire);
    uint64_t eligible = pkt.ready_ps;
    if (pkt.hop == 0) {
      // Waiting behind the message's own earlier packets is not queueing.
      eligible = std::max(eligible, msg.last_end_ps);
      msg.last_end_ps = now + ser;
    }
    --link.credits;
    link.busy = true;
    LinkStats& st = *m_link_stats[l];
    st.bytes += wire;
    ++st.transfers;
    st.busy_s += static_cast<double>(ser) / kPsPerS;
    if (ActivityTimeline* tl = timeline(l)) {
      tl->busy(now, now + ser);
      tl->bandwidth(now, static_cast<double>(wire) * kPsPerS / static_cast<double>(ser), 0);
      tl->bandwidth(now + ser, 0, 0);
    }
    if (now > eligible) st.queue_s += static_cast<double>(now - eligible) / kPsPerS;
    ++m_stats.packet_hops;
    m_stats.payload_bytes += pkt.payload;
    m_stats.header_bytes += m_header;
    schedule(now + ser, Kind::kLinkFree, l);
    schedule_stream(link.arrivals, now + ser + link.latency_ps, Kind::kArrive, l, p);
  }

  void on_link_free(uint32_t l, uint64_t now) {
    Link& link = m_links[l];
    link.busy = false;
    link.out.pop();
    // Grant the freed slot(s) to waiting inputs, oldest wait first.
    while (!link.out.full() && !link.waiters.empty()) {
      const uint32_t w = link.waiters.front();
      link.waiters.pop_front();
      if ((w & kInjectBit) != 0) {
        link.inject_waiting = false;
        inject_one(l);
        if (!link.inject.empty()) {
          link.waiters.push_back(kInjectBit | l);
          link.inject_waiting = true;
        }
      } else if ((w & kRelayBit) != 0) {
        link.relay_waiting = false;
        link.out.push(link.relay.front());
        link.relay.pop_front();
        if (!link.relay.empty()) {
          link.waiters.push_back(kRelayBit | l);
          link.relay_waiting = true;
        }
      } else {
        move_head(w, l, now);
      }
    }
    try_start(l, now);
  }

  void port_change(Link& link, uint64_t now, int delta) {
    PortStats* ps = link.port.get();
    if (ps == nullptr) return;
    ps->area_ps +=
        static_cast<double>(ps->occupancy) * static_cast<double>(now - ps->last_change_ps);
    ps->last_change_ps = now;
    ps->occupancy = static_cast<uint32_t>(static_cast<int>(ps->occupancy) + delta);
    if (ps->occupancy > ps->max_occupancy.get()) {
      ps->max_occupancy.set(static_cast<double>(ps->occupancy));
    }
    if (delta > 0) ++ps->packets;
  }

  void on_arrive(uint32_t l, uint32_t p, uint64_t now) {
    Link& link = m_links[l];
    Packet& pkt = m_packets[p];
    const uint32_t m = pkt.msg;
    Message& msg = m_msgs[m];
    if (pkt.hop + 1 == msg.hops) {
      // At its destination chip: consumed at once, the credit goes back.
      return_credit(l, now + link.latency_ps);
      m_free_packets.push_back(p);
      if (--msg.to_arrive == 0) {
        NetworkClient* client = msg.client;
        const uint64_t tag = msg.tag;
        m_free_msgs.push_back(m);
        --m_outstanding;
        ++m_stats.messages;
        client->message_done(tag);
      }
      return;
    }
    pkt.ready_ps = now + m_pipe_ps[link.to];
    if (link.to < m_topo.chips()) {
      // A chip relays from its memory: the input buffer empties at once.
      return_credit(l, now + link.latency_ps);
      ++pkt.hop;
      const uint32_t next = msg.route[pkt.hop];
      schedule_stream(m_links[next].relays, pkt.ready_ps, Kind::kRelayReady, next, p);
      return;
    }
    link.in.push(p);
    port_change(link, now, +1);
    if (link.in.size() == 1) schedule(pkt.ready_ps, Kind::kHeadReady, l);
  }

  /// The head of input buffer `l` has done its pipeline: into its next output queue, or wait.
  void try_forward(uint32_t l, uint64_t now) {
    Link& link = m_links[l];
    const Packet& pkt = m_packets[link.in.front()];
    const uint32_t next = m_msgs[pkt.msg].route[pkt.hop + 1];
    Link& out = m_links[next];
    if (out.out.full()) {
      out.waiters.push_back(l);
      link.blocked_since_ps = now;
      return;
    }
    move_head(l, next, now);
  }

  /// Chip-relayed packet `p`, its pipeline done, joins link `l`'s relay queue.
  void relay(uint32_t l, uint32_t p, uint64_t now) {
    Link& link = m_links[l];
    if (link.relay.empty() && !link.out.full()) {
      link.out.push(p);
      try_start(l, now);
      return;
    }
    link.relay.push_back(p);
    if (!link.relay_waiting) {
      link.waiters.push_back(kRelayBit | l);
      link.relay_waiting = true;
    }
  }

  void move_head(uint32_t l, uint32_t next, uint64_t now) {
    Link& link = m_links[l];
    const uint32_t p = link.in.front();
    if (link.blocked_since_ps != UINT64_MAX) {
      const double blocked = static_cast<double>(now - link.blocked_since_ps) / kPsPerS;
      if (blocked > 0) {
        m_stats.hol_blocked_s += blocked;
        if (link.port) link.port->hol_blocked_s += blocked;
      }
      link.blocked_since_ps = UINT64_MAX;
    }
    link.in.pop();
    port_change(link, now, -1);
    return_credit(l, now + link.latency_ps);
    ++m_packets[p].hop;
    m_links[next].out.push(p);
    try_start(next, now);
    if (!link.in.empty()) {
      schedule(std::max(now, m_packets[link.in.front()].ready_ps), Kind::kHeadReady, l);
    }
  }

  const Topology& m_topo;
  const uint64_t m_payload;
  const uint64_t m_header;
  std::vector<uint64_t> m_pipe_ps;  // per node
  std::vector<Link> m_links;
  std::vector<Message> m_msgs;
  std::vector<uint32_t> m_free_msgs;
  std::vector<Packet> m_packets;
  std::vector<uint32_t> m_free_packets;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> m_events;
  uint64_t m_event_seq = 0;
  std::vector<NewSend> m_new;
  uint64_t m_new_seq = 0;
  uint64_t m_outstanding = 0;  // messages sent, not delivered
  sc_core::sc_event m_wake;
  DetailedNetworkStats m_stats;
  std::vector<std::unique_ptr<StatGroup>> m_switch_stats;
  std::vector<std::unique_ptr<LinkStats>> m_link_stats;
};

}  // namespace

MOESIM_REGISTER(Network, DetailedNetwork, "detailed",
                "packets of header + payload over every link direction, FIFO output queues, "
                "credit flow control into FIFO input buffers, switch pipelines "
                "(incast, back-pressure, head-of-line blocking)");

}  // namespace moesim
