// Co-simulation of rtl/topk_gate: reference vs SystemC model vs verilated RTL.
#include <verilated.h>
#include <verilated_vcd_sc.h>

#include "Vtopk_gate_n16_k2_g4_tg2.h"
#include "Vtopk_gate_n256_k8_g8_tg4.h"
#include "Vtopk_gate_n8_k1.h"
#include "Vtopk_gate_n8_k2.h"

#include <sstream>

#include "rtl/common/cosim_run.hpp"
#include "rtl/topk_gate/topk_gate_model.hpp"
#include "rtl/topk_gate/topk_gate_ref.hpp"

namespace moesim {
namespace rtl {
namespace {

std::vector<std::vector<int16_t>> directed_scores(const TopkGateParams& p) {
  const int n = p.n;
  std::vector<std::vector<int16_t>> d;
  d.emplace_back(n, 0);                // all equal: ids 0..K-1
  d.emplace_back(n, int16_t{32767});   // all at the positive limit
  d.emplace_back(n, int16_t{-32768});  // all at the negative limit
  std::vector<int16_t> v(n);
  for (int i = 0; i < n; ++i) v[i] = static_cast<int16_t>(i * 97 - 12000);
  d.push_back(v);  // ascending
  for (int i = 0; i < n; ++i) v[i] = static_cast<int16_t>(12000 - i * 97);
  d.push_back(v);  // descending
  for (int i = 0; i < n; ++i) v[i] = (i % 2) ? int16_t{32767} : int16_t{-32768};
  d.push_back(v);  // alternating extremes
  for (int i = 0; i < n; ++i) v[i] = static_cast<int16_t>((i % 3) - 1);
  d.push_back(v);  // many ties among three values
  v.assign(n, -5);
  v[0] = 7;
  v[n - 1] = 7;
  d.push_back(v);  // tie at the maximum, first and last id
  if (p.groups > 1) {
    // Equal group sums built from different top-2 pairs: ties go to the lower group id.
    const int gs = n / p.groups;
    v.assign(n, -100);
    for (int g = 0; g < p.groups; ++g) {
      v[g * gs] = static_cast<int16_t>(g % 2 ? 50 : 100);
      v[g * gs + 1] = static_cast<int16_t>(g % 2 ? 50 : 0);
    }
    d.push_back(v);
    // The best single expert sits in a losing group.
    v.assign(n, 10);
    v[n - 1] = 30000;
    for (int g = 0; g + 1 < p.groups; ++g) v[g * gs + 1] = 20;
    d.push_back(v);
  }
  return d;
}

CaseSource topk_source(const TopkGateParams& p) {
  CaseSource src;
  const auto directed = directed_scores(p);
  src.make = [p, directed](uint64_t idx, std::mt19937_64& rng) {
    Case c;
    std::vector<int16_t> s;
    if (idx < 2 * directed.size()) {
      s = directed[idx % directed.size()];
      c.stalls = idx >= directed.size();
    } else {
      s.resize(p.n);
      const int mode = static_cast<int>(rng() % 4);
      for (auto& x : s) {
        if (mode == 0) x = static_cast<int16_t>(rng());                     // full range
        if (mode == 1) x = static_cast<int16_t>(int(rng() % 7) - 3);        // heavy ties
        if (mode == 2) x = (rng() % 2) ? int16_t{32767} : int16_t{-32768};  // limits
        if (mode == 3) x = static_cast<int16_t>(int(rng() % 1024) - 512);   // near, Q8.8 +-2
      }
      c.stalls = rng() % 4 != 0;
    }
    std::ostringstream os;
    os << "scores(Q8.8)=[";
    for (int i = 0; i < p.n; ++i) {
      Beat b;
      b.w[0] = static_cast<uint16_t>(s[i]);
      c.in.push_back(b);
      os << (i ? "," : "") << s[i];
    }
    os << "]";
    c.desc = os.str();
    const auto ref = topk_gate_ref(s, p);
    for (size_t i = 0; i < ref.size(); ++i) {
      Beat b;
      b.w[0] = (ref[i].id << 16) | static_cast<uint16_t>(ref[i].value);
      b.last = i + 1 == ref.size();
      c.out.push_back(b);
    }
    const bool grouped = p.groups > 1;
    c.contract_cycles = grouped ? 2 * p.n + p.k : p.n + p.k - 1;
    c.contract_stat = grouped ? 2 * p.n : p.n;
    return c;
  };
  src.format_out = [](const Beat& b) {
    std::ostringstream os;
    const auto v = static_cast<int16_t>(b.w[0] & 0xffff);
    os << "id=" << (b.w[0] >> 16) << " value=" << v << " (" << v / 256.0 << ")";
    return os.str();
  };
  return src;
}

template <class Rtl>
int run(const std::string& variant, const HarnessConfig& cfg, const TopkGateParams& p,
        std::ostream& report) {
  return run_cosim<Rtl, TopkGateModel>(
      variant, cfg, topk_source(p),
      [p] { return std::make_unique<TopkGateModel>("systemc_model", p); }, report);
}

}  // namespace
}  // namespace rtl

int rtl_verify_topk_gate(uint64_t cases, uint64_t seed, const ParamMap& params,
                         std::ostream& report) {
  using namespace rtl;
  try {
    ParamReader r(params);
    TopkGateParams p;
    p.n = static_cast<int>(r.get_int("N", 256));
    p.k = static_cast<int>(r.get_int("K", 8));
    p.groups = static_cast<int>(r.get_int("G", p.n == 256 ? 8 : 1));
    p.top_groups = static_cast<int>(r.get_int("TG", p.n == 256 ? 4 : 1));
    const std::string variant =
        "topk_gate_n" + std::to_string(p.n) + "_k" + std::to_string(p.k) +
        (p.groups > 1 ? "_g" + std::to_string(p.groups) + "_tg" + std::to_string(p.top_groups)
                      : "");
    const HarnessConfig cfg = harness_config(variant, cases, seed, r);
    r.finish("N, K, G, TG, stall, bubble, waves, lanes, inject_fault");
    if (p.n == 8 && p.k == 1 && p.groups == 1)
      return run<Vtopk_gate_n8_k1>(variant, cfg, p, report);
    if (p.n == 8 && p.k == 2 && p.groups == 1)
      return run<Vtopk_gate_n8_k2>(variant, cfg, p, report);
    if (p.n == 16 && p.k == 2 && p.groups == 4 && p.top_groups == 2)
      return run<Vtopk_gate_n16_k2_g4_tg2>(variant, cfg, p, report);
    if (p.n == 256 && p.k == 8 && p.groups == 8 && p.top_groups == 4)
      return run<Vtopk_gate_n256_k8_g8_tg4>(variant, cfg, p, report);
    throw std::invalid_argument("no RTL build for " + variant + "\n" + rtl_verify_help());
  } catch (const std::invalid_argument& e) {
    report << "rtl-verify topk_gate: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace moesim
