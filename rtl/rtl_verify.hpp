#pragma once
/// Entry points of the RTL co-simulation: reference model vs SystemC model vs verilated RTL.

#include <cstdint>
#include <map>
#include <ostream>
#include <string>

namespace moesim {

/// Parameters of rtl_verify: NAME=VALUE pairs (see rtl/README.md for the accepted names).
using ParamMap = std::map<std::string, std::string>;

/// Runs `cases` cases (directed edge cases first, then random ones from `seed`) of `block`
/// ("topk_gate", "softmax", "systolic_tile", "attention") through the reference model, the SystemC
/// model and the RTL in lock step with random back-pressure. On the first mismatch it prints the
/// inputs, every output and cycle count, and replays the case into a VCD (path printed).
/// Returns 0 on pass, 1 on mismatch, 2 on bad parameters. Calls sc_start, so it may run once
/// per process and only before any other simulation.
int rtl_verify(const std::string& block, uint64_t cases, uint64_t seed, const ParamMap& params,
               std::ostream& report);

/// rtl_verify("topk_gate", ...).
int rtl_verify_topk_gate(uint64_t cases, uint64_t seed, const ParamMap& params,
                         std::ostream& report);
/// rtl_verify("softmax", ...).
int rtl_verify_softmax(uint64_t cases, uint64_t seed, const ParamMap& params, std::ostream& report);
/// rtl_verify("systolic_tile", ...).
int rtl_verify_systolic_tile(uint64_t cases, uint64_t seed, const ParamMap& params,
                             std::ostream& report);

/// rtl_verify("attention", ...).
int rtl_verify_attention(uint64_t cases, uint64_t seed, const ParamMap& params,
                         std::ostream& report);

/// One line per block: its baked RTL variants and the parameters it accepts.
std::string rtl_verify_help();

namespace rtl {
using moesim::ParamMap;
}  // namespace rtl

}  // namespace moesim
