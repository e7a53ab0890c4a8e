// Schemas, Params accessors (misuse is an InternalError) and did_you_mean.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sim/config/config.hpp"
#include "sim/config/schema.hpp"
#include "sim/core/error.hpp"

namespace moesim {
namespace {

TEST(Schema, DeclaresInOrderWithOwner) {
  ParamSchema s("fast_dram");
  s.add("capacity", ParamType::kSize, "capacity").at_least(1);
  s.add("rows", ParamType::kInt, "rows").range(1, 4096).default_value(int64_t{128});
  EXPECT_EQ(s.owner(), "fast_dram");
  ASSERT_EQ(s.params().size(), 2u);
  EXPECT_EQ(s.names(), (std::vector<std::string>{"capacity", "rows"}));
  ASSERT_NE(s.find("rows"), nullptr);
  EXPECT_EQ(*s.find("rows")->max, 4096);
  EXPECT_EQ(std::get<int64_t>(*s.find("rows")->default_val), 128);
  EXPECT_EQ(s.find("nope"), nullptr);
  EXPECT_FALSE(s.find("capacity")->default_val.has_value());
  EXPECT_EQ(ParamSchema().owner(), "");
}

TEST(Schema, DuplicateDeclarationIsInternalError) {
  ParamSchema s("x");
  s.add("a", ParamType::kInt, "a");
  EXPECT_THROW(s.add("a", ParamType::kFloat, "again"), InternalError);
}

TEST(Schema, TypeNames) {
  EXPECT_STREQ(param_type_name(ParamType::kInt), "integer");
  EXPECT_STREQ(param_type_name(ParamType::kFloat), "float");
  EXPECT_STREQ(param_type_name(ParamType::kBool), "boolean");
  EXPECT_STREQ(param_type_name(ParamType::kString), "string");
  EXPECT_STREQ(param_type_name(ParamType::kEnum), "enum");
  EXPECT_STREQ(param_type_name(ParamType::kSize), "size");
  EXPECT_STREQ(param_type_name(ParamType::kBandwidth), "bandwidth");
  EXPECT_STREQ(param_type_name(ParamType::kTime), "time");
  EXPECT_STREQ(param_type_name(ParamType::kFrequency), "frequency");
  EXPECT_STREQ(param_type_name(ParamType::kPath), "path");
}

Params typed_params() {
  return Params("chip.hbm",
                {{"n", int64_t{3}},
                 {"f", 0.5},
                 {"b", true},
                 {"s", std::string("x")},
                 {"cap", Quantity{1024, false}},
                 {"bw", Quantity{1e9, false}},
                 {"lat", Quantity{14e-9, false}},
                 {"lat_c", Quantity{3, true}},
                 {"clk", Quantity{1e9, false}}},
                {{"n", ParamType::kInt},
                 {"f", ParamType::kFloat},
                 {"b", ParamType::kBool},
                 {"s", ParamType::kEnum},
                 {"cap", ParamType::kSize},
                 {"bw", ParamType::kBandwidth},
                 {"lat", ParamType::kTime},
                 {"lat_c", ParamType::kTime},
                 {"clk", ParamType::kFrequency}});
}

TEST(Params, AccessorsReturnValues) {
  const Params p = typed_params();
  EXPECT_EQ(p.path(), "chip.hbm");
  EXPECT_EQ(p.get_int("n"), 3);
  EXPECT_EQ(p.get_float("f"), 0.5);
  EXPECT_TRUE(p.get_bool("b"));
  EXPECT_EQ(p.get_string("s"), "x");
  EXPECT_EQ(p.get_bytes("cap"), 1024u);
  EXPECT_EQ(p.get_bytes_per_s("bw"), 1e9);
  EXPECT_EQ(p.get_hz("clk"), 1e9);
  EXPECT_EQ(p.get_seconds("lat", 1e9), 14e-9);
  EXPECT_EQ(p.get_seconds("lat_c", 2e9), 1.5e-9);
  EXPECT_EQ(p.get_cycles("lat_c", 2e9), 3u);
  EXPECT_TRUE(p.has("n"));
  EXPECT_FALSE(p.has("m"));
}

TEST(Params, CyclesRoundUpButIgnoreFloatingNoise) {
  const Params p("x", {{"a", Quantity{14e-9, false}}, {"b", Quantity{14.5e-9, false}}},
                 {{"a", ParamType::kTime}, {"b", ParamType::kTime}});
  EXPECT_EQ(p.get_cycles("a", 1e9), 14u);  // 14.000000000000002 in doubles
  EXPECT_EQ(p.get_cycles("b", 1e9), 15u);
  EXPECT_EQ(p.get_cycles("a", 1.4e9), 20u);  // 19.6 -> 20
}

TEST(Params, MisuseIsInternalError) {
  const Params p = typed_params();
  EXPECT_THROW(p.get_int("missing"), InternalError);
  EXPECT_THROW(p.get_int("f"), InternalError);
  EXPECT_THROW(p.get_float("n"), InternalError);
  EXPECT_THROW(p.get_bool("n"), InternalError);
  EXPECT_THROW(p.get_string("n"), InternalError);
  EXPECT_THROW(p.get_bytes("bw"), InternalError);         // a bandwidth, not a size
  EXPECT_THROW(p.get_bytes_per_s("cap"), InternalError);  // a size, not a bandwidth
  EXPECT_THROW(p.get_hz("lat"), InternalError);
  EXPECT_THROW(p.get_seconds("clk", 1e9), InternalError);
  EXPECT_THROW(p.get_cycles("cap", 1e9), InternalError);
  EXPECT_THROW(p.get_seconds("lat_c", 0), InternalError);  // cycles need a clock
  EXPECT_THROW(p.get_cycles("lat", -1), InternalError);
  try {
    p.get_int("cap");
    FAIL() << "no InternalError";
  } catch (const InternalError& e) {
    EXPECT_STREQ(e.what(),
                 "Params 'chip.hbm': parameter 'cap' is a size and cannot be read "
                 "with get_int()");
  }
  try {
    p.get_int("zzz");
    FAIL() << "no InternalError";
  } catch (const InternalError& e) {
    EXPECT_STREQ(e.what(), "Params 'chip.hbm': no parameter 'zzz' was declared");
  }
}

TEST(Params, UntypedParamsStillCheckTheAlternative) {
  const Params p("x", {{"n", int64_t{1}}, {"q", Quantity{2, true}}});
  EXPECT_EQ(p.get_int("n"), 1);
  EXPECT_THROW(p.get_float("n"), InternalError);
  EXPECT_THROW(p.get_bytes("q"), InternalError);  // in cycles
  EXPECT_EQ(p.get_cycles("q", 1e9), 2u);
}

TEST(Params, Equality) {
  EXPECT_EQ(typed_params(), typed_params());
  EXPECT_NE(typed_params(), Params("chip.hbm", {}));
  EXPECT_EQ(typed_params().values().size(), 9u);
}

TEST(DidYouMean, Suggestions) {
  const std::vector<std::string> keys = {"capacity", "bandwidth", "latency", "t_rcd", "t_rp"};
  EXPECT_EQ(did_you_mean("bandwith", keys), "bandwidth");   // deletion
  EXPECT_EQ(did_you_mean("bandwidht", keys), "bandwidth");  // transposition counts as one
  EXPECT_EQ(did_you_mean("capcaity", keys), "capacity");
  EXPECT_EQ(did_you_mean("t_rcdd", keys), "t_rcd");
  EXPECT_EQ(did_you_mean("lat", keys), "latency");  // prefix
  EXPECT_EQ(did_you_mean("zzz", keys), "");
  EXPECT_EQ(did_you_mean("frequency", keys), "");
  EXPECT_EQ(did_you_mean("capacity", keys), "");  // the word itself is never suggested
  EXPECT_EQ(did_you_mean("x", {}), "");
  // Ties go to the first candidate; the closest wins over an earlier, farther one.
  EXPECT_EQ(did_you_mean("ab", {"ac", "ad"}), "ac");
  EXPECT_EQ(did_you_mean("abcdef", {"abcxyz", "abcdeg"}), "abcdeg");
  // Threshold max(1, len/3): "abcdef" (6) accepts distance 2, not 3.
  EXPECT_EQ(did_you_mean("abcdef", {"abcdxy"}), "abcdxy");
  EXPECT_EQ(did_you_mean("abcdef", {"abcxyz"}), "");
  EXPECT_EQ(did_you_mean("fats", {"dram", "fast"}), "fast");
}

}  // namespace
}  // namespace moesim
