#include "hw_models/compute/gelu.hpp"

#include <cmath>

namespace moesim {

double gelu_exact(double x) {
  return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
}

namespace {
double correction(double a) {
  return a * 0.5 * std::erfc(a / std::sqrt(2.0));  // a * Phi(-a)
}
}  // namespace

const std::array<double, kGeluTableEntries>& gelu_correction_table() {
  static const std::array<double, kGeluTableEntries> table = [] {
    std::array<double, kGeluTableEntries> t{};
    for (int i = 0; i < kGeluTableEntries; ++i) t[i] = correction(i * kGeluTableStep);
    return t;
  }();
  return table;
}

double gelu_lut(double x) {
  const double a = std::fabs(x);
  const double pos = a / kGeluTableStep;
  double c = 0;
  if (pos < kGeluTableEntries - 1) {
    const auto& t = gelu_correction_table();
    const int i = static_cast<int>(pos);
    const double f = pos - i;
    c = t[i] + f * (t[i + 1] - t[i]);
  }
  return (x > 0 ? x : 0.0) - c;
}

}  // namespace moesim
