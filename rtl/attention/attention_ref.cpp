#include "rtl/attention/attention_ref.hpp"

#include <algorithm>
#include <cmath>

#include "rtl/softmax/softmax_ref.hpp"

namespace moesim::rtl {

std::vector<int16_t> attention_ref(const AttentionCase& c, const AttentionParams& p,
                                   std::vector<AttentionRowTrace>* trace) {
  const int dd = c.slices * p.w;
  std::vector<int16_t> out(static_cast<size_t>(c.rows) * p.d, 0);
  if (trace) trace->assign(c.rows, {});
  for (int row = 0; row < c.rows; ++row) {
    // Pass 1: scores q.k (Q4.4 x Q4.4 = Q8.8, saturated to 16 bit), running max and sum.
    std::vector<int32_t> x(c.keys);
    int32_t m = 0;
    uint64_t s = 0;
    for (int j = 0; j < c.keys; ++j) {
      int64_t dot = 0;
      for (int e = 0; e < dd; ++e) dot += int32_t{c.q[row * p.d + e]} * c.k[j * p.d + e];
      x[j] = static_cast<int32_t>(std::clamp<int64_t>(dot, -32768, 32767));
      if (j == 0) {
        m = x[j];
        s = 65536;
      } else if (x[j] > m) {
        s = ((s * softmax_exp(m - x[j])) >> 16) + 65536;
        m = x[j];
      } else {
        s += softmax_exp(x[j] - m);
      }
    }
    const uint32_t r = softmax_recip(s);
    // Pass 2: p = exp(x - m) r (Q1.16), acc += p v (Q.20), output acc >> 12 (Q8.8).
    std::vector<int32_t> acc(dd, 0);
    for (int j = 0; j < c.keys; ++j) {
      const uint32_t pj = static_cast<uint32_t>((uint64_t{softmax_exp(x[j] - m)} * r) >> 24);
      for (int e = 0; e < dd; ++e)
        acc[e] = static_cast<int32_t>(static_cast<uint32_t>(acc[e]) +
                                      static_cast<uint32_t>(int32_t(pj) * c.v[j * p.d + e]));
    }
    for (int e = 0; e < dd; ++e) out[row * p.d + e] = static_cast<int16_t>(acc[e] >> 12);
    if (trace) (*trace)[row] = {static_cast<int16_t>(m), s, r};
  }
  return out;
}

std::vector<double> attention_double(const AttentionCase& c, const AttentionParams& p) {
  const int dd = c.slices * p.w;
  std::vector<double> out(static_cast<size_t>(c.rows) * p.d, 0.0);
  for (int row = 0; row < c.rows; ++row) {
    std::vector<double> x(c.keys);
    double m = -1e300, s = 0;
    for (int j = 0; j < c.keys; ++j) {
      double dot = 0;
      for (int e = 0; e < dd; ++e) dot += (c.q[row * p.d + e] / 16.0) * (c.k[j * p.d + e] / 16.0);
      x[j] = dot;
      m = std::max(m, dot);
    }
    for (double& v : x) s += v = std::exp(v - m);
    for (int j = 0; j < c.keys; ++j)
      for (int e = 0; e < dd; ++e) out[row * p.d + e] += x[j] / s * (c.v[j * p.d + e] / 16.0);
  }
  return out;
}

namespace {
void put(AttentionWords& b, int lo, int width, uint32_t x) {
  for (int i = 0; i < width; ++i)
    if ((x >> i) & 1) b[(lo + i) / 32] |= 1u << ((lo + i) % 32);
}
}  // namespace

std::vector<AttentionWords> attention_in_beats(const AttentionCase& c, const AttentionParams& p) {
  std::vector<AttentionWords> in;
  AttentionWords h{};
  put(h, 0, 8, static_cast<uint32_t>(c.rows));
  put(h, 8, 16, static_cast<uint32_t>(c.keys));
  put(h, 24, 4, static_cast<uint32_t>(c.slices));
  put(h, 28, 1, c.naive ? 1 : 0);
  in.push_back(h);
  for (int row = 0; row < c.rows; ++row) {
    AttentionWords b{};
    for (int e = 0; e < p.d; ++e) put(b, 8 * e, 8, static_cast<uint8_t>(c.q[row * p.d + e]));
    in.push_back(b);
  }
  const int groups = (c.rows + p.p - 1) / p.p;
  for (int g = 0; g < (c.naive ? groups : 1); ++g) {
    for (const auto* mat : {&c.k, &c.v}) {
      for (int j = 0; j < c.keys; ++j) {
        for (int t = 0; t < c.slices; ++t) {
          AttentionWords b{};
          for (int w = 0; w < p.w; ++w)
            put(b, 8 * w, 8, static_cast<uint8_t>((*mat)[j * p.d + t * p.w + w]));
          in.push_back(b);
        }
      }
    }
  }
  return in;
}

std::vector<AttentionWords> attention_out_beats(const std::vector<int16_t>& out,
                                                const AttentionCase& c, const AttentionParams& p) {
  std::vector<AttentionWords> beats;
  for (int g = 0; g * p.p < c.rows; ++g) {
    AttentionWords b{};
    for (int i = 0; i < p.p && g * p.p + i < c.rows; ++i)
      for (int e = 0; e < p.d; ++e)
        put(b, 16 * (i * p.d + e), 16, static_cast<uint16_t>(out[(g * p.p + i) * p.d + e]));
    beats.push_back(b);
  }
  return beats;
}

AttentionContract attention_contract(const AttentionCase& c, const AttentionParams& p) {
  AttentionContract k;
  const uint64_t L = static_cast<uint64_t>(c.keys), sl = static_cast<uint64_t>(c.slices);
  k.groups = static_cast<uint64_t>((c.rows + p.p - 1) / p.p);
  k.compute_cycles = k.groups * (2 * L * sl + 2);
  k.total_cycles = 1 + static_cast<uint64_t>(c.rows) + k.compute_cycles;
  k.kv_reads = (c.naive ? k.groups : 1) * 2 * L * sl;
  k.score_reads = static_cast<uint64_t>(c.rows) * 2 * L;
  return k;
}

const char* attention_check(const AttentionCase& c, const AttentionParams& p) {
  if (c.rows < 1 || c.rows > p.rmax) return "rows must be in 1..RMAX";
  if (c.keys < 1 || c.keys > p.lmax) return "keys must be in 1..LMAX";
  if (c.slices < 1 || c.slices * p.w > p.d) return "slices must be in 1..D/W";
  return "";
}

}  // namespace moesim::rtl
