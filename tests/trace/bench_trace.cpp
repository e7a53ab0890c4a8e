// Read rates of the trace forms, in token-expert assignments per second:
//   bench_trace [--benchmark_filter=Read]
// A 4M-assignment synthetic trace (Mixtral-like: 32 layers, 8 experts, top-2, decode batch
// 256) is written once to a temp directory in each form (binary, CSV, JSONL), then read back end to
// end.

#include <unistd.h>

#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>

#include "workloads/trace/synthetic.hpp"
#include "workloads/trace/trace.hpp"

namespace {

using namespace moesim;

SyntheticSpec bench_spec() {
  SyntheticSpec s;
  s.model = "mixtral-8x7b";
  s.layers = 32;
  s.experts = 8;
  s.top_k = 2;
  s.batch = 256;
  s.steps = 256;  // 256 * 256 * 32 * 2 = 4,194,304 assignments
  s.context = 512;
  s.dist = SyntheticSpec::Dist::kZipf;
  s.zipf_s = 1.0;
  s.seed = 7;
  return s;
}

/// Writes the benchmark trace once per form; removed at exit.
class Files {
 public:
  Files() {
    m_dir = std::filesystem::temp_directory_path() /
            ("moesim-bench-trace-" + std::to_string(::getpid()));
    std::filesystem::create_directories(m_dir);
    for (const char* name : {"t.moetrace", "t.csv", "t.jsonl"}) {
      auto gen = make_synthetic_trace(bench_spec());
      auto w = create_trace_writer(path(name), gen->meta());
      TraceStep s;
      while (gen->next(s)) w->write(s);
      w->finish();
    }
  }
  ~Files() { std::filesystem::remove_all(m_dir); }
  std::string path(const char* name) const { return (m_dir / name).string(); }

 private:
  std::filesystem::path m_dir;
};

const Files& files() {
  static const Files f;
  return f;
}

void read_trace(benchmark::State& state, const char* name) {
  const std::string p = files().path(name);
  const auto bytes = std::filesystem::file_size(p);
  uint64_t assignments = 0;
  for (auto _ : state) {
    auto r = open_trace(p);
    TraceStep s;
    while (r->next(s)) {
      assignments += s.assignments();
      benchmark::DoNotOptimize(s.experts.data());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(assignments));
  state.SetBytesProcessed(static_cast<int64_t>(bytes * state.iterations()));
  state.counters["file_MiB"] = static_cast<double>(bytes) / (1 << 20);
}

void BM_ReadBinary(benchmark::State& state) {
  read_trace(state, "t.moetrace");
}
void BM_ReadCsv(benchmark::State& state) {
  read_trace(state, "t.csv");
}
void BM_ReadJsonl(benchmark::State& state) {
  read_trace(state, "t.jsonl");
}

void write_trace(benchmark::State& state, const char* name) {
  std::vector<TraceStep> steps;
  auto gen = make_synthetic_trace(bench_spec());
  TraceStep s;
  while (gen->next(s)) steps.push_back(s);
  const std::string p = files().path(name);
  uint64_t assignments = 0;
  for (auto _ : state) {
    auto w = create_trace_writer(p, gen->meta());
    for (const auto& step : steps) {
      w->write(step);
      assignments += step.assignments();
    }
    w->finish();
  }
  state.SetItemsProcessed(static_cast<int64_t>(assignments));
}

void BM_WriteBinary(benchmark::State& state) {
  write_trace(state, "w.moetrace");
}
void BM_WriteCsv(benchmark::State& state) {
  write_trace(state, "w.csv");
}
void BM_WriteJsonl(benchmark::State& state) {
  write_trace(state, "w.jsonl");
}

void BM_Generate(benchmark::State& state) {
  uint64_t assignments = 0;
  for (auto _ : state) {
    auto gen = make_synthetic_trace(bench_spec());
    TraceStep s;
    while (gen->next(s)) assignments += s.assignments();
  }
  state.SetItemsProcessed(static_cast<int64_t>(assignments));
}

BENCHMARK(BM_ReadBinary)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadCsv)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadJsonl)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteBinary)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteCsv)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteJsonl)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Generate)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
