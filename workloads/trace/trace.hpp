#pragma once
/// The routing trace: a stream of steps (forward passes), each holding tokens and, for every
/// MoE layer, each token's selected experts with gate weights. k may vary per token.
///
/// Readers stream: a reader holds one step at a time, never the whole trace.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace moesim {

/// Special expert ids (negative) for routes that are not a routed expert FFN.
inline constexpr int32_t kNullExpert = -1;      ///< AdaMoE null expert: no compute
inline constexpr int32_t kZeroExpert = -2;      ///< MoE++ zero expert: outputs zero
inline constexpr int32_t kCopyExpert = -3;      ///< MoE++ copy expert: outputs its input
inline constexpr int32_t kConstantExpert = -4;  ///< MoE++ constant expert: a learned vector

/// Trace-wide metadata (the header of every trace form).
struct TraceMeta {
  std::string model;     ///< model preset name the trace was made for, e.g. "mixtral-8x7b"
  uint32_t layers = 0;   ///< MoE layers recorded per step
  uint32_t experts = 0;  ///< routed experts per layer (ids 0..experts-1)
  uint32_t top_k = 0;    ///< nominal k (tokens may use fewer or more)
  std::string source;    ///< "synthetic", "import:<format>", ...
  /// Tasks of a multi-task model (one gate each, e.g. M3ViT); token tasks are 0..tasks-1.
  /// 1 (the default) is a single-task trace: the forms then carry no task field.
  uint32_t tasks = 1;
  std::map<std::string, std::string> extra;  ///< generator name and parameters, etc.
};

/// One token of a step: which request it belongs to, its position in that request
/// (0-based; the token attends over positions 0..position) and its request's task (the gate
/// of a multi-task model that routed it; 0 in single-task traces).
struct TraceToken {
  uint32_t request = 0;
  uint32_t position = 0;
  uint32_t task = 0;
};

/// One step (forward pass). Routes are stored layer-major in CSR form: the routes of token t
/// at layer l are [offsets[l*T+t], offsets[l*T+t+1]) in `experts` and `weights`, where T is
/// tokens.size(). offsets has layers*T+1 entries and offsets[0] == 0.
struct TraceStep {
  uint64_t index = 0;
  uint32_t layers = 0;
  std::vector<TraceToken> tokens;
  std::vector<uint32_t> offsets;
  std::vector<int32_t> experts;
  std::vector<float> weights;

  uint32_t num_tokens() const { return static_cast<uint32_t>(tokens.size()); }
  uint32_t route_begin(uint32_t layer, uint32_t token) const {
    return offsets[static_cast<size_t>(layer) * tokens.size() + token];
  }
  uint32_t route_end(uint32_t layer, uint32_t token) const {
    return offsets[static_cast<size_t>(layer) * tokens.size() + token + 1];
  }
  /// Token-expert assignments in this step (all layers, all k, special experts included).
  uint64_t assignments() const { return experts.size(); }
  void clear() {
    tokens.clear();
    offsets.clear();
    experts.clear();
    weights.clear();
    layers = 0;
  }
};

/// A stream of steps. next() refills `step` and returns false at the end of the trace.
/// Errors in the input are InputErrors naming the file and line or record.
class TraceReader {
 public:
  virtual ~TraceReader() = default;
  virtual const TraceMeta& meta() const = 0;
  virtual bool next(TraceStep& step) = 0;
};

/// Writes a trace. Output goes to a temporary file renamed into place by finish(), so an
/// interrupted writer never leaves a file that looks complete.
class TraceWriter {
 public:
  virtual ~TraceWriter() = default;
  virtual void write(const TraceStep& step) = 0;
  virtual void finish() = 0;
};

/// Opens a trace by content (binary magic) or extension (.csv, .jsonl). Throws InputError.
std::unique_ptr<TraceReader> open_trace(const std::string& path);
/// Creates a writer; the form follows the extension (.csv or .jsonl text, .moetrace binary).
std::unique_ptr<TraceWriter> create_trace_writer(const std::string& path, const TraceMeta& meta);

/// Version of all trace forms written by this build (see workloads/trace/FORMAT.md).
inline constexpr uint32_t kTraceFormatVersion = 1;

/// Opens a text trace whatever the file's extension. Throws InputError.
std::unique_ptr<TraceReader> open_csv_trace(const std::string& path);
/// Opens a JSON-lines trace whatever the file's extension. Throws InputError.
std::unique_ptr<TraceReader> open_jsonl_trace(const std::string& path);
/// Opens a binary trace whatever the file's extension. Throws InputError.
std::unique_ptr<TraceReader> open_binary_trace(const std::string& path);
/// Creates a text-form writer whatever the extension of `path`.
std::unique_ptr<TraceWriter> create_csv_trace_writer(const std::string& path,
                                                     const TraceMeta& meta);
/// Creates a JSON-lines writer whatever the extension of `path`.
std::unique_ptr<TraceWriter> create_jsonl_trace_writer(const std::string& path,
                                                       const TraceMeta& meta);
/// Creates a binary-form writer whatever the extension of `path`.
std::unique_ptr<TraceWriter> create_binary_trace_writer(const std::string& path,
                                                        const TraceMeta& meta);

}  // namespace moesim
