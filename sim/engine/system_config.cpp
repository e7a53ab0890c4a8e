/// `[system]` config reader.

#include "sim/engine/system_config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "hw_models/interconnect/network.hpp"
#include "sim/config/config_fail.hpp"
#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"

namespace moesim {

namespace {

/// Sub-tables of `path` must be among `known`.
void only_subtables(const Config& cfg, const std::string& path,
                    const std::vector<std::string>& known) {
  for (const std::string& t : cfg.subtables(path)) {
    bool ok = false;
    for (const auto& k : known) ok = ok || k == t;
    if (ok) continue;
    const std::string hint = did_you_mean(t, known);
    fail(cfg, path + "." + t,
         known.empty() ? std::string("unknown table")
                       : fmt::format("unknown table (expected {}){}", fmt::join(known, " or "),
                                     hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
}

}  // namespace

ParamSchema link_schema() {
  ParamSchema s("system.topology.links");
  s.add("from", ParamType::kString, "link end: chip<N> or a switch name");
  s.add("to", ParamType::kString, "other end: chip<N> or a switch name");
  s.add("bandwidth", ParamType::kBandwidth, "bandwidth of each direction").at_least(1);
  s.add("latency", ParamType::kTime, "wire latency of one traversal").at_least(0);
  s.add("duplex", ParamType::kBool, "both directions, each its own resource").default_value(true);
  return s;
}

ParamSchema system_schema() {
  ParamSchema s("system");
  s.add("chips", ParamType::kInt, "chips in the system (chip0, chip1, ...)")
      .range(1, 1 << 16)
      .default_value(int64_t{1});
  return s;
}

SystemSpec read_system_spec(Config& cfg) {
  SystemSpec spec;
  spec.present = cfg.has("system");
  if (!spec.present) {
    spec.topology = Topology(1);
    return spec;
  }
  only_subtables(cfg, "system", {"topology", "network", "energy"});
  const Params sys = cfg.section("system", system_schema());
  spec.chips = static_cast<uint32_t>(sys.get_int("chips"));
  const bool has_topo = cfg.has("system.topology");
  const bool has_net = cfg.has("system.network");
  if (spec.chips == 1 && !has_topo && !has_net) {
    spec.topology = Topology(1);
    return spec;
  }
  if (!has_topo)
    fail(cfg, "system.topology",
         "no [system.topology] table (expected e.g. [system.topology] type = \"switch\")");
  if (!has_net)
    fail(cfg, "system.network",
         "no [system.network] table (expected e.g. [system.network] type = \"fast\")");

  const auto& topo_reg = Registry<TopologyBuilder>::instance();
  spec.topology_type = cfg.choose("system.topology.type", topo_reg.names());
  spec.topology_params = cfg.section("system.topology", topo_reg.find(spec.topology_type)->schema);
  only_subtables(cfg, "system.topology", {"links"});
  std::vector<ExplicitLinkSpec> links;
  const ParamSchema ls = link_schema();
  for (const std::string& name : cfg.subtables("system.topology.links")) {
    const std::string path = "system.topology.links." + name;
    const Params p = cfg.section(path, ls);
    ExplicitLinkSpec l;
    l.name = name;
    l.from = p.get_string("from");
    l.to = p.get_string("to");
    l.bytes_per_s = p.get_bytes_per_s("bandwidth");
    if (std::get<Quantity>(p.values().at("latency")).cycles)
      fail(cfg, path + ".latency",
           "links have no clock: give a time such as \"500ns\", not cycles");
    l.latency_s = p.get_seconds("latency", 0);
    l.duplex = p.get_bool("duplex");
    links.push_back(std::move(l));
  }
  try {
    const auto builder =
        topo_reg.find(spec.topology_type)->create(TopologyBuilder::Args{spec.topology_params});
    spec.topology = builder->build(spec.chips, links);
  } catch (const TopologyError& e) {
    const std::string key = e.key.empty() ? "system.topology" : "system.topology." + e.key;
    fail(cfg, key, e.message);
  }

  const auto& net_reg = Registry<Network>::instance();
  spec.network.type = cfg.choose("system.network.type", net_reg.names());
  spec.network.params = cfg.section("system.network", net_reg.find(spec.network.type)->schema);
  only_subtables(cfg, "system.network", {});
  return spec;
}

}  // namespace moesim
