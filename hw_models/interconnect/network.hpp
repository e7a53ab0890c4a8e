#pragma once
/// The network interface: moves messages between chips over a Topology's links.
///
/// send() starts a message of `bytes` from chip `src` to chip `dst` along the topology's
/// route; the network calls the client back once, when the last byte has arrived at `dst`.
/// Messages contend for every link direction they cross. Implementations: `fast` (fluid
/// bandwidth sharing per link, chunked store-and-forward) and `detailed` (packets, credits,
/// switch pipelines), registered by name and chosen by `[system.network] type`.
///
/// Determinism: events that fire at one instant are processed in a fixed order (message
/// sequence number), never in SystemC's order of notification.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "hw_models/interconnect/topology.hpp"
#include "sim/config/schema.hpp"
#include "sim/core/stats.hpp"
#include "sim/core/timeline.hpp"

namespace moesim {

/// Receives message deliveries.
class NetworkClient {
 public:
  virtual ~NetworkClient() = default;
  /// Called from the network's process when the message tagged `tag` has fully arrived.
  virtual void message_done(uint64_t tag) = 0;
};

/// Statistics of one link direction (`link0_1.*`, named by LinkSpec::name).
struct LinkStats : StatGroup {
  LinkStats(const std::string& name, StatGroup* parent, double bytes_per_s);
  Counter bytes{this, "bytes", "B", "bytes carried"};
  Counter transfers{this, "transfers", "transfers",
                    "chunks or packets carried (a message crossing the link is one or more)"};
  Scalar busy_s{this, "busy_time", "s", "time with at least one transfer on the link"};
  Scalar queue_s{this, "queueing_time", "s",
                 "summed time transfers waited for this link (behind others or for credits)"};
  Formula utilisation;  ///< bytes / (peak x simulated time)
  Formula mean_queueing_delay;
  double peak;
};

/// A network of links between the chips of a system.
class Network : public sc_core::sc_module {
 public:
  /// What every network model is constructed from.
  struct Args {
    sc_core::sc_module_name name;  ///< lives until the model's constructor has finished
    const Params& params;          ///< validated values of `[system.network]`
    const Topology& topology;      ///< outlives the network
    StatGroup* stats_parent;       ///< link stat groups are created under it
  };
  explicit Network(const sc_core::sc_module_name& name) : sc_core::sc_module(name) {}
  ~Network() override = default;

  /// Starts a message; `src != dst`, `bytes > 0`.
  virtual void send(ChipId src, ChipId dst, uint64_t bytes, NetworkClient* client,
                    uint64_t tag) = 0;
  virtual const Topology& topology() const = 0;
  /// Stats of link direction `i` (Topology::links() order).
  virtual const LinkStats& link_stats(uint32_t i) const = 0;
  /// Link direction `i`'s busy periods and bandwidth in use from now on go to `tl` (null:
  /// none; not owned). Call only while the network is idle (between steps).
  void set_timeline(uint32_t i, ActivityTimeline* tl) {
    if (m_timeline.size() <= i) m_timeline.resize(i + 1, nullptr);
    m_timeline[i] = tl;
    m_timeline_on = false;
    for (ActivityTimeline* t : m_timeline) m_timeline_on = m_timeline_on || t != nullptr;
  }

 protected:
  /// The track of link direction `i`, or null (also when no timeline is recorded).
  ActivityTimeline* timeline(uint32_t i) const {
    return m_timeline_on && i < m_timeline.size() ? m_timeline[i] : nullptr;
  }

 private:
  std::vector<ActivityTimeline*> m_timeline;
  bool m_timeline_on = false;

 public:
  /// Every statistic the model keeps, in output order: by default the link directions; a
  /// model with more (per switch port, packet totals) adds them.
  virtual void visit_stats(const std::function<void(const std::string&, const Stat&)>& fn) const {
    for (uint32_t i = 0; i < topology().links().size(); ++i) link_stats(i).visit(fn);
  }
};

}  // namespace moesim
