#pragma once
/// The RTL blocks as the full-system simulation uses them (impl = "rtl"): each runner owns
/// one verilated --cc block, streams a transaction through it without back-pressure, checks
/// the outputs against the bit-exact reference model and returns the measured cycles. No
/// Verilator or SystemC headers here; the variants are baked in rtl/CMakeLists.txt.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rtl/attention/attention_ref.hpp"
#include "rtl/softmax/softmax_ref.hpp"
#include "rtl/systolic_tile/systolic_tile_ref.hpp"
#include "rtl/topk_gate/topk_gate_ref.hpp"

namespace moesim::rtl {

/// The verilated R x C weight-stationary tile (single-buffered or ping-pong, by its params).
class SystolicTileRunner {
 public:
  /// One GEMM through the tile.
  struct Result {
    uint64_t cycles = 0;       ///< first weight handshake .. last output handshake
    uint64_t folds = 0;        ///< ceil(K/R) * ceil(N/C), run back to back (overlapped: ping_pong)
    bool values_match = true;  ///< every output row equals systolic_fold_ref()
  };
  virtual ~SystolicTileRunner() = default;
  /// Runs C = A * B, all folds back to back (N-tiles outer, K-tiles inner).
  virtual Result run_gemm(const Int8Matrix& a, const Int8Matrix& b) = 0;
  /// Clock cycles simulated so far (all runs).
  virtual uint64_t cycles_simulated() const = 0;
};

/// The verilated top-k gate.
class TopkGateRunner {
 public:
  /// One score vector through the gate.
  struct Result {
    std::vector<TopkEntry> out;  ///< what the RTL selected, in output order
    uint64_t cycles = 0;         ///< first score handshake .. last output handshake
    bool values_match = true;    ///< out equals topk_gate_ref()
  };
  virtual ~TopkGateRunner() = default;
  virtual Result run(const std::vector<int16_t>& scores) = 0;
  virtual uint64_t cycles_simulated() const = 0;
};

/// The verilated softmax block.
class SoftmaxRunner {
 public:
  /// One score vector through the block.
  struct Result {
    uint64_t cycles = 0;       ///< first score handshake .. last probability handshake
    uint64_t reads = 0;        ///< stat_count increment (score reads)
    bool values_match = true;  ///< every probability equals softmax_ref()
  };
  virtual ~SoftmaxRunner() = default;
  virtual Result run(const std::vector<int16_t>& scores) = 0;
  virtual uint64_t cycles_simulated() const = 0;
};

/// The verilated reordered-attention block.
class AttentionRunner {
 public:
  /// One op (header, Q rows, K/V slices) through the block.
  struct Result {
    uint64_t compute_cycles = 0;  ///< first K slice handshake .. last output handshake
    uint64_t total_cycles = 0;    ///< header handshake .. last output handshake
    uint64_t kv_reads = 0;        ///< stat_count increment (K/V slices read)
    uint64_t score_reads = 0;     ///< stat_scores increment
    bool values_match = true;     ///< every output equals attention_ref()
  };
  virtual ~AttentionRunner() = default;
  virtual Result run(const AttentionCase& c) = 0;
  virtual uint64_t cycles_simulated() const = 0;
  /// The baked shape.
  virtual const AttentionParams& params() const = 0;
};

/// The runner for `p`, or nullptr when no --cc variant of that shape is baked in.
std::unique_ptr<SystolicTileRunner> make_systolic_tile_runner(const SystolicTileParams& p);
/// The runner for `p`, or nullptr when no --cc variant of that shape is baked in.
std::unique_ptr<TopkGateRunner> make_topk_gate_runner(const TopkGateParams& p);
/// The runner for `p`, or nullptr when no --cc variant of that shape is baked in.
std::unique_ptr<SoftmaxRunner> make_softmax_runner(const SoftmaxParams& p);

/// The runner of the baked --cc attention block with `parallel_rows` row engines, or nullptr.
std::unique_ptr<AttentionRunner> make_attention_runner(int parallel_rows);
/// The baked --cc attention block's shape for `parallel_rows`, or nullptr when none.
const AttentionParams* attention_cc_params(int parallel_rows);

/// True when make_systolic_tile_runner(p) would return a runner.
bool systolic_tile_cc_baked(const SystolicTileParams& p);
/// True when make_topk_gate_runner(p) would return a runner.
bool topk_gate_cc_baked(const TopkGateParams& p);

/// The baked --cc shapes, for messages: "4x4, 16x16" (tile), "N=8 K=2" (top-k),
/// "L=1024 online" (softmax).
std::string systolic_tile_cc_shapes(bool ping_pong = false);
std::string topk_gate_cc_shapes();
std::string softmax_cc_shapes();
std::string attention_cc_shapes();

}  // namespace moesim::rtl
