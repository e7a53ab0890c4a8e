#pragma once
/// Calibration of race rates so that top-k selection reproduces measured marginals.
///
/// The generator picks a token's experts by an exponential race: candidate i arrives at
/// time T_i ~ Exp(rate p_i) and the first k arrivals are chosen (equivalently: successive
/// sampling without replacement in proportion to p, or Gumbel-top-k on log p). The first
/// choice is expert i with probability p_i exactly; the inclusion probability of i among
/// all k choices is not p_i * k, so matching measured all-k counts needs calibrated rates.

#include <cstdint>
#include <vector>

namespace moesim {

/// Inclusion probabilities pi_i = P(i among the first k arrivals) for rates `p` (summing to
/// 1), by quadrature of pi_i = integral of p_i e^(-p_i t) P(fewer than k others by t) dt in
/// log t (trapezoid rule, step 0.05; absolute error below 1e-9 for the shipped data).
std::vector<double> race_inclusion(const std::vector<double>& p, uint32_t k);

/// Rates p (summing to 1) whose inclusion probabilities are k * target, by the fixed point
/// p <- p * k * target / pi (normalised) until every |pi_i / k - target_i| < 1e-9 or 200
/// iterations. `target` sums to 1 with every entry at most 1/k; zero entries stay zero.
std::vector<double> calibrate_inclusion(const std::vector<double>& target, uint32_t k);

}  // namespace moesim
