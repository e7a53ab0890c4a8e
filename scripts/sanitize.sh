#!/usr/bin/env bash
# scripts/sanitize.sh [ctest options...]
# The test suite under AddressSanitizer and UndefinedBehaviorSanitizer, in build-asan/:
#   clang++-14 -O1 -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all
# with asserts on, and line tables only (-gline-tables-only: reports name file and line, at
# less build time than full debug information). float-cast-overflow is named explicitly
# because GCC's `undefined` group leaves it out (clang's includes it). Any report fails its test.
# The same build carries the libFuzzer instrumentation (-fsanitize=fuzzer-no-link) and the fuzz
# targets, so `FUZZ_BUILD_DIR=build-asan scripts/fuzz.sh` runs them without a second build.
# Test programs' own sources are built at -O0 (MOESIM_TESTS_OPT), the benchmarks not at all.
#   SANITIZE_RTL=ON     adds the Verilator RTL blocks and their co-simulation tests (default OFF:
#                       the two softmax L=1024 variants alone took about 10 minutes each to
#                       compile under ASan; see docs/robustness.md).
#   SANITIZE_COMPILER=gcc  builds with g++ instead (no fuzz targets; GCC's sanitizer runtime).
#   SANITIZE_PYTHON=ON  also runs the python.* tests (default OFF: they test the Python tools,
#                       which the sanitizers do not instrument; the moesim runs inside them are
#                       the C++ tests' runs again, and python.report.Rendered alone took 32 s).
# See docs/robustness.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh

rtl=${SANITIZE_RTL:-OFF}
compiler=${SANITIZE_COMPILER:-clang}
case "$rtl" in ON | OFF) ;; *)
  echo "sanitize.sh: SANITIZE_RTL must be ON or OFF, not '$rtl'" >&2
  exit 2 ;;
esac
# The whole-Mixtral-step runs of the stream skips (minutes of CPU, several times that under the
# sanitizers) are left to the main suite: the skips' own tests run here.
full_system='^(ExactSkipFullSystem|StreamSkipFullSystem)\.'
exclude=(-E "$full_system")
case "${SANITIZE_PYTHON:-OFF}" in
  ON) ;;
  OFF) exclude=(-E "^python\.|$full_system") ;;
  *)
    echo "sanitize.sh: SANITIZE_PYTHON must be ON or OFF, not '$SANITIZE_PYTHON'" >&2
    exit 2 ;;
esac
dir=build-asan
flags="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow"
flags+=" -fno-sanitize-recover=all"
case "$compiler" in
  clang)
    need_packages "${moesim_build_packages[@]}" clang-14 libclang-rt-14-dev
    cxx=clang++-14
    flags+=" -gline-tables-only -fsanitize=fuzzer-no-link"
    fuzz=ON ;;
  gcc)
    need_packages "${moesim_build_packages[@]}"
    cxx=g++
    flags+=" -g1"
    fuzz=OFF ;;
  *)
    echo "sanitize.sh: SANITIZE_COMPILER must be clang or gcc, not '$compiler'" >&2
    exit 2 ;;
esac
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
# A build directory made for another compiler is made again (CMake cannot switch compilers).
if [ -f "$dir/CMakeCache.txt" ] && ! grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=.*$cxx\$" "$dir/CMakeCache.txt"; then
  rm -rf "$dir"
fi
cmake -S . -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS_RELEASE="" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DMOESIM_WITH_RTL="$rtl" \
  -DMOESIM_WITH_FUZZ="$fuzz" -DMOESIM_TESTS_OPT=-O0 -DMOESIM_BENCH_IN_ALL=OFF >&2
jobs=$(nproc 2>/dev/null || echo 2)
cmake --build "$dir" --parallel "$jobs" >&2

supp="$PWD/tests/fuzz/ubsan.supp"
# detect_stack_use_after_return stays off: its fake stacks do not follow SystemC's coroutine
# stack switches, and every SC_THREAD crashed on its first call with it on.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
scripts/seed_ctest_costs.sh sanitizer "$dir"
cd "$dir"
exec ctest --output-on-failure --parallel "$jobs" "${exclude[@]}" "$@"
