#pragma once
/// Reading a config's `[system]` section: chip count, topology (built, routed), network model.

#include <cstdint>
#include <string>

#include "hw_models/chip/chip.hpp"
#include "hw_models/interconnect/topology.hpp"
#include "sim/config/config.hpp"

namespace moesim {

/// The multi-chip system a config describes (validated; the topology has its routes).
struct SystemSpec {
  bool present = false;  ///< the config has a [system] table
  uint32_t chips = 1;
  std::string topology_type;  ///< empty for one chip without [system.topology]
  Params topology_params;
  Topology topology;      ///< built by the registered builder of `topology_type`
  ComponentSpec network;  ///< `[system.network]`: a Registry<Network> type and its params
};

/// Schema of the `[system]` table's own keys.
ParamSchema system_schema();

/// Schema of one `[system.topology.links.NAME]` table (explicit topologies).
ParamSchema link_schema();

/// Reads and consumes `[system]`, `[system.topology]` (with `[system.topology.links.NAME]`)
/// and `[system.network]`. With no [system] table: one chip, no topology, no network. With
/// more than one chip, [system.topology] and [system.network] (each with its `type`) are
/// required. Unknown tables under [system] and topology problems are InputErrors at the
/// offending key.
SystemSpec read_system_spec(Config& cfg);

}  // namespace moesim
