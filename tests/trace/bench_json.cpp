// Our JSON parsers against the Debian libraries (issue 15, "Parsing"), on the work each does:
//   bench_json [--benchmark_filter=...]
// - routing rows (olmoe-jsonl log rows and trace .jsonl rows): parse one line and extract
//   every field as the importer / trace reader does (integers checked, weights parsed from
//   their raw text with from_chars<float>, so results are bit-identical): jsonl::Object
//   against simdjson 3 On-Demand (the line copied into a padded buffer, raw number tokens).
// - stats.json (the sweep results' input, tests/regression/golden/mixtral_decode.stats.json):
//   sweep::parse_json (numbers kept as written) against nlohmann::json 3 (DOM) and
//   nlohmann's SAX parser keeping float text as written (what results need).
// Items per second = rows (or documents) per second.

#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <simdjson.h>
#include <nlohmann/json.hpp>

#include "sim/sweep/results.hpp"
#include "workloads/trace/jsonl.hpp"

namespace {

using namespace moesim;

/// 4096 distinct rows of a layer-major olmoe log (top-8 of 64, as OLMoE logs them).
std::vector<std::string> olmoe_rows() {
  std::vector<std::string> v;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 4096; ++i) {
    std::string r = "{\"dataset\": \"gsm8k\", \"problem_id\": " + std::to_string(i / 1024) +
                    ", \"layer\": " + std::to_string(i % 16) + ", \"experts\": [";
    std::string w = "], \"gating_probs\": [";
    for (int k = 0; k < 8; ++k) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      r += (k ? ", " : "") + std::to_string((x >> 8) % 64);
      w += (k ? ", " : "") + std::to_string(static_cast<double>((x >> 20) % 100000) / 1e6);
    }
    r += w + "], \"token_idx\": " + std::to_string(i % 1024) + "}";
    v.push_back(r);
  }
  return v;
}

/// 4096 trace .jsonl rows (top-2 of 8, as the writer writes them).
std::vector<std::string> trace_rows() {
  std::vector<std::string> v;
  for (int i = 0; i < 4096; ++i) {
    v.push_back("{\"step\":" + std::to_string(i / 64) + ",\"request\":" + std::to_string(i % 64) +
                ",\"position\":" + std::to_string(100 + i / 64) +
                ",\"layer\":" + std::to_string(i % 32) + ",\"experts\":[" + std::to_string(i % 8) +
                "," + std::to_string((i + 3) % 8) + "],\"weights\":[0.6184,0.3816]}");
  }
  return v;
}

bool parse_u32(std::string_view s, uint32_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}
bool parse_f32(std::string_view s, float& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

/// What a row yields: integer keys, expert ids and weights.
struct Row {
  uint32_t ints[4] = {0, 0, 0, 0};
  uint32_t experts[16];
  float weights[16];
  uint32_t k = 0;
};

void ours(benchmark::State& state, const std::vector<std::string>& rows,
          const std::vector<const char*>& int_keys, const char* ex_key, const char* wt_key) {
  jsonl::Object obj;
  Row r;
  for (auto _ : state) {
    for (const std::string& line : rows) {
      if (!obj.parse(line).empty()) state.SkipWithError("parse");
      for (size_t i = 0; i < int_keys.size(); ++i) {
        const jsonl::Value* v = obj.find(int_keys[i]);
        if (!v || !jsonl::is_unsigned(*v) || !parse_u32(v->raw, r.ints[i])) {
          state.SkipWithError("int");
        }
      }
      const jsonl::Value* ex = obj.find(ex_key);
      const jsonl::Value* wt = obj.find(wt_key);
      r.k = ex->count;
      for (uint32_t i = 0; i < ex->count; ++i) {
        if (!parse_u32(obj.item(*ex, i).raw, r.experts[i])) state.SkipWithError("expert");
        if (!parse_f32(obj.item(*wt, i).raw, r.weights[i])) state.SkipWithError("weight");
      }
      benchmark::DoNotOptimize(r);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
}

void simd(benchmark::State& state, const std::vector<std::string>& rows,
          const std::vector<const char*>& int_keys, const char* ex_key, const char* wt_key) {
  simdjson::ondemand::parser parser;
  std::vector<char> buf(1 << 16);
  Row r;
  for (auto _ : state) {
    for (const std::string& line : rows) {
      // A line from a file reader has no padding after it: copy it into a padded buffer.
      std::memcpy(buf.data(), line.data(), line.size());
      simdjson::ondemand::document doc;
      if (parser.iterate(buf.data(), line.size(), buf.size()).get(doc)) {
        state.SkipWithError("parse");
      }
      simdjson::ondemand::object o;
      if (doc.get_object().get(o)) state.SkipWithError("object");
      for (size_t i = 0; i < int_keys.size(); ++i) {
        uint64_t u = 0;
        if (o.find_field_unordered(int_keys[i]).get_uint64().get(u) || u > UINT32_MAX) {
          state.SkipWithError("int");
        }
        r.ints[i] = static_cast<uint32_t>(u);
      }
      simdjson::ondemand::array ex, wt;
      if (o.find_field_unordered(ex_key).get_array().get(ex)) state.SkipWithError("ex");
      r.k = 0;
      for (auto item : ex) {
        uint64_t u = 0;
        if (item.get_uint64().get(u)) state.SkipWithError("expert");
        r.experts[r.k++] = static_cast<uint32_t>(u);
      }
      if (o.find_field_unordered(wt_key).get_array().get(wt)) state.SkipWithError("wt");
      uint32_t i = 0;
      for (auto item : wt) {
        // The raw token, so the float is from_chars' (the same bits as ours).
        std::string_view raw = item.raw_json_token();
        while (!raw.empty() && (raw.back() == ' ' || raw.back() == ',')) raw.remove_suffix(1);
        if (!parse_f32(raw, r.weights[i++])) state.SkipWithError("weight");
      }
      benchmark::DoNotOptimize(r);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
}

/// simdjson's DOM API (runtime-dispatched: the best kernel of this CPU). Numbers come back
/// parsed (a weight as a double, then rounded to float): no raw text, so a weight can differ
/// from from_chars<float> by double rounding; shown for its speed.
void dom(benchmark::State& state, const std::vector<std::string>& rows,
         const std::vector<const char*>& int_keys, const char* ex_key, const char* wt_key) {
  simdjson::dom::parser parser;
  std::vector<char> buf(1 << 16);
  Row r;
  for (auto _ : state) {
    for (const std::string& line : rows) {
      std::memcpy(buf.data(), line.data(), line.size());
      simdjson::dom::object o;
      if (parser.parse(buf.data(), line.size(), false).get(o)) state.SkipWithError("parse");
      for (size_t i = 0; i < int_keys.size(); ++i) {
        uint64_t u = 0;
        if (o[int_keys[i]].get(u) || u > UINT32_MAX) state.SkipWithError("int");
        r.ints[i] = static_cast<uint32_t>(u);
      }
      simdjson::dom::array ex, wt;
      if (o[ex_key].get(ex) || o[wt_key].get(wt)) state.SkipWithError("arrays");
      r.k = 0;
      for (auto item : ex) {
        uint64_t u = 0;
        if (item.get(u)) state.SkipWithError("expert");
        r.experts[r.k++] = static_cast<uint32_t>(u);
      }
      uint32_t i = 0;
      for (auto item : wt) {
        double d = 0;
        if (item.get(d)) state.SkipWithError("weight");
        r.weights[i++] = static_cast<float>(d);
      }
      benchmark::DoNotOptimize(r);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
  state.SetLabel(simdjson::get_active_implementation()->name());
}

void BM_OlmoeRow_Ours(benchmark::State& s) {
  static const auto rows = olmoe_rows();
  ours(s, rows, {"problem_id", "layer", "token_idx"}, "experts", "gating_probs");
}
void BM_OlmoeRow_Simdjson(benchmark::State& s) {
  static const auto rows = olmoe_rows();
  simd(s, rows, {"problem_id", "layer", "token_idx"}, "experts", "gating_probs");
}
void BM_OlmoeRow_SimdjsonDom(benchmark::State& s) {
  static const auto rows = olmoe_rows();
  dom(s, rows, {"problem_id", "layer", "token_idx"}, "experts", "gating_probs");
}
void BM_TraceRow_Ours(benchmark::State& s) {
  static const auto rows = trace_rows();
  ours(s, rows, {"step", "request", "position", "layer"}, "experts", "weights");
}
void BM_TraceRow_Simdjson(benchmark::State& s) {
  static const auto rows = trace_rows();
  simd(s, rows, {"step", "request", "position", "layer"}, "experts", "weights");
}
void BM_TraceRow_SimdjsonDom(benchmark::State& s) {
  static const auto rows = trace_rows();
  dom(s, rows, {"step", "request", "position", "layer"}, "experts", "weights");
}

std::string stats_text() {
  std::ifstream f(std::string(MOESIM_SOURCE_DIR) +
                  "/tests/regression/golden/mixtral_decode.stats.json");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void BM_StatsJson_Ours(benchmark::State& state) {
  static const std::string text = stats_text();
  for (auto _ : state) {
    sweep::JsonValue v = sweep::parse_json(text);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void BM_StatsJson_NlohmannDom(benchmark::State& state) {
  static const std::string text = stats_text();
  for (auto _ : state) {
    nlohmann::ordered_json v = nlohmann::ordered_json::parse(text);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

/// nlohmann's SAX interface building our JsonValue tree with float text as written.
struct Sax : nlohmann::json_sax<nlohmann::json> {
  std::vector<sweep::JsonValue> stack;
  std::vector<std::string> keys;
  sweep::JsonValue root;
  void put(sweep::JsonValue v) {
    if (stack.empty()) {
      root = std::move(v);
    } else if (stack.back().kind == sweep::JsonValue::Kind::kObject) {
      stack.back().members.emplace_back(std::move(keys.back()), std::move(v));
      keys.pop_back();
    } else {
      stack.back().items.push_back(std::move(v));
    }
  }
  bool null() override { return put({}), true; }
  bool boolean(bool b) override {
    sweep::JsonValue v;
    v.kind = sweep::JsonValue::Kind::kBool;
    v.text = b ? "true" : "false";
    return put(std::move(v)), true;
  }
  bool number_integer(number_integer_t n) override {
    return put(sweep::JsonValue::number(std::to_string(n))), true;
  }
  bool number_unsigned(number_unsigned_t n) override {
    return put(sweep::JsonValue::number(std::to_string(n))), true;
  }
  bool number_float(number_float_t, const string_t& s) override {
    return put(sweep::JsonValue::number(s)), true;
  }
  bool string(string_t& s) override { return put(sweep::JsonValue::string(s)), true; }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override {
    sweep::JsonValue v;
    v.kind = sweep::JsonValue::Kind::kObject;
    stack.push_back(std::move(v));
    return true;
  }
  bool key(string_t& k) override { return keys.push_back(k), true; }
  bool end_object() override {
    sweep::JsonValue v = std::move(stack.back());
    stack.pop_back();
    return put(std::move(v)), true;
  }
  bool start_array(std::size_t) override {
    sweep::JsonValue v;
    v.kind = sweep::JsonValue::Kind::kArray;
    stack.push_back(std::move(v));
    return true;
  }
  bool end_array() override { return end_object(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }
};

void BM_StatsJson_NlohmannSax(benchmark::State& state) {
  static const std::string text = stats_text();
  for (auto _ : state) {
    Sax sax;
    if (!nlohmann::json::sax_parse(text, &sax)) state.SkipWithError("parse");
    benchmark::DoNotOptimize(sax.root);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

}  // namespace

BENCHMARK(BM_OlmoeRow_Ours);
BENCHMARK(BM_OlmoeRow_Simdjson);
BENCHMARK(BM_OlmoeRow_SimdjsonDom);
BENCHMARK(BM_TraceRow_Ours);
BENCHMARK(BM_TraceRow_Simdjson);
BENCHMARK(BM_TraceRow_SimdjsonDom);
BENCHMARK(BM_StatsJson_Ours);
BENCHMARK(BM_StatsJson_NlohmannDom);
BENCHMARK(BM_StatsJson_NlohmannSax);
BENCHMARK_MAIN();
