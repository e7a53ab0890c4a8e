#!/usr/bin/env bash
# Multi-chip benchmark (a benchmark program, not a test): wall time and peak memory of a
# DeepSeek-V3 decode step (58 MoE layers, top-8 of 256 experts) against the number of chips.
#
#   scripts/bench_multichip.sh [strong|weak|ep8|all]     (default: all)
#
#   ep8     configs/bench/deepseek_v3_decode_ep8.toml, 8 chips on a switch, fast and detailed
#           links: the issue's "at most 0.5 s wall per step on one core".
#   strong  256 tokens per step in total, chips 1 2 4 8 16 32 64 320 (per-chip work shrinks).
#   weak    32 tokens per chip per step, same chips (the work grows with the chips).
#
# Chips <= 8: one switch (configs/bench/deepseek_v3_decode_ep8.toml); 16 and more: nodes of 8
# on a two_level topology (configs/bench/deepseek_v3_decode_two_level.toml). Expert
# parallelism over every chip up to 64; 64 for 320 chips (5 expert-parallel groups: it must
# divide both the chips and the 256 experts).
#
# Environment: MOESIM (binary, default ./build/moesim), REPEAT (runs per point, default 3;
# the table shows the median of each column), STEPS (decode steps per run, default 4),
# CHIPS (the chip counts, default "1 2 4 8 16 32 64 320"), WEAK_CHIPS (default: CHIPS).
# Columns: `wall/step` is the run's own `wall time` (the simulation loop, without start-up)
# divided by the steps; `total` and `peak RSS` are the whole process (/usr/bin/time).
# Exits non-zero if any run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
moesim=${MOESIM:-./build/moesim}
repeat=${REPEAT:-3}
steps=${STEPS:-4}
chips_list=${CHIPS:-"1 2 4 8 16 32 64 320"}
weak_list=${WEAK_CHIPS:-$chips_list}
what=${1:-all}
[ -x "$moesim" ] || { echo "bench_multichip: no binary $moesim (build the moesim target, or set MOESIM)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench_multichip: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# run_point LABEL CONFIG ARGS...: REPEAT runs; prints one table row.
run_point() {
  local label=$1 cfg=$2
  shift 2
  local walls="" totals="" rss="" sim_ms=""
  for _ in $(seq "$repeat"); do
    local out="$tmp/out" log="$tmp/log"
    rm -rf "$out"
    if ! /usr/bin/time -o "$tmp/time" -f '%e %M' "$moesim" run "$cfg" --out "$out" \
      --set "workload.steps=$steps" "$@" >"$log" 2>&1; then
      echo "bench_multichip: FAILED: $moesim run $cfg $*" >&2
      cat "$log" >&2
      exit 1
    fi
    walls+="$(awk '/wall time/ {print $3}' "$log")"$'\n'
    totals+="$(awk '{print $1}' "$tmp/time")"$'\n'
    rss+="$(awk '{print $2}' "$tmp/time")"$'\n'
    sim_ms=$(/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print("%.3f" % (1e3 * s["time_s"] / s["steps"]))' "$out/stats.json")
  done
  local w t m
  w=$(printf '%s' "$walls" | median)
  t=$(printf '%s' "$totals" | median)
  m=$(printf '%s' "$rss" | median)
  printf '%-34s %10.1f %9.2f %9.1f %12.3f\n' "$label" \
    "$(echo "$w $steps" | awk '{print 1e3 * $1 / $2}')" "$t" "$(echo "$m" | awk '{print $1 / 1024}')" \
    "$sim_ms"
}

header() {
  echo
  echo "$1 (median of $repeat runs, $steps steps each)"
  printf '%-34s %10s %9s %9s %12s\n' "point" "wall/step" "total" "peak RSS" "sim. step"
  printf '%-34s %10s %9s %9s %12s\n' "" "ms" "s" "MiB" "ms"
}

# series NAME TOKENS_PER_CHIP (0: 256 in total) CHIPS...
series() {
  local name=$1 per_chip=$2
  shift 2
  header "$name"
  local n
  for n in "$@"; do
    local ep=$((n < 64 ? n : 64))
    local cfg=configs/bench/deepseek_v3_decode_two_level.toml
    [ "$n" -le 8 ] && cfg=configs/bench/deepseek_v3_decode_ep8.toml
    local batch=$((per_chip == 0 ? 256 : per_chip * n))
    run_point "$n chips, ep $ep, $batch tokens" "$cfg" --set "system.chips=$n" \
      --set "mapping.parallel.expert_parallel=$ep" --set "workload.batch=$batch"
  done
}

echo "moesim multi-chip benchmark: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
case $what in
  ep8 | all)
    header "DeepSeek-V3 decode, 256 tokens, 8 chips, switch"
    run_point "fast links" configs/bench/deepseek_v3_decode_ep8.toml
    run_point "detailed links" configs/bench/deepseek_v3_decode_ep8.toml \
      --set system.network.type=detailed
    ;;&
  strong | all)
    # shellcheck disable=SC2086
    series "strong scaling: 256 tokens per step in total" 0 $chips_list
    ;;&
  weak | all)
    # shellcheck disable=SC2086
    series "weak scaling: 32 tokens per chip per step" 32 $weak_list
    ;;
  ep8 | strong) ;;
  *)
    echo "usage: scripts/bench_multichip.sh [strong|weak|ep8|all]" >&2
    exit 2
    ;;
esac
