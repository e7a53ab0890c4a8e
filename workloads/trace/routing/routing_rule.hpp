#pragma once
/// The routing rules of the trace generator: how one layer's tokens pick their experts
/// from the exponential race over the candidates. One rule per file beside this header,
/// each registered with MOESIM_REGISTER(RoutingRule, Class, "name", "description"); the
/// name is the generator config's `routing.type` and the rule's declare() is the schema of
/// its `[routing]` table.

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/schema.hpp"
#include "workloads/trace/gen_rng.hpp"
#include "workloads/trace/gen_spec.hpp"

namespace moesim {

/// The state of the race that a rule reads and appends to; owned by the generator, which
/// sets the forced and excluded candidates of each token before the rule runs.
struct RaceState {
  explicit RaceState(const GeneratorSpec& s) : spec(s), rng(s.seed) {}

  const GeneratorSpec& spec;
  Rng rng;
  uint32_t cands = 0;                      ///< candidates: routed, then special experts
  uint32_t max_sel = 0;                    ///< most candidates one token selects
  std::vector<std::vector<double>> rate;   ///< [layer][candidate] race rate
  std::vector<AliasTable> table;           ///< [layer] alias table over `rate`
  std::vector<uint64_t> mark;              ///< [candidate] == stamp: forced or excluded
  uint64_t stamp = 0;                      ///< the current token's mark
  std::vector<uint32_t> forced, excluded;  ///< the current token's constraints
  std::vector<double> time;                ///< [candidate] arrival time (full races)
  std::vector<uint32_t> order;             ///< candidates by arrival (full races)
  /// The current layer's selections (candidate index, -1 when dropped) in CSR form.
  std::vector<uint32_t> sel_off;
  std::vector<int32_t> sel;
  std::vector<double> sel_w;

  /// Gate weight of a candidate arriving at `t`: t^(-1/temperature).
  double weight_of(double t) const {
    return spec.gate_temperature == 1.0 ? 1.0 / t : std::pow(t, -1.0 / spec.gate_temperature);
  }
  /// Exact draw among unmarked candidates (very skewed popularity).
  uint32_t draw_unmarked(const std::vector<double>& r);
  /// Samples every candidate's arrival time (excluded ones never arrive); orders the
  /// candidates forced first, then by arrival. Returns the number ordered.
  uint32_t full_race(uint32_t layer, uint32_t candidates);
};

/// One routing rule. Token-choice rules (token_choice() true) pick each token's experts in
/// choose(), after reuse and affinity set the forced and excluded candidates; expert-choice
/// rules route a whole layer in route_layer().
class RoutingRule {
 public:
  struct Args {
    const GeneratorSpec& spec;
  };
  virtual ~RoutingRule() = default;

  /// Most candidates one token selects (sizes the selection buffers).
  virtual uint32_t max_selected(const GeneratorSpec& spec, uint32_t /*candidates*/) const {
    return spec.top_k;
  }
  /// True when tokens choose experts (choose()), false when experts choose tokens.
  virtual bool token_choice() const { return true; }
  /// Token choice: appends one token's choices to race.sel and their unnormalised gate
  /// weights to race.sel_w; forced candidates first, marked ones otherwise excluded.
  virtual void choose(RaceState& /*race*/, uint32_t /*layer*/) {}
  /// Expert choice: appends the choices of all `tokens` of `layer`, closing each token's
  /// row of race.sel_off.
  virtual void route_layer(RaceState& /*race*/, uint32_t /*layer*/, uint32_t /*tokens*/) {}

  /// The `gate_temperature` key every rule's table has.
  static void declare_common(ParamSchema& s);
};

/// The registered name of `routing` ("topk", "top_p", "expert_choice", "grouped").
const char* routing_name(GeneratorSpec::Routing routing);

/// The registered rule `spec.routing` names. Throws InternalError when it is not registered.
std::unique_ptr<RoutingRule> make_routing_rule(const GeneratorSpec& spec);

/// The schema of the `[routing]` table of rule `name` (gate_temperature and its own keys);
/// nullptr when no rule has that name.
const ParamSchema* routing_schema(const std::string& name);

}  // namespace moesim
