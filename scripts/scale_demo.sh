#!/usr/bin/env bash
# Scale demo: generates Mixtral-like decode traces (32 MoE layers, 8 experts, top-2, batch 125)
# of 10^6, 10^7 and 10^8 token-expert assignments in the binary form, simulates each with
# `moesim run` on configs/mixtral_decode.toml (the trace swapped in with --set
# workload.path=...), and reports wall time and peak RSS of both. Peak RSS that does not grow
# with the trace length shows that generation and simulation stream.
#
#   scripts/scale_demo.sh [BUILD_DIR] [EXPONENTS...]     (default: build 6 7 8)
#
# Files go to a temporary directory removed at exit (the 10^8 trace is about 0.7 GB).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
shift || true
exponents=("$@")
[ ${#exponents[@]} -eq 0 ] && exponents=(6 7 8)
moesim="$build/moesim"
[ -x "$moesim" ] || { echo "scale_demo: no moesim binary at $moesim (build first)" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/moesim-scale.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# measure LOG CMD...: runs CMD, writes "wall_s peak_rss_kib" to LOG.
measure() {
  local log="$1"
  shift
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%e %M' -o "$log" "$@" >/dev/null
  else
    # Fallback: poll VmHWM (the kernel's peak RSS) of the child until it exits.
    local start end hwm=0 pid
    start=$(date +%s.%N)
    "$@" >/dev/null &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      local v
      v=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$v" ] && hwm=$v
      sleep 0.05
    done
    wait "$pid"
    end=$(date +%s.%N)
    echo "$(echo "$end - $start" | bc) $hwm" >"$log"
  fi
}

layers=32 experts=8 top_k=2 batch=125
printf '%-14s %-12s %10s %12s %10s %12s %12s %14s\n' assignments steps "gen_s" "gen_rss_MiB" \
  "run_s" "run_rss_MiB" "file_MiB" "run_assign/s"
for e in "${exponents[@]}"; do
  total=$((10 ** e))
  per_step=$((batch * layers * top_k))
  steps=$((total / per_step))
  trace="$work/mixtral_1e$e.moetrace"
  measure "$work/gen.time" "$moesim" trace generate --model mixtral-8x7b --layers $layers \
    --experts $experts --top-k $top_k --steps $steps --batch $batch --context 1024 \
    --dist zipf --zipf-s 1.2 --seed 1 "$trace"
  read -r gen_s gen_kib <"$work/gen.time"
  size_mib=$(($(stat -c %s "$trace") / 1048576))
  measure "$work/run.time" "$moesim" run "$root/configs/mixtral_decode.toml" \
    --set "workload.path=$trace" --out "$work/out_1e$e" --quiet
  read -r run_s run_kib <"$work/run.time"
  # The run must have consumed the whole trace.
  got=$(grep -o '"assignments": [0-9]*' "$work/out_1e$e/stats.json" | head -1 | grep -o '[0-9]*$')
  if [ "$got" != "$((steps * per_step))" ]; then
    echo "scale_demo: run read $got assignments, expected $((steps * per_step))" >&2
    exit 1
  fi
  printf '%-14s %-12s %10s %12s %10s %12s %12s %14s\n' "$((steps * per_step))" "$steps" "$gen_s" \
    "$((gen_kib / 1024))" "$run_s" "$((run_kib / 1024))" "$size_mib" \
    "$(awk -v a="$got" -v s="$run_s" 'BEGIN { printf "%.3g", a / s }')"
  rm -f "$trace"
done
