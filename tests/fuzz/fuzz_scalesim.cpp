// libFuzzer target: the SCALE-Sim input readers of `moesim gemm` (sim/cli/scalesim_files.cpp):
// FUZZ_SCALESIM_FORM 0 reads the input as a topology CSV (form from its header or first row),
// 1 as a .cfg. Every layer read must be one moesim gemm can time (dimensions 1..2^32 - 1, at
// most 2^53 MACs); nothing is simulated.
#include <cstdlib>

#include "sim/cli/scalesim_files.hpp"
#include "tests/fuzz/fuzz_util.hpp"

#ifndef FUZZ_SCALESIM_FORM
#error "FUZZ_SCALESIM_FORM must be 0 (topology CSV) or 1 (.cfg)"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path =
      moesim::fuzz::write_input(data, size, FUZZ_SCALESIM_FORM == 0 ? ".csv" : ".cfg");
  moesim::fuzz::expect_input_errors([&] {
    if (FUZZ_SCALESIM_FORM == 0) {
      const moesim::Topology t = moesim::read_topology_csv(path, moesim::TopologyForm::kAuto);
      if (t.layers.empty()) std::abort();  // "no layers" is an error, never an empty result
      for (const moesim::TopologyLayer& l : t.layers) {
        if (l.m == 0 || l.n == 0 || l.k == 0) std::abort();
        uint64_t mn = 0, mnk = 0;
        if (__builtin_mul_overflow(l.m, l.n, &mn) || __builtin_mul_overflow(mn, l.k, &mnk) ||
            mnk > (uint64_t{1} << 53))
          std::abort();
      }
    } else {
      const moesim::ScaleSimArch a = moesim::read_scalesim_cfg(path);
      if ((a.rows && (*a.rows == 0 || *a.rows > 4096)) ||
          (a.cols && (*a.cols == 0 || *a.cols > 4096)))
        std::abort();
      if (a.dataflow && *a.dataflow != "ws" && *a.dataflow != "os" && *a.dataflow != "is")
        std::abort();
    }
  });
  return 0;
}
