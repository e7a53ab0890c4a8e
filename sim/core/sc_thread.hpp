#pragma once
/// The few SC_THREADs of moesim (test drivers, `moesim comm`'s starter; every model is an
/// SC_METHOD) run on their own coroutine stacks. SystemC's default is 64 KiB; the sanitizer
/// build (scripts/sanitize.sh) compiles the test drivers at -O0 with AddressSanitizer's
/// redzones around every local, so their frames are several times larger. MOESIM_SC_THREAD
/// declares a thread with 1 MiB, which leaves room in every build (a handful of threads).

#include <cstddef>

#include <systemc>

namespace moesim {

inline constexpr std::size_t kThreadStackBytes = std::size_t{1} << 20;

}  // namespace moesim

/// SC_THREAD(fn) with a stack of kThreadStackBytes (inside a module's constructor).
#define MOESIM_SC_THREAD(fn) \
  SC_THREAD(fn);             \
  set_stack_size(::moesim::kThreadStackBytes)
