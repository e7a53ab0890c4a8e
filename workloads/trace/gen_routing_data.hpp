#pragma once
/// Loads real routing statistics (../shared/data/routing-stats: expert_counts.csv and
/// crosslayer_counts.csv) for one model, checkpoint, domain and selection.

#include <string>

#include "sim/core/error.hpp"
#include "workloads/trace/gen_spec.hpp"

namespace moesim {

/// A lookup that failed because of a config value: `key()` is the config key to blame
/// ("data.domain"), what() the message without it.
class RoutingDataError : public InputError {
 public:
  RoutingDataError(std::string key, const std::string& what)
      : InputError(what), m_key(std::move(key)) {}
  /// The config key the problem concerns.
  const std::string& key() const { return m_key; }

 private:
  std::string m_key;
};

/// What to load.
struct RoutingDataQuery {
  std::string dir;         ///< folder holding the two CSVs
  std::string model;       ///< e.g. "OLMoE-1B-7B"
  std::string checkpoint;  ///< e.g. "base"
  std::string domain;      ///< e.g. "c4"
  std::string selection;   ///< popularity counts: "topk" or "top1"
  /// Cross-layer counts to load ("top1" or "topk"); empty = none.
  std::string transition_selection;
};

/// Reads the counts. A missing file or a value absent from the data throws
/// RoutingDataError (keys data.stats_dir, data.model, data.checkpoint, data.domain,
/// popularity.selection, affinity.selection); a malformed CSV line throws InputError
/// "<file>:<line>: <what>".
RoutingData load_routing_data(const RoutingDataQuery& q);

}  // namespace moesim
