#pragma once
/// Kernels: groups of consecutive ops of a StepPlan that launch together (`[mapping.fusion]`).
/// Pure C++: the grouping, the spill ops between kernels and the spatial-pipeline formula;
/// the sequencer executes them (sim/engine/sequencer.cpp).
///
/// A decoder layer's ops fall into segments, in layer order:
///   MoE layer:   attn_norm, attention, ffn_norm, gating, experts, shared_experts, combine
///   dense layer: attn_norm, attention, ffn_norm, dense_ffn
/// A grouping fuses segments into kernels; ops of segments in no group are unfused (one
/// kernel per GEMM or vector op, the DMA ops before it included). Collectives are kernels of
/// their own and end any fused kernel. A group that is one FFN segment alone (experts,
/// shared_experts, dense_ffn) makes one kernel per FFN (per expert); in a larger group every
/// FFN of the layer joins that one kernel.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/config/config.hpp"
#include "sim/plan/plan.hpp"

namespace moesim {

/// A segment of a decoder layer (see above).
enum class Segment : uint8_t {
  kAttnNorm,
  kAttention,
  kFfnNorm,
  kGating,
  kExperts,
  kSharedExperts,
  kCombine,
  kDenseFfn,
};
inline constexpr int kNumSegments = 8;
const char* segment_name(Segment s);

/// How the compute of a fused kernel is divided among its stages.
enum class ShareRule : uint8_t {
  kProportional,  ///< each unit's capacity in proportion to the stages' work on the whole unit
  kEqual,         ///< each unit's capacity split equally among its stages
};

/// `[mapping.fusion]`, typed.
struct FusionSpec {
  bool enabled = false;  ///< false: one op at a time, no kernels (the default path)
  /// Group id of each segment (-1: unfused).
  int8_t group_of[kNumSegments] = {-1, -1, -1, -1, -1, -1, -1, -1};
  uint32_t groups = 0;
  bool hardware_launch = false;  ///< launch = "hardware" (else "host")
  double launch_s = 0;           ///< per-kernel launch latency
  ShareRule shares = ShareRule::kProportional;
  uint32_t tile_tokens = 16;    ///< tokens per pipeline tile
  uint32_t hidden_chunk = 128;  ///< and each token tile in chunks of this many hidden columns
  uint64_t sram_budget = 0;     ///< an intermediate larger than this spills between kernels
  uint8_t spill_tier = 0;       ///< tier index spills go to (a chip tier)
  SourceLoc where;              ///< where `kernels` was set (for messages while running)
};

/// Parses a `kernels` value: "none", or comma-separated groups, each a preset
/// (attention_block, expert_ffn, decoder_layer) or segments joined by '+'. On success fills
/// `spec.group_of` and `spec.groups`; on failure returns the message (without location).
std::optional<std::string> parse_kernel_groups(const std::string& text, FusionSpec& spec);

/// One kernel: ops [begin, end) of the plan.
struct Kernel {
  uint32_t begin = 0;
  uint32_t end = 0;
  bool fused = false;  ///< a group's kernel (spatial pipeline); false: unfused or collective
  Segment segment = Segment::kAttnNorm;  ///< segment of its first compute op
  uint32_t compute_ops = 0;              ///< GEMM and vector ops in it
};

/// What forming kernels added to a step's plan.
struct SpillCounts {
  uint64_t store_bytes = 0;  ///< intermediates written to the spill tier
  uint64_t load_bytes = 0;   ///< and read back by later kernels
  uint64_t spills = 0;       ///< intermediates spilled
};

/// Groups `plan`'s ops into kernels and inserts the spill ops: a GEMM or vector op's result
/// read by an op of a later kernel and larger than spec.sram_budget is stored to the spill
/// tier after it (in its kernel) and loaded back at the start of each later kernel that
/// reads it (the readers then depend on the load). The plan stays topologically ordered.
void form_kernels(StepPlan& plan, const FusionSpec& spec, std::vector<Kernel>& kernels,
                  SpillCounts& spills);

/// Each stage's share of its unit under `rule`: work[i] is stage i's cycles on the whole
/// unit; shares of one unit sum to 1.
std::vector<double> stage_shares(ShareRule rule, const std::vector<uint64_t>& work);

/// A spatial pipeline of stages taking stage_cycles[i] for all `tiles` tiles: each tile
/// takes t_i = ceil(stage_cycles[i] / tiles) in stage i, so the pipeline takes
/// sum_i t_i + (tiles - 1) * max_i t_i cycles (the slowest stage, plus fill and drain).
uint64_t pipeline_cycles(const std::vector<uint64_t>& stage_cycles, uint64_t tiles);

}  // namespace moesim
