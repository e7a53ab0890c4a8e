#pragma once
// Helpers for the network tests: Params from a model's declared defaults, a client that
// records delivery times, and a driver that issues timed sends.

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "hw_models/interconnect/network.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/sc_thread.hpp"

namespace moesim::test {

/// Values of network model `model`: every declared default, then `overrides`.
inline Params network_params(const std::string& model,
                             const std::map<std::string, ParamValue>& overrides = {}) {
  const auto* entry = Registry<Network>::instance().find(model);
  if (entry == nullptr) throw std::runtime_error("no network model '" + model + "'");
  std::map<std::string, ParamValue> values;
  std::map<std::string, ParamType> types;
  for (const ParamSpec& s : entry->schema.params()) {
    types[s.name] = s.type;
    if (s.default_val) values[s.name] = *s.default_val;
  }
  for (const auto& [k, v] : overrides) {
    if (types.count(k) == 0) throw std::runtime_error(model + " declares no key " + k);
    values[k] = v;
  }
  for (const auto& [k, t] : types) {
    if (values.count(k) == 0) throw std::runtime_error(model + ": required key " + k);
  }
  return Params("system.network", std::move(values), std::move(types));
}

/// A network of model `model` on `topo` (which must outlive it).
inline std::unique_ptr<Network> make_network(const std::string& model, const char* name,
                                             const Params& params, const Topology& topo,
                                             StatGroup* stats) {
  const auto* entry = Registry<Network>::instance().find(model);
  if (entry == nullptr) throw std::runtime_error("no network model '" + model + "'");
  return entry->create(Network::Args{name, params, topo, stats});
}

/// Records when each tagged message arrived.
struct Recorder : NetworkClient {
  std::map<uint64_t, double> done_s;
  void message_done(uint64_t tag) override {
    if (!done_s.emplace(tag, sc_core::sc_time_stamp().to_seconds()).second) {
      throw std::runtime_error("message delivered twice: " + std::to_string(tag));
    }
  }
  double at(uint64_t tag) const {
    auto it = done_s.find(tag);
    return it == done_s.end() ? -1.0 : it->second;
  }
  /// Latest delivery among tags [first, last].
  double last_of(uint64_t first, uint64_t last) const {
    double t = -1;
    for (uint64_t g = first; g <= last; ++g) t = std::max(t, at(g));
    return t;
  }
};

/// One send at a simulated time.
struct TimedSend {
  double at_s;
  Network* net;
  ChipId src;
  ChipId dst;
  uint64_t bytes;
  uint64_t tag;
};

/// Issues sends at their times, in the order given among equal times.
struct Driver : sc_core::sc_module {
  SC_HAS_PROCESS(Driver);
  Driver(sc_core::sc_module_name n, std::vector<TimedSend> sends, Recorder& rec)
      : sc_module(n), m_sends(std::move(sends)), m_rec(rec) {
    std::stable_sort(m_sends.begin(), m_sends.end(),
                     [](const TimedSend& a, const TimedSend& b) { return a.at_s < b.at_s; });
    MOESIM_SC_THREAD(run);
  }
  void run() {
    for (const TimedSend& s : m_sends) {
      const sc_core::sc_time at(s.at_s, sc_core::SC_SEC);
      if (at > sc_core::sc_time_stamp()) wait(at - sc_core::sc_time_stamp());
      s.net->send(s.src, s.dst, s.bytes, &m_rec, s.tag);
    }
  }
  std::vector<TimedSend> m_sends;
  Recorder& m_rec;
};

/// The value of stat `full_name` below `root`, or -1 when absent.
inline double stat_value(const StatGroup& root, const std::string& full_name) {
  double v = -1;
  root.visit([&](const std::string& n, const Stat& s) {
    if (n == full_name) v = s.value();
  });
  return v;
}

}  // namespace moesim::test
