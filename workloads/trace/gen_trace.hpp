#pragma once
/// The configurable trace generator: streams the steps a GeneratorSpec describes.

#include <memory>
#include <vector>

#include "workloads/trace/gen_spec.hpp"
#include "workloads/trace/trace.hpp"

namespace moesim {

/// A reader that generates `spec` on the fly; deterministic for a given spec (byte-identical
/// steps for the same seed). With a capacity limit the trace is generated twice: a first
/// pass counts the dropped routes so the header can record them (`dropped_routes`).
/// Throws InputError "trace generator: <key>: <what>" when check_generator_spec() objects.
std::unique_ptr<TraceReader> make_generated_trace(const GeneratorSpec& spec);

/// The selection popularity (race rates of the routed experts, summing to 1) of every layer,
/// before special experts take their share; for tests and documentation. Zipf layers use
/// the generator's seeded permutations, calibrated layers the calibrated rates.
std::vector<std::vector<double>> generator_popularity(const GeneratorSpec& spec);

/// The measured target marginal (normalised counts) the calibrated popularity of model
/// layer `layer` is fitted to, after layer mapping and fill.
std::vector<double> calibration_target(const GeneratorSpec& spec, uint32_t layer);

}  // namespace moesim
