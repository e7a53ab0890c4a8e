#include "sim/cli/cmd_rtl_verify.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/cli/cli_util.hpp"

#if MOESIM_WITH_RTL
#include <systemc>

#include "rtl/rtl_verify.hpp"
#endif

namespace moesim {

namespace {

/// Refuses a --wave file that cannot be written, before the run: Verilator's tracer would
/// fail silently and the run exit 0 with no waveform.
void check_wave_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw InputError(fmt::format("rtl-verify: --wave '{}' is a directory", path));
  }
  const bool existed = fs::exists(path, ec);
  {
    // Append mode: an existing file is not truncated by the probe.
    errno = 0;
    std::ofstream probe(path, std::ios::app);
    if (!probe) {
      throw InputError(fmt::format("rtl-verify: cannot write --wave file '{}' ({})", path,
                                   errno != 0 ? std::strerror(errno) : "cannot open"));
    }
  }
  if (!existed) fs::remove(path, ec);
}

constexpr const char* kRtlVerifyHelp =
    R"(usage: moesim rtl-verify BLOCK [--cases N] [--seed S] [--param NAME=VALUE]...
                          [--wave FILE] [--inject-fault CASE]

Runs N cases (directed edge cases first, then random ones from seed S) of an RTL block
through its bit-exact C++ reference, its SystemC model and the verilated RTL in lock step,
with random back-pressure (bubbles on in_valid, stalls on out_ready). Compares the output
values of both devices with the reference, the cycle of every handshake of the RTL with the
SystemC model, and the cycles of every no-stall case with the block's cycle contract.
Prints the pass count and the co-simulation speed in cycles/s. On the first mismatch it
prints the inputs, the reference and both devices' outputs and cycle counts, replays the
failing case into a VCD waveform and prints its path; exit code 1.

BLOCK is topk_gate, softmax, systolic_tile or attention (see rtl/README.md).

  --cases N            cases to run (default 1000, at least 1)
  --seed S             seed of the random cases (default 1)
  --param NAME=VALUE   block parameter (repeatable); the accepted names and the shapes
                       baked into this build are listed below
  --wave FILE          write a VCD of the whole run to FILE (also: MOESIM_WAVES=1, which
                       writes moesim_rtl_<variant>_seed<S>.vcd); without it no waveform is
                       written unless a case fails
  --inject-fault CASE  self-test of the checker: corrupt the reference output of case CASE
                       (0-based), so the run must report a mismatch there and write its VCD

exit codes: 0 all cases matched, 1 mismatch, 2 bad arguments or a build without RTL
)";

const std::vector<std::string> kBlocks = {"topk_gate", "softmax", "systolic_tile", "attention"};

}  // namespace

int cmd_rtl_verify(const std::vector<std::string>& args) {
  const std::string cmd = "rtl-verify";
  if (wants_help(args)) {
    std::fputs(kRtlVerifyHelp, stdout);
#if MOESIM_WITH_RTL
    std::fputs(rtl_verify_help().c_str(), stdout);
#else
    std::fputs("this build has no RTL (configured with -DMOESIM_WITH_RTL=OFF)\n", stdout);
#endif
    return 0;
  }
  std::string block;
  uint64_t cases = 1000, seed = 1;
  std::map<std::string, std::string> params;
  const std::vector<std::string> known = {"--cases", "--seed", "--param", "--wave",
                                          "--inject-fault"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() > 1 && a[0] == '-') {
      if (std::find(known.begin(), known.end(), a) == known.end()) unknown_option(cmd, a, known);
      if (i + 1 >= args.size()) usage_error(cmd, fmt::format("{} needs a value", a));
      const std::string v = args[++i];
      if (a == "--cases") {
        cases = parse_u64(cmd, a, v);
        if (cases == 0) usage_error(cmd, "--cases must be at least 1");
      } else if (a == "--seed") {
        seed = parse_u64(cmd, a, v);
      } else if (a == "--param") {
        const size_t eq = v.find('=');
        if (eq == std::string::npos || eq == 0)
          usage_error(cmd, fmt::format("--param expects NAME=VALUE, got '{}'", v));
        params[v.substr(0, eq)] = v.substr(eq + 1);
      } else if (a == "--wave") {
        if (v.empty()) usage_error(cmd, "--wave needs a file name");
        check_wave_path(v);
        params["waves"] = v;
      } else {
        params["inject_fault"] = std::to_string(parse_u64(cmd, a, v));
      }
    } else if (block.empty()) {
      block = a;
    } else {
      usage_error(cmd, fmt::format("unexpected argument '{}'", a));
    }
  }
  if (block.empty())
    usage_error(cmd, "missing BLOCK (topk_gate, softmax, systolic_tile or attention)");
  if (std::find(kBlocks.begin(), kBlocks.end(), block) == kBlocks.end()) {
    const std::string hint = did_you_mean(block, kBlocks);
    usage_error(cmd,
                fmt::format("unknown block '{}'{}", block,
                            hint.empty() ? " (blocks: topk_gate, softmax, systolic_tile, attention)"
                                         : " (did you mean '" + hint + "'?)"));
  }
#if MOESIM_WITH_RTL
  // The harness ends with sc_stop(); its "simulation stopped by user" note is not a result.
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  std::ostringstream report;
  const int rc = rtl_verify(block, cases, seed, params, report);
  if (rc == 2) {
    // rtl_verify reports "rtl-verify BLOCK: problem" (then, for shapes, the baked variants).
    std::string line = report.str().substr(0, report.str().find('\n'));
    const std::string prefix = "rtl-verify ";
    if (line.rfind(prefix, 0) == 0) line = line.substr(prefix.size());
    usage_error(cmd, line);
  }
  std::fputs(report.str().c_str(), stdout);
  return rc;
#else
  (void)cases;
  (void)seed;
  throw InputError(
      "rtl-verify: this build has no RTL (configured with -DMOESIM_WITH_RTL=OFF); "
      "reconfigure with -DMOESIM_WITH_RTL=ON");
#endif
}

}  // namespace moesim
