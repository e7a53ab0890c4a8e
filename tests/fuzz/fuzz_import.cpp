// libFuzzer targets: the routing-log importers. Built twice with FUZZ_IMPORT_FORMAT = 0
// (olmoe-jsonl), 1 (engine-jsonl). The input is the log; it is imported with the model of
// tests/trace/data/tiny_moe.toml (5 layers, layer 0 dense, 8 experts, top-2) four times:
// layer ids as MoE ordinals or transformer layers, bad rows fatal or skipped.
#include "tests/fuzz/fuzz_util.hpp"
#include "workloads/trace/trace_import.hpp"

#ifndef FUZZ_IMPORT_FORMAT
#error "define FUZZ_IMPORT_FORMAT"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = moesim::fuzz::write_input(data, size, ".jsonl");
  for (int variant = 0; variant < 4; ++variant) {
    moesim::ImportOptions o;
    o.format = FUZZ_IMPORT_FORMAT == 0 ? moesim::ImportFormat::kOlmoeJsonl
                                       : moesim::ImportFormat::kEngineJsonl;
    o.model = "tiny-moe";
    o.experts = 8;
    o.top_k = 2;
    o.is_moe = {false, true, true, true, true};
    o.layer_map = (variant & 1) ? moesim::LayerMap::kTransformer : moesim::LayerMap::kMoe;
    o.skip_bad_rows = (variant & 2) != 0;
    o.warmup_min_tokens = 4;
    moesim::fuzz::expect_input_errors([&] {
      auto importer = moesim::open_import(path, o);
      (void)importer->meta();
      moesim::TraceStep step;
      for (uint64_t i = 0; i < moesim::fuzz::kMaxRecords && importer->next(step); ++i) {
      }
      (void)moesim::import_report_text(importer->report());
    });
  }
  return 0;
}
