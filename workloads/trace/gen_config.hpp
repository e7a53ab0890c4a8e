#pragma once
/// Reads a generator config (workloads/generators/*.toml) into a GeneratorSpec, with the
/// config machinery's strict checking: unknown keys, wrong types and ranges, values the
/// routing-stats data lacks and inconsistent parameters all give one house-format line
/// "file:line:col: key: what" (InputError).

#include "sim/config/config.hpp"
#include "workloads/trace/gen_spec.hpp"

namespace moesim {

/// Reads every generator section of `cfg` (loading routing-stats data when a calibrated
/// feature asks for it), checks the result with check_generator_spec() and finally
/// cfg.check_all_consumed(). Throws InputError.
GeneratorSpec read_generator_config(Config& cfg);

/// Default folder of the routing-stats CSVs: MOESIM_SOURCE_DIR/../shared/data/routing-stats.
std::string default_routing_stats_dir();

}  // namespace moesim
