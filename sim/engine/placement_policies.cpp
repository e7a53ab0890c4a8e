/// The registered placement policies: round-robin, contiguous, an explicit table (CSV or
/// EPLB JSON), greedy balanced, DeepSeek EPLB (hierarchical and global) and affinity. The
/// algorithms are in sim/plan/placement.cpp; each class here only reads its parameters.

#include <string>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/plan/placement.hpp"

namespace moesim {
namespace {

/// Parameters every policy has.
void declare_common(ParamSchema& s) {
  s.add("locality", ParamType::kBool,
        "route a token copy to a replica on its own chip, else in its node, else the "
        "least-loaded one (false: always the least-loaded replica, ties to the lower slot)")
      .default_value(false);
  s.add("rebalance_every", ParamType::kInt,
        "recompute the placement every this many steps from a moving-average load, moving the "
        "experts that change chips over the links (0: never; load-driven policies only)")
      .range(0, 1 << 30)
      .default_value(int64_t{0});
  s.add("rebalance_alpha", ParamType::kFloat,
        "weight of the newest step in the moving-average load of rebalancing (1: the last "
        "step only)")
      .range(0, 1)
      .default_value(0.5);
}

/// Parameters of the load-driven policies.
void declare_loaded(ParamSchema& s) {
  declare_common(s);
  s.add("replicas", ParamType::kInt,
        "physical expert slots per MoE layer in each expert-parallel group (0: one per "
        "expert; more: redundant replicas of the busiest experts, EPLB's num_replicas)")
      .range(0, 1 << 24)
      .default_value(int64_t{0});
  s.add("counts", ParamType::kPath,
        "CSV layer,expert,count of expert loads (absent: a first pass over the run's trace)")
      .default_value(std::string());
}

/// Expert e on chip e mod n (neighbouring experts on different chips).
class RoundRobin final : public PlacementPolicy {
 public:
  static void declare(ParamSchema& s) { declare_common(s); }
  explicit RoundRobin(const Args&) {}
  void place(const PlacementInput& in, Placement& out) const override {
    out = Placement::round_robin(in.layers, in.experts, in.chips);
  }
};

/// Experts in blocks of experts / n: chip c holds experts [c * b, (c + 1) * b).
class Contiguous final : public PlacementPolicy {
 public:
  static void declare(ParamSchema& s) { declare_common(s); }
  explicit Contiguous(const Args&) {}
  void place(const PlacementInput& in, Placement& out) const override {
    out = Placement{};
    out.layers = in.layers;
    out.experts = in.experts;
    out.chips = in.chips;
    out.slots = in.experts;
    out.phy2log.resize(size_t{in.layers} * in.experts);
    for (size_t i = 0; i < out.phy2log.size(); ++i) {
      out.phy2log[i] = static_cast<uint32_t>(i % in.experts);
    }
    const std::string err = out.index();
    if (!err.empty()) throw InternalError("contiguous placement: " + err);
  }
};

/// An explicit table: EPLB's JSON form (.json: phy2log, optional log2phy and logcnt) or a
/// CSV table `layer,expert,chip` (a header naming the columns, in any order; extra columns
/// ignored; `layer` may be `*` for every MoE layer; every expert placed exactly once).
class Table final : public PlacementPolicy {
 public:
  static void declare(ParamSchema& s) {
    declare_common(s);
    s.add("path", ParamType::kPath,
          "EPLB JSON (phy2log, log2phy, logcnt) or CSV with columns layer,expert,chip (layer "
          "'*': every MoE layer)");
  }
  explicit Table(const Args& a) : m_path(a.params.get_string("path")) {}
  void place(const PlacementInput& in, Placement& out) const override {
    const bool json = m_path.size() >= 5 && m_path.compare(m_path.size() - 5, 5, ".json") == 0;
    out = json ? read_placement_json(m_path, in.layers, in.experts, in.chips)
               : read_placement_csv(m_path, in.layers, in.experts, in.chips);
  }

 private:
  std::string m_path;
};

/// Shared by the load-driven policies: replicas.
class Loaded : public PlacementPolicy {
 public:
  explicit Loaded(const Args& a)
      : m_replicas(static_cast<uint32_t>(a.params.get_int("replicas"))) {}
  bool needs_load() const override { return true; }
  uint32_t slots() const override { return m_replicas; }

 private:
  uint32_t m_replicas;
};

/// Experts (and their replicas) heaviest first, each onto the least-loaded chip with room.
class Greedy final : public Loaded {
 public:
  static void declare(ParamSchema& s) { declare_loaded(s); }
  explicit Greedy(const Args& a) : Loaded(a) {}
  void place(const PlacementInput& in, Placement& out) const override { greedy_balanced(in, out); }
};

/// DeepSeek EPLB. Hierarchical: expert groups onto nodes, replicas inside each node, replicas
/// onto the node's chips. Global: the same with one group and one node.
template <bool kHierarchical>
class Eplb final : public Loaded {
 public:
  static void declare(ParamSchema& s) {
    declare_loaded(s);
    if (kHierarchical) {
      s.add("groups", ParamType::kInt,
            "expert groups (DeepSeek's group-limited routing; a multiple of the group's nodes, "
            "else the global policy is used)")
          .range(1, 1 << 20)
          .default_value(int64_t{1});
    }
  }
  explicit Eplb(const Args& a)
      : Loaded(a),
        m_groups(kHierarchical ? static_cast<uint32_t>(a.params.get_int("groups")) : 1) {}
  void place(const PlacementInput& in, Placement& out) const override {
    eplb_rebalance(in, m_groups, kHierarchical, out);
  }

 private:
  uint32_t m_groups;
};
using EplbHierarchical = Eplb<true>;
using EplbGlobal = Eplb<false>;

/// ExFlow-style: a token's experts at consecutive layers on one chip, learned from the
/// inter-layer transitions of a first pass over the trace (no replicas).
class Affinity final : public PlacementPolicy {
 public:
  static void declare(ParamSchema& s) {
    declare_common(s);
    s.add("swap_rounds", ParamType::kInt,
          "rounds of improving expert swaps after the greedy growth (0: greedy only)")
        .range(0, 1000)
        .default_value(int64_t{20});
  }
  explicit Affinity(const Args& a)
      : m_rounds(static_cast<uint32_t>(a.params.get_int("swap_rounds"))) {}
  bool needs_transitions() const override { return true; }
  void place(const PlacementInput& in, Placement& out) const override {
    affinity_placement(in, m_rounds, out);
  }

 private:
  uint32_t m_rounds;
};

MOESIM_REGISTER(PlacementPolicy, RoundRobin, "round_robin",
                "expert e on chip e mod (expert-parallel chips)");
MOESIM_REGISTER(PlacementPolicy, Contiguous, "contiguous",
                "experts in equal consecutive blocks, one block per chip");
MOESIM_REGISTER(PlacementPolicy, Table, "table",
                "an explicit table: EPLB JSON (phy2log) or CSV rows layer,expert,chip");
MOESIM_REGISTER(PlacementPolicy, Greedy, "greedy",
                "experts sorted by load, each onto the least-loaded chip with room (replicas "
                "optional)");
MOESIM_REGISTER(PlacementPolicy, EplbHierarchical, "eplb_hierarchical",
                "DeepSeek EPLB: expert groups onto nodes, redundant replicas inside nodes, "
                "replicas onto chips");
MOESIM_REGISTER(PlacementPolicy, EplbGlobal, "eplb_global",
                "DeepSeek EPLB's global policy: redundant replicas, then onto chips");
MOESIM_REGISTER(PlacementPolicy, Affinity, "affinity",
                "ExFlow-style: a token's experts at consecutive layers on one chip, from the "
                "trace's inter-layer transitions");

}  // namespace
}  // namespace moesim
