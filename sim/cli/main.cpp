/// The moesim command line: run, validate, list, trace.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <systemc>

#include "sim/cli/commands.hpp"
#include "sim/core/error.hpp"
#include "sim/core/watchdog.hpp"

int main(int argc, char* argv[]) {
  // SystemC prints a banner on elaboration unless told not to; our stdout is for results.
  setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}

int sc_main(int argc, char* argv[]) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return moesim::cli_main(args);
  } catch (const moesim::InputError& e) {
    std::fprintf(stderr, "moesim: error: %s\n", e.what());
    return 2;
  } catch (const moesim::WatchdogError& e) {
    // A run that stopped making progress: a model bug, the message names the pending work.
    std::fprintf(stderr, "moesim: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "moesim: internal error: %s\n", e.what());
    return 1;
  }
}
