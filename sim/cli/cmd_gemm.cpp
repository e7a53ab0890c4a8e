/// `moesim gemm`: the systolic compute unit alone on one GEMM or on a SCALE-Sim topology,
/// with SCALE-Sim's compute report (docs/scalesim.md).

#include "sim/cli/cmd_gemm.hpp"

#include <chrono>
#include <cstdio>
#include <optional>

#include <fmt/format.h>

#include "hw_models/compute/systolic_report.hpp"
#include "sim/cli/cli_util.hpp"
#include "sim/cli/scalesim_files.hpp"
#include "sim/core/error.hpp"
#include "sim/core/json_text.hpp"
#include "sim/output/atomic_file.hpp"

namespace moesim {

namespace {

constexpr const char* kGemmHelp =
    R"(usage: moesim gemm (--m M --k K --n N | TOPOLOGY.csv) [--cfg FILE.cfg] [--rows R] [--cols C]
                   [--dataflow ws|os|is] [--os-drain exposed|overlapped] [--input-type gemm|conv]
                   [--csv FILE] [--json FILE] [--quiet]

Runs the systolic compute unit (chip.compute type = "systolic", one array) alone on one GEMM
C[M,N] = A[M,K] B[K,N] or on every layer of a SCALE-Sim topology CSV, and prints per layer
its folds, cycles and SCALE-Sim's compute-report utilisations (docs/scalesim.md).

  --m, --k, --n     one GEMM (all three), instead of a topology
  TOPOLOGY.csv      SCALE-Sim topology: GEMM form 'Layer, M, N, K,' or convolution form
                    'Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
                    Channels, Num Filter, Strides,'; header row optional
  --input-type T    gemm or conv: the topology's form (default: from its header or first row)
  --cfg FILE        SCALE-Sim config: ArrayHeight, ArrayWidth and Dataflow of its
                    [architecture_presets]; the flags below override it
  --rows R          array rows (SCALE-Sim's ArrayHeight), 1..4096
  --cols C          array columns (ArrayWidth), 1..4096
  --dataflow D      ws (weight-stationary, default), os (output-stationary) or
                    is (input-stationary)
  --os-drain X      os only: exposed (default, moesim's chip.compute.os_drain default: a
                    fold's R result rows shift out after it, 2R + C + K - 2 per fold) or
                    overlapped (SCALE-Sim's count, R + C + K - 2)
  --csv FILE        write SCALE-Sim's COMPUTE_REPORT.csv columns (Total Cycles in SCALE-Sim's
                    convention: moesim's cycles - 1)
  --json FILE       write every layer's figures as JSON
  --quiet           no per-layer lines

Files are written to a temporary file and renamed; on bad input nothing is written.
)";

constexpr const char* kCmd = "gemm";

struct GemmOptions {
  std::optional<std::string> topology;
  std::optional<uint64_t> m, k, n;
  std::optional<std::string> cfg;
  std::optional<uint64_t> rows, cols;
  std::optional<Dataflow> dataflow;
  std::optional<OsDrain> os_drain;
  TopologyForm form = TopologyForm::kAuto;
  std::optional<std::string> csv, json;
  bool quiet = false;
};

std::optional<Dataflow> parse_dataflow(const std::string& v) {
  if (v == "ws" || v == "weight_stationary") return Dataflow::kWeightStationary;
  if (v == "os" || v == "output_stationary") return Dataflow::kOutputStationary;
  if (v == "is" || v == "input_stationary") return Dataflow::kInputStationary;
  return std::nullopt;
}

const char* dataflow_code(Dataflow d) {
  switch (d) {
    case Dataflow::kWeightStationary:
      return "ws";
    case Dataflow::kOutputStationary:
      return "os";
    case Dataflow::kInputStationary:
      return "is";
  }
  return "?";
}

const char* dataflow_name(Dataflow d) {
  switch (d) {
    case Dataflow::kWeightStationary:
      return "weight-stationary";
    case Dataflow::kOutputStationary:
      return "output-stationary";
    case Dataflow::kInputStationary:
      return "input-stationary";
  }
  return "?";
}

GemmOptions parse_gemm_options(const std::vector<std::string>& args) {
  GemmOptions o;
  const std::vector<std::string> known = {"--m",          "--k",    "--n",        "--cfg",
                                          "--rows",       "--cols", "--dataflow", "--os-drain",
                                          "--input-type", "--csv",  "--json",     "--quiet"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() > 1 && a[0] == '-') {
      const size_t eq = a.find('=');
      const std::string flag = a.substr(0, eq);
      bool is_known = false;
      for (const auto& k : known) is_known = is_known || k == flag;
      if (!is_known) unknown_option(kCmd, flag, known);
      if (flag == "--quiet") {
        if (eq != std::string::npos) usage_error(kCmd, "--quiet takes no value");
        o.quiet = true;
        continue;
      }
      std::string v;
      if (eq != std::string::npos) {
        v = a.substr(eq + 1);
      } else {
        if (i + 1 >= args.size()) usage_error(kCmd, fmt::format("{} needs a value", flag));
        v = args[++i];
      }
      auto positive = [&](uint64_t max) {
        const uint64_t x = parse_u64(kCmd, flag, v);
        if (x == 0 || x > max)
          usage_error(kCmd, fmt::format("{} must be from 1 to {}, got {}", flag, max, x));
        return x;
      };
      if (flag == "--m") {
        o.m = positive(UINT32_MAX);
      } else if (flag == "--k") {
        o.k = positive(UINT32_MAX);
      } else if (flag == "--n") {
        o.n = positive(UINT32_MAX);
      } else if (flag == "--rows") {
        o.rows = positive(4096);
      } else if (flag == "--cols") {
        o.cols = positive(4096);
      } else if (flag == "--cfg") {
        o.cfg = v;
      } else if (flag == "--dataflow") {
        o.dataflow = parse_dataflow(v);
        if (!o.dataflow)
          usage_error(kCmd, fmt::format("--dataflow expects ws, os or is, got '{}'", v));
      } else if (flag == "--os-drain") {
        if (v == "exposed")
          o.os_drain = OsDrain::kExposed;
        else if (v == "overlapped")
          o.os_drain = OsDrain::kOverlapped;
        else
          usage_error(kCmd, fmt::format("--os-drain expects exposed or overlapped, got '{}'", v));
      } else if (flag == "--input-type") {
        if (v == "gemm")
          o.form = TopologyForm::kGemm;
        else if (v == "conv")
          o.form = TopologyForm::kConv;
        else
          usage_error(kCmd, fmt::format("--input-type expects gemm or conv, got '{}'", v));
      } else if (flag == "--csv") {
        o.csv = v;
      } else {
        o.json = v;
      }
    } else if (!o.topology) {
      o.topology = a;
    } else {
      usage_error(kCmd, fmt::format("unexpected argument '{}'", a));
    }
  }
  const bool any_dim = o.m || o.k || o.n;
  if (any_dim && !(o.m && o.k && o.n)) usage_error(kCmd, "--m, --k and --n go together");
  if (any_dim && o.topology)
    usage_error(kCmd, "give either a topology file or --m, --k and --n, not both");
  if (!any_dim && !o.topology) usage_error(kCmd, "expects a topology file or --m, --k and --n");
  if (any_dim && o.form != TopologyForm::kAuto)
    usage_error(kCmd, "--input-type applies to a topology file only");
  return o;
}

/// A double as Python's str() prints it (SCALE-Sim's report): the shortest form that reads
/// back, with ".0" on whole numbers.
std::string py_float(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eni") == std::string::npos) s += ".0";
  return s;
}

struct LayerResult {
  const TopologyLayer* layer;
  SystolicGemmReport r;
};

}  // namespace

int cmd_gemm(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::fputs(kGemmHelp, stdout);
    return 0;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const GemmOptions o = parse_gemm_options(args);

  // The array: flags over the .cfg's [architecture_presets].
  ScaleSimArch arch;
  if (o.cfg) arch = read_scalesim_cfg(*o.cfg);
  auto need = [&](const std::optional<uint64_t>& flag, const std::optional<uint64_t>& cfg_value,
                  const char* key, const char* flag_name) {
    if (flag) return *flag;
    if (cfg_value) return *cfg_value;
    if (o.cfg)
      throw InputError(fmt::format("{}: no {} in [architecture_presets] (give it, or {})", *o.cfg,
                                   key, flag_name));
    usage_error(kCmd, fmt::format("needs {} (or --cfg FILE with {})", flag_name, key));
  };
  const uint64_t rows = need(o.rows, arch.rows, "ArrayHeight", "--rows");
  const uint64_t cols = need(o.cols, arch.cols, "ArrayWidth", "--cols");
  Dataflow df = Dataflow::kWeightStationary;
  if (o.dataflow)
    df = *o.dataflow;
  else if (arch.dataflow)
    df = *parse_dataflow(*arch.dataflow);
  else if (o.cfg)
    throw InputError(
        fmt::format("{}: no Dataflow in [architecture_presets] (give it, or --dataflow)", *o.cfg));
  if (o.os_drain && df != Dataflow::kOutputStationary)
    usage_error(kCmd, fmt::format("--os-drain applies to dataflow os only (this run is {})",
                                  dataflow_code(df)));
  const OsDrain drain = o.os_drain.value_or(OsDrain::kExposed);

  // The layers.
  Topology topo;
  if (o.topology) {
    topo = read_topology_csv(*o.topology, o.form);
  } else {
    topo.layers.push_back({"gemm", *o.m, *o.n, *o.k, 0});
    const TopologyLayer& l = topo.layers.back();
    uint64_t mn = 0, mnk = 0;
    if (__builtin_mul_overflow(l.m, l.n, &mn) || __builtin_mul_overflow(mn, l.k, &mnk) ||
        mnk > (uint64_t{1} << 53))
      usage_error(kCmd, fmt::format("--m x --n x --k = {} x {} x {} is more than 2^53 MACs", l.m,
                                    l.n, l.k));
  }

  std::vector<LayerResult> results;
  results.reserve(topo.layers.size());
  uint64_t total_cycles = 0, total_scalesim = 0, total_macs = 0;
  for (const TopologyLayer& l : topo.layers) {
    const SystolicGemmReport r = systolic_gemm_report(df, rows, cols, l.m, l.k, l.n, drain);
    if (__builtin_add_overflow(total_cycles, r.cycles, &total_cycles))
      throw InputError(
          fmt::format("{}:{}: the cycles of the layers up to '{}' add up to more "
                      "than 2^64",
                      *o.topology, l.line, shown(l.name)));
    total_scalesim += r.total_cycles;
    total_macs += r.macs;  // at most 2^53 each; cycles >= MACs / (R C), so no overflow here
    results.push_back({&l, r});
  }

  // Every file's text before any is written: bad input leaves none behind.
  std::string csv, json;
  if (o.csv) {
    csv =
        "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute "
        "Util %,\n";
    for (size_t i = 0; i < results.size(); ++i) {
      const SystolicGemmReport& r = results[i].r;
      csv += fmt::format("{}, {}, 0, {}, {}, {},\n", i, r.total_cycles, py_float(r.overall_util),
                         py_float(r.mapping_eff), py_float(r.compute_util));
    }
  }
  if (o.json) {
    // No wall-clock figures here: same inputs must give byte-identical files.
    json = "{\n  \"schema_version\": 1,\n";
    json += fmt::format(
        "  \"array\": {{\"rows\": {}, \"cols\": {}, \"dataflow\": \"{}\", \"os_drain\": {}}},\n",
        rows, cols, dataflow_code(df),
        df == Dataflow::kOutputStationary
            ? (drain == OsDrain::kExposed ? "\"exposed\"" : "\"overlapped\"")
            : "null");
    json += fmt::format("  \"topology\": {},\n", o.topology ? json_quote(*o.topology) : "null");
    json += fmt::format("  \"cfg\": {},\n", o.cfg ? json_quote(*o.cfg) : "null");
    json += "  \"layers\": [\n";
    for (size_t i = 0; i < results.size(); ++i) {
      const TopologyLayer& l = *results[i].layer;
      const SystolicGemmReport& r = results[i].r;
      json += fmt::format(
          "    {{\"id\": {}, \"name\": {}, \"m\": {}, \"n\": {}, \"k\": {}, \"folds\": {}, "
          "\"cycles\": {}, \"scalesim_total_cycles\": {}, \"stall_cycles\": 0, \"macs\": {}, "
          "\"overall_util_pct\": {}, \"mapping_efficiency_pct\": {}, \"compute_util_pct\": "
          "{}}}{}\n",
          i, json_quote(l.name), l.m, l.n, l.k, r.folds, r.cycles, r.total_cycles, r.macs,
          py_float(r.overall_util), py_float(r.mapping_eff), py_float(r.compute_util),
          i + 1 < results.size() ? "," : "");
    }
    json += "  ],\n";
    json += fmt::format(
        "  \"total\": {{\"layers\": {}, \"cycles\": {}, \"scalesim_total_cycles\": {}, \"macs\": "
        "{}}}\n}}\n",
        results.size(), total_cycles, total_scalesim, total_macs);
  }

  std::printf("  %-10s%llu x %llu, %s (%s)%s\n", "array", static_cast<unsigned long long>(rows),
              static_cast<unsigned long long>(cols), dataflow_code(df), dataflow_name(df),
              df == Dataflow::kOutputStationary
                  ? (drain == OsDrain::kExposed ? ", drain exposed" : ", drain overlapped")
                  : "");
  if (o.cfg)
    std::printf("  %-10s%s%s\n", "config", o.cfg->c_str(),
                arch.run_name.empty() ? "" : (" (run_name " + arch.run_name + ")").c_str());
  if (o.topology)
    std::printf("  %-10s%s (%s form%s, %zu layers)\n", "topology", o.topology->c_str(),
                topo.form == TopologyForm::kConv ? "conv" : "gemm", topo.header ? ", header" : "",
                results.size());
  if (!o.quiet) {
    std::string table = fmt::format(
        "  {:>7}  {:<20} {:>8} {:>8} {:>8} {:>9} {:>12} {:>12} {:>8} {:>8} {:>8}\n", "LayerID",
        "name", "M", "N", "K", "folds", "cycles", "SCALE-Sim", "util%", "map%", "comp%");
    for (size_t i = 0; i < results.size(); ++i) {
      const TopologyLayer& l = *results[i].layer;
      const SystolicGemmReport& r = results[i].r;
      table += fmt::format(
          "  {:>7}  {:<20} {:>8} {:>8} {:>8} {:>9} {:>12} {:>12} {:>8.2f} {:>8.2f} {:>8.2f}\n", i,
          l.name.size() > 20 ? l.name.substr(0, 19) + "~" : l.name, l.m, l.n, l.k, r.folds,
          r.cycles, r.total_cycles, r.overall_util, r.mapping_eff, r.compute_util);
    }
    std::fputs(table.c_str(), stdout);
  }
  if (o.csv) write_file_atomic(*o.csv, csv);
  if (o.json) write_file_atomic(*o.json, json);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "  %-10s%llu cycles, %llu MACs (%.2f%% of the array's peak); SCALE-Sim's Total "
      "Cycles sum to %llu\n",
      "total", static_cast<unsigned long long>(total_cycles),
      static_cast<unsigned long long>(total_macs),
      100.0 * static_cast<double>(total_macs) /
          (static_cast<double>(total_cycles) * static_cast<double>(rows * cols)),
      static_cast<unsigned long long>(total_scalesim));
  std::printf("  %-10s%zu layer%s in %.3f s wall\n", "simulated", results.size(),
              results.size() == 1 ? "" : "s", wall_s);
  return 0;
}

}  // namespace moesim
