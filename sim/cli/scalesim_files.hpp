#pragma once
/// Readers of SCALE-Sim's input files (docs/scalesim.md): its topology CSV (GEMM form
/// `Layer, M, N, K,` and convolution form `Layer name, IFMAP Height, ..., Strides,`) and
/// its `.cfg` (INI, read as Python's configparser reads it). Every error is an InputError
/// naming the file, the line and the column or key.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moesim {

/// One GEMM of a topology: C[M,N] = A[M,K] B[K,N], as SCALE-Sim maps the layer.
struct TopologyLayer {
  std::string name;
  uint64_t m = 0;
  uint64_t n = 0;
  uint64_t k = 0;
  int line = 0;  ///< line of the file it came from
};

enum class TopologyForm { kAuto, kGemm, kConv };

struct Topology {
  std::vector<TopologyLayer> layers;
  TopologyForm form = TopologyForm::kGemm;  ///< the form read (never kAuto)
  bool header = false;                      ///< the first row was a header
};

/// Reads a topology CSV. kAuto: the form named by the header (an "IFMAP" column: conv),
/// else by the first row's fields (8 or more numbers after the name: conv), else GEMM.
Topology read_topology_csv(const std::string& path, TopologyForm form);

/// `s` for a one-line message: control characters as \n, \r, \t or \xNN.
std::string shown(const std::string& s);

/// The architecture of a SCALE-Sim `.cfg` ([architecture_presets]); absent keys are empty.
struct ScaleSimArch {
  std::string run_name;
  std::optional<uint64_t> rows;         ///< ArrayHeight
  std::optional<uint64_t> cols;         ///< ArrayWidth
  std::optional<std::string> dataflow;  ///< Dataflow: "ws", "os" or "is"
};

/// Reads a SCALE-Sim `.cfg`. Unknown sections and keys are ignored (as SCALE-Sim does); the
/// keys SCALE-Sim reads are checked for the form it converts them to.
ScaleSimArch read_scalesim_cfg(const std::string& path);

}  // namespace moesim
