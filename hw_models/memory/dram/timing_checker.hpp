#pragma once
/// Independent JEDEC timing-legality checker for a stream of DRAM commands.
///
/// It keeps its own history of what each bank, bank group and pseudo-channel did and checks
/// every new command against the spec's numbers directly (it shares no state or logic with
/// the controller), so a scheduling bug shows up as a violation instead of being hidden.
/// Checked: one command per pseudo-channel per cycle, ACT only to a precharged bank, RD/WR
/// only to the open row, tRCD (rd/wr), tRP, tRAS, tRC, tCCD_S/L, tRRD_S/L, tFAW, tWTR_S/L,
/// tWR, tRTP, tRFC, data-bus overlap from CL/CWL/tBURST, and tREFI (at most
/// max_postponed_refresh REFs owed at any time).

#include <cstdint>
#include <string>
#include <vector>

#include "hw_models/memory/dram/dram_command.hpp"
#include "hw_models/memory/dram/dram_spec.hpp"

namespace moesim {

/// Observes issued commands and reports the first timing violation.
class TimingChecker {
 public:
  /// A checker for memories built from `spec` (the spec is copied).
  explicit TimingChecker(const DramSpec& spec);
  /// Checks `c` (commands must arrive in non-decreasing cycle order); false if illegal.
  bool observe(const DramCommand& c);
  /// Checks the refresh debt at the end of the run; false if any violation so far.
  bool finish(uint64_t end_cycle);
  /// True while no violation has been seen.
  bool ok() const { return m_first.empty(); }
  /// The first violation as one line, or "" if none.
  const std::string& first_violation() const { return m_first; }
  /// Commands observed.
  uint64_t commands() const { return m_commands; }

 private:
  struct BankHist {
    bool open = false;
    int64_t row = -1;
    int64_t act = kLongAgo, pre = kLongAgo, rd = kLongAgo, wr = kLongAgo;
  };
  struct UnitHist {
    std::vector<BankHist> banks;
    std::vector<int64_t> group_act, group_rd, group_wr;  // last per bank group
    int64_t any_act = kLongAgo, any_rd = kLongAgo, any_wr = kLongAgo, any_pre = kLongAgo;
    int64_t ref = kLongAgo;
    uint64_t refs = 0;
    int64_t last_cmd = kLongAgo;
    std::vector<int64_t> acts;                        // recent ACT cycles (last four kept)
    std::vector<std::pair<int64_t, int64_t>> bursts;  // recent data-bus [start, end)
  };
  static constexpr int64_t kLongAgo = -(int64_t{1} << 40);

  bool fail(const DramCommand& c, const std::string& what);
  bool need(const DramCommand& c, int64_t since, int64_t required, const char* name,
            const char* after);
  bool check_refresh_debt(const DramCommand* c, int unit, int64_t t);
  bool precharge_bank(const DramCommand& c, UnitHist& u, int bank, int64_t t);

  DramSpec m_spec;
  std::vector<UnitHist> m_units;
  std::string m_first;
  uint64_t m_commands = 0;
};

}  // namespace moesim
