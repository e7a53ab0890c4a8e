#include "rtl/rtl_verify.hpp"

#include <cstdlib>
#include <sstream>

#include <systemc>

#include "rtl/common/cosim_harness.hpp"

namespace moesim {

namespace rtl {

HarnessConfig harness_config(const std::string& variant, uint64_t cases, uint64_t seed,
                             ParamReader& r) {
  HarnessConfig cfg;
  cfg.cases = cases;
  cfg.seed = seed;
  cfg.stall_pct = static_cast<unsigned>(r.get_int("stall", 30));
  cfg.bubble_pct = static_cast<unsigned>(r.get_int("bubble", 30));
  if (cfg.stall_pct > 95 || cfg.bubble_pct > 95)
    throw std::invalid_argument("stall and bubble are percentages in 0..95");
  const std::string waves = r.get_str("waves", "");
  const char* env = std::getenv("MOESIM_WAVES");
  cfg.wave_path = "moesim_rtl_" + variant + "_seed" + std::to_string(seed) + ".vcd";
  if (!waves.empty() && waves != "0" && waves != "1") cfg.wave_path = waves;
  cfg.waves_all = (!waves.empty() && waves != "0") || (env && std::string(env) == "1");
  cfg.lanes = r.get_str("lanes", "both");
  if (cfg.lanes != "both" && cfg.lanes != "rtl" && cfg.lanes != "systemc")
    throw std::invalid_argument("lanes must be both, rtl or systemc");
  const int64_t fault = r.get_int("inject_fault", -1);
  if (fault >= 0 && static_cast<uint64_t>(fault) >= cases)
    throw std::invalid_argument("inject_fault=" + std::to_string(fault) +
                                " is not a case of this run (cases 0.." +
                                std::to_string(cases - 1) + ")");
  if (fault >= 0) cfg.fault_case = static_cast<uint64_t>(fault);
  return cfg;
}

}  // namespace rtl

int rtl_verify(const std::string& block, uint64_t cases, uint64_t seed, const ParamMap& params,
               std::ostream& report) {
  if (block == "topk_gate") return rtl_verify_topk_gate(cases, seed, params, report);
  if (block == "softmax") return rtl_verify_softmax(cases, seed, params, report);
  if (block == "systolic_tile") return rtl_verify_systolic_tile(cases, seed, params, report);
  if (block == "attention") return rtl_verify_attention(cases, seed, params, report);
  report << "rtl-verify: unknown block '" << block << "'\n" << rtl_verify_help();
  return 2;
}

std::string rtl_verify_help() {
  return "blocks and the RTL variants baked into this build (NAME=VALUE):\n"
         "  topk_gate      N,K,G,TG in {8,1,1,1} {8,2,1,1} {16,2,4,2} {256,8,8,4} (default "
         "256,8,8,4)\n"
         "  softmax        L,MODE in {2,online} {16,online} {256,online} {1024,online} "
         "{16,three_pass} "
         "{1024,three_pass} "
         "(default 16,online)\n"
         "  systolic_tile  R,C,ACC_W in {2,2,16} {4,4,32} {16,16,32} (default 4,4,32); runtime: "
         "BUFFERS=1|2 (2: the ping-pong weight tile, same shapes), MAX_M, MAX_KF, MAX_NF (largest "
         "M, "
         "K/R folds, N/C folds of random GEMMs)\n"
         "  attention      P,D,W in {2,4,2} {4,8,2} (default 4,8,2; RMAX 8 rows, LMAX 16 / 32 "
         "keys); runtime: MODE=reordered|naive|both (default both, per case), MAX_L (most keys "
         "of random cases)\n"
         "  all blocks     stall=PCT bubble=PCT (random back-pressure, default 30), "
         "waves=1|PATH (VCD of the whole run; also MOESIM_WAVES=1), lanes=both|rtl|systemc, "
         "inject_fault=CASE (self-test: corrupt that case's reference output)\n";
}

}  // namespace moesim
