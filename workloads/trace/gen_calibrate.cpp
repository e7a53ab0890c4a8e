// Inclusion probabilities of the exponential race, by quadrature over log-time with a
// prefix/suffix Poisson-binomial dynamic programme (O(n k) per point), and their inversion.

#include "workloads/trace/gen_calibrate.hpp"

#include <algorithm>
#include <cmath>

namespace moesim {

std::vector<double> race_inclusion(const std::vector<double>& p, uint32_t k) {
  const size_t n = p.size();
  std::vector<double> pi(n, 0.0);
  size_t positive = 0;
  for (double x : p) positive += x > 0;
  if (k >= positive) {
    for (size_t i = 0; i < n; ++i) pi[i] = p[i] > 0 ? 1.0 : 0.0;
    return pi;
  }
  std::vector<double> sorted(p);
  std::sort(sorted.rbegin(), sorted.rend());
  // Below t_lo nothing else has arrived (F = 1): that part integrates to p_i * t_lo. Beyond
  // t_hi at least k others (the k+1 fastest rates) have arrived with probability ~1 - e^-60.
  const double t_lo = 1e-7;
  const double t_hi = 60.0 / sorted[k];
  const double h = 0.05;
  const double s_lo = std::log(t_lo), s_hi = std::log(t_hi);
  const size_t points = static_cast<size_t>(std::ceil((s_hi - s_lo) / h)) + 1;
  std::vector<double> prefix((n + 1) * k), suffix((n + 1) * k), arrived(n);
  for (size_t i = 0; i < n; ++i) pi[i] = p[i] * t_lo;
  for (size_t j = 0; j < points; ++j) {
    const double t = std::exp(std::min(s_lo + h * static_cast<double>(j), s_hi));
    const double wq = (j == 0 || j + 1 == points) ? 0.5 * h : h;
    for (size_t i = 0; i < n; ++i) arrived[i] = -std::expm1(-p[i] * t);
    // prefix[i*k + c]: P(c of experts 0..i-1 arrived); suffix[i*k + c]: of experts i..n-1.
    std::fill(prefix.begin(), prefix.begin() + k, 0.0);
    prefix[0] = 1.0;
    for (size_t i = 0; i < n; ++i) {
      const double a = arrived[i];
      double* in = &prefix[i * k];
      double* out = &prefix[(i + 1) * k];
      out[0] = in[0] * (1 - a);
      for (uint32_t c = 1; c < k; ++c) out[c] = in[c] * (1 - a) + in[c - 1] * a;
    }
    std::fill(suffix.begin() + n * k, suffix.end(), 0.0);
    suffix[n * k] = 1.0;
    for (size_t i = n; i-- > 0;) {
      const double a = arrived[i];
      double* in = &suffix[(i + 1) * k];
      double* out = &suffix[i * k];
      out[0] = in[0] * (1 - a);
      for (uint32_t c = 1; c < k; ++c) out[c] = in[c] * (1 - a) + in[c - 1] * a;
    }
    for (size_t i = 0; i < n; ++i) {
      if (p[i] <= 0) continue;
      // F = P(prefix count + suffix count (without i) < k).
      const double* pre = &prefix[i * k];
      const double* suf = &suffix[(i + 1) * k];
      double cum = 0, f = 0;
      // Pair c1 with the suffix counts 0..k-1-c1; walk c1 downwards to grow the cumulative.
      for (uint32_t c1 = k; c1-- > 0;) {
        cum += suf[k - 1 - c1];
        f += pre[c1] * cum;
      }
      const double x = p[i] * t;
      pi[i] += wq * x * std::exp(-x) * f;
    }
  }
  for (double& x : pi) x = std::min(1.0, x);
  return pi;
}

std::vector<double> calibrate_inclusion(const std::vector<double>& target, uint32_t k) {
  std::vector<double> p(target);
  for (int iter = 0; iter < 200; ++iter) {
    const std::vector<double> pi = race_inclusion(p, k);
    double worst = 0, total = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] <= 0) continue;
      worst = std::max(worst, std::fabs(pi[i] / k - target[i]));
      p[i] *= k * target[i] / pi[i];
      total += p[i];
    }
    for (double& x : p) x /= total;
    if (worst < 1e-9) break;
  }
  return p;
}

}  // namespace moesim
