#pragma once
/// Expert placement: which logical expert each physical slot of an expert-parallel group
/// holds, per MoE layer (EPLB's phy2log), with the slots spread evenly over the group's
/// chips (slot s on chip s / slots_per_chip). With more slots than experts an expert has
/// several replicas and a token copy goes to one of them (ReplicaRouter). An interface like
/// the cache policies (pure C++); implementations register by name and are chosen by
/// `[mapping.placement] type` and by `moesim place --policy`.

#include <cstdint>
#include <string>
#include <vector>

#include "sim/config/schema.hpp"

namespace moesim {

/// Per MoE layer, physical slot -> logical expert, and its inverse.
struct Placement {
  uint32_t layers = 0;
  uint32_t experts = 0;           ///< logical experts per layer
  uint32_t chips = 1;             ///< chips of one expert-parallel group
  uint32_t slots = 0;             ///< physical slots per layer (a multiple of chips, >= experts)
  std::vector<uint32_t> phy2log;  ///< layers x slots
  /// layers x slots: chip within the group of each slot. Empty: slot s on chip
  /// s / (slots / chips), as EPLB lays them out (index() fills it).
  std::vector<uint32_t> slot_chip;

  uint32_t chip_of_slot(uint32_t layer, uint32_t slot) const {
    return slot_chip[size_t{layer} * slots + slot];
  }
  /// Replica slots of (layer, expert), ascending, from index().
  const uint32_t* replicas_begin(uint32_t layer, uint32_t expert) const {
    return m_rep_slot.data() + m_rep_begin[size_t{layer} * experts + expert];
  }
  const uint32_t* replicas_end(uint32_t layer, uint32_t expert) const {
    return m_rep_slot.data() + m_rep_begin[size_t{layer} * experts + expert + 1];
  }
  uint32_t replica_count(uint32_t layer, uint32_t expert) const {
    return static_cast<uint32_t>(replicas_end(layer, expert) - replicas_begin(layer, expert));
  }
  /// Builds the replica lists. Returns an empty string, or what is wrong (an expert id out of
  /// range, an expert without a replica, a shape that does not fit).
  std::string index();
  /// Every expert e on chip e mod chips (slots == experts).
  static Placement round_robin(uint32_t layers, uint32_t experts, uint32_t chips);

 private:
  std::vector<uint32_t> m_rep_begin;  // layers x experts + 1 offsets into m_rep_slot
  std::vector<uint32_t> m_rep_slot;
};

/// What a policy places.
struct PlacementInput {
  uint32_t layers = 0;
  uint32_t experts = 0;
  uint32_t chips = 1;           ///< chips of an expert-parallel group
  uint32_t chips_per_node = 0;  ///< 0: every chip of the group in one node
  uint32_t slots = 0;           ///< physical slots per layer (0: one per expert)
  /// layers x experts load (token copies); empty for policies that need none.
  std::vector<double> load;
  /// Inter-layer transitions for affinity policies: (layers - 1) x experts x experts counts of
  /// a token going from expert i at layer l to expert j at layer l + 1; may be empty.
  std::vector<double> transitions;
  uint32_t nodes() const {
    return chips_per_node == 0 || chips % chips_per_node != 0 ? 1 : chips / chips_per_node;
  }
};

class PlacementPolicy {
 public:
  struct Args {
    const Params& params;
  };
  virtual ~PlacementPolicy() = default;
  /// Fills `out` for `in`. Throws InputError naming its input file and line for a bad table,
  /// or the problem with the shape (slots not a multiple of the chips, ...).
  virtual void place(const PlacementInput& in, Placement& out) const = 0;
  /// The policy needs `in.load` (computed from a first pass over the trace when no counts
  /// file is given).
  virtual bool needs_load() const { return false; }
  /// The policy needs `in.transitions`.
  virtual bool needs_transitions() const { return false; }
  /// Physical slots per layer the policy asks for (0: one per expert, or whatever
  /// PlacementInput::slots says).
  virtual uint32_t slots() const { return 0; }
};

// --- Algorithms (pure functions; the registered policies call them) ---

/// EPLB's balanced packing: items (by weight, heaviest first, ties to the lower index) each
/// into the lightest pack (ties to the lower pack) that still has room; every pack gets
/// items / packs. pack[i], rank[i]: pack of item i and its position in it.
void balanced_packing(const std::vector<double>& weight, uint32_t packs,
                      std::vector<uint32_t>& pack, std::vector<uint32_t>& rank);

/// EPLB's replication: `phys` slots for `weight.size()` experts, each spare slot to the
/// expert of highest load per replica (ties to the lower expert). phy2log[s], rank[s] (its
/// replica number), count[e].
void replicate_experts(const std::vector<double>& weight, uint32_t phys,
                       std::vector<uint32_t>& phy2log, std::vector<uint32_t>& rank,
                       std::vector<uint32_t>& count);

/// DeepSeek EPLB's rebalance (hierarchical when `groups` is a multiple of the nodes of `in`,
/// else global = one group and one node). Writes phy2log for every layer of `in` with
/// in.slots slots.
void eplb_rebalance(const PlacementInput& in, uint32_t groups, bool hierarchical, Placement& out);

/// Greedy balanced: replicas (EPLB's replication when in.slots > experts), heaviest first,
/// each onto the least-loaded chip with room (ties to the lower chip).
void greedy_balanced(const PlacementInput& in, Placement& out);

/// What the affinity local search did.
struct AffinityStats {
  uint64_t swaps = 0;   ///< expert swaps made
  uint32_t rounds = 0;  ///< rounds over every layer run
};

/// Affinity-aware (ExFlow-style), no replicas: places the experts so that a token's experts
/// at consecutive layers share a chip, maximising the co-located transition mass of
/// in.transitions under experts / chips experts per chip and layer. Greedy growth on the
/// layered transition graph (the unplaced (layer, expert) with the most mass to a chip with
/// room goes there; one with none opens a cluster on the least-filled chip of its layer,
/// heaviest load first), then up to `swap_rounds` rounds of improving swaps of two experts
/// of a layer. O(layers x experts^2 x (chips + log)) time, layers x experts x chips memory
/// beside the counts.
void affinity_placement(const PlacementInput& in, uint32_t swap_rounds, Placement& out,
                        AffinityStats* stats = nullptr);

/// Fraction of `transitions` ((layers - 1) x experts x experts) whose two experts are on
/// different chips (an expert's chip: that of its first replica).
double cross_chip_transitions(const Placement& p, const std::vector<double>& transitions);

// --- EPLB-form JSON tables ---

/// Reads `{"phy2log": [[...], ...], "log2phy": [[[...]]], "logcnt": [[...]]}` (whitespace, key
/// order and extra keys free; log2phy and logcnt optional, checked against phy2log when
/// present). Throws InputError "path:line:column: what".
Placement read_placement_json(const std::string& path, uint32_t layers, uint32_t experts,
                              uint32_t chips);
/// Writes `p` in EPLB's form (log2phy padded with -1 to the largest replica count).
std::string placement_json(const Placement& p);
/// Reads a CSV table `layer,expert,chip` (one replica per row; layer `*` for every layer).
Placement read_placement_csv(const std::string& path, uint32_t layers, uint32_t experts,
                             uint32_t chips);

// --- Routing to replicas ---

/// Chooses the replica each token copy goes to. Default: the least-loaded replica so far in
/// this step and layer (ties to the lower slot). With `locality`: a replica on the token's
/// own chip, else one in its node, else the least-loaded one (least-loaded among the
/// candidates in each case).
class ReplicaRouter {
 public:
  ReplicaRouter() = default;
  /// `groups` expert-parallel groups of p.chips chips; `chips_per_node` of the whole system
  /// (0: one node).
  ReplicaRouter(const Placement* p, uint32_t groups, bool locality, uint32_t chips_per_node);
  /// Forgets the loads (a new step).
  void new_step();
  /// Chip within the group running (layer, expert) for a token dispatched from global chip
  /// `src` of group `group`.
  uint32_t route(uint32_t group, uint32_t layer, uint32_t expert, uint32_t src) {
    const uint32_t* b = m_p->replicas_begin(layer, expert);
    const uint32_t* e = m_p->replicas_end(layer, expert);
    if (e - b == 1) return m_p->chip_of_slot(layer, *b);
    return route_many(group, layer, b, e, src);
  }
  const Placement& placement() const { return *m_p; }

 private:
  uint32_t route_many(uint32_t group, uint32_t layer, const uint32_t* b, const uint32_t* e,
                      uint32_t src);
  const Placement* m_p = nullptr;
  bool m_locality = false;
  uint32_t m_cpn = 0;
  std::vector<uint64_t> m_load;  // [group][layer][slot]
};

}  // namespace moesim
