// Co-simulation of rtl/softmax: reference vs SystemC model vs verilated RTL.
#include <verilated.h>
#include <verilated_vcd_sc.h>

#include "Vsoftmax_online_l1024.h"
#include "Vsoftmax_online_l16.h"
#include "Vsoftmax_online_l2.h"
#include "Vsoftmax_online_l256.h"
#include "Vsoftmax_three_pass_l1024.h"
#include "Vsoftmax_three_pass_l16.h"

#include <cmath>
#include <sstream>

#include "rtl/common/cosim_run.hpp"
#include "rtl/softmax/softmax_model.hpp"
#include "rtl/softmax/softmax_ref.hpp"

namespace moesim {
namespace rtl {
namespace {

std::vector<std::vector<int16_t>> directed_scores(int n) {
  std::vector<std::vector<int16_t>> d;
  d.emplace_back(n, 0);                // all equal: 1/L each
  d.emplace_back(n, int16_t{32767});   // all at the positive limit
  d.emplace_back(n, int16_t{-32768});  // all at the negative limit
  std::vector<int16_t> v(n, -32768);
  v[n - 1] = 32767;
  d.push_back(v);  // one dominant score, last: every exp but one underflows to 0
  v.assign(n, -32768);
  v[0] = 32767;
  d.push_back(v);  // dominant first
  for (int i = 0; i < n; ++i) v[i] = static_cast<int16_t>(i * 256);
  d.push_back(v);  // ascending: the online max changes on every score (rescale path)
  for (int i = 0; i < n; ++i) v[i] = static_cast<int16_t>(-i * 256);
  d.push_back(v);  // descending: the max never changes
  for (int i = 0; i < n; ++i) v[i] = (i % 2) ? int16_t{32767} : int16_t{-32768};
  d.push_back(v);  // alternating extremes
  for (int i = 0; i < n; ++i) v[i] = static_cast<int16_t>(i % 2);
  d.push_back(v);  // near-ties, 1 LSB apart
  return d;
}

CaseSource softmax_source(const SoftmaxParams& p) {
  CaseSource src;
  const auto directed = directed_scores(p.length);
  src.make = [p, directed](uint64_t idx, std::mt19937_64& rng) {
    Case c;
    std::vector<int16_t> x;
    if (idx < 2 * directed.size()) {
      x = directed[idx % directed.size()];
      c.stalls = idx >= directed.size();
    } else {
      x.resize(p.length);
      const int mode = static_cast<int>(rng() % 4);
      for (auto& v : x) {
        if (mode == 0) v = static_cast<int16_t>(rng());                     // full Q8.8 range
        if (mode == 1) v = static_cast<int16_t>(int(rng() % 4096) - 2048);  // +-8: typical logits
        if (mode == 2) v = static_cast<int16_t>(int(rng() % 5) - 2);        // ties
        if (mode == 3) v = static_cast<int16_t>(int(rng() % 512) + 32000);  // near the limit
      }
      c.stalls = rng() % 4 != 0;
    }
    std::ostringstream os;
    os << "scores(Q8.8)=[";
    for (int i = 0; i < p.length; ++i) {
      Beat b;
      b.w[0] = static_cast<uint16_t>(x[i]);
      c.in.push_back(b);
      os << (i ? "," : "") << x[i];
    }
    SoftmaxTrace tr;
    const auto y = softmax_ref(x, p, &tr);
    os << "] ref: max=" << tr.max << " sum(Q.16)=" << tr.sum << " recip(Q1.24)=" << tr.recip;
    c.desc = os.str();
    for (int i = 0; i < p.length; ++i) {
      Beat b;
      b.w[0] = y[i];
      b.last = i + 1 == p.length;
      c.out.push_back(b);
    }
    const uint64_t passes = p.three_pass ? 3 : 2;
    c.contract_cycles = passes * p.length + 2;
    c.contract_stat = passes * p.length;
    return c;
  };
  src.format_out = [](const Beat& b) {
    std::ostringstream os;
    os << "p=" << b.w[0] << " (" << b.w[0] / 65536.0 << ")";
    return os.str();
  };
  return src;
}

template <class Rtl>
int run(const std::string& variant, const HarnessConfig& cfg, const SoftmaxParams& p,
        std::ostream& report) {
  report << variant << ": contract " << (p.three_pass ? 3 : 2)
         << "L+2 = " << (p.three_pass ? 3 : 2) * p.length + 2
         << " cycles from first score in to last "
         << "probability out, " << (p.three_pass ? 3 : 2) * p.length << " score reads per vector\n";
  return run_cosim<Rtl, SoftmaxModel>(
      variant, cfg, softmax_source(p),
      [p] { return std::make_unique<SoftmaxModel>("systemc_model", p); }, report);
}

}  // namespace
}  // namespace rtl

int rtl_verify_softmax(uint64_t cases, uint64_t seed, const ParamMap& params,
                       std::ostream& report) {
  using namespace rtl;
  try {
    ParamReader r(params);
    SoftmaxParams p;
    p.length = static_cast<int>(r.get_int("L", 16));
    const std::string mode = r.get_str("MODE", "online");
    if (mode != "online" && mode != "three_pass")
      throw std::invalid_argument("MODE must be online or three_pass");
    p.three_pass = mode == "three_pass";
    const std::string variant = "softmax_" + mode + "_l" + std::to_string(p.length);
    const HarnessConfig cfg = harness_config(variant, cases, seed, r);
    r.finish("L, MODE, stall, bubble, waves, lanes, inject_fault");
    if (!p.three_pass && p.length == 2) return run<Vsoftmax_online_l2>(variant, cfg, p, report);
    if (!p.three_pass && p.length == 16) return run<Vsoftmax_online_l16>(variant, cfg, p, report);
    if (!p.three_pass && p.length == 256) return run<Vsoftmax_online_l256>(variant, cfg, p, report);
    if (!p.three_pass && p.length == 1024)
      return run<Vsoftmax_online_l1024>(variant, cfg, p, report);
    if (p.three_pass && p.length == 16)
      return run<Vsoftmax_three_pass_l16>(variant, cfg, p, report);
    if (p.three_pass && p.length == 1024)
      return run<Vsoftmax_three_pass_l1024>(variant, cfg, p, report);
    throw std::invalid_argument("no RTL build for " + variant + "\n" + rtl_verify_help());
  } catch (const std::invalid_argument& e) {
    report << "rtl-verify softmax: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace moesim
