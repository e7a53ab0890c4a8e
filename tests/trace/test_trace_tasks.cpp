// Multi-task traces (issue 12, task-level gating): the task field in every form, old traces
// unchanged, bad task ids, and the synthetic generator's gate per task.

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/trace/trace_test_util.hpp"
#include "workloads/trace/synthetic.hpp"
#include "workloads/trace/trace.hpp"
#include "workloads/trace/trace_io.hpp"
#include "workloads/trace/trace_stats.hpp"

namespace moesim::test {
namespace {

class TaskTrace : public TraceTest {};

TraceMeta two_task_meta() {
  TraceMeta m;
  m.model = "m3vit-small";
  m.layers = 2;
  m.experts = 16;
  m.top_k = 2;
  m.tasks = 2;
  m.source = "test";
  m.extra = {{"note", "two tasks"}};
  return m;
}

/// Requests 0 and 2 of task 0, request 1 of task 1.
std::vector<TraceStep> two_task_steps() {
  std::vector<TraceStep> s;
  s.push_back(make_step(0, {{0, 0, 0}, {0, 1, 0}, {1, 0, 1}},
                        {{{{3, 0.75f}, {5, 0.25f}}, {{1, 1.0f}}, {{15, 0.5f}, {14, 0.5f}}},
                         {{{2, 1.0f}}, {}, {{9, 0.125f}}}}));
  s.push_back(
      make_step(4, {{1, 1, 1}, {2, 0, 0}}, {{{{8, 1.0f}}, {{0, 1.0f}}}, {{{7, 1.0f}}, {}}}));
  return s;
}

TEST_F(TaskTrace, TheTaskFieldRoundTripsThroughEveryForm) {
  const std::string a = path("a.csv");
  write_all(a, two_task_meta(), two_task_steps());
  convert(a, path("b.jsonl"));
  convert(path("b.jsonl"), path("c.moetrace"));
  convert(path("c.moetrace"), path("d.csv"));
  convert(path("d.csv"), path("e.moetrace"));
  convert(path("e.moetrace"), path("f.jsonl"));
  EXPECT_EQ(read_file(path("d.csv")), read_file(a));
  EXPECT_EQ(read_file(path("e.moetrace")), read_file(path("c.moetrace")));
  EXPECT_EQ(read_file(path("f.jsonl")), read_file(path("b.jsonl")));

  const std::string csv = read_file(a);
  EXPECT_NE(csv.find("# tasks=2\n"), std::string::npos) << csv;
  EXPECT_NE(
      csv.find("\nstep,request,position,task,layer,experts,weights\n0,0,0,0,0,3;5,0.75;0.25\n"),
      std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\n0,1,0,1,1,9,0.125\n"), std::string::npos) << csv;
  const std::string jsonl = read_file(path("b.jsonl"));
  EXPECT_NE(jsonl.find("\"top_k\":2,\"tasks\":2,\"source\""), std::string::npos) << jsonl;
  EXPECT_NE(jsonl.find("{\"step\":0,\"request\":1,\"position\":0,\"task\":1,\"layer\":0,"),
            std::string::npos)
      << jsonl;
  EXPECT_EQ(read_file(path("c.moetrace"))[8], 2) << "a multi-task binary trace is version 2";

  for (const char* f : {"a.csv", "b.jsonl", "c.moetrace"}) {
    auto r = open_trace(path(f));
    expect_meta_equal(r->meta(), two_task_meta());
    const auto back = read_all(*r);
    const auto want = two_task_steps();
    ASSERT_EQ(back.size(), want.size()) << f;
    for (size_t i = 0; i < want.size(); ++i) expect_steps_equal(back[i], want[i]);
  }
}

TEST_F(TaskTrace, SingleTaskTracesAreWrittenAsBeforeAndOldFilesReadAsTaskZero) {
  TraceMeta m = two_task_meta();
  m.tasks = 1;
  std::vector<TraceStep> steps = two_task_steps();
  for (auto& s : steps) {
    for (auto& t : s.tokens) t.task = 0;
  }
  write_all(path("a.csv"), m, steps);
  write_all(path("a.jsonl"), m, steps);
  write_all(path("a.moetrace"), m, steps);
  const std::string csv = read_file(path("a.csv"));
  EXPECT_EQ(csv.find("# tasks"), std::string::npos);
  EXPECT_NE(csv.find("\nstep,request,position,layer,experts,weights\n"), std::string::npos);
  EXPECT_EQ(read_file(path("a.jsonl")).find("\"tasks\""), std::string::npos);
  EXPECT_EQ(read_file(path("a.jsonl")).find("\"task\""), std::string::npos);
  EXPECT_EQ(read_file(path("a.moetrace"))[8], 1) << "a single-task binary trace stays version 1";

  // A version-1 file written before tasks existed (as in FORMAT.md): every token is task 0.
  write_file(path("old.csv"),
             "# moesim-trace 1\n# layers=1\n# experts=8\n# top_k=1\n"
             "step,request,position,layer,experts,weights\n0,0,5,0,3,1\n0,1,5,0,4,1\n");
  write_file(path("old.jsonl"),
             "{\"moesim_trace\":1,\"layers\":1,\"experts\":8,\"top_k\":1}\n"
             "{\"step\":0,\"request\":0,\"position\":5,\"layer\":0,\"experts\":[3],"
             "\"weights\":[1]}\n");
  for (const char* f : {"old.csv", "old.jsonl"}) {
    auto r = open_trace(path(f));
    EXPECT_EQ(r->meta().tasks, 1u);
    for (const auto& s : read_all(*r)) {
      for (const auto& t : s.tokens) EXPECT_EQ(t.task, 0u) << f;
    }
  }
}

TEST_F(TaskTrace, BadTaskIdsNameFileAndLine) {
  const std::string head =
      "# moesim-trace 1\n# layers=1\n# experts=8\n# top_k=1\n# tasks=2\n"
      "step,request,position,task,layer,experts,weights\n";
  auto csv_error = [&](const std::string& rows) {
    write_file(path("t.csv"), head + rows);
    return read_error(path("t.csv"));
  };
  const std::string c = path("t.csv");
  EXPECT_EQ(csv_error("0,0,0,2,0,1,1\n"), c + ":7: task 2 out of range (tasks = 2)");
  EXPECT_EQ(csv_error("0,0,0,-1,0,1,1\n"),
            c + ":7: column 'task': expected an unsigned integer, got '-1'");
  EXPECT_EQ(csv_error("0,0,0,0,1,1\n"), c + ":7: expected 7 columns, got 6");
  write_file(c,
             "# moesim-trace 1\n# layers=2\n# experts=8\n# top_k=1\n# tasks=2\n"
             "step,request,position,task,layer,experts,weights\n0,0,0,1,0,1,1\n0,0,0,0,1,1,1\n");
  EXPECT_EQ(read_error(c),
            c + ":8: step 0: token (request 0, position 0) has task 0 here but task 1 at line 7");
  write_file(c, "# moesim-trace 1\n# layers=1\n# experts=8\n# top_k=1\n# tasks=0\n");
  EXPECT_EQ(read_error(c), c + ":5: metadata 'tasks' must be at least 1");

  const std::string j = path("t.jsonl");
  const std::string jhead =
      "{\"moesim_trace\":1,\"layers\":1,\"experts\":8,\"top_k\":1,\"tasks\":2}\n";
  write_file(j, jhead +
                    "{\"step\":0,\"request\":0,\"position\":0,\"task\":2,\"layer\":0,"
                    "\"experts\":[1],\"weights\":[1]}\n");
  EXPECT_EQ(read_error(j), j + ":2: task 2 out of range (tasks = 2)");
  write_file(j, jhead +
                    "{\"step\":0,\"request\":0,\"position\":0,\"task\":-1,\"layer\":0,"
                    "\"experts\":[1],\"weights\":[1]}\n");
  EXPECT_EQ(read_error(j), j + ":2: key 'task': expected an unsigned integer, got -1");
  write_file(j, jhead +
                    "{\"step\":0,\"request\":0,\"position\":0,\"tsk\":1,\"layer\":0,"
                    "\"experts\":[1],\"weights\":[1]}\n");
  EXPECT_EQ(read_error(j),
            j + ":2: unknown key 'tsk' (expected step, request, position, task, layer, experts, "
                "weights)");
  // A trace without tasks has one: task 0.
  write_file(j,
             "{\"moesim_trace\":1,\"layers\":1,\"experts\":8,\"top_k\":1}\n"
             "{\"step\":0,\"request\":0,\"position\":0,\"task\":1,\"layer\":0,"
             "\"experts\":[1],\"weights\":[1]}\n");
  EXPECT_EQ(read_error(j), j + ":2: task 1 out of range (tasks = 1)");

  // Writers refuse a task the metadata does not have.
  std::vector<TraceStep> steps = two_task_steps();
  steps[0].tokens[2].task = 2;
  for (const char* f : {"w.csv", "w.jsonl", "w.moetrace"}) {
    EXPECT_EQ(input_error([&] { write_all(path(f), two_task_meta(), steps); }),
              path(f) +
                  ": cannot write step 0: token (request 1, position 0): task 2 out of range "
                  "(tasks = 2)");
  }

  // The binary reader checks every token's task (a record patched, its CRC made right).
  write_all(path("b.moetrace"), two_task_meta(), two_task_steps());
  std::string b = read_file(path("b.moetrace"));
  uint32_t n = 0;
  std::memcpy(&n, b.data() + 12, 4);
  const size_t rec = 16 + n + 4;  // magic, version, N, block, CRC
  uint32_t size = 0;
  std::memcpy(&size, b.data() + rec + 4, 4);
  const size_t task0 = rec + 8 + 24 + 8;  // tag, size; fixed payload; request, position
  b[task0] = 5;
  const uint32_t crc = trace_io::crc32(0, b.data() + rec, 8 + size_t{size});
  std::memcpy(&b[rec + 8 + size], &crc, 4);
  write_file(path("b.moetrace"), b);
  EXPECT_EQ(read_error(path("b.moetrace")),
            path("b.moetrace") +
                ": record 0 (step 0): token (request 0, position 0): task 5 out of range (tasks = "
                "2)");
}

TEST_F(TaskTrace, StatsCountEachTasksRequestsAndTokens) {
  write_all(path("a.csv"), two_task_meta(), two_task_steps());
  auto r = open_trace(path("a.csv"));
  const TraceStats s = compute_trace_stats(*r);
  EXPECT_EQ(s.task_requests, (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(s.task_tokens, (std::vector<uint64_t>{3, 2}));
  const std::string json = trace_stats_json(s, "a.csv");
  EXPECT_NE(json.find("\"per_task\": [{\"task\": 0, \"requests\": 2, \"tokens\": 3}, "
                      "{\"task\": 1, \"requests\": 1, \"tokens\": 2}]"),
            std::string::npos)
      << json;
  const std::string text = trace_stats_text(s, "a.csv");
  EXPECT_NE(text.find("  task 1                      1 requests, 2 tokens\n"), std::string::npos)
      << text;
  // A single-task trace reports no tasks.
  TraceMeta m = two_task_meta();
  m.tasks = 1;
  std::vector<TraceStep> steps = two_task_steps();
  for (auto& st : steps) {
    for (auto& t : st.tokens) t.task = 0;
  }
  write_all(path("b.csv"), m, steps);
  auto r1 = open_trace(path("b.csv"));
  const TraceStats one = compute_trace_stats(*r1);
  EXPECT_TRUE(one.task_tokens.empty());
  EXPECT_EQ(trace_stats_json(one, "b.csv").find("per_task"), std::string::npos);
}

SyntheticSpec two_task_spec() {
  SyntheticSpec s;
  s.model = "m3vit-small";
  s.layers = 3;
  s.experts = 16;
  s.top_k = 2;
  s.steps = 8;
  s.batch = 2;
  s.phase = SyntheticSpec::Phase::kPrefill;
  s.prompt_tokens = 129;
  s.dist = SyntheticSpec::Dist::kZipf;
  s.zipf_s = 1.2;
  s.seed = 7;
  s.tasks = 2;
  return s;
}

/// Routed copies per (task, layer, expert).
std::vector<uint64_t> load_by_task(const SyntheticSpec& spec, std::vector<uint32_t>* tasks) {
  auto r = make_synthetic_trace(spec);
  std::vector<uint64_t> load(size_t{spec.tasks} * spec.layers * spec.experts, 0);
  TraceStep s;
  std::set<uint32_t> seen;
  while (r->next(s)) {
    for (uint32_t t = 0; t < s.num_tokens(); ++t) {
      const TraceToken& tok = s.tokens[t];
      if (tasks && seen.insert(tok.request).second) tasks->push_back(tok.task);
      for (uint32_t l = 0; l < s.layers; ++l) {
        for (uint32_t i = s.route_begin(l, t); i < s.route_end(l, t); ++i) {
          ++load[(size_t{tok.task} * spec.layers + l) * spec.experts + s.experts[i]];
        }
      }
    }
  }
  return load;
}

TEST(TaskSynthetic, EachTaskIsRoutedByItsOwnGate) {
  const SyntheticSpec spec = two_task_spec();
  std::vector<uint32_t> tasks;
  const std::vector<uint64_t> load = load_by_task(spec, &tasks);
  // Equal shares: requests alternate between the tasks.
  ASSERT_EQ(tasks.size(), 16u);
  for (size_t r = 0; r < tasks.size(); ++r) EXPECT_EQ(tasks[r], r % 2) << "request " << r;
  // Each task's popularity follows its own gate: the experts' loads differ at every layer,
  // and so does the favourite expert at some (two of the three for this seed).
  const uint32_t L = spec.layers, E = spec.experts;
  int differ = 0;
  for (uint32_t l = 0; l < L; ++l) {
    const auto a = load.begin() + size_t{l} * E, b = load.begin() + (size_t{L} + l) * E;
    EXPECT_FALSE(std::equal(a, a + E, b)) << "layer " << l;
    differ += std::max_element(a, a + E) - a != std::max_element(b, b + E) - b ? 1 : 0;
  }
  EXPECT_EQ(differ, 2);
  EXPECT_EQ(make_synthetic_trace(spec)->meta().tasks, 2u);
  EXPECT_EQ(make_synthetic_trace(spec)->meta().extra.at("task_mix"), "1;1");
}

TEST(TaskSynthetic, TaskZeroIsTheSingleTaskGateAndTheMixIsFollowed) {
  // All requests of task 0: the routes of the single-task trace of the same seed.
  SyntheticSpec one = two_task_spec();
  one.tasks = 1;
  SyntheticSpec zero = two_task_spec();
  zero.task_mix = {1, 0};
  auto a = make_synthetic_trace(one), b = make_synthetic_trace(zero);
  TraceStep x, y;
  while (a->next(x)) {
    ASSERT_TRUE(b->next(y));
    EXPECT_EQ(x.experts, y.experts);
    EXPECT_EQ(x.weights, y.weights);
    for (const auto& t : y.tokens) EXPECT_EQ(t.task, 0u);
  }
  // All of task 1: other experts.
  SyntheticSpec other = two_task_spec();
  other.task_mix = {0, 1};
  EXPECT_NE(load_by_task(other, nullptr), load_by_task(zero, nullptr));
  // 3:1 shares: three task-0 requests for each task-1 request.
  SyntheticSpec mix = two_task_spec();
  mix.task_mix = {3, 1};
  std::vector<uint32_t> tasks;
  load_by_task(mix, &tasks);
  EXPECT_EQ(tasks, (std::vector<uint32_t>{0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0}));
  // Decode: each of the batch's requests keeps its task.
  SyntheticSpec dec = two_task_spec();
  dec.phase = SyntheticSpec::Phase::kDecode;
  dec.batch = 3;
  auto d = make_synthetic_trace(dec);
  TraceStep s;
  while (d->next(s)) {
    ASSERT_EQ(s.tokens.size(), 3u);
    EXPECT_EQ(s.tokens[0].task, 0u);
    EXPECT_EQ(s.tokens[1].task, 1u);
    EXPECT_EQ(s.tokens[2].task, 0u);
  }
  SyntheticSpec bad = two_task_spec();
  bad.task_mix = {1, 1, 1};
  EXPECT_EQ(input_error([&] { make_synthetic_trace(bad); }),
            "synthetic trace: task_mix has 3 values for 2 tasks");
  bad.task_mix = {0, 0};
  EXPECT_EQ(input_error([&] { make_synthetic_trace(bad); }),
            "synthetic trace: task_mix values are all 0");
}

}  // namespace
}  // namespace moesim::test
