// Strict checking: section() type, range, unit, enum and unknown-key errors, choose(), and
// check_all_consumed(), each with the exact message a user sees.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sim/config/config.hpp"
#include "tests/config/config_test_util.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;

using ConfigCheck = ScratchDirTest;

/// The message section(path, schema) throws for a config made of `text` in configs/x.toml.
std::string section_error(const std::string& text, const std::string& path,
                          const ParamSchema& schema) {
  fs::create_directories("configs");
  std::ofstream("configs/x.toml") << text;
  Config cfg = Config::load("configs/x.toml");
  return input_error([&] { cfg.section(path, schema); });
}

constexpr const char* kBwEx = "a bandwidth such as \"1.6TB/s\" or \"900GB/s\"";

TEST_F(ConfigCheck, ValidSectionReturnsTypedValuesAndDefaults) {
  write("x.toml",
        "[chip.hbm]\ncapacity = \"80GiB\"\nbandwidth = \"1.6TB/s\"\nefficiency = 1\n"
        "[chip.compute]\ndataflow = \"output_stationary\"\n");
  Config cfg = Config::load("x.toml");
  const Params hbm = cfg.section("chip.hbm", hbm_schema());
  EXPECT_EQ(hbm.path(), "chip.hbm");
  EXPECT_EQ(hbm.get_bytes("capacity"), 80ull << 30);
  EXPECT_EQ(hbm.get_bytes_per_s("bandwidth"), 1.6e12);
  EXPECT_EQ(hbm.get_seconds("latency", 1e9), 50e-9);  // default
  EXPECT_EQ(hbm.get_float("efficiency"), 1.0);        // an integer is a fine float
  const Params c = cfg.section("chip.compute", compute_schema());
  EXPECT_EQ(c.get_int("rows"), 128);
  EXPECT_EQ(c.get_string("dataflow"), "output_stationary");
  EXPECT_TRUE(c.get_bool("enabled"));
  EXPECT_NO_THROW(cfg.check_all_consumed());
}

TEST_F(ConfigCheck, UnknownKeyWithSuggestion) {
  EXPECT_EQ(section_error("[chip.hbm]\ncapacity = \"1GiB\"\nbandwidth = \"1TB/s\"\n\n\n\n\n\n\n\n\n"
                          "  bandwith = \"1TB/s\"\n",
                          "chip.hbm", hbm_schema()),
            "configs/x.toml:12:3: chip.hbm.bandwith: unknown key for 'fast_dram' (did you mean "
            "'bandwidth'?)");
  EXPECT_EQ(section_error("[chip.hbm]\nfoo = 1\n", "chip.hbm", hbm_schema()),
            "configs/x.toml:2:1: chip.hbm.foo: unknown key for 'fast_dram'");
  ParamSchema anon;
  anon.add("rows", ParamType::kInt, "r");
  EXPECT_EQ(section_error("[t]\nrowz = 1\n", "t", anon),
            "configs/x.toml:2:1: t.rowz: unknown key (did you mean 'rows'?)");
}

// The example of DESIGN.md: a nested table validated by its own model's schema.
TEST_F(ConfigCheck, DesignExampleNestedTiming) {
  ParamSchema dram("dram");
  dram.add("t_rcd", ParamType::kTime, "RAS to CAS");
  dram.add("t_rp", ParamType::kTime, "precharge");
  EXPECT_EQ(section_error("[chip.hbm]\ntype = \"dram\"\n\n[chip.hbm.timing]\nt_rp = \"14ns\"\n"
                          "t_rcdd = \"14ns\"\n",
                          "chip.hbm.timing", dram),
            "configs/x.toml:6:1: chip.hbm.timing.t_rcdd: unknown key for 'dram' (did you mean "
            "'t_rcd'?)");
}

TEST_F(ConfigCheck, UnknownKeysReportedInFileOrderBeforeMissingOnes) {
  EXPECT_EQ(section_error("[chip.hbm]\nzzz = 1\naaa = 2\n", "chip.hbm", hbm_schema()),
            "configs/x.toml:2:1: chip.hbm.zzz: unknown key for 'fast_dram'");
}

TEST_F(ConfigCheck, WrongTypes) {
  EXPECT_EQ(section_error("[chip.compute]\nrows = \"4\"\n", "chip.compute", compute_schema()),
            "configs/x.toml:2:8: chip.compute.rows: expected an integer, got a string");
  EXPECT_EQ(section_error("[chip.compute]\nrows = 4.0\n", "chip.compute", compute_schema()),
            "configs/x.toml:2:8: chip.compute.rows: expected an integer, got a float");
  EXPECT_EQ(section_error("[chip.compute]\nenabled = \"yes\"\n", "chip.compute", compute_schema()),
            "configs/x.toml:2:11: chip.compute.enabled: expected a boolean, got a string");
  EXPECT_EQ(section_error("[chip.compute]\ndataflow = 3\n", "chip.compute", compute_schema()),
            "configs/x.toml:2:12: chip.compute.dataflow: expected one of 'weight_stationary', "
            "'output_stationary', got an integer");
  EXPECT_EQ(section_error("[chip.hbm]\nefficiency = true\n", "chip.hbm", hbm_schema()),
            "configs/x.toml:2:14: chip.hbm.efficiency: expected a number, got a boolean");
  EXPECT_EQ(section_error("[chip.hbm]\nefficiency = nan\n", "chip.hbm", hbm_schema()),
            "configs/x.toml:2:14: chip.hbm.efficiency: expected a number, got nan");
  ParamSchema s("t");
  s.add("name", ParamType::kString, "n");
  s.add("file", ParamType::kPath, "f");
  EXPECT_EQ(section_error("[t]\nname = [1]\n", "t", s),
            "configs/x.toml:2:8: t.name: expected a string, got an array");
  EXPECT_EQ(section_error("[t]\nname = \"a\"\nfile = 1979-05-27\n", "t", s),
            "configs/x.toml:3:8: t.file: expected a file path, got a date");
  EXPECT_EQ(section_error("[chip.hbm]\ncapacity = true\n", "chip.hbm", hbm_schema()),
            "configs/x.toml:2:12: chip.hbm.capacity: expected a size such as \"64KiB\" or "
            "\"2GB\", got a boolean");
}

TEST_F(ConfigCheck, NumbersWithoutUnits) {
  EXPECT_EQ(section_error("[chip.hbm]\ncapacity = 4096\n", "chip.hbm", hbm_schema()),
            "configs/x.toml:2:12: chip.hbm.capacity: 4096 has no unit (expected a size such as "
            "\"64KiB\" or \"2GB\")");
  EXPECT_EQ(section_error("[chip.hbm]\ncapacity = \"1GiB\"\nbandwidth = 1.6e12\n", "chip.hbm",
                          hbm_schema()),
            std::string("configs/x.toml:3:13: chip.hbm.bandwidth: 1600000000000.0 has no unit "
                        "(expected ") +
                kBwEx + ")");
}

TEST_F(ConfigCheck, BadUnits) {
  EXPECT_EQ(section_error("[chip.hbm]\ncapacity = \"1GiB\"\n\n\nbandwidth = \"1.6TB\"\n",
                          "chip.hbm", hbm_schema()),
            std::string("configs/x.toml:5:13: chip.hbm.bandwidth: \"1.6TB\" is not a bandwidth "
                        "(expected ") +
                kBwEx + ")");
  EXPECT_EQ(section_error("[chip.hbm]\ncapacity = \"1.5B\"\n", "chip.hbm", hbm_schema()),
            "configs/x.toml:2:12: chip.hbm.capacity: \"1.5B\" is not a size (expected a whole "
            "number of bytes)");
  EXPECT_EQ(section_error("[chip.hbm]\ncapacity = \"-1GiB\"\n", "chip.hbm", hbm_schema()),
            "configs/x.toml:2:12: chip.hbm.capacity: \"-1GiB\" is not a size (expected a "
            "non-negative size)");
  EXPECT_EQ(section_error("[chip.hbm]\ncapacity = \"1GiB\"\nbandwidth = \"1TB/s\"\n"
                          "latency = \"14\"\n",
                          "chip.hbm", hbm_schema()),
            "configs/x.toml:4:11: chip.hbm.latency: \"14\" is not a time (expected a time such "
            "as \"14ns\" or \"12cycles\")");
  ParamSchema s("chip");
  s.add("frequency", ParamType::kFrequency, "clock");
  EXPECT_EQ(section_error("[chip]\nfrequency = \"1.4 Ghz\"\n", "chip", s),
            "configs/x.toml:2:13: chip.frequency: \"1.4 Ghz\" is not a frequency (expected a "
            "frequency such as \"1.4GHz\" or \"800MHz\")");
}

TEST_F(ConfigCheck, OutOfRange) {
  EXPECT_EQ(section_error("[chip.compute]\nrows = 0\n", "chip.compute", compute_schema()),
            "configs/x.toml:2:8: chip.compute.rows: 0 is out of range (expected 1 to 4096)");
  EXPECT_EQ(section_error("[chip.compute]\nrows = 4097\n", "chip.compute", compute_schema()),
            "configs/x.toml:2:8: chip.compute.rows: 4097 is out of range (expected 1 to 4096)");
  EXPECT_EQ(section_error("[chip.hbm]\ncapacity = \"0B\"\n", "chip.hbm", hbm_schema()),
            "configs/x.toml:2:12: chip.hbm.capacity: \"0B\" is out of range (expected at least "
            "1B)");
  EXPECT_EQ(section_error("[chip.hbm]\nefficiency = 1.5\n", "chip.hbm", hbm_schema()),
            "configs/x.toml:2:14: chip.hbm.efficiency: 1.5 is out of range (expected 0 to 1)");
  EXPECT_EQ(section_error("[chip.hbm]\ncapacity = \"1GiB\"\nbandwidth = \"1TB/s\"\n"
                          "latency = \"0.5ns\"\n",
                          "chip.hbm", hbm_schema()),
            "configs/x.toml:4:11: chip.hbm.latency: \"0.5ns\" is out of range (expected at least "
            "1ns)");
  ParamSchema s("t");
  s.add("n", ParamType::kInt, "n").max = 10;
  s.add("f", ParamType::kFloat, "f").at_least(0.25).default_value(1.0);
  EXPECT_EQ(section_error("[t]\nn = 11\n", "t", s),
            "configs/x.toml:2:5: t.n: 11 is out of range (expected at most 10)");
  EXPECT_EQ(section_error("[t]\nn = 1\nf = 0.125\n", "t", s),
            "configs/x.toml:3:5: t.f: 0.125 is out of range (expected at least 0.25)");
}

TEST_F(ConfigCheck, CyclesAreNotRangeChecked) {
  // A time in cycles has no length in seconds until a clock is known.
  write("x.toml",
        "[chip.hbm]\ncapacity = \"1GiB\"\nbandwidth = \"1TB/s\"\nlatency = \"0cycles\"\n");
  Config cfg = Config::load("x.toml");
  const Params p = cfg.section("chip.hbm", hbm_schema());
  EXPECT_EQ(p.get_cycles("latency", 1e9), 0u);
}

TEST_F(ConfigCheck, EnumNotAChoice) {
  EXPECT_EQ(section_error("[chip.compute]\ndataflow = \"ws\"\n", "chip.compute", compute_schema()),
            "configs/x.toml:2:12: chip.compute.dataflow: \"ws\" is not one of "
            "'weight_stationary', 'output_stationary'");
  EXPECT_EQ(section_error("[chip.compute]\ndataflow = \"weight_stationery\"\n", "chip.compute",
                          compute_schema()),
            "configs/x.toml:2:12: chip.compute.dataflow: \"weight_stationery\" is not one of "
            "'weight_stationary', 'output_stationary' (did you mean 'weight_stationary'?)");
  EXPECT_EQ(
      section_error("[chip.compute]\ndataflow = \"output\"\n", "chip.compute", compute_schema()),
      "configs/x.toml:2:12: chip.compute.dataflow: \"output\" is not one of "
      "'weight_stationary', 'output_stationary' (did you mean 'output_stationary'?)");
}

TEST_F(ConfigCheck, MissingRequiredKey) {
  EXPECT_EQ(section_error("[sim]\nseed = 1\n\n\n\n\n\n\n[chip.hbm]\ncapacity = \"1GiB\"\n",
                          "chip.hbm", hbm_schema()),
            std::string("configs/x.toml:9:1: chip.hbm.bandwidth: missing required key (expected ") +
                kBwEx + ")");
  EXPECT_EQ(section_error("[sim]\nseed = 1\n", "chip.hbm", hbm_schema()),
            "configs/x.toml: chip.hbm.capacity: missing required key (expected a size such as "
            "\"64KiB\" or \"2GB\")");
  ParamSchema s("t");
  s.add("mode", ParamType::kEnum, "m").one_of({"a", "b"});
  s.add("n", ParamType::kInt, "n");
  EXPECT_EQ(section_error("[t]\nmode = \"a\"\n", "t", s),
            "configs/x.toml:1:1: t.n: missing required key (expected an integer)");
  EXPECT_EQ(section_error("[t]\nn = 1\n", "t", s),
            "configs/x.toml:1:1: t.mode: missing required key (expected one of 'a', 'b')");
  EXPECT_EQ(section_error("", "", s),
            "configs/x.toml: mode: missing required key (expected one of 'a', 'b')");
}

TEST_F(ConfigCheck, DeclaredKeyGivenAsATable) {
  EXPECT_EQ(section_error("[chip.compute]\nenabled = true\n[chip.compute.rows]\nx = 1\n",
                          "chip.compute", compute_schema()),
            "configs/x.toml:3:1: chip.compute.rows: expected an integer, got a table");
}

TEST_F(ConfigCheck, SectionOnAValue) {
  EXPECT_EQ(section_error("chip = 3\n", "chip.compute", compute_schema()),
            "configs/x.toml:1:8: chip: expected a table, got an integer");
  EXPECT_EQ(section_error("[chip]\ncompute = \"x\"\n", "chip.compute", compute_schema()),
            "configs/x.toml:2:11: chip.compute: expected a table, got a string");
}

TEST_F(ConfigCheck, UndeclaredSubtablesAreLeftForTheirOwnSection) {
  write("x.toml", "[chip]\nfrequency = \"1GHz\"\n[chip.compute]\nrows = 2\n");
  Config cfg = Config::load("x.toml");
  ParamSchema chip("chip");
  chip.add("frequency", ParamType::kFrequency, "clock");
  EXPECT_EQ(cfg.section("chip", chip).get_hz("frequency"), 1e9);
  EXPECT_EQ(input_error([&] { cfg.check_all_consumed(); }),
            "x.toml:3:1: chip.compute: unknown table for 'chip'");
  EXPECT_EQ(cfg.section("chip.compute", compute_schema()).get_int("rows"), 2);
  EXPECT_NO_THROW(cfg.check_all_consumed());
}

TEST_F(ConfigCheck, PathsResolveAgainstTheFileThatSetThem) {
  write("configs/hw/x.toml",
        "[w]\ntrace = \"../traces/t.csv\"\nabs = \"/data/t.csv\"\n"
        "none = \"\"\n");
  write("configs/run.toml", "include = [\"hw/x.toml\"]\n");
  Config cfg = Config::load("configs/run.toml", {"w.other=local/u.csv"});
  ParamSchema s("w");
  for (const char* k : {"trace", "abs", "none", "other"}) s.add(k, ParamType::kPath, k);
  s.add("dflt", ParamType::kPath, "d").default_value(std::string("d/e.csv"));
  const Params p = cfg.section("w", s);
  const fs::path cwd = fs::current_path();
  EXPECT_EQ(p.get_string("trace"), (cwd / "configs/traces/t.csv").string());
  EXPECT_EQ(p.get_string("abs"), "/data/t.csv");
  EXPECT_EQ(p.get_string("none"), "");
  EXPECT_EQ(p.get_string("other"), (cwd / "local/u.csv").string());  // --set: the cwd
  EXPECT_EQ(p.get_string("dflt"), (cwd / "d/e.csv").string());
}

TEST_F(ConfigCheck, BadDefaultIsInternalError) {
  write("x.toml", "");
  Config cfg = Config::load("x.toml");
  ParamSchema s("t");
  s.add("n", ParamType::kInt, "n").default_value(1.5);
  EXPECT_THROW(cfg.section("t", s), InternalError);
  ParamSchema e("t");
  e.add("m", ParamType::kEnum, "m").one_of({"a"}).default_value(std::string("b"));
  EXPECT_THROW(cfg.section("t", e), InternalError);
  ParamSchema q("t");
  q.add("c", ParamType::kSize, "c").default_value(Quantity{3, true});
  EXPECT_THROW(cfg.section("t", q), InternalError);
}

TEST_F(ConfigCheck, ChooseReadsAndConsumesAChoice) {
  write("x.toml", "[chip.hbm]\ntype = \"fast_dram\"\ncapacity = \"1GiB\"\nbandwidth = \"1TB/s\"\n");
  Config cfg = Config::load("x.toml");
  EXPECT_EQ(cfg.choose("chip.hbm.type", {"dram", "fast_dram"}), "fast_dram");
  EXPECT_NO_THROW(cfg.section("chip.hbm", hbm_schema()));  // "type" already consumed
  EXPECT_NO_THROW(cfg.check_all_consumed());
}

TEST_F(ConfigCheck, TypeKeyNotChosenIsUnknownToTheSchema) {
  write("x.toml", "[chip.hbm]\ntype = \"fast_dram\"\ncapacity = \"1GiB\"\nbandwidth = \"1TB/s\"\n");
  Config cfg = Config::load("x.toml");
  EXPECT_EQ(input_error([&] { cfg.section("chip.hbm", hbm_schema()); }),
            "x.toml:2:1: chip.hbm.type: unknown key for 'fast_dram'");
}

TEST_F(ConfigCheck, ChooseErrors) {
  write("x.toml",
        "[sim]\nseed = 1\n[chip.hbm]\ncapacity = \"1GiB\"\n[chip.dram]\ntype = \"fats\"\n"
        "[chip.sram]\ntype = 3\n[chip.x]\ntype = \"zzz\"\n[chip.y.type]\n");
  Config cfg = Config::load("x.toml");
  const std::vector<std::string> kinds = {"dram", "fast"};
  EXPECT_EQ(input_error([&] { cfg.choose("chip.hbm.type", kinds); }),
            "x.toml:3:1: chip.hbm.type: missing required key (expected one of 'dram', 'fast')");
  EXPECT_EQ(input_error([&] { cfg.choose("chip.nope.type", kinds); }),
            "x.toml: chip.nope.type: missing required key (expected one of 'dram', 'fast')");
  EXPECT_EQ(input_error([&] { cfg.choose("chip.dram.type", kinds); }),
            "x.toml:6:8: chip.dram.type: \"fats\" is not one of 'dram', 'fast' (did you mean "
            "'fast'?)");
  EXPECT_EQ(input_error([&] { cfg.choose("chip.x.type", kinds); }),
            "x.toml:10:8: chip.x.type: \"zzz\" is not one of 'dram', 'fast'");
  EXPECT_EQ(input_error([&] { cfg.choose("chip.sram.type", kinds); }),
            "x.toml:8:8: chip.sram.type: expected one of 'dram', 'fast', got an integer");
  EXPECT_EQ(input_error([&] { cfg.choose("chip.y.type", kinds); }),
            "x.toml:11:1: chip.y.type: expected one of 'dram', 'fast', got a table");
  EXPECT_EQ(input_error([&] { cfg.choose("mode", kinds); }),
            "x.toml: mode: missing required key (expected one of 'dram', 'fast')");
  EXPECT_EQ(input_error([&] { cfg.choose("sim.seed.type", kinds); }),
            "x.toml:2:8: sim.seed: expected a table, got an integer");
}

// --- check_all_consumed ----------------------------------------------------------------------

TEST_F(ConfigCheck, UnknownTopLevelTable) {
  write("x.toml", "[chip]\nfrequency = \"1GHz\"\n\n[chpi.hbm]\nx = 1\n");
  Config cfg = Config::load("x.toml");
  ParamSchema chip("chip");
  chip.add("frequency", ParamType::kFrequency, "clock");
  cfg.section("chip", chip);
  EXPECT_EQ(input_error([&] { cfg.check_all_consumed(); }),
            "x.toml:4:1: chpi: unknown table (did you mean 'chip'?)");
}

TEST_F(ConfigCheck, UnknownIntermediateTable) {
  write("x.toml",
        "[chip]\nfrequency = \"1GHz\"\n[chip.memory.hbm]\ncapacity = \"1GiB\"\n"
        "bandwidth = \"1TB/s\"\n[chip.memroy.ddr]\ncapacity = \"1GiB\"\n");
  Config cfg = Config::load("x.toml");
  ParamSchema chip("chip");
  chip.add("frequency", ParamType::kFrequency, "clock");
  cfg.section("chip", chip);
  for (const std::string& t : cfg.subtables("chip.memory")) {
    cfg.section("chip.memory." + t, hbm_schema());
  }
  EXPECT_EQ(input_error([&] { cfg.check_all_consumed(); }),
            "x.toml:6:1: chip.memroy: unknown table for 'chip' (did you mean 'memory'?)");
}

TEST_F(ConfigCheck, UnknownLeafInAnUnvalidatedTable) {
  write("x.toml",
        "chp = 1\n[chip.memory]\nfoo = 1\n[chip.memory.hbm]\ncapacity = \"1GiB\"\n"
        "bandwidth = \"1TB/s\"\n");
  Config cfg = Config::load("x.toml");
  cfg.section("chip.memory.hbm", hbm_schema());
  EXPECT_EQ(input_error([&] { cfg.check_all_consumed(); }),
            "x.toml:1:1: chp: unknown key (did you mean 'chip'?)");
}

TEST_F(ConfigCheck, UnknownLeafBelowATouchedTable) {
  write("x.toml",
        "[chip.memory]\nhmb = 1\n[chip.memory.hbm]\ncapacity = \"1GiB\"\n"
        "bandwidth = \"1TB/s\"\n");
  Config cfg = Config::load("x.toml");
  cfg.section("chip.memory.hbm", hbm_schema());
  EXPECT_EQ(input_error([&] { cfg.check_all_consumed(); }),
            "x.toml:2:1: chip.memory.hmb: unknown key (did you mean 'hbm'?)");
}

TEST_F(ConfigCheck, EmptyUnknownTable) {
  write("x.toml", "[chip.compute]\nrows = 1\n[foo]\n");
  Config cfg = Config::load("x.toml");
  cfg.section("chip.compute", compute_schema());
  EXPECT_EQ(input_error([&] { cfg.check_all_consumed(); }), "x.toml:3:1: foo: unknown table");
}

TEST_F(ConfigCheck, EmptyValidatedTableIsConsumed) {
  write("x.toml", "[chip.compute]\n");
  Config cfg = Config::load("x.toml");
  EXPECT_EQ(cfg.section("chip.compute", compute_schema()).get_int("rows"), 128);
  EXPECT_NO_THROW(cfg.check_all_consumed());
}

TEST_F(ConfigCheck, FirstUnconsumedInFileOrderAcrossIncludes) {
  write("base.toml", "[zulu]\nlate_in_alphabet = 1\n");
  write("top.toml", "include = [\"base.toml\"]\n[alpha]\nfirst_in_alphabet = 1\n");
  Config cfg = Config::load("top.toml", {"bravo.c=1"});
  EXPECT_EQ(input_error([&] { cfg.check_all_consumed(); }), "base.toml:1:1: zulu: unknown table");
  ParamSchema z("zulu");
  z.add("late_in_alphabet", ParamType::kInt, "l");
  cfg.section("zulu", z);
  EXPECT_EQ(input_error([&] { cfg.check_all_consumed(); }), "top.toml:2:1: alpha: unknown table");
  ParamSchema a("alpha");
  a.add("first_in_alphabet", ParamType::kInt, "f");
  cfg.section("alpha", a);
  EXPECT_EQ(input_error([&] { cfg.check_all_consumed(); }), "--set bravo: unknown table");
}

TEST_F(ConfigCheck, OverriddenKeyIsReportedWhereItWasLastSet) {
  write("base.toml", "[t]\nx = 1\n");
  write("top.toml", "include = [\"base.toml\"]\n[t]\nx = 2\n");
  Config cfg = Config::load("top.toml");
  EXPECT_EQ(input_error([&] { cfg.section("t", ParamSchema()); }),
            "top.toml:3:1: t.x: unknown key");
}

TEST_F(ConfigCheck, AllConsumedPasses) {
  write("x.toml", "[chip.compute]\nrows = 3\n");
  Config cfg = Config::load("x.toml");
  EXPECT_EQ(cfg.section("chip.compute", compute_schema()).get_int("rows"), 3);
  EXPECT_NO_THROW(cfg.check_all_consumed());
}

}  // namespace
}  // namespace moesim
