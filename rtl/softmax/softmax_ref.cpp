#include "rtl/softmax/softmax_ref.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::rtl {
namespace {

// round(2^(j/64) * 2^16), j = 0..64
constexpr uint32_t kExp2Lut[65] = {
    65536,  66250,  66971,  67700,  68438,  69183,  69936,  70698,  71468,  72246,  73032,
    73828,  74632,  75444,  76266,  77096,  77936,  78785,  79642,  80510,  81386,  82273,
    83169,  84074,  84990,  85915,  86851,  87796,  88752,  89719,  90696,  91684,  92682,
    93691,  94711,  95743,  96785,  97839,  98905,  99982,  101070, 102171, 103283, 104408,
    105545, 106694, 107856, 109031, 110218, 111418, 112631, 113858, 115098, 116351, 117618,
    118899, 120194, 121502, 122825, 124163, 125515, 126882, 128263, 129660, 131072,
};
// round(2^16 / (1 + (j + 0.5) / 64)), j = 0..63
constexpr uint32_t kRecipLut[64] = {
    65028, 64035, 63072, 62138, 61231, 60350, 59494, 58662, 57852, 57065, 56299, 55554, 54828,
    54120, 53431, 52759, 52103, 51464, 50840, 50231, 49637, 49056, 48489, 47935, 47393, 46864,
    46346, 45839, 45344, 44859, 44384, 43919, 43464, 43019, 42582, 42154, 41734, 41323, 40920,
    40525, 40137, 39756, 39383, 39017, 38657, 38304, 37958, 37617, 37283, 36954, 36631, 36314,
    36003, 35696, 35395, 35099, 34808, 34521, 34239, 33962, 33689, 33421, 33157, 32897,
};
constexpr int64_t kLog2eQ16 = 94548;  // round(log2(e) * 2^16)

}  // namespace

uint32_t softmax_exp(int32_t d) {
  const int64_t p = int64_t{d} * kLog2eQ16;  // Q.24
  const int64_t t = (p + 2048) >> 12;        // Q.12, rounded
  const int64_t i = t >> 12;                 // integer part, floor (<= 0)
  const uint32_t f = static_cast<uint32_t>(t & 0xfff);
  const uint32_t idx = f >> 6, fr = f & 63;
  const uint32_t e = kExp2Lut[idx] + (((kExp2Lut[idx + 1] - kExp2Lut[idx]) * fr) >> 6);
  const int64_t sh = -i;
  return sh > 17 ? 0 : e >> sh;
}

uint32_t softmax_recip(uint64_t s) {
  int k = 63;
  while (k > 0 && !((s >> k) & 1)) --k;             // k >= 16 because s >= 1.0
  const uint64_t mant = (s >> (k - 15)) & 0xffff;   // Q1.15 in [1, 2)
  const uint64_t y0 = kRecipLut[(mant >> 9) & 63];  // Q0.16
  const uint64_t prod = mant * y0;                  // Q1.31
  const uint64_t two_minus = (uint64_t{1} << 32) - prod;
  const uint64_t y1 = (y0 * two_minus) >> 23;  // Q.24
  return static_cast<uint32_t>(y1 >> (k - 16));
}

std::vector<uint32_t> softmax_ref(const std::vector<int16_t>& x, const SoftmaxParams& p,
                                  SoftmaxTrace* trace) {
  const size_t n = x.size();
  int32_t m = x[0];
  uint64_t s = 0;
  if (!p.three_pass) {
    s = 65536;
    for (size_t i = 1; i < n; ++i) {
      if (x[i] > m) {
        s = ((s * softmax_exp(m - x[i])) >> 16) + 65536;
        m = x[i];
      } else {
        s += softmax_exp(x[i] - m);
      }
    }
  } else {
    for (size_t i = 1; i < n; ++i) m = std::max<int32_t>(m, x[i]);
    for (size_t i = 0; i < n; ++i) s += softmax_exp(x[i] - m);
  }
  const uint32_t r = softmax_recip(s);
  std::vector<uint32_t> out(n);
  for (size_t i = 0; i < n; ++i)
    out[i] = static_cast<uint32_t>((uint64_t{softmax_exp(x[i] - m)} * r) >> 24);
  if (trace) *trace = {static_cast<int16_t>(m), s, r};
  return out;
}

std::vector<double> softmax_double(const std::vector<int16_t>& x) {
  double m = -1e300;
  for (int16_t v : x) m = std::max(m, v / 256.0);
  double s = 0;
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) s += out[i] = std::exp(x[i] / 256.0 - m);
  for (double& v : out) v /= s;
  return out;
}

const char* softmax_check(const SoftmaxParams& p) {
  if (p.length < 2 || p.length > 1024) return "L must be in 2..1024";
  return "";
}

}  // namespace moesim::rtl
