#include "hw_models/memory/dram/timing_checker.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace moesim {

TimingChecker::TimingChecker(const DramSpec& spec) : m_spec(spec) {
  m_units.resize(spec.units());
  for (UnitHist& u : m_units) {
    u.banks.resize(spec.banks());
    u.group_act.assign(spec.bank_groups, kLongAgo);
    u.group_rd.assign(spec.bank_groups, kLongAgo);
    u.group_wr.assign(spec.bank_groups, kLongAgo);
  }
}

bool TimingChecker::fail(const DramCommand& c, const std::string& what) {
  if (m_first.empty()) {
    m_first = fmt::format("cycle {} ch{} pc{} bg{} ba{} {}: {}", c.cycle, c.channel,
                          c.pseudo_channel, c.bank_group, c.bank, to_string(c.type), what);
  }
  return false;
}

// `required` cycles must separate `since` from this command.
bool TimingChecker::need(const DramCommand& c, int64_t since, int64_t required, const char* name,
                         const char* after) {
  const int64_t t = static_cast<int64_t>(c.cycle);
  if (t - since >= required) return true;
  return fail(c, fmt::format("violates {}: {} cycles after {}, needs {}", name, t - since, after,
                             required));
}

bool TimingChecker::check_refresh_debt(const DramCommand* c, int unit, int64_t t) {
  // By cycle t, floor(t / tREFI) refreshes are owed; JEDEC lets a few be postponed.
  const int64_t owed = t / m_spec.tREFI;
  const int64_t debt = owed - static_cast<int64_t>(m_units[unit].refs);
  if (debt <= m_spec.max_postponed_refresh) return true;
  const std::string what =
      fmt::format("violates tREFI: {} REFs by cycle {}, {} owed (at most {} may be postponed)",
                  m_units[unit].refs, t, owed, m_spec.max_postponed_refresh);
  if (c) return fail(*c, what);
  if (m_first.empty())
    m_first = fmt::format("end of run ch{} pc{}: {}", unit / m_spec.pseudo_channels,
                          unit % m_spec.pseudo_channels, what);
  return false;
}

bool TimingChecker::precharge_bank(const DramCommand& c, UnitHist& u, int bank, int64_t t) {
  BankHist& b = u.banks[bank];
  bool ok = true;
  if (b.open) {  // PRE to a precharged bank is a legal no-op and starts no tRP
    ok = need(c, b.act, m_spec.tRAS, "tRAS", "ACT") && ok;
    ok = need(c, b.rd, m_spec.tRTP, "tRTP", "RD") && ok;
    ok = need(c, b.wr, int64_t{m_spec.tCWL} + m_spec.tBURST + m_spec.tWR, "tWR (CWL+BURST+tWR)",
              "WR") &&
         ok;
    b.open = false;
    b.row = -1;
    b.pre = t;
    u.any_pre = std::max(u.any_pre, t);
  }
  return ok;
}

bool TimingChecker::observe(const DramCommand& c) {
  ++m_commands;
  if (c.channel < 0 || c.channel >= m_spec.channels || c.pseudo_channel < 0 ||
      c.pseudo_channel >= m_spec.pseudo_channels)
    return fail(c, "channel or pseudo-channel out of range");
  const bool per_bank = c.type == DramCommandType::kAct || c.type == DramCommandType::kPre ||
                        c.type == DramCommandType::kRd || c.type == DramCommandType::kWr;
  if (per_bank && (c.bank_group < 0 || c.bank_group >= m_spec.bank_groups || c.bank < 0 ||
                   c.bank >= m_spec.banks_per_group))
    return fail(c, "bank group or bank out of range");

  const int unit = c.channel * m_spec.pseudo_channels + c.pseudo_channel;
  UnitHist& u = m_units[unit];
  const int64_t t = static_cast<int64_t>(c.cycle);
  bool ok = true;

  if (t < u.last_cmd)
    ok = fail(c, fmt::format("out of order (previous command at cycle {})", u.last_cmd));
  else if (t == u.last_cmd)
    ok = fail(c, "second command in one cycle on the pseudo-channel's command bus");
  u.last_cmd = std::max(u.last_cmd, t);
  ok = check_refresh_debt(&c, unit, t) && ok;

  const int g = c.bank_group;
  const int bi = c.bank_group * m_spec.banks_per_group + c.bank;

  // Data bus: a burst occupies [start, start + tBURST); bursts must not overlap.
  auto claim_bus = [&](int64_t start) {
    const int64_t end = start + m_spec.tBURST;
    for (const auto& [s, e] : u.bursts) {
      if (start < e && s < end)
        return fail(c, fmt::format("data bus overlap: burst [{}, {}) collides with [{}, {})", start,
                                   end, s, e));
    }
    u.bursts.emplace_back(start, end);
    if (u.bursts.size() > 16) u.bursts.erase(u.bursts.begin());
    return true;
  };

  switch (c.type) {
    case DramCommandType::kAct: {
      BankHist& b = u.banks[bi];
      if (b.open)
        ok = fail(c, fmt::format("ACT to a bank with row {} still open (needs PRE)", b.row)) && ok;
      ok = need(c, b.act, m_spec.tRC, "tRC", "ACT to the same bank") && ok;
      ok = need(c, b.pre, m_spec.tRP, "tRP", "PRE") && ok;
      ok = need(c, u.group_act[g], m_spec.tRRD_L, "tRRD_L", "ACT in the same bank group") && ok;
      ok = need(c, u.any_act, m_spec.tRRD_S, "tRRD_S", "ACT in the pseudo-channel") && ok;
      if (u.acts.size() >= 4)
        ok = need(c, u.acts[u.acts.size() - 4], m_spec.tFAW, "tFAW", "the fourth-last ACT") && ok;
      ok = need(c, u.ref, m_spec.tRFC, "tRFC", "REF") && ok;
      b.open = true;
      b.row = c.row;
      b.act = t;
      u.group_act[g] = t;
      u.any_act = t;
      u.acts.push_back(t);
      if (u.acts.size() > 4) u.acts.erase(u.acts.begin());
      break;
    }
    case DramCommandType::kRd:
    case DramCommandType::kWr: {
      const bool wr = c.type == DramCommandType::kWr;
      BankHist& b = u.banks[bi];
      if (!b.open) {
        ok = fail(c, "column access to a precharged bank") && ok;
      } else if (b.row != c.row) {
        ok = fail(c, fmt::format("column access to row {} but row {} is open", c.row, b.row)) && ok;
      }
      if (wr) {
        ok = need(c, b.act, m_spec.tRCD_wr, "tRCD (write)", "ACT") && ok;
        ok = need(c, u.group_wr[g], m_spec.tCCD_L, "tCCD_L", "WR in the same bank group") && ok;
        ok = need(c, u.any_wr, m_spec.tCCD_S, "tCCD_S", "WR") && ok;
        ok = claim_bus(t + m_spec.tCWL) && ok;
        b.wr = t;
        u.group_wr[g] = t;
        u.any_wr = t;
      } else {
        ok = need(c, b.act, m_spec.tRCD_rd, "tRCD (read)", "ACT") && ok;
        ok = need(c, u.group_rd[g], m_spec.tCCD_L, "tCCD_L", "RD in the same bank group") && ok;
        ok = need(c, u.any_rd, m_spec.tCCD_S, "tCCD_S", "RD") && ok;
        const int64_t wdata = int64_t{m_spec.tCWL} + m_spec.tBURST;
        ok = need(c, u.group_wr[g], wdata + m_spec.tWTR_L, "tWTR_L (CWL+BURST+tWTR_L)",
                  "WR in the same bank group") &&
             ok;
        ok = need(c, u.any_wr, wdata + m_spec.tWTR_S, "tWTR_S (CWL+BURST+tWTR_S)", "WR") && ok;
        ok = claim_bus(t + m_spec.tCL) && ok;
        b.rd = t;
        u.group_rd[g] = t;
        u.any_rd = t;
      }
      break;
    }
    case DramCommandType::kPre:
      ok = precharge_bank(c, u, bi, t) && ok;
      break;
    case DramCommandType::kPreA:
      for (int i = 0; i < static_cast<int>(u.banks.size()); ++i)
        ok = precharge_bank(c, u, i, t) && ok;
      break;
    case DramCommandType::kRef: {
      for (int i = 0; i < static_cast<int>(u.banks.size()); ++i) {
        if (u.banks[i].open) {
          ok =
              fail(c, fmt::format("REF with bank {} open (all banks must be precharged)", i)) && ok;
          break;
        }
      }
      ok = need(c, u.any_pre, m_spec.tRP, "tRP", "PRE") && ok;
      ok = need(c, u.any_act, m_spec.tRC, "tRC", "ACT") && ok;
      ok = need(c, u.ref, m_spec.tRFC, "tRFC", "REF") && ok;
      u.ref = t;
      ++u.refs;
      break;
    }
  }
  return ok;
}

bool TimingChecker::finish(uint64_t end_cycle) {
  for (int i = 0; i < static_cast<int>(m_units.size()); ++i)
    check_refresh_debt(nullptr, i, static_cast<int64_t>(end_cycle));
  return ok();
}

}  // namespace moesim
