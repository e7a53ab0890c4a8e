#pragma once
/// Routing statistics of a trace, computed in one streaming pass (definitions in
/// workloads/trace/FORMAT.md, "Trace statistics"). Memory is bounded by the trace's shape,
/// not its length: expert counts (layers x experts), the inter-layer top-1 transition counts
/// (layers x experts x experts, skipped above kMaxAffinityCells), and a copy of the previous
/// step (for temporal locality).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "workloads/trace/trace.hpp"

namespace moesim {

/// Expert-load statistics of one layer (or their mean over layers). Empty optionals: not
/// defined (no routed assignment, or a single expert for the normalised entropy).
struct LoadStats {
  uint64_t routed = 0;                       ///< routed assignments (expert id >= 0)
  std::optional<double> max_over_mean;       ///< max load / mean load (ratio, >= 1)
  std::optional<double> cv;                  ///< coefficient of variation of the loads
  std::optional<double> entropy_bits;        ///< Shannon entropy of the load shares (bits)
  std::optional<double> normalised_entropy;  ///< entropy / log2(experts), in [0, 1]
};

/// Everything `moesim trace stats` reports.
struct TraceStats {
  TraceMeta meta;
  uint64_t steps = 0;
  uint64_t tokens = 0;                       ///< tokens summed over steps
  std::vector<uint64_t> task_tokens;         ///< multi-task traces: tokens per task
  std::vector<uint64_t> task_requests;       ///< multi-task traces: distinct requests per task
  uint64_t assignments = 0;                  ///< all routes, special experts included
  uint64_t routed_assignments = 0;           ///< routes to experts 0..experts-1
  uint64_t special[4] = {0, 0, 0, 0};        ///< routes to null, zero, copy, const experts
  std::map<uint32_t, uint64_t> k_histogram;  ///< k -> number of (token, layer) pairs

  std::vector<LoadStats> layers;  ///< per MoE layer
  LoadStats mean_over_layers;     ///< each metric averaged over the layers where it is defined

  uint64_t locality_pairs = 0;              ///< (token, layer) pairs counted
  std::optional<double> locality_shared;    ///< mean experts shared with the previous token
  std::optional<double> locality_fraction;  ///< mean of shared / k

  bool affinity_computed = false;  ///< false when layers x experts^2 is too large
  uint64_t affinity_pairs = 0;     ///< (token, l -> l+1) pairs counted
  std::optional<double> affinity;  ///< P(most likely top-1 at l+1 | top-1 at l), weighted
  std::optional<double> affinity_independent;             ///< the same if l+1 ignored l (baseline)
  std::vector<std::optional<double>> affinity_per_layer;  ///< l -> l+1 for l = 0..layers-2
};

/// Accumulates TraceStats over a stream of steps.
class TraceStatsCollector {
 public:
  /// Transition matrices above this many cells are not kept (affinity_computed = false).
  static constexpr uint64_t kMaxAffinityCells = uint64_t{1} << 23;

  explicit TraceStatsCollector(const TraceMeta& meta);
  /// Adds one step (must match the metadata: readers guarantee it).
  void add(const TraceStep& step);
  /// The statistics of the steps added so far.
  TraceStats result() const;

 private:
  void add_locality(const TraceStep& step);
  void add_affinity(const TraceStep& step);

  TraceStats m_s;
  std::vector<uint64_t> m_load;        // layer * experts + expert
  std::vector<uint64_t> m_transition;  // (layer * experts + from) * experts + to
  double m_shared_sum = 0;
  double m_fraction_sum = 0;
  TraceStep m_prev;                                    // the previous step (empty before the first)
  std::unordered_map<uint32_t, uint32_t> m_prev_last;  // request -> its last token in m_prev
  std::unordered_map<uint32_t, uint32_t> m_cur_last;
  std::vector<int32_t> m_top1;  // scratch: top-1 expert per layer of one token
  std::unordered_map<uint32_t, bool> m_task_request_seen;  // multi-task: requests counted
};

/// Reads `reader` to the end and returns its statistics.
TraceStats compute_trace_stats(TraceReader& reader);

/// The statistics as JSON (schema "moesim-trace-stats 1"; units named beside the values).
std::string trace_stats_json(const TraceStats& s, const std::string& trace_path);
/// The statistics as a readable report.
std::string trace_stats_text(const TraceStats& s, const std::string& trace_path);

}  // namespace moesim
