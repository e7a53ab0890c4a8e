#!/usr/bin/env bash
# scripts/fuzz.sh [TARGET] [SECONDS]
# Builds the libFuzzer targets of tests/fuzz (clang, -fsanitize=fuzzer,address,undefined, in
# build-fuzz/) and runs TARGET (all of them when none or "all" is named) for SECONDS each
# (default 10). Runs from the repository root. Seeds come from the test corpora (below) and
# tests/fuzz/seeds/; inputs that add coverage accumulate in build-fuzz/corpus/TARGET/, and a
# crash, leak, timeout or sanitizer report is written to build-fuzz/artifacts/TARGET/ and
# fails the script. Prints one summary line per target with its executions per second.
# FUZZ_JOBS=N runs N targets at once (default 1). FUZZ_TIMEOUT=S sets libFuzzer's per-input
# timeout in wall-clock seconds (default 10; raise it on a loaded machine, where a slow input's
# wall time grows with the load). FUZZ_BUILD_DIR=DIR uses another build made
# with the fuzz targets, such as scripts/sanitize.sh's build-asan/ (CI does this, so the tree is
# compiled with clang and the sanitizers once). See docs/robustness.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/packages.sh

targets_all=(fuzz_config fuzz_trace_csv fuzz_trace_jsonl fuzz_trace_binary fuzz_import_olmoe
             fuzz_import_engine fuzz_sweep_spec fuzz_mem_trace fuzz_scalesim_topology
             fuzz_scalesim_cfg)
target=${1:-all}
seconds=${2:-10}
case "$target" in
  all) targets=("${targets_all[@]}") ;;
  fuzz_*) targets=("$target") ;;
  *) targets=("fuzz_$target") ;;
esac
for t in "${targets[@]}"; do
  if [[ " ${targets_all[*]} " != *" $t "* ]]; then
    echo "fuzz.sh: unknown target '$t' (one of: ${targets_all[*]#fuzz_} all)" >&2
    exit 2
  fi
done
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: SECONDS must be a positive whole number, not '$seconds'" >&2
  exit 2
fi

need_packages "${moesim_build_packages[@]}" clang-14 libclang-rt-14-dev

dir=${FUZZ_BUILD_DIR:-build-fuzz}
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined"
flags+=" -fno-sanitize-recover=all"
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [ -f "$dir/CMakeCache.txt" ]; then
  if ! grep -q '^MOESIM_WITH_FUZZ:BOOL=ON$' "$dir/CMakeCache.txt"; then
    echo "fuzz.sh: $dir/ is a build without the fuzz targets (MOESIM_WITH_FUZZ=OFF)" >&2
    exit 2
  fi
else
  # Asserts stay on (CMAKE_CXX_FLAGS_RELEASE without -DNDEBUG); no RTL, no tests.
  cmake -S . -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_CXX_FLAGS_RELEASE="" -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DMOESIM_WITH_RTL=OFF -DMOESIM_WITH_TESTS=OFF -DMOESIM_WITH_FUZZ=ON >&2
fi
jobs=$(nproc 2>/dev/null || echo 2)
cmake --build "$dir" --parallel "$jobs" --target "${targets[@]}" >&2

# Seeds of each target: files of the test corpora (globs from the repository root).
seeds() {
  case "$1" in
    fuzz_config)
      find configs -name '*.toml' -not -path 'configs/sweeps/*'
      ls tests/config/bad/*.toml tests/*/configs/*.toml tests/trace/data/*.toml 2>/dev/null ;;
    fuzz_trace_csv) ls tests/trace/bad/*.csv tests/fuzz/seeds/trace/*.csv tests/*/configs/*.csv ;;
    fuzz_trace_jsonl) ls tests/trace/bad/*_jsonl_*.jsonl tests/fuzz/seeds/trace/*.jsonl ;;
    fuzz_trace_binary) ls tests/trace/bad/*.moetrace tests/fuzz/seeds/trace/*.moetrace ;;
    fuzz_import_olmoe) ls tests/trace/bad/*_olmoe_* tests/trace/data/olmoe_small.jsonl ;;
    fuzz_import_engine) ls tests/trace/bad/*_engine_* tests/trace/data/engine_small.jsonl ;;
    fuzz_sweep_spec) ls configs/sweeps/*.toml ;;
    fuzz_mem_trace) ls tests/fuzz/seeds/mem_trace/* ;;
    fuzz_scalesim_topology) ls workloads/topologies/*.csv ;;
    fuzz_scalesim_cfg) ls configs/scalesim/*.cfg ;;
  esac
}

run_one() {
  local t=$1 log="$dir/logs/$1.log"
  local seed_dir="$dir/seeds/$t" corpus="$dir/corpus/$t" art="$dir/artifacts/$t/"
  rm -rf "$seed_dir"
  mkdir -p "$seed_dir" "$corpus" "$art" "$dir/logs"
  seeds "$t" | while read -r f; do cp "$f" "$seed_dir/"; done
  local rc=0
  ASAN_OPTIONS="abort_on_error=0:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
    "$dir/fuzz/$t" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$art" "$corpus" "$seed_dir" >"$log" 2>&1 || rc=$?
  local execs rate cov units
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  units=$(find "$corpus" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    printf 'fuzz: %-20s ok     %5ss %9s execs %7s exec/s cov %5s corpus %s\n' \
      "$t" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$units"
  else
    printf 'fuzz: %-20s FAILED (exit %s) after %s execs: see %s and %s\n' \
      "$t" "$rc" "${execs:-?}" "$log" "$art"
    grep -m 12 -E 'ERROR|SUMMARY|runtime error|terminate|what\(\)|Test unit written|==[0-9]+==' \
      "$log" | sed 's/^/    /' || true
    return 1
  fi
}

failed=0
pids=()
njobs=${FUZZ_JOBS:-1}
for t in "${targets[@]}"; do
  if [ "$njobs" -le 1 ]; then
    (cd "$root" && run_one "$t") || failed=1
  else
    (cd "$root" && run_one "$t") &
    pids+=($!)
    if [ ${#pids[@]} -ge "$njobs" ]; then
      wait "${pids[0]}" || failed=1
      pids=("${pids[@]:1}")
    fi
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit "$failed"
