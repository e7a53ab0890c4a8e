#pragma once
/// Router-logit import (format logits-npz, FORMAT.md "Router logits"): reads tokens x experts
/// logits per layer from .npz/.npy files (NumPy's format parsed here, float16 or float32,
/// little-endian; .npz members stored or deflated) and applies a routing policy (softmax,
/// top-k or top-p, group-limited top-k, renormalisation, capacity) to produce the trace.

#include <memory>
#include <string>
#include <vector>

#include "workloads/trace/trace_import.hpp"

namespace moesim {

/// Opens the logits in `paths` (one .npz, one 3-D .npy, or one 2-D .npy per MoE layer).
std::unique_ptr<LogImporter> open_logits_import(const std::vector<std::string>& paths,
                                                const ImportOptions& options);

}  // namespace moesim
