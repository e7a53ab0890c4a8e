// Unit tests of the sweep library: spec errors, enumeration, constraints, result rows,
// the result log (resume, torn line) and the process pool.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/core/error.hpp"
#include "sim/sweep/enumerate.hpp"
#include "sim/sweep/expr.hpp"
#include "sim/sweep/results.hpp"
#include "sim/sweep/runner.hpp"
#include "sim/sweep/spec.hpp"
#include "sim/sweep/vars.hpp"

namespace moesim::sweep {
namespace {

namespace fs = std::filesystem;

const std::string kHead = "[sweep]\nbase = \"base.toml\"\n";

SweepSpec parse(const std::string& text) {
  return parse_sweep_spec(text, "s.toml");
}

/// The error message of parsing `text`, or "" when it parses.
std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

/// Every point as "a=v,b=w".
std::vector<std::string> listing(const SweepSpec& spec) {
  std::vector<std::string> out;
  for (const Point& p : enumerate_points(spec)) {
    std::string s;
    for (size_t a = 0; a < spec.axes.size(); ++a) {
      s += (a ? "," : "") + spec.axes[a].name + "=" + spec.axes[a].values[p.choice[a]].text;
    }
    out.push_back(s);
  }
  return out;
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / ("moesim_sweeplib_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// ---- enumeration ---------------------------------------------------------------------------

TEST(SweepEnumerate, GridIsCrossProductLastAxisFastest) {
  const SweepSpec s = parse(kHead +
                            "[axis.a]\nkey = \"x.a\"\nvalues = [1, 2]\n"
                            "[axis.b]\nkey = \"x.b\"\nvalues = [\"p\", \"q\", \"r\"]\n");
  EXPECT_EQ(listing(s), (std::vector<std::string>{"a=1,b=p", "a=1,b=q", "a=1,b=r", "a=2,b=p",
                                                  "a=2,b=q", "a=2,b=r"}));
  const auto pts = enumerate_points(s);
  EXPECT_EQ(pts[4].id, "p0004");
  EXPECT_EQ(pts[4].index, 4u);
  EXPECT_EQ(point_overrides(s, pts[4]), (std::vector<std::string>{"x.a=2", "x.b=\"q\""}));
}

TEST(SweepEnumerate, LinearRangeWithUnits) {
  const SweepSpec s =
      parse(kHead + "[axis.bw]\nkey = \"k\"\nfrom = \"1TB/s\"\nto = \"4TB/s\"\nsteps = 4\n");
  EXPECT_EQ(listing(s), (std::vector<std::string>{"bw=1TB/s", "bw=2TB/s", "bw=3TB/s", "bw=4TB/s"}));
  EXPECT_DOUBLE_EQ(s.axes[0].values[2].number, 3e12);
  EXPECT_EQ(s.axes[0].values[2].set_text, "\"3TB/s\"");
}

TEST(SweepEnumerate, LogRangeOfSizesIsWholeBytes) {
  const SweepSpec s = parse(kHead +
                            "[axis.m]\nkey = \"k\"\nfrom = \"64MiB\"\nto = \"1GiB\"\nsteps = 5\n"
                            "scale = \"log\"\n");
  EXPECT_EQ(listing(s),
            (std::vector<std::string>{"m=64MiB", "m=128MiB", "m=256MiB", "m=512MiB", "m=1GiB"}));
}

TEST(SweepEnumerate, IntegerAndFloatRanges) {
  const SweepSpec s = parse(kHead +
                            "[axis.n]\nkey = \"k\"\nfrom = 1\nto = 16\nsteps = 5\nscale = \"log\"\n"
                            "[axis.f]\nkey = \"j\"\nfrom = 0.5\nto = 1.0\nsteps = 3\n");
  EXPECT_EQ(s.axes[0].values.size(), 5u);
  std::vector<std::string> n, f;
  for (const auto& v : s.axes[0].values) n.push_back(v.text);
  for (const auto& v : s.axes[1].values) f.push_back(v.text);
  EXPECT_EQ(n, (std::vector<std::string>{"1", "2", "4", "8", "16"}));
  EXPECT_EQ(f, (std::vector<std::string>{"0.5", "0.75", "1.0"}));
  EXPECT_EQ(s.axes[1].values[2].set_text, "1.0");
}

TEST(SweepEnumerate, ZipGroupsAdvanceTogether) {
  const SweepSpec s = parse(kHead +
                            "[axis.a]\nkey = \"x.a\"\nvalues = [1, 2, 3]\nzip = \"g\"\n"
                            "[axis.c]\nkey = \"x.c\"\nvalues = [true, false]\n"
                            "[axis.b]\nkey = \"x.b\"\nvalues = [10, 20, 30]\nzip = \"g\"\n");
  EXPECT_EQ(listing(s),
            (std::vector<std::string>{"a=1,c=true,b=10", "a=1,c=false,b=10", "a=2,c=true,b=20",
                                      "a=2,c=false,b=20", "a=3,c=true,b=30", "a=3,c=false,b=30"}));
}

TEST(SweepEnumerate, RandomDrawsDistinctGridPointsReproducibly) {
  const std::string text =
      "[sweep]\nbase = \"b.toml\"\nmode = \"random\"\nsamples = 5\nseed = 7\n"
      "[axis.a]\nkey = \"x.a\"\nfrom = 1\nto = 10\nsteps = 10\n"
      "[axis.b]\nkey = \"x.b\"\nfrom = 1\nto = 10\nsteps = 10\n";
  const auto pts = enumerate_points(parse(text));
  ASSERT_EQ(pts.size(), 5u);
  // SplitMix64(7) with Floyd's algorithm over 100 grid points (checked with an independent
  // Python implementation): grid points 33, 56, 74, 86, 87.
  std::vector<std::string> got;
  for (const Point& p : pts) got.push_back(fmt::format("{}{}", p.choice[0], p.choice[1]));
  EXPECT_EQ(got, (std::vector<std::string>{"33", "56", "74", "86", "87"}));
  EXPECT_EQ(pts[0].id, "p0000");
  EXPECT_EQ(enumerate_points(parse(text))[3].choice, pts[3].choice);
  const auto other = enumerate_points(
      parse("[sweep]\nbase = \"b.toml\"\nmode = \"random\"\nsamples = 5\nseed = 8\n"
            "[axis.a]\nkey = \"x.a\"\nfrom = 1\nto = 10\nsteps = 10\n"
            "[axis.b]\nkey = \"x.b\"\nfrom = 1\nto = 10\nsteps = 10\n"));
  bool differs = false;
  for (size_t i = 0; i < 5; ++i) differs = differs || other[i].choice != pts[i].choice;
  EXPECT_TRUE(differs);
}

TEST(SweepEnumerate, RandomAllSamplesIsTheGrid) {
  const auto pts = enumerate_points(parse(
      "[sweep]\nbase = \"b.toml\"\nmode = \"random\"\nsamples = 4\n"
      "[axis.a]\nkey = \"x.a\"\nvalues = [1, 2]\n[axis.b]\nkey = \"x.b\"\nvalues = [1, 2]\n"));
  ASSERT_EQ(pts.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(pts[i].choice, (std::vector<size_t>{i / 2, i % 2}));
}

TEST(SweepEnumerate, PointIdsWidenForBigSweeps) {
  EXPECT_EQ(point_id(7, 20), "p0007");
  EXPECT_EQ(point_id(7, 10000), "p0007");
  EXPECT_EQ(point_id(7, 10001), "p00007");
  EXPECT_EQ(point_id(123456, 200000), "p123456");
}

TEST(SweepEnumerate, EffectiveCopyEnumeratesTheSamePoints) {
  const SweepSpec s = parse(kHead +
                            "[set]\nworkload.max_steps = 2\n"
                            "[axis.bw]\nkey = \"k\"\nfrom = \"1TB/s\"\nto = \"4TB/s\"\nsteps = 3\n"
                            "scale = \"log\"\n[axis.n]\nkey = \"j\"\nvalues = [1, 2]\n");
  const SweepSpec again = parse(s.effective_points_text());
  EXPECT_EQ(listing(again), listing(s));
  EXPECT_EQ(again.effective_points_text(), s.effective_points_text());
  EXPECT_EQ(s.sets,
            (std::vector<std::pair<std::string, std::string>>{{"workload.max_steps", "2"}}));
}

// ---- spec errors (exact messages) ----------------------------------------------------------

TEST(SweepSpecErrors, Messages) {
  const std::string ax = "[axis.a]\nkey = \"k\"\nvalues = [1]\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[sweep\n", "s.toml:1:7: TOML syntax error: "},
      {"[swep]\nbase = \"b\"\n", "s.toml:1:1: swep: unknown table (did you mean 'sweep'?)"},
      {"[sweep]\nbsae = \"b\"\n",
       "s.toml:2:1: sweep.bsae: unknown key for 'sweep' (did you mean 'base'?)"},
      {"[sweep]\nmode = \"grid\"\n" + ax,
       "s.toml:1:1: sweep.base: missing required key (expected a file path)"},
      {ax, "s.toml: sweep.base: missing required key (expected a file path)"},
      {"[sweep]\nbase = 3\n", "s.toml:2:8: sweep.base: expected a string, got an integer"},
      {kHead + "mode = \"gird\"\n" + ax,
       "s.toml:3:8: sweep.mode: \"gird\" is not one of 'grid', 'random' (did you mean 'grid'?)"},
      {kHead + "seed = 3\n" + ax, "s.toml:3:8: sweep.seed: only used with mode = \"random\""},
      {kHead + "mode = \"random\"\n" + ax,
       "s.toml:1:1: sweep.samples: missing required key (expected an integer, the number of "
       "points mode = \"random\" draws)"},
      {kHead + "mode = \"random\"\nsamples = 0\n" + ax,
       "s.toml:4:11: sweep.samples: 0 is out of range (expected at least 1)"},
      {kHead + "mode = \"random\"\nsamples = 3\n" + ax,
       "s.toml:4:11: sweep.samples: 3 samples but the grid has only 1 points"},
      {kHead, "s.toml: axis: a sweep needs at least one [axis.NAME] table"},
      {kHead + "[axis.a]\nvalues = [1]\n",
       "s.toml:3:1: axis.a.key: missing required key (expected a config key path such as "
       "\"chip.sram.capacity\")"},
      {kHead + "[axis.a]\nkey = \"k\"\n",
       "s.toml:3:1: axis.a: needs 'values = [...]' or a range ('from', 'to', 'steps', optional "
       "'scale')"},
      {kHead + "[axis.a]\nkey = \"k\"\nvalue = [1]\n",
       "s.toml:5:1: axis.a.value: unknown key for 'axis' (did you mean 'values'?)"},
      {kHead + "[axis.a]\nkey = \"k\"\nvalues = []\n",
       "s.toml:5:10: axis.a.values: expected at least one value"},
      {kHead + "[axis.a]\nkey = \"k\"\nvalues = 4\n",
       "s.toml:5:10: axis.a.values: expected an array of values, got an integer"},
      {kHead + "[axis.a]\nkey = \"k\"\nvalues = [1, 1]\n",
       "s.toml:5:14: axis.a.values: the value 1 appears twice"},
      {kHead + "[axis.a]\nkey = \"k\"\nvalues = [[1]]\n",
       "s.toml:5:11: axis.a.values: expected a number, string or boolean, got an array"},
      {kHead + "[axis.a]\nkey = \"k\"\nvalues = [1]\nfrom = 1\n",
       "s.toml:6:8: axis.a.from: give either 'values' or a range ('from', 'to', 'steps'), not "
       "both"},
      {kHead + "[axis.a]\nkey = \"k\"\nfrom = 1\nto = 2\n",
       "s.toml:3:1: axis.a.steps: missing required key (expected an integer, the number of "
       "values)"},
      {kHead + "[axis.a]\nkey = \"k\"\nfrom = 1\nsteps = 2\n",
       "s.toml:3:1: axis.a.to: missing required key (expected the last value of the range)"},
      {kHead + "[axis.a]\nkey = \"k\"\nfrom = \"1TB/s\"\nto = \"4GB\"\nsteps = 2\n",
       "s.toml:6:6: axis.a.to: is size but 'from' is bandwidth"},
      {kHead + "[axis.a]\nkey = \"k\"\nfrom = 1\nto = 2.0\nsteps = 2\n",
       "s.toml:6:6: axis.a.to: is a float but 'from' is an integer"},
      {kHead + "[axis.a]\nkey = \"k\"\nfrom = \"fast\"\nto = \"x\"\nsteps = 2\n",
       "s.toml:5:8: axis.a.from: \"fast\" is not a number or a quantity with a unit (expected e.g. "
       "\"1TB/s\", \"64MiB\", \"14ns\", \"1.4GHz\")"},
      {kHead + "[axis.a]\nkey = \"k\"\nfrom = 1\nto = 2\nsteps = 1\n",
       "s.toml:7:9: axis.a.steps: 1 is out of range (expected at least 2)"},
      {kHead + "[axis.a]\nkey = \"k\"\nfrom = 0\nto = 8\nsteps = 3\nscale = \"log\"\n",
       "s.toml:5:8: axis.a.from: a log range needs values above zero"},
      {kHead + "[axis.a]\nkey = \"k\"\nfrom = 1\nto = 3\nsteps = 5\n",
       "s.toml:7:9: axis.a.steps: 5 steps from 1 to 3 repeat the value 2 after rounding; use "
       "fewer steps"},
      {kHead + "[axis.a]\nkey = \"k\"\nfrom = 1\nto = 3\nsteps = 3\nscale = \"cubic\"\n",
       "s.toml:8:9: axis.a.scale: \"cubic\" is not one of 'linear', 'log'"},
      {kHead + "[axis.1a]\nkey = \"k\"\nvalues = [1]\n",
       "s.toml:3:1: axis.1a: an axis name must be an identifier (letters, digits and '_', not "
       "starting with a digit)"},
      {kHead + "[axis.time_s]\nkey = \"k\"\nvalues = [1]\n",
       "s.toml:3:1: axis.time_s: the name 'time_s' is a summary column"},
      {kHead + ax + "[axis.b]\nkey = \"k\"\nvalues = [2]\n",
       "s.toml:7:7: axis.b.key: 'k' is already swept by axis 'a'"},
      {kHead + "[axis.a]\nkey = \"k\"\nvalues = [1, 2]\nzip = \"g\"\n[axis.b]\nkey = \"j\"\n"
               "values = [1]\nzip = \"g\"\n",
       "s.toml:7:1: axis.b.zip: axis 'b' has 1 values but 'a' in zip group 'g' has 2"},
      {kHead + "[set]\nk = 2\n" + ax, "s.toml:4:5: set.k: also swept by axis 'a'"},
      {kHead + "[set]\nk = [2]\n" + ax,
       "s.toml:4:5: set.k: expected a number, string or boolean, got an array"},
      {kHead + "[set]\nk = 1979-05-27\n" + ax,
       "s.toml:4:5: set.k: expected a number, string or boolean, got a date"},
      {kHead + "[metrics]\na = \"chip0.x\"\n" + ax,
       "s.toml:4:5: metrics.a: the name 'a' is an axis"},
      {kHead + "[metrics]\nm = 3\n" + ax,
       "s.toml:4:5: metrics.m: expected a string, got an integer"},
      {kHead + "[constraints]\n\"a b\" = \"1\"\n" + ax,
       "s.toml:4:9: constraints.a b: a name must be an identifier (letters, digits and '_', not "
       "starting with a digit)"},
      {kHead + "[run]\ntimeout = \"5\"\n" + ax,
       "s.toml:4:11: run.timeout: \"5\" is not a time (expected a time such as \"14ns\" or "
       "\"12cycles\")"},
      {kHead + "[run]\ntimeout = \"5cycles\"\n" + ax,
       "s.toml:4:11: run.timeout: \"5cycles\": a wall-time limit cannot be in cycles"},
      {kHead + "[run]\ntimout = \"5s\"\n" + ax,
       "s.toml:4:1: run.timout: unknown key for 'run' (did you mean 'timeout'?)"},
      {kHead + "axis = 3\n", "s.toml:3:1: sweep.axis: unknown key for 'sweep'"},
      {"set = 3\n", "s.toml:1:7: set: expected a table, got an integer"},
      {"[sweep]\nbase = \"\"\n",
       "s.toml:2:8: sweep.base: expected a file path, got an empty string"},
      {kHead + "mode = \"random\"\nsamples = 1\nseed = -1\n" + ax,
       "s.toml:5:8: sweep.seed: -1 is out of range (expected at least 0)"},
      {kHead + "[axis]\nx = 3\n", "s.toml:4:5: axis.x: expected a table, got an integer"},
      {kHead + "[axis.a]\nkey = \"k\"\nvalues = [nan]\n",
       "s.toml:5:11: axis.a.values: expected a finite number"},
      {kHead + "[axis.a]\nkey = \"k\"\nfrom = true\nto = 2\nsteps = 2\n",
       "s.toml:5:8: axis.a.from: expected a number or a quantity string, got a boolean"},
      {kHead + "[axis.a]\nkey = \"k\"\nfrom = inf\nto = 2.0\nsteps = 2\n",
       "s.toml:5:8: axis.a.from: expected a finite number"},
      {kHead + "[axis.a]\nkey = \"k\"\nfrom = 1\nto = 2000000\nsteps = 1000001\n",
       "s.toml:7:9: axis.a.steps: 1000001 is out of range (expected at most 1000000)"},
  };
  for (const auto& [text, want] : cases) {
    const std::string got = error_of(text);
    if (want.back() == ' ') {
      EXPECT_EQ(got.substr(0, want.size()), want) << text;
    } else {
      EXPECT_EQ(got, want) << text;
    }
  }
}

TEST(SweepSpecErrors, GridTooBig) {
  std::string text = kHead;
  for (int a = 0; a < 3; ++a) {
    text += fmt::format("[axis.a{}]\nkey = \"k{}\"\nfrom = 1\nto = 1000\nsteps = 1000\n", a, a);
  }
  EXPECT_EQ(error_of(text),
            "s.toml:3:1: axis: the grid has 1000000000 points (at most 1000000 are allowed)");
}

TEST(SweepSpecErrors, MissingFile) {
  EXPECT_THROW(load_sweep_spec("/nonexistent/s.toml"), InputError);
  try {
    load_sweep_spec("/nonexistent/s.toml");
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent/s.toml: cannot open sweep spec (No such file or directory)");
  }
}

// ---- constraint expressions ----------------------------------------------------------------

double eval(const std::string& text, const VarTable& vars = {}) {
  const ExprValue v = Expr::parse(text).eval(resolver_of(vars));
  EXPECT_FALSE(v.is_string) << text;
  return v.number;
}

std::string expr_error(const std::string& text, const VarTable& vars = {}) {
  try {
    Expr::parse(text).holds(resolver_of(vars));
  } catch (const ExprError& e) {
    return fmt::format("{}: {}", e.offset, e.message);
  }
  return "";
}

TEST(SweepExpr, ArithmeticLogicAndUnits) {
  EXPECT_EQ(eval("1 + 2 * 3"), 7);
  EXPECT_EQ(eval("(1 + 2) * 3"), 9);
  EXPECT_EQ(eval("-2 * -3"), 6);
  EXPECT_EQ(eval("7 / 2"), 3.5);
  EXPECT_EQ(eval("1e3 + 2.5E-1"), 1000.25);
  EXPECT_EQ(eval("512MiB == 536870912"), 1);
  EXPECT_EQ(eval("1.6TB/s / 2"), 0.8e12);
  EXPECT_EQ(eval("1 < 2 && 2 <= 2 and not 3 > 4 || 0"), 1);
  EXPECT_EQ(eval("!(1 == 1) or 2 != 2"), 0);
  EXPECT_EQ(eval("min(3, 1, 2) + max(4, 5) + log2(8)"), 9);
  EXPECT_EQ(eval("true + false"), 1);
  EXPECT_EQ(eval("\"hbm\" == \"hbm\""), 1);
}

TEST(SweepExpr, NamesResolveToPointValues) {
  const VarTable vars = flatten_toml(
      "[chip.sram]\ncapacity = \"520MiB\"\ntype = \"sram\"\n[mapping]\nweight_buffers = 2\n"
      "[x]\nflag = true\nratio = 0.5\n");
  EXPECT_EQ(eval("chip.sram.capacity >= 512MiB", vars), 1);
  EXPECT_EQ(eval("chip.sram.capacity / mapping.weight_buffers", vars), 260.0 * 1024 * 1024);
  EXPECT_EQ(eval("chip.sram.type == \"sram\" && x.flag && x.ratio < 1", vars), 1);
  const Expr e = Expr::parse("chip.sram.capacity >= model.expert_bytes && a");
  ASSERT_EQ(e.names().size(), 3u);
  EXPECT_EQ(e.names()[1].first, "model.expert_bytes");
  EXPECT_EQ(e.names()[1].second, 22u);
}

TEST(SweepExpr, Errors) {
  EXPECT_EQ(expr_error("1 +"), "3: unexpected end of expression");
  EXPECT_EQ(expr_error("(1"), "2: expected ')'");
  EXPECT_EQ(expr_error("1 2"), "2: unexpected '2'");
  EXPECT_EQ(expr_error("3furlongs > 1"),
            "0: '3furlongs' is not a number or a quantity with a unit");
  EXPECT_EQ(expr_error("sqrt(4)"), "0: unknown function 'sqrt' (known: min, max, log2)");
  EXPECT_EQ(expr_error("log2(1, 2)"), "0: log2() takes one argument");
  EXPECT_EQ(expr_error("\"abc"), "0: unterminated string");
  EXPECT_EQ(expr_error("a. > 1"), "1: a name cannot end with '.'");
  EXPECT_EQ(expr_error("nope > 1"), "0: unknown name 'nope'");
  EXPECT_EQ(expr_error("\"a\" < 1"), "4: '<' needs numbers, got a string");
  EXPECT_EQ(expr_error("\"a\" == 1"), "4: '==' compares a string with a number");
  EXPECT_EQ(expr_error("\"a\""),
            "0: a constraint must give a number or a comparison, not a string");
  EXPECT_EQ(expr_error("-\"a\""), "0: '-' needs a number, got a string");
}

// ---- result rows -----------------------------------------------------------------------------

Columns cols() {
  Columns c;
  c.axes = {"bw", "mode"};
  c.summary = {"cycles", "time_s", "bottleneck"};
  c.metrics = {"util"};
  return c;
}

Row sample_row() {
  Row r;
  r.id = "p0003";
  r.index = 3;
  r.status = "ok";
  r.params = {{"bw", JsonValue::string("1TB/s")}, {"mode", JsonValue::number("4")}};
  r.summary = {{"cycles", JsonValue::number("123")},
               {"time_s", JsonValue::number("0.07720756741000001")},
               {"bottleneck", JsonValue::string("chip0.hbm")}};
  r.metrics = {{"util", JsonValue::null()}};
  r.wall_s = 0.12345;
  r.error = "a \"quoted\", message";
  r.out = "points/p0003";
  return r;
}

TEST(SweepResults, JsonlAndCsvFormats) {
  const Row r = sample_row();
  EXPECT_EQ(r.jsonl(),
            "{\"id\":\"p0003\",\"index\":3,\"status\":\"ok\",\"params\":{\"bw\":\"1TB/s\","
            "\"mode\":4},\"summary\":{\"cycles\":123,\"time_s\":0.07720756741000001,"
            "\"bottleneck\":\"chip0.hbm\"},\"metrics\":{\"util\":null},\"wall_s\":0.123,"
            "\"error\":\"a \\\"quoted\\\", message\",\"out\":\"points/p0003\"}\n");
  EXPECT_EQ(cols().csv_header(),
            "id,index,status,bw,mode,cycles,time_s,bottleneck,util,wall_s,error,out\n");
  EXPECT_EQ(r.csv(cols()),
            "p0003,3,ok,1TB/s,4,123,0.07720756741000001,chip0.hbm,,0.123,"
            "\"a \"\"quoted\"\", message\",points/p0003\n");
  const Row back = Row::from_json(parse_json(r.jsonl()));
  EXPECT_EQ(back.jsonl(), r.jsonl());
  EXPECT_EQ(json_quote("tab\tnl\nctl\x01"), "\"tab\\tnl\\nctl\\u0001\"");
}

TEST(SweepResults, FillFromStatsKeepsNumberText) {
  Row r = sample_row();
  const std::string stats =
      "{\n  \"summary\": {\n    \"cycles\": 99,\n    \"time_s\": 1.5e-05,\n    \"bottleneck\": "
      "\"chip0.sram\"\n  },\n  \"stats\": {\n    \"chip0.u\": {\"value\": 0.25, \"unit\": "
      "\"1\"}\n  }\n}\n";
  fill_from_stats(stats, cols(), {"chip0.u"}, &r);
  EXPECT_EQ(r.csv(cols()).substr(0, 48), "p0003,3,ok,1TB/s,4,99,1.5e-05,chip0.sram,0.25,0.");
  fill_from_stats(stats, cols(), {"chip0.missing"}, &r);
  EXPECT_EQ(r.metrics[0].second.kind, JsonValue::Kind::kNull);
  EXPECT_THROW(fill_from_stats("{\"x\": 1}", cols(), {"a"}, &r), std::runtime_error);
  EXPECT_THROW(fill_from_stats("{\"summary\": {", cols(), {"a"}, &r), std::runtime_error);
}

TEST(SweepResults, LogRefusesOldRowsWithoutResume) {
  const fs::path d = fresh_dir("log_refuse");
  {
    ResultsLog log(d.string(), cols(), false, nullptr);
    log.append(sample_row());
  }
  try {
    ResultsLog again(d.string(), cols(), false, nullptr);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              d.string() +
                  ": holds the results of an earlier sweep (add --resume to continue it, or "
                  "choose another --out)");
  }
}

TEST(SweepResults, ResumeTruncatesTornLineAndRebuildsCsv) {
  const fs::path d = fresh_dir("log_torn");
  Row a = sample_row();
  Row b = sample_row();
  b.id = "p0004";
  b.index = 4;
  {
    ResultsLog log(d.string(), cols(), false, nullptr);
    log.append(a);
    log.append(b);
  }
  // A torn row: half of a third line in results.jsonl, and a csv row results.jsonl lacks.
  {
    std::ofstream j(d / "results.jsonl", std::ios::app);
    j << "{\"id\":\"p0005\",\"ind";
    std::ofstream c(d / "results.csv", std::ios::app);
    c << "p0005,5,ok\n";
  }
  std::string note;
  ResultsLog log(d.string(), cols(), true, &note);
  EXPECT_EQ(note, (d / "results.jsonl").string() + ": dropped a torn last line (18 bytes)");
  EXPECT_EQ(log.done(), (std::set<std::string>{"p0003", "p0004"}));
  EXPECT_EQ(read_text(d / "results.jsonl"), a.jsonl() + b.jsonl());
  EXPECT_EQ(read_text(d / "results.csv"), cols().csv_header() + a.csv(cols()) + b.csv(cols()));
  Row c = sample_row();
  c.id = "p0005";
  log.append(c);
  EXPECT_EQ(read_text(d / "results.jsonl"), a.jsonl() + b.jsonl() + c.jsonl());
}

TEST(SweepResults, ResumeRejectsGarbageAndDuplicates) {
  const fs::path d = fresh_dir("log_bad");
  {
    std::ofstream j(d / "results.jsonl");
    j << sample_row().jsonl() << "not json\n";
  }
  try {
    ResultsLog log(d.string(), cols(), true, nullptr);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), (d / "results.jsonl").string() +
                                         ":2: not a result row (malformed JSON at offset 0: "
                                         "unexpected 'n')");
  }
  {
    std::ofstream j(d / "results.jsonl");
    j << sample_row().jsonl() << sample_row().jsonl();
  }
  try {
    ResultsLog log(d.string(), cols(), true, nullptr);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              (d / "results.jsonl").string() + ":2: point 'p0003' is recorded twice");
  }
}

// ---- process pool --------------------------------------------------------------------------

TEST(SweepRunner, StatusesOfChildren) {
  const fs::path d = fresh_dir("runner");
  const std::vector<std::string> scripts = {
      "echo fine >&2; exit 0",
      "echo first >&2; echo 'moesim: error: last line' >&2; exit 2",
      "sleep 5",
      "echo dying >&2; kill -SEGV $$",
  };
  std::vector<JobResult> results(scripts.size());
  std::vector<size_t> order;
  int ticks = 0;
  run_jobs(
      scripts.size(), 2,
      [&](size_t i) {
        Job j;
        j.argv = {"/bin/sh", "-c", scripts[i]};
        j.stderr_path = (d / fmt::format("err{}.log", i)).string();
        j.timeout_s = i == 2 ? 0.3 : 0.0;
        return j;
      },
      [&](size_t i, const JobResult& r) {
        results[i] = r;
        order.push_back(i);
      },
      [&]() { ++ticks; });
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(results[0].status, JobResult::Status::kOk);
  EXPECT_EQ(results[0].last_line, "fine");
  EXPECT_EQ(results[1].status, JobResult::Status::kFailed);
  EXPECT_EQ(results[1].exit_code, 2);
  EXPECT_EQ(results[1].last_line, "moesim: error: last line");
  EXPECT_EQ(results[2].status, JobResult::Status::kTimeout);
  EXPECT_LT(results[2].wall_s, 4.0);
  EXPECT_EQ(results[3].status, JobResult::Status::kCrashed);
  EXPECT_EQ(results[3].signal, SIGSEGV);
  EXPECT_EQ(results[3].last_line, "dying");
  EXPECT_GE(ticks, 1);
  EXPECT_STREQ(status_name(JobResult::Status::kCrashed), "crashed");
}

TEST(SweepRunner, UnstartableJobFails) {
  const fs::path d = fresh_dir("runner_bad");
  JobResult got;
  run_jobs(
      1, 1,
      [&](size_t) {
        Job j;
        j.argv = {"/nonexistent/program"};
        j.stderr_path = (d / "e.log").string();
        return j;
      },
      [&](size_t, const JobResult& r) { got = r; }, nullptr);
  EXPECT_EQ(got.status, JobResult::Status::kFailed);
  EXPECT_EQ(got.exit_code, 127);
  EXPECT_EQ(got.last_line, "moesim sweep: cannot execute the point's command");
}

}  // namespace
}  // namespace moesim::sweep
