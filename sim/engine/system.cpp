#include "sim/engine/system.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "sim/core/registry.hpp"
#include "sim/engine/residency_config.hpp"

namespace moesim {

SystemStats::SystemStats(uint32_t chips, uint32_t moe_layers)
    : StatGroup("system"),
      routed_imbalance(this, "routed_imbalance", "1",
                       "max over chips / mean over chips of routed token copies their experts "
                       "ran, whole run (1 = balanced)",
                       [this] {
                         uint64_t mx = 0;
                         uint64_t sum = 0;
                         for (uint64_t r : routed) {
                           mx = std::max(mx, r);
                           sum += r;
                         }
                         return sum == 0
                                    ? 1.0
                                    : static_cast<double>(mx) * static_cast<double>(routed.size()) /
                                          static_cast<double>(sum);
                       }),
      routed(chips, 0),
      layer_sum(moe_layers, 0.0) {
  for (int r = 0; r < kNumCommRoles; ++r) {
    const std::string role = comm_role_name(static_cast<CommRole>(r));
    role_bytes[r] = std::make_unique<Counter>(
        this, role + "_bytes", "B",
        r == static_cast<int>(CommRole::kDispatch) || r == static_cast<int>(CommRole::kCombine) ||
                r == static_cast<int>(CommRole::kRebalance)
            ? "bytes between chips in " + role +
                  " collectives, as the routing implies (a "
                  "relay's forwarding not counted again)"
            : "bytes the " + role + " algorithm sent between chips");
  }
  for (uint32_t l = 0; l < moe_layers; ++l) {
    layer_imbalance.push_back(std::make_unique<Scalar>(
        this, fmt::format("moe_layer{}_imbalance", l), "1",
        fmt::format("max / mean over chips of routed copies at MoE layer {}, mean over steps", l)));
  }
  auto ratio = [](uint64_t a, uint64_t b) {
    return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
  };
  step_imbalance = std::make_unique<Formula>(
      this, "step_imbalance", "1",
      "max / mean over chips of routed copies per step and MoE layer, mean over both (moesim "
      "place's step peak/avg)",
      [this] { return steps == 0 ? 1.0 : step_imbalance_sum / static_cast<double>(steps); });
  leave_chip = std::make_unique<Formula>(
      this, "leave_chip", "1",
      "routed copies whose replica is on another chip than the token's dispatching chip, of all",
      [this, ratio] { return ratio(sums.leave_chip, sums.copies); });
  leave_node = std::make_unique<Formula>(
      this, "leave_node", "1", "routed copies whose replica is in another node, of all",
      [this, ratio] { return ratio(sums.leave_node, sums.copies); });
  hops_per_token = std::make_unique<Formula>(
      this, "hops_per_token", "hops",
      "link hops per token and MoE layer: one message per destination chip, 1 hop inside the "
      "node, 2 to another (as moesim place counts them)",
      [this, ratio] { return ratio(sums.hops, sums.token_layers); });
  cross_transitions = std::make_unique<Formula>(
      this, "cross_chip_transitions", "1",
      "pairs (a token's copy at a MoE layer, its copy at the next) on two chips, of all such "
      "pairs",
      [this, ratio] { return ratio(sums.cross, sums.transitions); });
  dispatch_time = std::make_unique<Scalar>(
      this, "dispatch_time", "s",
      "time from arriving at a dispatch collective to finishing its part, summed over "
      "collectives and chips, divided by the chips");
  combine_time =
      std::make_unique<Scalar>(this, "combine_time", "s", "the same for the combine collectives");
  rebalances = std::make_unique<Counter>(
      this, "rebalances", "rebalances",
      "placements recomputed from the moving-average load ([mapping.placement] rebalance_every)");
  moved_experts = std::make_unique<Counter>(
      this, "moved_experts", "experts",
      "expert copies moved to a chip that did not hold them, summed over the expert-parallel "
      "groups (each moves expert_bytes: rebalance_bytes)");
  rebalance_time = std::make_unique<Scalar>(this, "rebalance_time", "s",
                                            "the same as dispatch_time for the expert moves");
}

System::System(const RunSpec& spec, SystemPlanner& planner, Sequencer::Done done) : m_spec(spec) {
  const uint32_t n = planner.chips();
  std::vector<std::string> tier_names;
  for (const auto& t : spec.chip.tiers) tier_names.push_back(t.first);
  auto tier_index = [&](const std::string& name) {
    return static_cast<uint8_t>(std::find(tier_names.begin(), tier_names.end(), name) -
                                tier_names.begin());
  };
  const ResidencySpec& rs = spec.residency;
  std::vector<uint8_t> chain;
  if (rs.enabled()) {
    chain.push_back(rs.home_index);
    for (size_t i = rs.levels.size(); i-- > 0;) chain.push_back(rs.levels[i].tier_index);
  }
  // A first pass over the trace, once, for static levels without a counts file.
  std::vector<uint64_t> counts;
  if (rs.enabled()) {
    for (const CacheLevelSpec& l : rs.levels) {
      if (l.policy.facts().pins_most_used && l.counts.empty() && counts.empty()) {
        counts = expert_use_counts(spec, l);
      }
    }
  }
  // Each chip caches its own share of an expert: a 1/tensor_parallel slice of every expert
  // with tensor-parallel experts, the whole expert otherwise.
  const uint64_t expert_bytes =
      n > 1 && spec.parallel.expert_tensor_parallel
          ? SystemPlanner::tensor_slice(spec.model, spec.parallel.tensor_parallel, true)
                .expert_bytes()
          : spec.model.expert_bytes();
  m_slots.resize(n);
  for (ChipId c = 0; c < n; ++c) {
    ChipSlot& s = m_slots[c];
    const std::string name = fmt::format("chip{}", c);
    s.chip = std::make_unique<Chip>(name.c_str(), spec.chip);
    s.tier_stats =
        std::make_unique<TierStats>(&s.chip->stats(), tier_names, chain, spec.chip.clock_hz);
    if (rs.enabled()) {
      s.residency =
          std::make_unique<ResidencyManager>(rs, spec.model.moe_layers(), spec.model.experts,
                                             expert_bytes, true, counts, s.tier_stats.get());
      planner.set_store(c, s.residency.get());
    }
  }
  if (n > 1) {
    const auto* entry = Registry<Network>::instance().find(spec.system.network.type);
    if (!entry) throw InternalError("unregistered network type '" + spec.system.network.type + "'");
    m_net = entry->create(
        Network::Args{"network", spec.system.network.params, spec.system.topology, nullptr});
    m_exec = std::make_unique<CollectiveExecutor>(*m_net, [this](uint32_t instance, ChipId c) {
      CommUnit& comm = *m_slots[c].comm;
      comm.collective_done(instance);
      const CommRole role = m_role_of[instance];
      if (role == CommRole::kDispatch || role == CommRole::kCombine ||
          role == CommRole::kRebalance) {
        Scalar& s = role == CommRole::kDispatch  ? *m_stats->dispatch_time
                    : role == CommRole::kCombine ? *m_stats->combine_time
                                                 : *m_stats->rebalance_time;
        s += comm.last_wait() / static_cast<double>(m_slots.size());
      }
    });
    m_stats = std::make_unique<SystemStats>(n, spec.model.moe_layers());
    for (ChipId c = 0; c < n; ++c) {
      ChipSlot& s = m_slots[c];
      const std::string name = fmt::format("chip{}_comm", c);
      s.comm = std::make_unique<CommUnit>(name.c_str(), c, spec.chip.clock_hz, &s.chip->stats());
      s.comm->set_executor(m_exec.get());
    }
  }
  // Sequencers after every chip, so SystemC's processes are created in the same order as
  // a one-chip run always made them.
  for (ChipId c = 0; c < n; ++c) {
    ChipSlot& s = m_slots[c];
    const std::string name = fmt::format("sequencer{}", c);
    s.sequencer = std::make_unique<Sequencer>(name.c_str(), *s.chip, c, done, s.tier_stats.get(),
                                              tier_index(spec.chip.weights_tier),
                                              tier_index(spec.chip.kv_cache_tier));
    if (s.comm) s.sequencer->set_comm(s.comm.get());
    if (spec.fusion.enabled) s.sequencer->set_fusion(spec.fusion);
    m_plans.push_back(&s.sequencer->plan());
  }
}

System::~System() = default;

void System::begin_step(const std::vector<CollectiveRequest>& collectives,
                        const StepBalance& balance) {
  if (!m_exec) return;
  m_exec->reset();
  m_role_of.clear();
  for (const CollectiveRequest& r : collectives) m_role_of.push_back(r.role);
  const Topology& topo = m_spec.system.topology;
  for (const CollectiveRequest& r : collectives) {
    CollectiveSchedule sch;
    const int role = static_cast<int>(r.role);
    switch (r.role) {
      case CommRole::kDispatch:
      case CommRole::kCombine:
      case CommRole::kRebalance: {
        sch = all_to_all_v(topo, r.group, r.bytes, m_spec.dispatch_algo);
        // What the routing implies crosses between chips (relays not counted again).
        const size_t g = r.group.size();
        uint64_t crossing = 0;
        for (size_t i = 0; i < g; ++i) {
          for (size_t j = 0; j < g; ++j) crossing += i == j ? 0 : r.bytes[i * g + j];
        }
        *m_stats->role_bytes[role] += crossing;
        break;
      }
      case CommRole::kAllReduce:
        sch = all_reduce(topo, r.group, r.bytes[0], m_spec.reduce_algo);
        break;
      case CommRole::kAllGather:
        sch = all_gather(topo, r.group, r.bytes[0], CollectiveAlgo::kRing);
        break;
    }
    for (const ScheduledMessage& msg : sch.messages) {
      m_slots[msg.src].comm->count_sent(r.role, msg.bytes);
      // Reductions and gathers: what the algorithm sends.
      if (r.role == CommRole::kAllReduce || r.role == CommRole::kAllGather) {
        *m_stats->role_bytes[role] += msg.bytes;
      }
    }
    m_exec->add(std::move(sch));
    ++m_stats->collectives;
  }
  if (balance.rebalanced) ++*m_stats->rebalances;
  *m_stats->moved_experts += balance.moved;
  for (size_t c = 0; c < balance.routed.size(); ++c) m_stats->routed[c] += balance.routed[c];
  ++m_stats->steps;
  StepBalance& s = m_stats->sums;
  s.copies += balance.copies;
  s.leave_chip += balance.leave_chip;
  s.leave_node += balance.leave_node;
  s.hops += balance.hops;
  s.token_layers += balance.token_layers;
  s.transitions += balance.transitions;
  s.cross += balance.cross;
  double layers_sum = 0;
  for (double x : balance.layer_imbalance) layers_sum += x;
  m_stats->step_imbalance_sum +=
      balance.layer_imbalance.empty()
          ? 1.0
          : layers_sum / static_cast<double>(balance.layer_imbalance.size());
  for (size_t l = 0; l < balance.layer_imbalance.size(); ++l) {
    m_stats->layer_sum[l] += balance.layer_imbalance[l];
    m_stats->layer_imbalance[l]->set(m_stats->layer_sum[l] / static_cast<double>(m_stats->steps));
  }
}

bool System::needs_lookahead() const {
  return !m_slots.empty() && m_slots[0].residency &&
         m_slots[0].residency->spec().lookahead_steps() > 0;
}

void System::step_entered(const TraceStep& step) {
  for (ChipSlot& s : m_slots) {
    if (s.residency) s.residency->step_entered(step);
  }
}

void System::finish() {
  for (ChipSlot& s : m_slots) {
    if (s.residency) s.residency->finish();
  }
}

void System::visit(const std::function<void(const std::string&, const Stat&)>& fn) const {
  for (const ChipSlot& s : m_slots) s.chip->stats().visit(fn);
  if (!m_net) return;
  m_stats->visit(fn);
  m_net->visit_stats(fn);
}

std::string System::describe_pending() const {
  std::string out;
  for (const ChipSlot& s : m_slots) {
    const std::string chip = s.sequencer->describe_pending();
    if (!chip.empty()) out += (out.empty() ? "" : "; ") + chip;
  }
  if (m_exec) {
    const std::string coll = m_exec->describe_pending();
    if (!coll.empty()) out += (out.empty() ? "" : "; ") + coll;
  }
  return out;
}

}  // namespace moesim
