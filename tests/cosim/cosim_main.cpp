// One co-simulation scenario per process (SystemC elaborates once per process):
//   moesim_cosim_test --block B [--cases N] [--seed S] [--param NAME=VALUE]...
#include <gtest/gtest.h>

#include <systemc>

#include <cstdlib>
#include <iostream>
#include <string>

#include "rtl/rtl_verify.hpp"

namespace {

std::string g_block = "topk_gate";
uint64_t g_cases = 1000;
uint64_t g_seed = 1;
moesim::ParamMap g_params;

TEST(Cosim, ReferenceVsSystemCVsRtl) {
  EXPECT_EQ(moesim::rtl_verify(g_block, g_cases, g_seed, g_params, std::cout), 0);
}

}  // namespace

int sc_main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--block" && has_value) {
      g_block = argv[++i];
    } else if (a == "--cases" && has_value) {
      g_cases = std::strtoull(argv[++i], nullptr, 0);
    } else if (a == "--seed" && has_value) {
      g_seed = std::strtoull(argv[++i], nullptr, 0);
    } else if (a == "--param" && has_value) {
      const std::string kv = argv[++i];
      const auto eq = kv.find('=');
      if (eq == std::string::npos) {
        std::cerr << "--param expects NAME=VALUE, got " << kv << "\n";
        return 2;
      }
      g_params[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else if (a == "--waves") {
      g_params["waves"] = "1";
    } else {
      std::cerr << "unknown argument " << a << "\n" << moesim::rtl_verify_help();
      return 2;
    }
  }
  return RUN_ALL_TESTS();
}
