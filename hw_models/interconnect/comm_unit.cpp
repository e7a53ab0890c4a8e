#include "hw_models/interconnect/comm_unit.hpp"

#include <string>

namespace moesim {

CommStats::CommStats(StatGroup* g)
    : collective_time(g, "collective_time", "s",
                      "time from arriving at a collective to this chip's part being done, "
                      "summed over collectives (waiting for peers and for the links)") {
  for (int r = 0; r < kNumCommRoles; ++r) {
    const std::string role = comm_role_name(static_cast<CommRole>(r));
    role_bytes[r] = std::make_unique<Counter>(
        g, role + "_bytes", "B",
        "bytes this chip sent in " + role + " collectives (relayed bytes included)");
  }
}

CommUnit::CommUnit(const sc_core::sc_module_name& name, ChipId chip, double clock_hz,
                   StatGroup* stats_parent, uint32_t slots)
    : Unit(name, slots, clock_hz, stats_parent, "comm"), m_chip(chip) {
  m_stats = std::make_unique<CommStats>(m_unit_stats.get());
}

CommUnit::~CommUnit() = default;

void CommUnit::start(uint32_t op) {
  const Op& o = m_plan->ops[op];
  if (m_op_of.size() <= o.collective) {
    m_op_of.resize(o.collective + 1);
    m_arrived.resize(o.collective + 1);
  }
  m_op_of[o.collective] = op;
  m_arrived[o.collective] = sc_core::sc_time_stamp();
  m_exec->arrive(o.collective, m_chip);
}

void CommUnit::collective_done(uint32_t instance) {
  m_last_wait = (sc_core::sc_time_stamp() - m_arrived[instance]).to_seconds();
  m_stats->collective_time += m_last_wait;
  complete(m_op_of[instance]);
}

}  // namespace moesim
