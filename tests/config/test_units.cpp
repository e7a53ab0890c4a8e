// Units: every unit of every dimension parses to the right base value, bad text is refused
// with the right explanation, and format_quantity round-trips exactly.

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "sim/config/units.hpp"

namespace moesim {
namespace {

struct Good {
  const char* text;
  Dim dim;
  double value;
  bool cycles;
};

class GoodQuantity : public ::testing::TestWithParam<Good> {};

TEST_P(GoodQuantity, ParsesToBaseUnits) {
  const Good& g = GetParam();
  std::string error = "untouched";
  const std::optional<Quantity> q = parse_quantity(g.text, g.dim, &error);
  ASSERT_TRUE(q.has_value()) << g.text << ": " << error;
  EXPECT_EQ(q->value, g.value) << g.text;
  EXPECT_EQ(q->cycles, g.cycles) << g.text;
}

TEST_P(GoodQuantity, FormatRoundTrips) {
  const Good& g = GetParam();
  const Quantity q = *parse_quantity(g.text, g.dim, nullptr);
  const std::string text = format_quantity(q, g.dim);
  const std::optional<Quantity> back = parse_quantity(text, g.dim, nullptr);
  ASSERT_TRUE(back.has_value()) << g.text << " formatted as " << text;
  EXPECT_EQ(*back, q) << g.text << " formatted as " << text;
}

INSTANTIATE_TEST_SUITE_P(
    AllUnits, GoodQuantity,
    ::testing::Values(
        // sizes
        Good{"0B", Dim::kSize, 0, false}, Good{"1B", Dim::kSize, 1, false},
        Good{"64KB", Dim::kSize, 64e3, false}, Good{"2MB", Dim::kSize, 2e6, false},
        Good{"2GB", Dim::kSize, 2e9, false}, Good{"3TB", Dim::kSize, 3e12, false},
        Good{"64KiB", Dim::kSize, 65536, false}, Good{"520MiB", Dim::kSize, 545259520, false},
        Good{"80GiB", Dim::kSize, 85899345920.0, false},
        Good{"1TiB", Dim::kSize, 1099511627776.0, false}, Good{"1.5KiB", Dim::kSize, 1536, false},
        Good{"1.1KB", Dim::kSize, 1100, false}, Good{"0.5KiB", Dim::kSize, 512, false},
        Good{"2 GiB", Dim::kSize, 2147483648.0, false},
        Good{"8192TiB", Dim::kSize, 9007199254740992.0, false},
        // bandwidths
        Good{"1B/s", Dim::kBandwidth, 1, false}, Good{"10KB/s", Dim::kBandwidth, 1e4, false},
        Good{"5MB/s", Dim::kBandwidth, 5e6, false}, Good{"900GB/s", Dim::kBandwidth, 9e11, false},
        Good{"1.6TB/s", Dim::kBandwidth, 1.6e12, false},
        Good{"1.6 TB/s", Dim::kBandwidth, 1.6e12, false},
        Good{"3KiB/s", Dim::kBandwidth, 3072, false},
        Good{"1MiB/s", Dim::kBandwidth, 1048576, false},
        Good{"1GiB/s", Dim::kBandwidth, 1073741824.0, false},
        Good{"2TiB/s", Dim::kBandwidth, 2199023255552.0, false},
        Good{"1.234567GB/s", Dim::kBandwidth, 1234567000.0, false},
        // times
        Good{"5ps", Dim::kTime, 5e-12, false}, Good{"14ns", Dim::kTime, 14e-9, false},
        Good{"3.3ns", Dim::kTime, 3.3e-9, false}, Good{"2us", Dim::kTime, 2e-6, false},
        Good{"7ms", Dim::kTime, 7e-3, false}, Good{"1s", Dim::kTime, 1, false},
        Good{"0.1s", Dim::kTime, 0.1, false}, Good{"0ns", Dim::kTime, 0, false},
        Good{"12cycles", Dim::kTime, 12, true}, Good{"1cycle", Dim::kTime, 1, true},
        Good{"0cycles", Dim::kTime, 0, true}, Good{"3 cycles", Dim::kTime, 3, true},
        // frequencies
        Good{"50Hz", Dim::kFrequency, 50, false}, Good{"32kHz", Dim::kFrequency, 32e3, false},
        Good{"800MHz", Dim::kFrequency, 8e8, false}, Good{"1.4GHz", Dim::kFrequency, 1.4e9, false},
        Good{"1.4 GHz", Dim::kFrequency, 1.4e9, false}));

struct Bad {
  const char* text;
  Dim dim;
  const char* error;
};

class BadQuantity : public ::testing::TestWithParam<Bad> {};

TEST_P(BadQuantity, IsRefusedWithReason) {
  const Bad& b = GetParam();
  std::string error;
  const std::optional<Quantity> q = parse_quantity(b.text, b.dim, &error);
  EXPECT_FALSE(q.has_value()) << b.text;
  EXPECT_EQ(error, b.error) << b.text;
}

constexpr const char* kSizeEx = "a size such as \"64KiB\" or \"2GB\"";
constexpr const char* kBwEx = "a bandwidth such as \"1.6TB/s\" or \"900GB/s\"";
constexpr const char* kTimeEx = "a time such as \"14ns\" or \"12cycles\"";
constexpr const char* kFreqEx = "a frequency such as \"1.4GHz\" or \"800MHz\"";

INSTANTIATE_TEST_SUITE_P(
    AllDims, BadQuantity,
    ::testing::Values(
        // sizes: no unit, wrong unit, wrong case, fractional bytes, negative, too large, syntax
        Bad{"4096", Dim::kSize, kSizeEx}, Bad{"", Dim::kSize, kSizeEx},
        Bad{"GB", Dim::kSize, kSizeEx}, Bad{"2gb", Dim::kSize, kSizeEx},
        Bad{"2Gb", Dim::kSize, kSizeEx}, Bad{"2GB/s", Dim::kSize, kSizeEx},
        Bad{"2PB", Dim::kSize, kSizeEx}, Bad{"1.5B", Dim::kSize, "a whole number of bytes"},
        Bad{"1.0001KB", Dim::kSize, "a whole number of bytes"},
        Bad{"0.3KiB", Dim::kSize, "a whole number of bytes"},
        Bad{"-1GB", Dim::kSize, "a non-negative size"},
        Bad{"8193TiB", Dim::kSize, "a size of at most 8192TiB"}, Bad{"2  GB", Dim::kSize, kSizeEx},
        Bad{" 2GB", Dim::kSize, kSizeEx}, Bad{"2GB ", Dim::kSize, kSizeEx},
        Bad{".5GB", Dim::kSize, kSizeEx}, Bad{"1.GB", Dim::kSize, kSizeEx},
        Bad{"1e3B", Dim::kSize, kSizeEx}, Bad{"+1GB", Dim::kSize, kSizeEx},
        Bad{"1,5GB", Dim::kSize, kSizeEx}, Bad{"1\tGB", Dim::kSize, kSizeEx},
        // bandwidths
        Bad{"1.6TB", Dim::kBandwidth, kBwEx}, Bad{"1.6", Dim::kBandwidth, kBwEx},
        Bad{"1.6TBps", Dim::kBandwidth, kBwEx}, Bad{"1.6Tb/s", Dim::kBandwidth, kBwEx},
        Bad{"-5GB/s", Dim::kBandwidth, "a non-negative bandwidth"},
        // times
        Bad{"14", Dim::kTime, kTimeEx}, Bad{"14 ms ", Dim::kTime, kTimeEx},
        Bad{"14sec", Dim::kTime, kTimeEx}, Bad{"14NS", Dim::kTime, kTimeEx},
        Bad{"1.5cycles", Dim::kTime, "a whole number of cycles"},
        Bad{"-3ns", Dim::kTime, "a non-negative time"},
        Bad{"-3cycles", Dim::kTime, "a non-negative time"}, Bad{"cycles", Dim::kTime, kTimeEx},
        Bad{"14GHz", Dim::kTime, kTimeEx},
        // frequencies
        Bad{"1.4", Dim::kFrequency, kFreqEx}, Bad{"1.4ghz", Dim::kFrequency, kFreqEx},
        Bad{"1.4KHz", Dim::kFrequency, kFreqEx}, Bad{"14ns", Dim::kFrequency, kFreqEx},
        Bad{"-1Hz", Dim::kFrequency, "a non-negative frequency"},
        Bad{"5cycles", Dim::kFrequency, kFreqEx}));

TEST(Units, NullErrorPointerIsAllowed) {
  EXPECT_FALSE(parse_quantity("oops", Dim::kSize, nullptr).has_value());
  EXPECT_TRUE(parse_quantity("1B", Dim::kSize, nullptr).has_value());
}

TEST(Units, BaseUnitsAndNames) {
  EXPECT_STREQ(base_unit(Dim::kSize), "B");
  EXPECT_STREQ(base_unit(Dim::kBandwidth), "B/s");
  EXPECT_STREQ(base_unit(Dim::kTime), "s");
  EXPECT_STREQ(base_unit(Dim::kFrequency), "Hz");
  EXPECT_STREQ(dim_name(Dim::kSize), "size");
  EXPECT_STREQ(dim_name(Dim::kBandwidth), "bandwidth");
  EXPECT_STREQ(dim_name(Dim::kTime), "time");
  EXPECT_STREQ(dim_name(Dim::kFrequency), "frequency");
  EXPECT_STREQ(dim_example(Dim::kBandwidth), kBwEx);
}

TEST(Units, FormatPicksReadableUnits) {
  EXPECT_EQ(format_quantity({549755813888.0, false}, Dim::kSize), "512GiB");
  EXPECT_EQ(format_quantity({545259520, false}, Dim::kSize), "520MiB");
  EXPECT_EQ(format_quantity({1024, false}, Dim::kSize), "1KiB");
  EXPECT_EQ(format_quantity({2e9, false}, Dim::kSize), "2GB");
  EXPECT_EQ(format_quantity({1000, false}, Dim::kSize), "1KB");
  EXPECT_EQ(format_quantity({1500, false}, Dim::kSize), "1500B");
  EXPECT_EQ(format_quantity({7, false}, Dim::kSize), "7B");
  EXPECT_EQ(format_quantity({0, false}, Dim::kSize), "0B");
  EXPECT_EQ(format_quantity({1.6e12, false}, Dim::kBandwidth), "1.6TB/s");
  EXPECT_EQ(format_quantity({9e11, false}, Dim::kBandwidth), "900GB/s");
  EXPECT_EQ(format_quantity({1073741824.0, false}, Dim::kBandwidth), "1GiB/s");
  EXPECT_EQ(format_quantity({0, false}, Dim::kBandwidth), "0B/s");
  EXPECT_EQ(format_quantity({14e-9, false}, Dim::kTime), "14ns");
  EXPECT_EQ(format_quantity({0.1, false}, Dim::kTime), "100ms");
  EXPECT_EQ(format_quantity({2, false}, Dim::kTime), "2s");
  EXPECT_EQ(format_quantity({12, true}, Dim::kTime), "12cycles");
  EXPECT_EQ(format_quantity({1, true}, Dim::kTime), "1cycle");
  EXPECT_EQ(format_quantity({1.4e9, false}, Dim::kFrequency), "1.4GHz");
  EXPECT_EQ(format_quantity({8e8, false}, Dim::kFrequency), "800MHz");
  EXPECT_EQ(format_quantity({1, false}, Dim::kFrequency), "1Hz");
}

// Values no unit makes short (results of arithmetic, odd constants) still round-trip.
TEST(Units, FormatRoundTripsAwkwardValues) {
  const std::vector<double> values = {1.0 / 3.0,  2.0 / 3.0 * 1e12, 123456789.123,    0.1 + 0.2,
                                      1e-15,      6.02214076e23,    1.7976931e300,    4.9e-300,
                                      3.3e-9 * 7, 1e9 / 7.0,        std::ldexp(1, 60)};
  for (Dim dim : {Dim::kBandwidth, Dim::kTime, Dim::kFrequency}) {
    for (double v : values) {
      const std::string text = format_quantity({v, false}, dim);
      const std::optional<Quantity> back = parse_quantity(text, dim, nullptr);
      ASSERT_TRUE(back.has_value()) << v << " formatted as " << text;
      EXPECT_EQ(back->value, v) << text;
      EXPECT_FALSE(back->cycles);
    }
  }
  for (double v : {1.0, 1023.0, 1025.0, 3e9 + 1, 9007199254740991.0, 123456789.0}) {
    const std::string text = format_quantity({v, false}, Dim::kSize);
    ASSERT_TRUE(parse_quantity(text, Dim::kSize, nullptr).has_value()) << text;
    EXPECT_EQ(parse_quantity(text, Dim::kSize, nullptr)->value, v) << text;
  }
}

// Random values of every magnitude: format_quantity(q) always parses back to exactly q.
TEST(Units, FormatRoundTripsRandomValues) {
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> mant(0.0, 10.0);
  std::uniform_int_distribution<int> exp10(-15, 15);
  std::uniform_int_distribution<uint64_t> bytes(0, uint64_t{1} << 53);
  std::uniform_int_distribution<int> shift(0, 43);
  int checked = 0;
  for (int i = 0; i < 20000; ++i) {
    const double v = mant(rng) * std::pow(10.0, exp10(rng));
    for (Dim dim : {Dim::kBandwidth, Dim::kTime, Dim::kFrequency}) {
      const std::string text = format_quantity({v, false}, dim);
      const std::optional<Quantity> back = parse_quantity(text, dim, nullptr);
      ASSERT_TRUE(back.has_value()) << v << " formatted as " << text;
      ASSERT_EQ(back->value, v) << text;
      ++checked;
    }
    const uint64_t b = bytes(rng) >> shift(rng);
    const std::string text = format_quantity({static_cast<double>(b), false}, Dim::kSize);
    const std::optional<Quantity> back = parse_quantity(text, Dim::kSize, nullptr);
    ASSERT_TRUE(back.has_value()) << b << " formatted as " << text;
    ASSERT_EQ(back->value, static_cast<double>(b)) << text;
  }
  EXPECT_EQ(checked, 60000);
}

TEST(Units, QuantityEquality) {
  EXPECT_EQ((Quantity{3, true}), (Quantity{3, true}));
  EXPECT_NE((Quantity{3, true}), (Quantity{3, false}));
  EXPECT_NE((Quantity{3, false}), (Quantity{4, false}));
}

}  // namespace
}  // namespace moesim
