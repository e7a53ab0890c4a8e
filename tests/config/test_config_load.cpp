// Loading: files, syntax errors, includes (order, nesting, relative directories, cycles,
// missing files), --set overrides, tree queries and the effective configuration round trip.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sim/config/config.hpp"
#include "tests/config/config_test_util.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;

using ConfigLoad = ScratchDirTest;

TEST_F(ConfigLoad, MissingTopFile) {
  EXPECT_EQ(input_error([] { Config::load("nope.toml"); }),
            "nope.toml: cannot open config file (No such file or directory)");
  EXPECT_EQ(input_error([] { Config::load("configs/nope.toml"); }),
            "configs/nope.toml: cannot open config file (No such file or directory)");
  fs::create_directories("dir.toml");
  EXPECT_EQ(input_error([] { Config::load("dir.toml"); }),
            "dir.toml: cannot open config file (Is a directory)");
}

TEST_F(ConfigLoad, SyntaxErrorNamesFileLineColumn) {
  write("configs/x.toml", "[chip]\nrows = = 3\n");
  EXPECT_EQ(input_error([] { Config::load("configs/x.toml"); }),
            "configs/x.toml:2:8: TOML syntax error: Error while parsing value: could not "
            "determine value type");
  write("dup.toml", "a = 1\na = 2\n");
  EXPECT_EQ(input_error([] { Config::load("dup.toml"); }),
            "dup.toml:2:5: TOML syntax error: Error while parsing key-value pair: cannot "
            "redefine existing integer 'a'");
  EXPECT_EQ(input_error([] { Config::from_string("x = [", "mem.toml"); }).rfind("mem.toml:1:", 0),
            0u);
}

TEST_F(ConfigLoad, SyntaxErrorInIncludedFileNamesThatFile) {
  write("configs/run.toml", "include = [\"hw/chip.toml\"]\n");
  write("configs/hw/chip.toml", "[chip\n");
  const std::string msg = input_error([] { Config::load("configs/run.toml"); });
  EXPECT_EQ(msg.rfind("configs/hw/chip.toml:1:", 0), 0u) << msg;
  EXPECT_NE(msg.find(": TOML syntax error: "), std::string::npos) << msg;
}

TEST_F(ConfigLoad, IncludingFileOverridesIncludes) {
  write("base.toml", "[chip.hbm]\ncapacity = \"1GiB\"\nbandwidth = \"1TB/s\"\n");
  write("top.toml", "include = [\"base.toml\"]\n[chip.hbm]\nbandwidth = \"2TB/s\"\n");
  Config cfg = Config::load("top.toml");
  const Params p = cfg.section("chip.hbm", hbm_schema());
  EXPECT_EQ(p.get_bytes("capacity"), 1u << 30);
  EXPECT_EQ(p.get_bytes_per_s("bandwidth"), 2e12);
  EXPECT_EQ(cfg.where("chip.hbm.bandwidth").str(), "top.toml:3:13");
  EXPECT_EQ(cfg.where("chip.hbm.capacity").str(), "base.toml:2:12");
  EXPECT_NO_THROW(cfg.check_all_consumed());  // `include` itself is consumed by loading
}

TEST_F(ConfigLoad, IncludesApplyInOrderThenTheIncluder) {
  write("a.toml", "[t]\nx = 1\ny = 1\nz = 1\n");
  write("b.toml", "[t]\nx = 2\ny = 2\n");
  write("top.toml", "include = [\"a.toml\", \"b.toml\"]\n[t]\nx = 3\n");
  Config cfg = Config::load("top.toml");
  ParamSchema s("t");
  for (const char* k : {"x", "y", "z"}) s.add(k, ParamType::kInt, k);
  const Params p = cfg.section("t", s);
  EXPECT_EQ(p.get_int("x"), 3);
  EXPECT_EQ(p.get_int("y"), 2);
  EXPECT_EQ(p.get_int("z"), 1);
}

TEST_F(ConfigLoad, NestedIncludesAreRelativeToTheIncludingFile) {
  write("configs/run.toml", "include = [\"hw/chip.toml\"]\n[chip.compute]\nrows = 64\n");
  write("configs/hw/chip.toml",
        "include = [\"../common/base.toml\"]\n[chip.hbm]\nbandwidth = \"3TB/s\"\n");
  write("configs/common/base.toml",
        "[chip.hbm]\ncapacity = \"80GiB\"\nbandwidth = \"1TB/s\"\n[chip.compute]\nrows = 8\n");
  Config cfg = Config::load("configs/run.toml");
  const Params hbm = cfg.section("chip.hbm", hbm_schema());
  EXPECT_EQ(hbm.get_bytes("capacity"), 80ull << 30);
  EXPECT_EQ(hbm.get_bytes_per_s("bandwidth"), 3e12);
  EXPECT_EQ(cfg.section("chip.compute", compute_schema()).get_int("rows"), 64);
  EXPECT_EQ(cfg.where("chip.hbm.capacity").str(), "configs/common/base.toml:2:12");
  EXPECT_EQ(cfg.where("chip.hbm.bandwidth").str(), "configs/hw/chip.toml:3:13");
  EXPECT_EQ(cfg.name(), "run");
}

TEST_F(ConfigLoad, ErrorInNestedIncludeShowsItsJoinedPath) {
  write("configs/run.toml", "include = [\"hw/chip.toml\"]\n");
  write("configs/hw/chip.toml", "include = [\"../common/base.toml\"]\n");
  write("configs/common/base.toml", "[chip.hbm]\ncapacity = \"1GiB\"\nbandwidth = \"1TB\"\n");
  Config cfg = Config::load("configs/run.toml");
  EXPECT_EQ(input_error([&] { cfg.section("chip.hbm", hbm_schema()); }),
            "configs/common/base.toml:3:13: chip.hbm.bandwidth: \"1TB\" is not a bandwidth "
            "(expected a bandwidth such as \"1.6TB/s\" or \"900GB/s\")");
}

TEST_F(ConfigLoad, DiamondIncludeIsNotACycle) {
  write("d.toml", "[t]\nx = 1\n");
  write("b.toml", "include = [\"d.toml\"]\n");
  write("c.toml", "include = [\"d.toml\"]\n");
  write("a.toml", "include = [\"b.toml\", \"c.toml\"]\n");
  Config cfg = Config::load("a.toml");
  ParamSchema s("t");
  s.add("x", ParamType::kInt, "x");
  EXPECT_EQ(cfg.section("t", s).get_int("x"), 1);
}

TEST_F(ConfigLoad, IncludeCycle) {
  write("a.toml", "include = [\"b.toml\"]\n");
  write("b.toml", "x = 1\ninclude = [\"a.toml\"]\n");
  EXPECT_EQ(input_error([] { Config::load("a.toml"); }),
            "b.toml:2:12: include: include cycle: a.toml -> b.toml -> a.toml");
  write("self.toml", "include = [\"self.toml\"]\n");
  EXPECT_EQ(input_error([] { Config::load("self.toml"); }),
            "self.toml:1:12: include: include cycle: self.toml -> self.toml");
  write("configs/p.toml", "include = [\"hw/q.toml\"]\n");
  write("configs/hw/q.toml", "include = [\"../p.toml\"]\n");
  EXPECT_EQ(input_error([] { Config::load("configs/p.toml"); }),
            "configs/hw/q.toml:1:12: include: include cycle: configs/p.toml -> "
            "configs/hw/q.toml -> configs/p.toml");
}

TEST_F(ConfigLoad, MissingInclude) {
  write("a.toml", "include = [\"nope.toml\"]\n");
  EXPECT_EQ(input_error([] { Config::load("a.toml"); }),
            "a.toml:1:12: include: cannot open included file \"nope.toml\" (No such file or "
            "directory)");
  write("configs/a.toml", "# a comment\ninclude = [\"hw/x.toml\", \"hw/nope.toml\"]\n");
  write("configs/hw/x.toml", "");
  EXPECT_EQ(input_error([] { Config::load("configs/a.toml"); }),
            "configs/a.toml:2:25: include: cannot open included file \"configs/hw/nope.toml\" "
            "(No such file or directory)");
}

TEST_F(ConfigLoad, BadIncludeValues) {
  write("s.toml", "include = \"a.toml\"\n");
  EXPECT_EQ(input_error([] { Config::load("s.toml"); }),
            "s.toml:1:11: include: expected an array of file names, got a string");
  write("i.toml", "include = [3]\n");
  EXPECT_EQ(input_error([] { Config::load("i.toml"); }),
            "i.toml:1:12: include: expected a file name (a string), got an integer");
}

TEST_F(ConfigLoad, IncludeInsideATableIsAnOrdinaryUnknownKey) {
  write("a.toml", "[chip.compute]\ninclude = [\"b.toml\"]\n");
  Config cfg = Config::load("a.toml");
  EXPECT_EQ(input_error([&] { cfg.section("chip.compute", compute_schema()); }),
            "a.toml:2:1: chip.compute.include: unknown key for 'systolic'");
}

TEST_F(ConfigLoad, ArraysAndValuesAreReplacedWhole) {
  write("base.toml", "[t]\nx = [1, 2]\ny = 5\n");
  write("top.toml", "include = [\"base.toml\"]\n[t]\nx = 7\ny = [3]\n");
  Config cfg = Config::load("top.toml");
  ParamSchema s("t");
  s.add("x", ParamType::kInt, "x");
  s.add("y", ParamType::kInt, "y");
  EXPECT_EQ(input_error([&] { cfg.section("t", s); }),
            "top.toml:4:5: t.y: expected an integer, got an array");
}

TEST_F(ConfigLoad, TableAndValueCannotReplaceEachOther) {
  write("base.toml", "[chip]\nhbm = 3\n");
  write("top.toml", "include = [\"base.toml\"]\n[chip.hbm]\nx = 1\n");
  EXPECT_EQ(input_error([] { Config::load("top.toml"); }),
            "top.toml:2:7: chip.hbm: a table cannot replace the value set at base.toml:2:7");
  write("base2.toml", "[chip.hbm]\nx = 1\n");
  write("top2.toml", "include = [\"base2.toml\"]\nchip.hbm = 2\n");
  EXPECT_EQ(input_error([] { Config::load("top2.toml"); }),
            "top2.toml:2:6: chip.hbm: a value cannot replace the table set at base2.toml:1:1");
}

TEST_F(ConfigLoad, SetParsesTomlValues) {
  write("x.toml",
        "[chip.compute]\nrows = 16\n[chip.hbm]\ncapacity = \"1GiB\"\n"
        "bandwidth = \"1TB/s\"\n");
  Config cfg =
      Config::load("x.toml", {"chip.compute.rows=64", "chip.compute.dataflow=\"output_stationary\"",
                              "chip.compute.enabled=false", "chip.hbm.efficiency=0.5"});
  const Params c = cfg.section("chip.compute", compute_schema());
  EXPECT_EQ(c.get_int("rows"), 64);
  EXPECT_EQ(c.get_string("dataflow"), "output_stationary");
  EXPECT_FALSE(c.get_bool("enabled"));
  EXPECT_EQ(cfg.section("chip.hbm", hbm_schema()).get_float("efficiency"), 0.5);
  EXPECT_EQ(cfg.where("chip.compute.rows").file, "--set");
  EXPECT_EQ(cfg.where("chip.compute.rows").line, 0);
  EXPECT_EQ(cfg.where("chip.compute.rows").str(), "--set");
  EXPECT_EQ(cfg.where("chip.compute").str(), "x.toml:1:1");  // the table stays in the file
}

TEST_F(ConfigLoad, SetFallsBackToAString) {
  write("x.toml", "[chip.hbm]\ncapacity = \"1GiB\"\nbandwidth = \"1TB/s\"\n");
  Config cfg = Config::load("x.toml", {"chip.hbm.bandwidth=3.2TB/s", "chip.hbm.latency = 20ns",
                                       "chip.hbm.capacity=2 GiB"});
  const Params p = cfg.section("chip.hbm", hbm_schema());
  EXPECT_EQ(p.get_bytes_per_s("bandwidth"), 3.2e12);
  EXPECT_EQ(p.get_seconds("latency", 1e9), 20e-9);
  EXPECT_EQ(p.get_bytes("capacity"), 2ull << 30);
}

TEST_F(ConfigLoad, LaterSetWins) {
  write("x.toml", "[chip.compute]\nrows = 16\n");
  Config cfg = Config::load("x.toml", {"chip.compute.rows=1", "chip.compute.rows=2"});
  EXPECT_EQ(cfg.section("chip.compute", compute_schema()).get_int("rows"), 2);
}

TEST_F(ConfigLoad, SetCreatesKeysAndTables) {
  write("x.toml", "[chip.hbm]\ncapacity = \"1GiB\"\n");
  Config cfg = Config::load("x.toml", {"chip.hbm.bandwidth=2TB/s", "chip.compute.rows=9",
                                       "chip.extra={ a = 1, b = \"x\" }"});
  EXPECT_EQ(cfg.section("chip.hbm", hbm_schema()).get_bytes_per_s("bandwidth"), 2e12);
  EXPECT_EQ(cfg.section("chip.compute", compute_schema()).get_int("rows"), 9);
  EXPECT_TRUE(cfg.has("chip.extra.a"));
  EXPECT_TRUE(cfg.has("chip.extra.b"));
  EXPECT_EQ(cfg.where("chip.extra.b").str(), "--set");
  EXPECT_EQ(input_error([&] { cfg.check_all_consumed(); }), "--set chip.extra: unknown table");
}

TEST_F(ConfigLoad, SetNewKeyNobodyConsumesNamesSet) {
  write("x.toml", "[chip.hbm]\ncapacity = \"1GiB\"\nbandwidth = \"1TB/s\"\n");
  Config cfg = Config::load("x.toml", {"chip.hbm.bandwith=2TB/s"});
  EXPECT_EQ(input_error([&] { cfg.section("chip.hbm", hbm_schema()); }),
            "--set chip.hbm.bandwith: unknown key for 'fast_dram' (did you mean 'bandwidth'?)");
  Config cfg2 = Config::load("x.toml", {"sim.seeed=3"});
  cfg2.section("chip.hbm", hbm_schema());
  EXPECT_EQ(input_error([&] { cfg2.check_all_consumed(); }), "--set sim: unknown table");
}

TEST_F(ConfigLoad, SetBadValueNamesSet) {
  write("x.toml", "[chip.hbm]\ncapacity = \"1GiB\"\nbandwidth = \"1TB/s\"\n");
  Config cfg = Config::load("x.toml", {"chip.hbm.bandwidth=3.2TB"});
  EXPECT_EQ(input_error([&] { cfg.section("chip.hbm", hbm_schema()); }),
            "--set chip.hbm.bandwidth: \"3.2TB\" is not a bandwidth (expected a bandwidth such "
            "as \"1.6TB/s\" or \"900GB/s\")");
}

TEST_F(ConfigLoad, MalformedSet) {
  write("x.toml", "[chip.hbm]\ncapacity = \"1GiB\"\n");
  EXPECT_EQ(input_error([] { Config::load("x.toml", {"foo"}); }),
            "--set 'foo': expected key.path=value");
  EXPECT_EQ(input_error([] { Config::load("x.toml", {"=3"}); }),
            "--set '=3': expected key.path=value");
  EXPECT_EQ(input_error([] { Config::load("x.toml", {"a..b=3"}); }),
            "--set 'a..b=3': expected key.path=value");
  EXPECT_EQ(input_error([] { Config::load("x.toml", {".a=3"}); }),
            "--set '.a=3': expected key.path=value");
  EXPECT_EQ(input_error([] { Config::load("x.toml", {"a b=3"}); }),
            "--set 'a b=3': 'a b' is not a valid key (expected letters A-Z a-z, digits, '_' or "
            "'-')");
  EXPECT_EQ(input_error([] { Config::load("x.toml", {"chip.fr\xc3\xa9quence=1GHz"}); }),
            "--set 'chip.fr\xc3\xa9quence=1GHz': 'fr\xc3\xa9quence' is not a valid key (expected "
            "letters A-Z a-z, digits, '_' or '-')");
}

TEST_F(ConfigLoad, SetCannotChangeTableIntoValueOrBack) {
  write("x.toml", "[chip.hbm]\ncapacity = \"1GiB\"\n");
  EXPECT_EQ(input_error([] { Config::load("x.toml", {"chip.hbm=3"}); }),
            "--set chip.hbm: a value cannot replace the table set at x.toml:1:1");
  EXPECT_EQ(input_error([] { Config::load("x.toml", {"chip.hbm.capacity.x=3"}); }),
            "--set chip.hbm.capacity.x: cannot set a key inside 'chip.hbm.capacity', a value set "
            "at x.toml:2:12");
  EXPECT_EQ(input_error([] { Config::load("x.toml", {"chip.hbm.capacity={a=1}"}); }),
            "--set chip.hbm.capacity: a table cannot replace the value set at x.toml:2:12");
}

TEST_F(ConfigLoad, SetEmptyValueIsAnEmptyString) {
  write("x.toml", "");
  Config cfg = Config::load("x.toml", {"t.s="});
  ParamSchema s("t");
  s.add("s", ParamType::kString, "s");
  EXPECT_EQ(cfg.section("t", s).get_string("s"), "");
}

TEST_F(ConfigLoad, SubtablesInFileOrder) {
  write("base.toml", "[chip.memory.zeta]\nx = 1\n[chip.memory.alpha]\nx = 1\n");
  write("top.toml",
        "include = [\"base.toml\"]\n[chip.memory.mid]\nx = 1\n[chip.memory.alpha]\nx = 2\n");
  Config cfg = Config::load("top.toml", {"chip.memory.last.x=1"});
  EXPECT_EQ(cfg.subtables("chip.memory"),
            (std::vector<std::string>{"zeta", "alpha", "mid", "last"}));
  EXPECT_EQ(cfg.subtables("chip"), (std::vector<std::string>{"memory"}));
  EXPECT_TRUE(cfg.subtables("chip.memory.zeta").empty());  // only values below
  EXPECT_TRUE(cfg.subtables("nothing.here").empty());
  EXPECT_EQ(cfg.subtables(""), (std::vector<std::string>{"chip"}));
}

TEST_F(ConfigLoad, SubtablesKeepFileOrderWithinAFile) {
  write("x.toml", "z = 1\n[b]\n[a]\n[c.d]\n[b.x]\n");
  Config cfg = Config::load("x.toml");
  EXPECT_EQ(cfg.subtables(""), (std::vector<std::string>{"b", "a", "c"}));
}

TEST_F(ConfigLoad, HasWhereAndName) {
  write("configs/mixtral_decode.toml", "[chip]\nfrequency = \"1GHz\"\n\n[chip.hbm]\nx = 1\n");
  Config cfg = Config::load("configs/mixtral_decode.toml");
  EXPECT_EQ(cfg.name(), "mixtral_decode");
  EXPECT_TRUE(cfg.has("chip"));
  EXPECT_TRUE(cfg.has("chip.frequency"));
  EXPECT_TRUE(cfg.has(""));
  EXPECT_FALSE(cfg.has("chip.nope"));
  EXPECT_FALSE(cfg.has("chip.frequency.x"));
  EXPECT_EQ(cfg.where("chip").str(), "configs/mixtral_decode.toml:1:1");
  EXPECT_EQ(cfg.where("chip.frequency").str(), "configs/mixtral_decode.toml:2:13");
  EXPECT_EQ(cfg.where("chip.hbm").str(), "configs/mixtral_decode.toml:4:1");
  EXPECT_EQ(cfg.where("chip.hbm.nope").str(), "configs/mixtral_decode.toml:4:1");
  EXPECT_EQ(cfg.where("").str(), "configs/mixtral_decode.toml");
  EXPECT_EQ(cfg.where("other").str(), "configs/mixtral_decode.toml");
}

TEST_F(ConfigLoad, FromString) {
  Config cfg = Config::from_string("[chip.compute]\nrows = 32\n", "inline.toml",
                                   {"chip.compute.enabled=false"});
  EXPECT_EQ(cfg.name(), "inline");
  const Params p = cfg.section("chip.compute", compute_schema());
  EXPECT_EQ(p.get_int("rows"), 32);
  EXPECT_FALSE(p.get_bool("enabled"));
  EXPECT_EQ(input_error([&] {
              Config::from_string("[chip]\nx = \"a\n", "mem.toml");
            }).rfind("mem.toml:2:", 0),
            0u);
}

TEST_F(ConfigLoad, SourceLocStr) {
  EXPECT_EQ((SourceLoc{"a.toml", 3, 7}).str(), "a.toml:3:7");
  EXPECT_EQ((SourceLoc{"a.toml", 3, 0}).str(), "a.toml:3");
  EXPECT_EQ((SourceLoc{"a.toml", 0, 0}).str(), "a.toml");
  EXPECT_EQ(located_message({"a.toml", 3, 7}, "x.y", "bad"), "a.toml:3:7: x.y: bad");
  EXPECT_EQ(located_message({"a.toml"}, "x.y", "bad"), "a.toml: x.y: bad");
  EXPECT_EQ(located_message({"--set"}, "x.y", "bad"), "--set x.y: bad");
  EXPECT_EQ(located_message({"a.toml", 1, 1}, "", "bad"), "a.toml:1:1: bad");
}

TEST_F(ConfigLoad, MoveKeepsTheTree) {
  write("x.toml", "[chip.compute]\nrows = 5\n");
  Config a = Config::load("x.toml");
  Config b = std::move(a);
  EXPECT_EQ(b.section("chip.compute", compute_schema()).get_int("rows"), 5);
  Config c = Config::from_string("", "e.toml");
  c = std::move(b);
  EXPECT_EQ(c.name(), "x");
}

// --- effective configuration ---------------------------------------------------------------

struct Built {
  std::string mem_type;
  Params sim, hbm, compute, workload;
  std::vector<std::string> tiers;
  std::vector<Params> tier_params;
};

/// Reads a config the way the simulator does: choose() types, section() every table.
Built build(Config& cfg) {
  Built b;
  ParamSchema sim("sim");
  sim.add("seed", ParamType::kInt, "seed").default_value(int64_t{1});
  sim.add("label", ParamType::kString, "label").default_value(std::string("run \"1\"\t\\"));
  sim.add("scale", ParamType::kFloat, "scale").default_value(int64_t{2});
  b.sim = cfg.section("sim", sim);
  b.mem_type = cfg.choose("chip.hbm.type", {"fast_dram", "dram"});
  b.hbm = cfg.section("chip.hbm", hbm_schema());
  b.compute = cfg.section("chip.compute", compute_schema());
  b.tiers = cfg.subtables("chip.memory");
  for (const std::string& t : b.tiers) {
    ParamSchema s("sram");
    s.add("capacity", ParamType::kSize, "c");
    s.add("latency", ParamType::kTime, "l").default_value(Quantity{2, true});
    b.tier_params.push_back(cfg.section("chip.memory." + t, s));
  }
  ParamSchema w("workload");
  w.add("path", ParamType::kPath, "trace");
  w.add("extra", ParamType::kPath, "optional").default_value(std::string());
  w.add("clock", ParamType::kFrequency, "clk").default_value(Quantity{1.4e9, false});
  b.workload = cfg.section("workload", w);
  cfg.check_all_consumed();
  return b;
}

void expect_same(const Built& a, const Built& b) {
  EXPECT_EQ(a.mem_type, b.mem_type);
  EXPECT_EQ(a.sim, b.sim);
  EXPECT_EQ(a.hbm, b.hbm);
  EXPECT_EQ(a.compute, b.compute);
  EXPECT_EQ(a.workload, b.workload);
  EXPECT_EQ(a.tiers, b.tiers);
  ASSERT_EQ(a.tier_params.size(), b.tier_params.size());
  for (size_t i = 0; i < a.tier_params.size(); ++i) EXPECT_EQ(a.tier_params[i], b.tier_params[i]);
}

TEST_F(ConfigLoad, EffectiveTomlRoundTrips) {
  write("configs/hw/chip.toml",
        "[chip.hbm]\ntype = \"fast_dram\"\ncapacity = \"80GiB\"\nbandwidth = \"1.6 TB/s\"\n"
        "[chip.memory.sram_b]\ncapacity = \"1.5KB\"\n[chip.memory.sram_a]\ncapacity = \"64KiB\"\n"
        "latency = \"3.3ns\"\n");
  write("configs/run.toml",
        "include = [\"hw/chip.toml\"]\n[sim]\nseed = 7\n[chip.compute]\nrows = 64\n"
        "[workload]\npath = \"../traces/t.csv\"\n");
  Config first =
      Config::load("configs/run.toml", {"chip.hbm.efficiency=0.75", "chip.hbm.latency=12cycles"});
  const Built a = build(first);
  EXPECT_EQ(a.workload.get_string("path"),
            (fs::current_path() / "traces" / "t.csv").lexically_normal().string());
  EXPECT_EQ(a.workload.get_string("extra"), "");
  EXPECT_EQ(a.tiers, (std::vector<std::string>{"sram_b", "sram_a"}));

  const std::string text = first.effective_toml();
  write("out/deep/effective_config.toml", text);
  Config second = Config::load("out/deep/effective_config.toml");
  const Built b = build(second);
  expect_same(a, b);
  // And the effective configuration of the effective configuration is the same text.
  const std::string again = second.effective_toml();
  EXPECT_EQ(again.substr(again.find('\n')), text.substr(text.find('\n')));
}

TEST_F(ConfigLoad, EffectiveTomlText) {
  write("x.toml",
        "[chip.hbm]\ntype = \"fast_dram\"\ncapacity = \"1024MiB\"\n"
        "bandwidth = \"900GB/s\"\n[chip.compute]\nrows = 8\n");
  Config cfg = Config::load("x.toml", {"chip.hbm.latency=0.1us"});
  cfg.choose("chip.hbm.type", {"fast_dram"});
  cfg.section("chip.hbm", hbm_schema());
  cfg.section("chip.compute", compute_schema());
  ParamSchema empty("sim");
  cfg.section("sim", empty);
  EXPECT_EQ(cfg.effective_toml(),
            "# Effective configuration of 'x': every consumed key, defaults resolved.\n"
            "\n[chip.hbm]\n"
            "type = \"fast_dram\"\n"
            "capacity = \"1GiB\"\n"
            "bandwidth = \"900GB/s\"\n"
            "latency = \"100ns\"\n"
            "efficiency = 0.9\n"
            "\n[chip.compute]\n"
            "rows = 8\n"
            "dataflow = \"weight_stationary\"\n"
            "enabled = true\n"
            "\n[sim]\n");
}

// A parent table read after its child is written after it: still valid TOML that reloads.
TEST_F(ConfigLoad, EffectiveTomlWithParentAfterChild) {
  write("x.toml", "mode = \"a\"\n[chip]\nfrequency = \"1GHz\"\n[chip.compute]\nrows = 3\n");
  ParamSchema chip("chip");
  chip.add("frequency", ParamType::kFrequency, "clock");
  Config cfg = Config::load("x.toml");
  const Params c1 = cfg.section("chip.compute", compute_schema());
  const Params p1 = cfg.section("chip", chip);
  EXPECT_EQ(cfg.choose("mode", {"a", "b"}), "a");
  EXPECT_NO_THROW(cfg.check_all_consumed());
  const std::string text = cfg.effective_toml();
  EXPECT_EQ(text.substr(text.find('\n') + 1),
            "mode = \"a\"\n\n[chip.compute]\nrows = 3\ndataflow = \"weight_stationary\"\n"
            "enabled = true\n\n[chip]\nfrequency = \"1GHz\"\n");
  Config again = Config::from_string(text, "eff.toml");
  EXPECT_EQ(again.section("chip.compute", compute_schema()), c1);
  EXPECT_EQ(again.section("chip", chip), p1);
  EXPECT_EQ(again.choose("mode", {"a", "b"}), "a");
  EXPECT_NO_THROW(again.check_all_consumed());
}

TEST_F(ConfigLoad, EffectiveTomlQuotesOddKeysAndRootValues) {
  write("x.toml", "top = 1\n[\"odd key\".\"a.b\"]\nv = 2.0\n");
  Config cfg = Config::load("x.toml");
  ParamSchema root("root");
  root.add("top", ParamType::kInt, "t");
  EXPECT_EQ(cfg.section("", root).get_int("top"), 1);
  EXPECT_EQ(cfg.effective_toml(),
            "# Effective configuration of 'x': every consumed key, defaults resolved.\n"
            "top = 1\n");
  Config cfg2 = Config::from_string("[\"odd key\"]\nv = 2.0\n", "y.toml");
  ParamSchema s("odd");
  s.add("v", ParamType::kFloat, "v");
  cfg2.section("odd key", s);
  EXPECT_EQ(cfg2.effective_toml(),
            "# Effective configuration of 'y': every consumed key, defaults resolved.\n"
            "\n[\"odd key\"]\nv = 2.0\n");
}

}  // namespace
}  // namespace moesim
