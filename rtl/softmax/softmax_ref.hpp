#pragma once
/// Bit-exact C++ reference of rtl/softmax (see README.md for the formats and error bound).

#include <cstdint>
#include <vector>

namespace moesim::rtl {

/// Shape of the softmax block.
struct SoftmaxParams {
  int length = 16;          ///< L scores per vector (2..1024)
  bool three_pass = false;  ///< classic max / sum / normalise passes instead of online
};

/// Fixed-point formats (two's complement or unsigned integers with F fraction bits).
inline constexpr int kSoftmaxInFrac = 8;      ///< scores: signed Q8.8, 16 bit
inline constexpr int kSoftmaxExpFrac = 16;    ///< exp values and sums: unsigned Q.16
inline constexpr int kSoftmaxRecipFrac = 24;  ///< reciprocal 1/s: unsigned Q1.24
inline constexpr int kSoftmaxOutFrac = 16;    ///< probabilities: unsigned Q1.16, 17 bit

/// exp(d) for d <= 0 given in Q.8 (d >= -65535): 2^(d*log2e) with log2e in Q.16, the
/// exponent truncated to Q.12, 2^frac from a 65-entry table with linear interpolation, and
/// the integer part as a right shift. Returns Q1.16 in [0, 65536]; exp(0) = 65536 exactly.
uint32_t softmax_exp(int32_t d);

/// 1/s for s >= 1.0 in Q.16: normalise to [1,2), 64-entry seed table, one Newton step,
/// denormalise. Returns Q1.24.
uint32_t softmax_recip(uint64_t s);

/// Internal values of one vector, for tests and reports.
struct SoftmaxTrace {
  int16_t max = 0;
  uint64_t sum = 0;    ///< Q.16
  uint32_t recip = 0;  ///< Q1.24
};

/// Softmax of `x` (size L, Q8.8) as the RTL computes it; probabilities in Q1.16.
std::vector<uint32_t> softmax_ref(const std::vector<int16_t>& x, const SoftmaxParams& p,
                                  SoftmaxTrace* trace = nullptr);

/// Double-precision softmax of the Q8.8 inputs, for error bounds.
std::vector<double> softmax_double(const std::vector<int16_t>& x);

/// Returns an empty string when `p` is legal, else why not.
const char* softmax_check(const SoftmaxParams& p);

}  // namespace moesim::rtl
