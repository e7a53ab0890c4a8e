#!/usr/bin/env bash
# scripts/sanitize.sh [ctest options...]
# The test suite under AddressSanitizer and UndefinedBehaviorSanitizer (GCC), in build-asan/:
#   -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all
# (float-cast-overflow is not part of GCC's `undefined` group). Any report fails its test.
# SANITIZE_RTL=OFF builds without the Verilator RTL blocks (faster; default ON).
# See docs/robustness.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
need_packages "${moesim_build_packages[@]}"

rtl=${SANITIZE_RTL:-ON}
dir=build-asan
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow"
flags+=" -fno-sanitize-recover=all"
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
cmake -S . -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER=g++ -DCMAKE_CXX_FLAGS_RELEASE="-DNDEBUG" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DMOESIM_WITH_RTL="$rtl" >&2
jobs=$(nproc 2>/dev/null || echo 2)
cmake --build "$dir" --parallel "$jobs" >&2

supp="$PWD/tests/fuzz/ubsan.supp"
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
cd "$dir"
exec ctest --output-on-failure --parallel "$jobs" "$@"
