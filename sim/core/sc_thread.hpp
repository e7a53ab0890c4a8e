#pragma once
/// The few SC_THREADs of moesim (test drivers, `moesim comm`'s starter; every model is an
/// SC_METHOD) run on their own coroutine stacks. SystemC's default stack (64 KiB) is too small
/// under AddressSanitizer, whose redzones and instrumentation grow each frame: the sanitizer
/// suite overflowed it (a SEGV in the thread). MOESIM_SC_THREAD declares a thread with 1 MiB.

#include <cstddef>

#include <systemc>

namespace moesim {

inline constexpr std::size_t kThreadStackBytes = std::size_t{1} << 20;

}  // namespace moesim

/// SC_THREAD(fn) with a stack of kThreadStackBytes (inside a module's constructor).
#define MOESIM_SC_THREAD(fn) \
  SC_THREAD(fn);             \
  set_stack_size(::moesim::kThreadStackBytes)
